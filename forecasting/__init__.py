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
"""

from forecasting.defaults import shenyang_default_site, shenyang_typical_weather
from forecasting.errors import ForecastInputError, ForecastWarning, LoadHistoryError, WeatherDataError
from forecasting.holidays import HolidayCalendar, calendar_from_dates, china_calendar, weekends_only
from forecasting.load import (
    LoadQuantileSettings,
    ProfileSettings,
    forecast_load,
    load_quantiles,
    profile_forecast,
    seasonal_naive,
)
from forecasting.pv import PvModelOptions, forecast_pv
from forecasting.pv_checks import CheckResult
from forecasting.pv_correction import PvCorrection
from forecasting.pv_fit import PvFitSummary, PvPlantFit, fit_pv_plant
from forecasting.quantiles import (
    PvErrorModel,
    PvQuantileModel,
    Recalibration,
    fit_pv_quantiles,
    forecast_pv_quantiles,
)
from forecasting.specs import BifacialSpec, FixedMount, PvArraySpec, PvSiteSpec, SingleAxisTrackerMount
from forecasting.weather import (
    Weather,
    read_epw,
    read_open_meteo_json,
    read_weather_csv,
    typical_year_for,
    weather_from_frame,
)

__all__ = [
    "BifacialSpec",
    "CheckResult",
    "FixedMount",
    "ForecastInputError",
    "ForecastWarning",
    "HolidayCalendar",
    "LoadHistoryError",
    "LoadQuantileSettings",
    "ProfileSettings",
    "PvArraySpec",
    "PvCorrection",
    "PvErrorModel",
    "PvFitSummary",
    "PvModelOptions",
    "PvPlantFit",
    "PvQuantileModel",
    "PvSiteSpec",
    "Recalibration",
    "SingleAxisTrackerMount",
    "Weather",
    "WeatherDataError",
    "calendar_from_dates",
    "china_calendar",
    "fit_pv_plant",
    "fit_pv_quantiles",
    "forecast_load",
    "forecast_pv",
    "forecast_pv_quantiles",
    "load_quantiles",
    "profile_forecast",
    "read_epw",
    "read_open_meteo_json",
    "read_weather_csv",
    "seasonal_naive",
    "shenyang_default_site",
    "shenyang_typical_weather",
    "typical_year_for",
    "weather_from_frame",
    "weekends_only",
]
