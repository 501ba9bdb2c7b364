"""Weather-driven PV and history-driven load inputs, through the ``forecasting`` package.

``forecasting`` is imported here only, and only when a scenario uses a
``weather:`` or ``history:`` input, so scenarios with CSV or inline inputs run
without it. PV arrays are ``forecasting.specs.PvArraySpec`` entries written in
``site.pv_arrays`` (validated with the site).
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios.inputs import InputError, input_path
from scenarios.loader import Case
from scenarios.spec import LoadHistoryInput, WeatherPvInput

MISSING = "needs the forecasting package ({what}), which cannot be imported here: {error}"


def _forecasting_pv() -> tuple[Any, Any]:
    try:
        from forecasting import weather
        from forecasting.pv import forecast_pv
    except ImportError as error:
        raise InputError(MISSING.format(what="forecasting.pv.forecast_pv", error=error)) from error
    return forecast_pv, weather


def _format_of(path: Path, declared: str) -> str:
    if declared != "auto":
        return declared
    suffix = path.suffix.lower()
    return {".epw": "epw", ".json": "open_meteo", ".csv": "csv"}.get(suffix, "csv")


@functools.lru_cache(maxsize=8)
def _read_weather(path: str, mtime: float, fmt: str, tz: str) -> Any:
    del mtime  # cache key only
    _, weather = _forecasting_pv()
    if fmt == "epw":
        return weather.read_epw(path)
    if fmt == "open_meteo":
        return weather.read_open_meteo_json(path)
    return weather.read_weather_csv(path, tz=tz)


def pv_site(case: Case, names: list[str] | None) -> Any:
    """The ``forecasting`` site spec of the case's PV arrays (``names``: a subset; validated with the site)."""
    site = case.scenario.site
    chosen = site.model_copy(update={"pv_arrays": [a for a in site.pv_arrays if names is None or a.name in names]})
    return chosen.pv_site()


def forecast_pv_kw(source: WeatherPvInput, case: Case, index: pd.DatetimeIndex) -> np.ndarray:
    """Total AC power of the chosen arrays on ``index`` [kW], before the input's scale and offset."""
    forecast_pv, weather_module = _forecasting_pv()
    path = input_path(case.base_dir, source.weather)
    if not path.is_file():
        raise InputError(f"file not found: {path}", "weather")
    fmt = _format_of(path, source.format)
    try:
        weather = _read_weather(str(path), path.stat().st_mtime, fmt, case.scenario.site.tz)
        typical = source.typical_year if source.typical_year is not None else fmt == "epw"
        step = index[1] - index[0] if len(index) > 1 else pd.Timedelta(minutes=15)
        if typical:
            weather = weather_module.typical_year_for(weather, index[0], index[-1] + step)
        site = pv_site(case, source.arrays)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = forecast_pv(site, weather, index)
    except ValueError as error:
        raise InputError(f"{source.weather}: {error}", "weather") from error
    if source.quantile is not None:
        return _pv_quantile_kw(source, case, index, frame["total_kw"], site, typical)
    return frame["total_kw"].to_numpy(dtype=float)


PV_ERROR_DAYS = 365
"""Days of metered PV before a run that the PV quantiles learn from (a year: every season's errors)."""


def _pv_quantile_kw(
    source: WeatherPvInput, case: Case, index: pd.DatetimeIndex, point: pd.Series, site: Any, typical: bool
) -> np.ndarray:
    """The ``source.quantile`` of the PV forecast [kW]: the errors of the same weather source's forecast against
    the metered output of up to a year before the run, by clear-sky index, hour and season
    (``forecasting.quantiles.fit_pv_quantiles``), refitted once per month of runs."""
    from forecasting.quantiles import quantile_label

    model = _pv_quantile_model(source, case, site, typical, index[0].year, index[0].month, str(index.tz))
    forecast_pv, _ = _forecasting_pv()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the clear sky on purpose: the quantiles are scaled by it
        clear = forecast_pv(site, None, index)["total_kw"]
    frame = model.predict(point, clear, (source.quantile,))
    return frame[quantile_label(source.quantile)].to_numpy(dtype=float)


_PV_QUANTILE_MODELS: dict[tuple, Any] = {}
"""Fitted PV quantile models by (files, their modification times, arrays, options, month), at most 16."""


def _pv_quantile_model(
    source: WeatherPvInput, case: Case, site: Any, typical: bool, year: int, month: int, tz: str
) -> Any:
    """The fitted model for runs in ``year``-``month`` (cached: a rolling run refits once a month)."""
    weather_path = input_path(case.base_dir, source.weather)
    measured_path = input_path(case.base_dir, source.measured or "")
    key = (
        str(weather_path),
        weather_path.stat().st_mtime if weather_path.is_file() else 0.0,
        str(measured_path),
        measured_path.stat().st_mtime if measured_path.is_file() else 0.0,
        source.measured_column,
        source.format,
        site.model_dump_json(),
        typical,
        year,
        month,
        tz,
    )
    if key not in _PV_QUANTILE_MODELS:
        if len(_PV_QUANTILE_MODELS) >= 16:
            _PV_QUANTILE_MODELS.pop(next(iter(_PV_QUANTILE_MODELS)))
        _PV_QUANTILE_MODELS[key] = _fit_pv_quantiles(source, case, site, typical, year, month, tz)
    return _PV_QUANTILE_MODELS[key]


def _fit_pv_quantiles(
    source: WeatherPvInput, case: Case, site: Any, typical: bool, year: int, month: int, tz: str
) -> Any:
    from forecasting.quantiles import fit_pv_quantiles

    forecast_pv, weather_module = _forecasting_pv()
    start = pd.Timestamp(year=year, month=month, day=1, tz=tz)
    measured = _measured_pv(source, case, tz)
    measured = measured[(measured.index < start) & (measured.index >= start - pd.Timedelta(days=PV_ERROR_DAYS))]
    if measured.dropna().empty:
        raise InputError(f"{source.measured}: no metered PV in the {PV_ERROR_DAYS} days before {start}", "measured")
    path = input_path(case.base_dir, source.weather)
    weather = _read_weather(str(path), path.stat().st_mtime, _format_of(path, source.format), case.scenario.site.tz)
    past = pd.DatetimeIndex(measured.index)
    step = past[1] - past[0] if len(past) > 1 else pd.Timedelta(minutes=15)
    try:
        if typical:
            weather = weather_module.typical_year_for(weather, past[0], past[-1] + step)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            forecast = forecast_pv(site, weather, past)["total_kw"]
            clear = forecast_pv(site, None, past)["total_kw"]
    except ValueError as error:
        raise InputError(
            f"{source.weather}: the PV quantiles score this weather source on the metered days before the run "
            f"({past[0]} to {past[-1]}), but: {error}",
            "measured",
        ) from error
    capacity = sum(a.inverter_ac_kw or a.dc_kwp for a in site.arrays)
    return fit_pv_quantiles(forecast, measured, clear, capacity_kw=capacity)


def _measured_pv(source: WeatherPvInput, case: Case, tz: str) -> pd.Series:
    """The metered PV output [kW] on a regular grid of its own step (NaN where missing), in zone ``tz``."""
    from scenarios.inputs import read_table

    path = input_path(case.base_dir, source.measured or "")
    if not path.is_file():
        raise InputError(f"file not found: {path}", "measured")
    frame = read_table(path)
    if source.measured_column not in frame.columns:
        raise InputError(
            f"{source.measured}: no column {source.measured_column!r} (columns: {', '.join(frame.columns)})",
            "measured_column",
        )
    stamps = pd.DatetimeIndex(pd.to_datetime(frame[frame.columns[0]], format="mixed"))
    if stamps.tz is None:
        stamps = stamps.tz_localize(case.scenario.site.tz)
    values = pd.Series(pd.to_numeric(frame[source.measured_column], errors="coerce").to_numpy(float), index=stamps)
    values = values[~values.index.duplicated()].sort_index().tz_convert(tz)
    if len(values) < 2:
        raise InputError(f"{source.measured}: fewer than two readings", "measured")
    step = pd.Series(values.index[1:] - values.index[:-1]).min()
    grid = pd.date_range(values.index[0], values.index[-1], freq=step)
    return values.reindex(grid)


def forecast_load_kw(source: LoadHistoryInput, case: Case, index: pd.DatetimeIndex) -> np.ndarray:
    """Load forecast on ``index`` from metered history [kW], before the input's scale and offset."""
    from scenarios.inputs import read_table

    path = input_path(case.base_dir, source.history)
    frame = read_table(path)
    time_column = source.time_column or str(frame.columns[0])
    for column, field in ((time_column, "time_column"), (source.column, "column")):
        if column not in frame.columns:
            raise InputError(f"{source.history}: no column {column!r} (columns: {', '.join(frame.columns)})", field)
    stamps = pd.DatetimeIndex(pd.to_datetime(frame[time_column], format="mixed"))
    if stamps.tz is None:
        stamps = stamps.tz_localize(source.tz or case.scenario.site.tz)
    if source.time_label == "end" and len(stamps) > 1:
        stamps = stamps - (stamps[1] - stamps[0])
    history = pd.Series(pd.to_numeric(frame[source.column], errors="coerce").to_numpy(float), index=stamps)
    history = history[history.index < index[0]]
    try:
        forecast = case.scenario.site.load_model.forecast(history, index, quantile=source.quantile)
    except ImportError as error:
        raise InputError(MISSING.format(what="forecasting.forecast_load", error=error), "history") from error
    except ValueError as error:
        raise InputError(f"{source.history}: {error}", "history") from error
    return np.asarray(pd.Series(forecast).to_numpy(dtype=float))
