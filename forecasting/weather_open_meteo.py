"""Weather from Open-Meteo: a ``/v1/forecast`` JSON response (hourly or 15-minute block).

Radiation is the mean of the *preceding* hour (or 15 minutes) and is
relabelled to interval starts; temperature, wind, cloud cover and pressure are
instants at the label. Units are converted from the response's ``*_units``
block (km/h -> m/s, % -> fraction, F -> C).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from forecasting.errors import WeatherDataError
from forecasting.weather_frame import TimeLabel, Weather, weather_from_frame

#: Open-Meteo variable -> (canonical column, time label). Radiation is the mean of the preceding
#: hour (or 15 minutes); ``*_instant`` radiation and the other variables are instants.
OPEN_METEO_VARIABLES: dict[str, tuple[str, TimeLabel]] = {
    "shortwave_radiation": ("ghi_w_m2", "end"),
    "direct_normal_irradiance": ("dni_w_m2", "end"),
    "diffuse_radiation": ("dhi_w_m2", "end"),
    "shortwave_radiation_instant": ("ghi_w_m2", "instant"),
    "direct_normal_irradiance_instant": ("dni_w_m2", "instant"),
    "diffuse_radiation_instant": ("dhi_w_m2", "instant"),
    "temperature_2m": ("temp_air_c", "instant"),
    "wind_speed_10m": ("wind_speed_m_s", "instant"),
    "cloud_cover": ("cloud_cover_frac", "instant"),
    "surface_pressure": ("pressure_hpa", "instant"),
}
_OPEN_METEO_UNITS: dict[str, dict[str, tuple[float, float]]] = {
    "ghi_w_m2": {"w/m²": (1.0, 0.0), "w/m2": (1.0, 0.0)},
    "dni_w_m2": {"w/m²": (1.0, 0.0), "w/m2": (1.0, 0.0)},
    "dhi_w_m2": {"w/m²": (1.0, 0.0), "w/m2": (1.0, 0.0)},
    "temp_air_c": {"°c": (1.0, 0.0), "°f": (5.0 / 9.0, -32.0 * 5.0 / 9.0)},
    "wind_speed_m_s": {"km/h": (1 / 3.6, 0.0), "m/s": (1.0, 0.0), "mp/h": (0.44704, 0.0), "kn": (0.514444, 0.0)},
    "cloud_cover_frac": {"%": (0.01, 0.0)},
    "pressure_hpa": {"hpa": (1.0, 0.0)},
}


def read_open_meteo_json(
    source: str | Path | Mapping[str, Any], *, block: Literal["auto", "hourly", "minutely_15"] = "auto"
) -> Weather:
    """Read a forecast in the shape of Open-Meteo's ``/v1/forecast`` JSON response.

    Parameters
    ----------
    source : path or parsed JSON
        Response with ``timezone`` (or ``utc_offset_seconds``), a data block
        ``hourly`` or ``minutely_15`` holding ``time`` and any of
        ``shortwave_radiation``, ``direct_normal_irradiance``,
        ``diffuse_radiation`` (means of the *preceding* step),
        ``temperature_2m``, ``wind_speed_10m``, ``cloud_cover`` (instants), and
        the matching ``*_units`` block. ``time`` is local ISO 8601 or unix seconds.
    block : "auto", "hourly" or "minutely_15"
        Which block to read; "auto" prefers ``minutely_15``.

    Returns
    -------
    Weather
        Radiation relabelled to interval starts (so the last step of the
        response is dropped when radiation and instants are mixed); units
        converted (km/h -> m/s, % -> fraction, F -> C).
    """
    if isinstance(source, Mapping):
        payload, name = source, "open-meteo json"
    else:
        name = Path(source).name
        try:
            payload = json.loads(Path(source).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise WeatherDataError(f"{name} is not valid JSON: {exc}") from exc
    if block == "auto":
        block = "minutely_15" if "minutely_15" in payload else "hourly"
    if block not in payload:
        raise WeatherDataError(f"{name} has no {block!r} block; keys are {sorted(payload)}")
    data = payload[block]
    units = {k: str(v).strip().lower() for k, v in payload.get(f"{block}_units", {}).items()}
    if "time" not in data:
        raise WeatherDataError(f"{name}: the {block} block has no 'time' array")
    times = _open_meteo_times(payload, data["time"], units.get("time", "iso8601"), name)
    columns: dict[str, pd.Series] = {}
    labels: dict[str, TimeLabel] = {}
    for variable, (target, label) in OPEN_METEO_VARIABLES.items():
        if variable not in data:
            continue
        if target in columns:
            continue  # prefer the interval mean over the *_instant variant
        values = pd.Series(np.asarray(data[variable], dtype=float), index=times)
        if len(values) != len(times):
            raise WeatherDataError(f"{name}: {block}.{variable} has {len(values)} values for {len(times)} times")
        unit = units.get(variable)
        if unit is None:
            raise WeatherDataError(f"{name}: no unit for {block}.{variable} in {block}_units")
        if unit not in _OPEN_METEO_UNITS[target]:
            raise WeatherDataError(
                f"{name}: {block}.{variable} is in {unit!r}; expected one of {sorted(_OPEN_METEO_UNITS[target])}"
            )
        scale, offset = _OPEN_METEO_UNITS[target][unit]
        columns[target] = values * scale + offset
        labels[target] = label
    if not columns:
        raise WeatherDataError(f"{name}: the {block} block has none of {sorted(OPEN_METEO_VARIABLES)}")
    meta = {k: payload[k] for k in ("latitude", "longitude", "elevation", "timezone") if k in payload}
    step = pd.Timedelta(minutes=15) if block == "minutely_15" else pd.Timedelta(hours=1)
    return weather_from_frame(pd.DataFrame(columns), label=labels, step=step, source=name, meta=meta)


def _open_meteo_times(payload: Mapping[str, Any], raw: list[Any], unit: str, name: str) -> pd.DatetimeIndex:
    if unit == "unixtime":
        times = pd.DatetimeIndex(pd.to_datetime(np.asarray(raw, dtype="int64"), unit="s", utc=True))
        tz = payload.get("timezone")
        return times.tz_convert(tz) if tz and tz not in ("GMT", "UTC") else times
    times = pd.DatetimeIndex(pd.to_datetime(list(raw), format="ISO8601"))
    if times.tz is not None:
        return times
    tz = payload.get("timezone")
    if tz in ("GMT", "UTC"):
        return times.tz_localize("UTC")
    if tz:
        try:
            return times.tz_localize(tz, ambiguous="infer", nonexistent="raise")
        except Exception as exc:  # unknown zone names and DST trouble raise several types
            raise WeatherDataError(f"{name}: times are not valid local times in {tz!r}: {exc}") from exc
    if "utc_offset_seconds" in payload:
        return times.tz_localize(dt.timezone(dt.timedelta(seconds=int(payload["utc_offset_seconds"]))))
    raise WeatherDataError(f"{name}: no 'timezone' or 'utc_offset_seconds' to place the local times")
