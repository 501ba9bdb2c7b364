"""Weather from CSV: a time column and ``<quantity>_<unit>`` columns converted to the canonical units.

Timestamps are ISO 8601, with an offset or localised with ``tz=``; what a
timestamp means (interval start, end or instant) is told by ``label``
(default ``"start"``). Irradiance may be energy per interval (``ghi_wh_m2``,
``ghi_j_m2``...), which is divided by the interval length.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from forecasting.errors import WeatherDataError
from forecasting.weather_frame import TimeLabel, Weather, in_source, typical_step, weather_from_frame

#: Quantity -> canonical column; unit suffix -> factor or converter to the canonical unit.
_QUANTITIES = {
    "ghi": "ghi_w_m2",
    "dni": "dni_w_m2",
    "dhi": "dhi_w_m2",
    "temp_air": "temp_air_c",
    "wind_speed": "wind_speed_m_s",
    "cloud_cover": "cloud_cover_frac",
    "pressure": "pressure_hpa",
}
_IRRADIANCE_ENERGY_UNITS_J = {"wh_m2": 3600.0, "kwh_m2": 3.6e6, "j_m2": 1.0, "kj_m2": 1e3, "mj_m2": 1e6}
_LINEAR_UNITS: dict[str, dict[str, tuple[float, float]]] = {  # canonical = value * scale + offset
    "temp_air": {"c": (1.0, 0.0), "k": (1.0, -273.15), "f": (5.0 / 9.0, -32.0 * 5.0 / 9.0)},
    "wind_speed": {"m_s": (1.0, 0.0), "km_h": (1 / 3.6, 0.0), "kn": (0.514444, 0.0), "mph": (0.44704, 0.0)},
    "cloud_cover": {"frac": (1.0, 0.0), "pct": (0.01, 0.0), "okta": (1 / 8, 0.0)},
    "pressure": {"hpa": (1.0, 0.0), "pa": (0.01, 0.0), "kpa": (10.0, 0.0)},
    "ghi": {"w_m2": (1.0, 0.0)},
    "dni": {"w_m2": (1.0, 0.0)},
    "dhi": {"w_m2": (1.0, 0.0)},
}


def _split_column(name: str) -> tuple[str, str] | None:
    """``"ghi_wh_m2"`` -> ``("ghi", "wh_m2")``; ``None`` if the column is no weather quantity."""
    for quantity in sorted(_QUANTITIES, key=len, reverse=True):
        if name == quantity:
            return quantity, ""
        if name.startswith(quantity + "_"):
            return quantity, name[len(quantity) + 1 :]
    return None


def to_canonical_units(
    frame: pd.DataFrame, step: pd.Timedelta, labels: Mapping[str, TimeLabel], source: str = ""
) -> pd.DataFrame:
    """Rename and convert columns named ``<quantity>_<unit>`` to the canonical weather columns.

    Irradiance given as energy per interval (``ghi_wh_m2``, ``ghi_kwh_m2``,
    ``ghi_j_m2``, ``ghi_kj_m2``, ``ghi_mj_m2``) is divided by the interval
    length to get average W/m^2; temperature in ``_c``, ``_k``, ``_f``; wind in
    ``_m_s``, ``_km_h``, ``_kn``, ``_mph``; cloud cover in ``_frac``, ``_pct``,
    ``_okta``; pressure in ``_hpa``, ``_pa``, ``_kpa``. Columns that are not
    weather quantities are dropped; a weather quantity without a known unit is
    an error.
    """
    where = in_source(source)
    out: dict[str, pd.Series] = {}
    for name in frame.columns:
        parts = _split_column(str(name).strip().lower())
        if parts is None:
            continue
        quantity, unit = parts
        target = _QUANTITIES[quantity]
        values = pd.to_numeric(frame[name], errors="coerce")
        if quantity in ("ghi", "dni", "dhi") and unit in _IRRADIANCE_ENERGY_UNITS_J:
            if labels.get(str(name), "start") == "instant":
                raise WeatherDataError(
                    f"column {name}{where} is an energy per interval; it cannot be an instant sample"
                )
            converted = values * _IRRADIANCE_ENERGY_UNITS_J[unit] / step.total_seconds()
        elif unit in _LINEAR_UNITS[quantity]:
            scale, offset = _LINEAR_UNITS[quantity][unit]
            converted = values * scale + offset
        else:
            known = sorted(_LINEAR_UNITS[quantity]) + (
                sorted(_IRRADIANCE_ENERGY_UNITS_J) if quantity in ("ghi", "dni", "dhi") else []
            )
            raise WeatherDataError(
                f"column {name!r}{where} has {'no unit' if not unit else f'the unknown unit {unit!r}'}; "
                f"name it {quantity}_<unit> with unit one of {known}"
            )
        if target in out:
            raise WeatherDataError(f"two columns{where} give {target}: rename or drop one")
        out[target] = converted.rename(target)
    if not out:
        raise WeatherDataError(f"no weather columns{where}; expected e.g. ghi_w_m2, temp_air_c, cloud_cover_pct")
    return pd.DataFrame(out, index=frame.index)


def _parse_times(raw: pd.Series, tz: str | None, column: str, source: str) -> pd.DatetimeIndex:
    where = in_source(source)
    try:
        times = pd.DatetimeIndex(pd.to_datetime(raw, format="ISO8601"))
    except (ValueError, TypeError):
        try:  # offsets that change (daylight saving time): read in UTC
            times = pd.DatetimeIndex(pd.to_datetime(raw, format="ISO8601", utc=True))
        except (ValueError, TypeError) as exc:
            raise WeatherDataError(f"column {column}{where} holds unreadable timestamps: {exc}") from exc
    if times.tz is None:
        if tz is None:
            raise WeatherDataError(
                f"timestamps in column {column}{where} carry no time zone (first: {times[0]}); "
                "write them with an offset (2026-07-15T12:00+08:00) or pass tz='Asia/Shanghai'"
            )
        try:
            times = times.tz_localize(tz, ambiguous="infer", nonexistent="raise")
        except Exception as exc:  # pytz/zoneinfo raise several types for DST trouble
            raise WeatherDataError(
                f"timestamps in column {column}{where} are not valid local times in {tz}: {exc}"
            ) from exc
    elif tz is not None:
        times = times.tz_convert(tz)
    return times


def read_weather_csv(
    path: str | Path | io.TextIOBase,
    *,
    time_column: str = "time",
    label: TimeLabel | Mapping[str, TimeLabel] = "start",
    tz: str | None = None,
    step: pd.Timedelta | None = None,
) -> Weather:
    """Read weather from a CSV file with a time column and ``<quantity>_<unit>`` columns.

    Parameters
    ----------
    path : path or text buffer
        CSV with a header. Columns such as ``ghi_w_m2``, ``dni_w_m2``,
        ``dhi_w_m2`` (or ``ghi_wh_m2``...), ``temp_air_c``, ``wind_speed_m_s``,
        ``cloud_cover_pct``; GHI alone is enough (it is decomposed later).
    time_column : str
        Name of the timestamp column (ISO 8601).
    label : "start", "end" or "instant", or a mapping column -> label
        Time semantics of the file's columns (keys are the file's column names).
    tz : str, optional
        IANA zone for naive timestamps; timestamps with offsets are converted to it.
    step : Timedelta, optional
        Spacing of the rows; inferred when omitted.

    Returns
    -------
    Weather
    """
    source = Path(path).name if isinstance(path, str | Path) else "csv"
    frame = pd.read_csv(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    if time_column not in frame.columns:
        raise WeatherDataError(f"no time column {time_column!r} in {source}; columns are {list(frame.columns)}")
    times = _parse_times(frame.pop(time_column), tz, time_column, source)
    frame.index = times
    step = step if step is not None else typical_step(times, in_source(source))
    labels_by_file = {c: (label if isinstance(label, str) else label.get(c, "start")) for c in frame.columns}
    canonical = to_canonical_units(frame, step, labels_by_file, source)
    labels: dict[str, TimeLabel] = {}
    for name in frame.columns:
        parts = _split_column(name.lower())
        if parts is not None:
            labels[_QUANTITIES[parts[0]]] = labels_by_file[name]
    return weather_from_frame(canonical, label=labels, step=step, source=source)
