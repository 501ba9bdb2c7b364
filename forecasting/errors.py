"""Errors and warnings raised by ``forecasting``.

Input errors are ``ValueError`` subclasses whose messages name the column (or
field) and the time at fault, so that an API can pass them on to the user.
"""

from __future__ import annotations


class ForecastInputError(ValueError):
    """Input data that cannot be used for a forecast (names the column and the time)."""


class WeatherDataError(ForecastInputError):
    """Bad weather input: gaps, NaN, wrong units, implausible values, too short a span."""


class LoadHistoryError(ForecastInputError):
    """Bad load history: naive or irregular timestamps, overlap with the horizon, no usable days."""


class ForecastWarning(UserWarning):
    """A forecast was made, but with a fallback the user should know about (e.g. clear sky)."""
