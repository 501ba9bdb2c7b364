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
    return frame["total_kw"].to_numpy(dtype=float)


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
        forecast = case.scenario.site.load_model.forecast(history, index)
    except ImportError as error:
        raise InputError(MISSING.format(what="forecasting.forecast_load", error=error), "history") from error
    except ValueError as error:
        raise InputError(f"{source.history}: {error}", "history") from error
    return np.asarray(pd.Series(forecast).to_numpy(dtype=float))
