"""Validated scalar and series types shared by every problem spec.

Numbers crossing the edge must be finite (NaN and Infinity are rejected with the
field's name); a *series* is either one number (constant over the horizon) or a
list with one value per horizon step.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, Field


def _series_to_list(value: Any) -> Any:
    """Accept pandas Series and numpy arrays as well as plain lists."""
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    if isinstance(value, np.ndarray):
        return value.astype(float).tolist()
    return value


class _SeriesMarker:
    """Marks a field as a horizon series, so length checks find it generically."""

    def __repr__(self) -> str:
        return "SERIES"


SERIES = _SeriesMarker()

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Efficiency = Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]

Series = Annotated[FiniteFloat | list[FiniteFloat], BeforeValidator(_series_to_list), SERIES]
"""A number per step (list) or one number for every step."""

NonNegSeries = Annotated[NonNegFloat | list[NonNegFloat], BeforeValidator(_series_to_list), SERIES]
"""A non-negative number per step (list) or one for every step."""


def series_length(value: float | list[float]) -> int | None:
    """Length of a series input, ``None`` for a constant."""
    return None if isinstance(value, (int, float)) else len(value)


def as_array(value: float | list[float], n_steps: int) -> np.ndarray:
    """A series input as a float array of ``n_steps`` values."""
    if isinstance(value, (int, float)):
        return np.full(n_steps, float(value))
    return np.asarray(value, dtype=float)
