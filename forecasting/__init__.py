"""PV and load forecasts for the dispatch optimiser (pvlib does the solar physics).

Public API::

    from forecasting import forecast_pv, forecast_load, PvSiteSpec, PvArraySpec, FixedMount
    from forecasting import read_epw, read_weather_csv, read_open_meteo_json

    pv = forecast_pv(site, weather, horizon)          # DataFrame: <array>_kw ..., total_kw; attrs["warnings"]
    load = forecast_load(history, horizon)            # Series on the horizon; attrs["warnings"]
    bands = forecast_load(history, horizon, quantiles=(0.1, 0.5, 0.9))  # DataFrame: point, p10, p50, p90
    pv_bands = forecast_pv_quantiles(site, weather, horizon, fit_pv_quantiles(past_kw, metered_kw, past_clear_kw))

``horizon`` is a tz-aware ``DatetimeIndex`` of interval starts or anything with
such an ``.index`` (``optimizer.Horizon``). See ``docs/forecasting.md`` for the
time-semantics rule and the validation numbers.

Names load on first use (``from forecasting import forecast_pv`` imports ``forecasting.pv``, and pvlib with
it), so importing one module of the package (``forecasting.metrics``) does not load pvlib.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "shenyang_default_site": "forecasting.defaults",
    "shenyang_typical_weather": "forecasting.defaults",
    "ForecastInputError": "forecasting.errors",
    "ForecastWarning": "forecasting.errors",
    "LoadHistoryError": "forecasting.errors",
    "WeatherDataError": "forecasting.errors",
    "HolidayCalendar": "forecasting.holidays",
    "calendar_from_dates": "forecasting.holidays",
    "china_calendar": "forecasting.holidays",
    "weekends_only": "forecasting.holidays",
    "LoadQuantileSettings": "forecasting.load",
    "ProfileSettings": "forecasting.load",
    "forecast_load": "forecasting.load",
    "load_quantiles": "forecasting.load",
    "profile_forecast": "forecasting.load",
    "seasonal_naive": "forecasting.load",
    "PvModelOptions": "forecasting.pv",
    "forecast_pv": "forecasting.pv",
    "CheckResult": "forecasting.pv_checks",
    "PvCorrection": "forecasting.pv_correction",
    "PvFitSummary": "forecasting.pv_fit",
    "PvPlantFit": "forecasting.pv_fit",
    "fit_pv_plant": "forecasting.pv_fit",
    "PvErrorModel": "forecasting.quantiles",
    "PvQuantileModel": "forecasting.quantiles",
    "Recalibration": "forecasting.quantiles",
    "fit_pv_quantiles": "forecasting.quantiles",
    "forecast_pv_quantiles": "forecasting.quantiles",
    "BifacialSpec": "forecasting.specs",
    "FixedMount": "forecasting.specs",
    "PvArraySpec": "forecasting.specs",
    "PvSiteSpec": "forecasting.specs",
    "SingleAxisTrackerMount": "forecasting.specs",
    "Weather": "forecasting.weather",
    "read_epw": "forecasting.weather",
    "read_open_meteo_json": "forecasting.weather",
    "read_weather_csv": "forecasting.weather",
    "typical_year_for": "forecasting.weather",
    "weather_from_frame": "forecasting.weather",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # once
        return value
    raise AttributeError(f"module 'forecasting' has no attribute {name!r}")
