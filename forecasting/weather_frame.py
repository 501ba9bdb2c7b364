"""The :class:`Weather` container and what every weather reader shares.

The canonical columns (units in the names) and their plausible ranges, the
checks every :class:`Weather` passes on construction (naive or duplicate
timestamps, gaps, NaN, unknown columns and implausible magnitudes are errors
that name the column and the time), :func:`weather_from_frame`, which turns a
frame with ``start``/``end``/``instant`` labels into :class:`Weather`, and
:func:`typical_year_for`, which re-dates a typical year onto a horizon. The
readers per format are in ``weather_csv.py``, ``weather_epw.py`` and
``weather_open_meteo.py``; ``forecasting.weather`` re-exports them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

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


def in_source(source: str) -> str:
    """`` in <source>`` for messages, empty when the source is unnamed."""
    return f" in {source}" if source else ""


def validate_weather_frame(
    frame: pd.DataFrame, step: pd.Timedelta, sampling: Mapping[str, Sampling], source: str
) -> None:
    """Raise :class:`WeatherDataError` unless ``frame`` is usable weather (see :class:`Weather`)."""
    where = in_source(source)
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


def typical_step(index: pd.DatetimeIndex, where: str) -> pd.Timedelta:
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
    where = in_source(source)
    if not isinstance(frame.index, pd.DatetimeIndex) or frame.index.tz is None:
        first = frame.index[0] if len(frame.index) else "none"
        raise WeatherDataError(f"weather timestamps{where} must be tz-aware datetimes (first: {first})")
    if step is None:
        step = typical_step(frame.index, where)
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


def extend_into_night(weather: Weather, end: pd.Timestamp, sun_up: Any) -> Weather:
    """``weather`` carried on to ``end`` when the sun is down for all of the missing part.

    A 2-day Open-Meteo forecast ends an hour short of its second midnight (its radiation is labelled at the end
    of each hour), so the second day's last hour is missing; at night that hour has no irradiance to forecast.
    Irradiance is 0 in the added steps, the other columns hold their last value. ``sun_up(times) -> bool array``
    says whether the sun is above the horizon at the added steps' midpoints; if it is at any of them, a
    :class:`WeatherDataError` names the first one.
    """
    if end <= weather.end:
        return weather
    labels = pd.date_range(weather.end, end, freq=weather.step, inclusive="left")
    daylight = np.asarray(sun_up(labels + weather.step / 2), dtype=bool)
    if daylight.any():
        raise WeatherDataError(
            f"the weather ends at {weather.end}; the sun is up at {labels[daylight][0]}, which it does not cover"
        )
    tail = pd.DataFrame(index=labels, columns=weather.data.columns, dtype=float)
    for column in weather.data.columns:
        tail[column] = 0.0 if column in IRRADIANCE_COLUMNS else float(weather.data[column].iloc[-1])
    data = pd.concat([weather.data, tail])
    return Weather(data=data, step=weather.step, sampling=weather.sampling, source=weather.source, meta=weather.meta)
