"""Weather inputs: one validated container and readers for EPW/TMY, CSV and Open-Meteo JSON.

Every reader returns a :class:`Weather`: a tz-aware, equally spaced frame whose
columns use the names below (units in the names), and, per column, whether a
value is an *average* over ``[label, label + step)`` or an *instant* sample at
the label. Readers convert the sources' conventions to this one:

===============  ==========================================  =========================
source           irradiance                                  temperature, wind, cloud
===============  ==========================================  =========================
EPW (pvlib)      hour total; pvlib labels the hour's start   instant at the hour's end
CSV              as told by ``label`` (default ``"start"``)  as told by ``label``
Open-Meteo       mean of the *preceding* hour / 15 minutes   instant at the label
===============  ==========================================  =========================

Validation happens here, once: naive or duplicate timestamps, gaps, NaN,
unknown units and implausible magnitudes are errors that name the column and
the time.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pvlib

from forecasting.errors import WeatherDataError
from forecasting.timeaxis import index_step

Sampling = Literal["average", "instant"]
TimeLabel = Literal["start", "end", "instant"]

#: Column -> (lowest, highest) plausible value. Irradiance up to 1,500 W/m2 allows cloud enhancement.
PLAUSIBLE_RANGE: dict[str, tuple[float, float]] = {
    "ghi_w_m2": (0.0, 1500.0),
    "dni_w_m2": (0.0, 1500.0),
    "dhi_w_m2": (0.0, 1000.0),
    "temp_air_c": (-60.0, 65.0),
    "wind_speed_m_s": (0.0, 75.0),
    "cloud_cover_frac": (0.0, 1.0),
    "pressure_hpa": (300.0, 1100.0),
}
WEATHER_COLUMNS: tuple[str, ...] = tuple(PLAUSIBLE_RANGE)
IRRADIANCE_COLUMNS: tuple[str, ...] = ("ghi_w_m2", "dni_w_m2", "dhi_w_m2")
NEGATIVE_IRRADIANCE_TOLERANCE_W_M2 = 20.0  # sensor offsets at night; larger negatives are errors
#: China Standard Weather Data EPW files put each hour's irradiance 30 min late (docs/forecasting.md).
CSWD_IRRADIANCE_OFFSET = pd.Timedelta(minutes=-30)

_UNIT_HINTS = {
    "ghi_w_m2": "Wh/m2 summed over a longer interval, J/m2 or kJ/m2? name the column ghi_wh_m2 / ghi_j_m2",
    "dni_w_m2": "Wh/m2 or J/m2? name the column dni_wh_m2 / dni_j_m2",
    "dhi_w_m2": "Wh/m2 or J/m2? name the column dhi_wh_m2 / dhi_j_m2",
    "temp_air_c": "kelvin or Fahrenheit? name the column temp_air_k / temp_air_f",
    "wind_speed_m_s": "km/h or knots? name the column wind_speed_km_h / wind_speed_kn",
    "cloud_cover_frac": "percent or okta? name the column cloud_cover_pct / cloud_cover_okta",
    "pressure_hpa": "Pa or kPa? name the column pressure_pa / pressure_kpa",
}


@dataclass(frozen=True)
class Weather:
    """Weather time series with their time semantics.

    Attributes
    ----------
    data : DataFrame
        Tz-aware, equally spaced index; columns from :data:`WEATHER_COLUMNS`:
        ``ghi_w_m2``, ``dni_w_m2``, ``dhi_w_m2`` [W/m^2], ``temp_air_c`` [C],
        ``wind_speed_m_s`` [m/s], ``cloud_cover_frac`` [0-1], ``pressure_hpa`` [hPa].
    step : Timedelta
        Spacing of the labels.
    sampling : mapping of column to ``"average"`` or ``"instant"``
        ``"average"``: mean over ``[label, label + step)``; ``"instant"``: value at the label.
    source : str
        Where the data came from (file name, API), for messages.
    meta : mapping
        Reader metadata (e.g. the EPW site's latitude, longitude, altitude).
    """

    data: pd.DataFrame
    step: pd.Timedelta
    sampling: Mapping[str, Sampling]
    source: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_weather_frame(self.data, self.step, self.sampling, self.source)

    def drop(self, *columns: str) -> Weather:
        """The same weather without ``columns`` (e.g. an untrustworthy DNI, to be re-derived)."""
        keep = [c for c in self.data.columns if c not in columns]
        return Weather(
            data=self.data[keep],
            step=self.step,
            sampling={c: self.sampling[c] for c in keep},
            source=self.source,
            meta=self.meta,
        )

    @property
    def start(self) -> pd.Timestamp:
        """First label."""
        return self.data.index[0]

    @property
    def end(self) -> pd.Timestamp:
        """End of the data: last label plus one step (averages) [time]."""
        return self.data.index[-1] + self.step


def _where(source: str) -> str:
    return f" in {source}" if source else ""


def validate_weather_frame(
    frame: pd.DataFrame, step: pd.Timedelta, sampling: Mapping[str, Sampling], source: str
) -> None:
    """Raise :class:`WeatherDataError` unless ``frame`` is usable weather (see :class:`Weather`)."""
    where = _where(source)
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise WeatherDataError(f"weather{where} needs a DatetimeIndex, got {type(frame.index).__name__}")
    if len(frame) == 0:
        raise WeatherDataError(f"weather{where} has no rows")
    if frame.index.tz is None:
        raise WeatherDataError(f"weather timestamps{where} carry no time zone (first: {frame.index[0]})")
    unknown = [c for c in frame.columns if c not in PLAUSIBLE_RANGE]
    if unknown:
        raise WeatherDataError(f"unknown weather column(s){where}: {unknown}; expected some of {list(WEATHER_COLUMNS)}")
    missing_sampling = [c for c in frame.columns if sampling.get(c) not in ("average", "instant")]
    if missing_sampling:
        raise WeatherDataError(f"no sampling ('average' or 'instant') given for {missing_sampling}{where}")
    duplicated = frame.index.duplicated()
    if duplicated.any():
        raise WeatherDataError(f"duplicate timestamp {frame.index[duplicated.argmax()]}{where}")
    if not frame.index.is_monotonic_increasing:
        i = int(np.argmax(np.diff(frame.index.as_unit("ns").asi8) < 0))
        raise WeatherDataError(f"timestamps{where} go backwards: {frame.index[i]} -> {frame.index[i + 1]}")
    if len(frame) > 1:
        diffs = frame.index[1:] - frame.index[:-1]
        bad = diffs != step
        if bad.any():
            i = int(bad.argmax())
            raise WeatherDataError(
                f"gap in weather{where}: {frame.index[i]} -> {frame.index[i + 1]} "
                f"({diffs[i]} where the step is {step}); fill or drop the gap explicitly"
            )
    for column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        nan = values.isna().to_numpy()
        if nan.any():
            raise WeatherDataError(
                f"column {column}{where} has {int(nan.sum())} missing/NaN value(s), "
                f"first at {frame.index[nan.argmax()]}"
            )
        low, high = PLAUSIBLE_RANGE[column]
        if column in IRRADIANCE_COLUMNS:
            low -= NEGATIVE_IRRADIANCE_TOLERANCE_W_M2
        arr = values.to_numpy(dtype=float)
        if not np.isfinite(arr).all():
            raise WeatherDataError(
                f"column {column}{where} has an infinite value at {frame.index[~np.isfinite(arr)][0]}"
            )
        too_low, too_high = arr < low, arr > high
        if too_high.any():
            i = int(too_high.argmax())
            raise WeatherDataError(
                f"column {column}{where} = {arr[i]:g} at {frame.index[i]} is above the plausible {high:g} "
                f"({_UNIT_HINTS[column]})"
            )
        if too_low.any():
            i = int(too_low.argmax())
            raise WeatherDataError(
                f"column {column}{where} = {arr[i]:g} at {frame.index[i]} is below the plausible {low:g} "
                f"({_UNIT_HINTS[column]})"
            )


def _typical_step(index: pd.DatetimeIndex, where: str) -> pd.Timedelta:
    """The most common spacing of ``index`` (gaps are then reported by the validation)."""
    if len(index) < 2:
        if index.freq is not None:
            return index_step(index)
        raise WeatherDataError(f"weather{where} has one row and no step; pass step=")
    diffs = pd.Series(index[1:] - index[:-1])
    return pd.Timedelta(diffs.mode().iloc[0])


def weather_from_frame(
    frame: pd.DataFrame,
    *,
    label: TimeLabel | Mapping[str, TimeLabel] = "start",
    step: pd.Timedelta | None = None,
    source: str = "",
    meta: Mapping[str, Any] | None = None,
) -> Weather:
    """Build :class:`Weather` from a frame in the canonical column names.

    Parameters
    ----------
    frame : DataFrame
        Tz-aware index, columns from :data:`WEATHER_COLUMNS` (already in those units).
    label : "start", "end" or "instant", or a mapping column -> label
        What a timestamp means: the start or the end of the interval the value
        is averaged over, or the instant it was sampled at.
    step : Timedelta, optional
        Spacing of the labels; inferred from the index when omitted.
    source : str
        Name of the source for messages.
    meta : mapping, optional
        Reader metadata.

    Returns
    -------
    Weather
        Averages relabelled to interval starts, instants unchanged.
    """
    where = _where(source)
    if not isinstance(frame.index, pd.DatetimeIndex) or frame.index.tz is None:
        first = frame.index[0] if len(frame.index) else "none"
        raise WeatherDataError(f"weather timestamps{where} must be tz-aware datetimes (first: {first})")
    if step is None:
        step = _typical_step(frame.index, where)
    labels = {c: (label if isinstance(label, str) else label.get(c, "start")) for c in frame.columns}
    bad = {c: v for c, v in labels.items() if v not in ("start", "end", "instant")}
    if bad:
        raise WeatherDataError(f"label must be 'start', 'end' or 'instant'; got {bad}{where}")
    data = frame.apply(pd.to_numeric, errors="coerce").astype(float)
    ends = [c for c, v in labels.items() if v == "end"]
    if ends and len(ends) == len(labels):  # every column labelled at interval ends: relabel the index
        data.index = data.index - step
    elif ends:  # mixed: move the end-labelled columns one row up; their last interval is unknown
        if len(data) < 2:
            raise WeatherDataError(f"weather{where} needs two rows to relabel {ends} from interval ends to starts")
        data[ends] = data[ends].shift(-1)
        data = data.iloc[:-1]
    sampling: dict[str, Sampling] = {c: ("instant" if v == "instant" else "average") for c, v in labels.items()}
    return Weather(data=data, step=pd.Timedelta(step), sampling=sampling, source=source, meta=dict(meta or {}))


# --- CSV -------------------------------------------------------------------------------------------

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
    where = _where(source)
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
    where = _where(source)
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
    step = step if step is not None else _typical_step(times, _where(source))
    labels_by_file = {c: (label if isinstance(label, str) else label.get(c, "start")) for c in frame.columns}
    canonical = to_canonical_units(frame, step, labels_by_file, source)
    labels: dict[str, TimeLabel] = {}
    for name in frame.columns:
        parts = _split_column(name.lower())
        if parts is not None:
            labels[_QUANTITIES[parts[0]]] = labels_by_file[name]
    return weather_from_frame(canonical, label=labels, step=step, source=source)


# --- EPW / TMY -------------------------------------------------------------------------------------


def read_epw(
    path: str | Path,
    *,
    coerce_year: int | None = None,
    irradiance_offset: pd.Timedelta | None = None,
    drop_dni: bool | None = None,
) -> Weather:
    """Read an EPW (e.g. a typical meteorological year) with :func:`pvlib.iotools.read_epw`.

    pvlib labels each hour by its start (EPW hour ``h`` covers ``[h-1, h)`` and
    gets the label ``h-1``), so irradiance is an interval average labelled at
    the start. Temperature, wind and pressure are instants at the *end* of the
    hour: they are moved one hour forward onto their own time, cyclically (the
    value of 24:00 on 31 December becomes the 00:00 value of 1 January, which
    suits a typical year).

    Parameters
    ----------
    path : path
        The ``.epw`` file.
    coerce_year : int, optional
        Give every row this year. TMY months come from different years; when
        the rows are out of order they get the first row's year.
    irradiance_offset : Timedelta, optional
        For files whose hours are not where the EPW convention puts them:
        the averages describe ``[label + offset, label + offset + 1 h)``
        (cyclic shift, see :func:`forecasting.resample.shift_averages`).
        Default: :data:`CSWD_IRRADIANCE_OFFSET` (-30 min) for China Standard
        Weather Data files (``CSWD`` in the LOCATION line), else none.
    drop_dni : bool, optional
        Drop the file's DNI so that it is re-derived from GHI and DHI on the
        horizon (for files whose DNI does not close with GHI - DHI).
        Default: True for CSWD files, else False.

    Returns
    -------
    Weather
        ``ghi_w_m2``, ``dni_w_m2``, ``dhi_w_m2`` (averages), ``temp_air_c``,
        ``wind_speed_m_s``, ``pressure_hpa`` (instants); ``meta`` has the
        file's ``latitude``, ``longitude``, ``altitude`` and ``TZ``.
    """
    raw, meta = pvlib.iotools.read_epw(str(path), coerce_year=coerce_year)
    if not raw.index.is_monotonic_increasing:  # TMY months from different years: give them one year
        raw, meta = pvlib.iotools.read_epw(str(path), coerce_year=int(raw.index[0].year))
    frame = pd.DataFrame(
        {
            "ghi_w_m2": raw["ghi"].astype(float),
            "dni_w_m2": raw["dni"].astype(float),
            "dhi_w_m2": raw["dhi"].astype(float),
            "temp_air_c": np.roll(raw["temp_air"].to_numpy(float), 1),
            "wind_speed_m_s": np.roll(raw["wind_speed"].to_numpy(float), 1),
            "pressure_hpa": np.roll(raw["atmospheric_pressure"].to_numpy(float), 1) / 100.0,
        },
        index=raw.index,
    )
    sampling: dict[str, Sampling] = {c: "average" for c in IRRADIANCE_COLUMNS}
    sampling |= {"temp_air_c": "instant", "wind_speed_m_s": "instant", "pressure_hpa": "instant"}
    weather = Weather(
        data=frame, step=pd.Timedelta(hours=1), sampling=sampling, source=Path(path).name, meta=dict(meta)
    )
    cswd = str(meta.get("data_type", "")).strip().upper() == "CSWD"
    if irradiance_offset is None:
        irradiance_offset = CSWD_IRRADIANCE_OFFSET if cswd else pd.Timedelta(0)
    if drop_dni is None:
        drop_dni = cswd
    if irradiance_offset != pd.Timedelta(0):
        from forecasting.resample import shift_averages  # resample builds on this module

        weather = shift_averages(weather, pd.Timedelta(irradiance_offset), cyclic=True)
    return weather.drop("dni_w_m2") if drop_dni else weather


# --- Open-Meteo ------------------------------------------------------------------------------------

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


# --- typical years ---------------------------------------------------------------------------------


def typical_year_for(weather: Weather, start: pd.Timestamp, end: pd.Timestamp) -> Weather:
    """Re-date a typical year so that it covers ``[start, end)``.

    Each row keeps its month, day and clock time (in the weather's own zone)
    and is given the years that ``[start, end)`` spans; 29 February is copied
    from 28 February when the typical year lacks it and dropped when the target
    year lacks it.

    Parameters
    ----------
    weather : Weather
        One year of hourly (or finer) data, e.g. from :func:`read_epw`.
    start, end : Timestamp
        Tz-aware span to cover (e.g. a horizon's start and end).

    Returns
    -------
    Weather
        Rows from one step before ``start`` to one step after ``end`` (where available).
    """
    tz = weather.data.index.tz
    wall = weather.data.index.tz_localize(None)
    month, day = wall.month.to_numpy(), wall.day.to_numpy()
    time_of_day = (wall - wall.normalize()).to_numpy()
    has_feb29 = bool(((month == 2) & (day == 29)).any())
    pieces = []
    for year in range(start.tz_convert(tz).year - 1, end.tz_convert(tz).year + 2):
        frame, m, d, tod = weather.data, month, day, time_of_day
        if _is_leap(year) and not has_feb29:
            feb28 = (m == 2) & (d == 28)
            frame = pd.concat([frame, frame[feb28]])
            m, d, tod = np.r_[m, m[feb28]], np.r_[d, np.full(int(feb28.sum()), 29)], np.r_[tod, tod[feb28]]
        elif has_feb29 and not _is_leap(year):
            keep = ~((m == 2) & (d == 29))
            frame, m, d, tod = frame[keep], m[keep], d[keep], tod[keep]
        dates = pd.to_datetime(pd.DataFrame({"year": year, "month": m, "day": d}))
        frame = frame.copy()
        frame.index = (pd.DatetimeIndex(dates) + pd.TimedeltaIndex(tod)).tz_localize(
            tz, ambiguous="NaT", nonexistent="NaT"
        )
        pieces.append(frame[frame.index.notna()])
    data = pd.concat(pieces).sort_index()
    data = data[~data.index.duplicated()]
    lo, hi = start - 2 * weather.step, end + 2 * weather.step
    data = data[(data.index >= lo) & (data.index <= hi)]
    return Weather(
        data=data,
        step=weather.step,
        sampling=weather.sampling,
        source=f"{weather.source} (typical year)",
        meta=weather.meta,
    )


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
