"""The shipped example data as an EMS would send it to the service, for the Shenyang factory example site
(``scenarios/examples/shenyang_factory.yaml``).

- :func:`history_frame`: 15-minute meter history of the site's inputs for any dates: ``process_load`` [kW] is the
  measured steel-plant load of 2018 (``data/steel_load_2018_15min.csv``, x3 as in the example) moved by a whole
  number of weeks, so that a Monday stays a Monday; ``process_cooling`` and ``workshop_heat`` [kW_th] and
  ``compressed_air`` [m3/min] are the factory's shift profiles (``data/factory_demands_15min.csv``, a 2026 year)
  by day of year.
- :func:`readings_body`: such a frame as the JSON body of ``POST /v1/sites/{id}/readings``.
- :func:`plan_as_readings`: what a plan said the battery SOC and the grid import would be, as if they had been
  metered (the demo has no real meters for them).
- :func:`weather_csv`: a weather forecast of one local day (plus an hour either side) as CSV for
  ``POST /v1/sites/{id}/weather``, from the bundled Shenyang typical year.

Used by ``examples/ems_week.py`` and ``benchmarks/api_ems.py``.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DATA = Path(__file__).with_name("data")
TZ = "Asia/Shanghai"
STEP = pd.Timedelta(minutes=15)
STEEL_YEAR = 2018
DEMANDS_YEAR = 2026
LOAD_SCALE = 3.0
"""The example's scale of the steel-plant load (``process_load`` = ``load_kw`` x 3)."""
WEATHER_STEP = pd.Timedelta(minutes=30)
"""Step of the weather CSV: the typical year's own grid after its CSWD correction (irradiance moved 30 min)."""
WEATHER_MARGIN = pd.Timedelta(hours=1)
"""The weather CSV covers the local day and this much before and after it."""
WEATHER_COLUMNS = ("ghi_w_m2", "dni_w_m2", "dhi_w_m2", "temp_air_c", "wind_speed_m_s")
INPUTS = ("process_load", "process_cooling", "workshop_heat", "compressed_air")
"""The site's ``$inputs`` that are meter readings (``pv_roof`` is forecast from the weather)."""

DateLike = str | dt.date | pd.Timestamp


def _local_midnight(day: DateLike) -> pd.Timestamp:
    """Local midnight (``Asia/Shanghai``) of a date, a date string or a timestamp (its local date)."""
    stamp = pd.Timestamp(day)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(TZ).tz_localize(None)
    return stamp.normalize().tz_localize(TZ)


def local_index(start: DateLike, end: DateLike) -> pd.DatetimeIndex:
    """Quarter-hour interval starts from local midnight of ``start`` up to (not including) that of ``end``."""
    return pd.date_range(_local_midnight(start), _local_midnight(end), freq=STEP, inclusive="left")


@cache
def _steel_load_kw() -> pd.Series:
    """The steel plant's 2018 load [kW], 15 min, naive local interval starts (35,040 values)."""
    frame = pd.read_csv(DATA / "steel_load_2018_15min.csv", parse_dates=["interval_start"])
    return frame.set_index("interval_start")["load_kw"].astype(float)


@cache
def _factory_demands() -> pd.DataFrame:
    """Cooling and heat [kW_th] and air [m3/min] of 2026, 15 min, naive local interval starts."""
    frame = pd.read_csv(DATA / "factory_demands_15min.csv", parse_dates=["interval_start"])
    return frame.set_index("interval_start").astype(float)


def week_shift_days(year: int) -> int:
    """Days (a whole number of weeks) to subtract from a date of ``year`` to land on the same weekday of 2018
    nearest to the same day of year (2026: 2,919 days, so 17 June 2026 comes from 20 June 2018, both Wednesdays)."""
    gap_days = (dt.date(year, 1, 1) - dt.date(STEEL_YEAR, 1, 1)).days
    return 7 * round(gap_days / 7)


def steel_source_times(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The 2018 times (naive local) whose steel-plant load stands for ``index``: each local time moved back by whole
    weeks (:func:`week_shift_days` of its year), and by 52 weeks more or less where that leaves 2018."""
    wall = index.tz_convert(TZ).tz_localize(None)
    shift = pd.to_timedelta(np.array([week_shift_days(y) for y in wall.year]), unit="D")
    source = wall - shift
    first, after = pd.Timestamp(STEEL_YEAR, 1, 1), pd.Timestamp(STEEL_YEAR + 1, 1, 1)
    weeks_52 = pd.Timedelta(days=364)
    while (source >= after).any() or (source < first).any():  # 52 weeks keep the weekday; 2018 has 365 days
        source = source.where(source < after, source - weeks_52)
        source = source.where(source >= first, source + weeks_52)
    return source


def demand_source_times(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The 2026 times (naive local) of the same day of year and clock time as ``index`` (day 366 reads day 365)."""
    wall = index.tz_convert(TZ).tz_localize(None)
    day_of_year = np.minimum(wall.day_of_year.to_numpy(), 365) - 1
    clock = wall - wall.normalize()
    return pd.Timestamp(DEMANDS_YEAR, 1, 1) + pd.to_timedelta(day_of_year, unit="D") + clock


def history_frame(start: DateLike, end: DateLike) -> pd.DataFrame:
    """Meter history of the factory's inputs over the local days ``[start, end)``, on quarter-hours (tz
    ``Asia/Shanghai``, interval starts; each value the average over its quarter-hour).

    Columns: ``process_load`` [kW] (the steel plant's 2018 load x3, moved by whole weeks, rounded to 0.01 kW),
    ``process_cooling`` and ``workshop_heat`` [kW_th], ``compressed_air`` [m3/min] (the 2026 shift profiles by day
    of year).
    """
    index = local_index(start, end)
    steel = _steel_load_kw()
    demands = _factory_demands()
    demand_rows = demand_source_times(index)
    return pd.DataFrame(
        {
            "process_load": (steel.loc[steel_source_times(index)].to_numpy() * LOAD_SCALE).round(2),
            "process_cooling": demands.loc[demand_rows, "cooling_kw"].to_numpy(),
            "workshop_heat": demands.loc[demand_rows, "heat_kw"].to_numpy(),
            "compressed_air": demands.loc[demand_rows, "air_m3_per_min"].to_numpy(),
        },
        index=index,
    )


def readings_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One reading per non-missing value of ``frame`` (columns: series names; index: tz-aware times), series by
    series: ``{"series", "time" (ISO 8601 with offset), "value"}``."""
    rows: list[dict[str, Any]] = []
    for name in frame.columns:
        column = frame[name]
        for time, value in zip(column.index, column.to_numpy(dtype=float), strict=True):
            if math.isfinite(value):
                rows.append({"series": str(name), "time": time.isoformat(), "value": float(value)})
    return rows


def readings_body(frame: pd.DataFrame, kinds: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The JSON body of ``POST /v1/sites/{id}/readings`` for ``frame`` (NaN values left out).

    ``kinds`` names a series' value kind (``power``, ``energy``, ``register``, ``state``) where the service's
    default (power for rates, state for states) is not meant.
    """
    body: dict[str, Any] = {"readings": readings_rows(frame)}
    if kinds:
        body["series"] = {name: {"kind": kind} for name, kind in kinds.items()}
    return body


def plan_as_readings(
    schedule: Sequence[Mapping[str, Any]], battery_capacity_kwh: float, battery: str = "battery", grid: str = "grid"
) -> pd.DataFrame:
    """A plan's battery SOC and grid import as if metered: ``<battery>.soc_frac`` [0-1] at each instant (the plan's
    level at the end of a step is the reading at the next step's start) and ``<grid>.import_kw`` [kW] over each
    step. ``schedule``: the plan's records (``interval_start`` and its columns), as the dispatch answers them.

    Index: the plan's interval starts and its end (tz ``Asia/Shanghai``); NaN where a series has no value (the
    import at the end, the SOC at the start).
    """
    starts = pd.DatetimeIndex(pd.to_datetime([r["interval_start"] for r in schedule], format="ISO8601", utc=True))
    starts = starts.tz_convert(TZ)
    step = starts[1] - starts[0] if len(starts) > 1 else STEP
    index = starts.append(pd.DatetimeIndex([starts[-1] + step]))
    soc_frac = [math.nan] + [float(r[f"{battery}.soc_kwh"]) / battery_capacity_kwh for r in schedule]
    import_kw = [float(r[f"{grid}.import_kw"]) for r in schedule] + [math.nan]
    return pd.DataFrame(
        {f"{battery}.soc_frac": np.round(soc_frac, 6), f"{grid}.import_kw": np.round(import_kw, 3)}, index=index
    )


def weather_frame(day: DateLike) -> pd.DataFrame:
    """The weather of a local day and an hour either side from the bundled Shenyang typical year (CSWD corrections
    applied), re-dated to ``day``: 30-minute averages labelled by interval start, in the CSV's units.

    ``ghi_w_m2`` and ``dhi_w_m2`` [W/m2] are the typical year's; ``dni_w_m2`` [W/m2] closes GHI - DHI with the
    sun at each interval's midpoint (pvlib ``complete_irradiance``, capped by the clear-sky DNI), as a forecast
    provider sends all three; ``temp_air_c`` [C] and ``wind_speed_m_s`` [m/s] are the typical year's instant
    values averaged over each interval (the mean of its two ends).
    """
    import pvlib

    from forecasting import shenyang_default_site, shenyang_typical_weather
    from forecasting.irradiance import clear_sky_on_index, solar_position

    midnight = _local_midnight(day)
    start = midnight - WEATHER_MARGIN
    end = _local_midnight(midnight.date() + dt.timedelta(days=1)) + WEATHER_MARGIN
    labels = pd.date_range(start, end, freq=WEATHER_STEP, inclusive="left")
    typical = shenyang_typical_weather(labels).data
    missing = labels.append(pd.DatetimeIndex([end])).difference(typical.index)
    if len(missing):
        raise ValueError(f"the typical year does not give {missing[0]} for {midnight.date()}")
    location = shenyang_default_site().location()
    position = solar_position(location, labels)
    sky = clear_sky_on_index(location, labels)
    ghi = pd.Series(typical.loc[labels, "ghi_w_m2"].to_numpy(dtype=float), index=labels).clip(lower=0.0)
    dhi = pd.Series(typical.loc[labels, "dhi_w_m2"].to_numpy(dtype=float), index=labels).clip(lower=0.0, upper=ghi)
    completed = pvlib.irradiance.complete_irradiance(position["zenith"], ghi=ghi, dhi=dhi, dni_clear=sky["dni"])
    dni = completed["dni"].fillna(0.0).clip(lower=0.0).where(position["apparent_elevation"] > 0.0, 0.0)

    def interval_mean(column: str) -> np.ndarray:
        ends = typical[column].reindex(labels.append(pd.DatetimeIndex([end]))).to_numpy(dtype=float)
        return (ends[:-1] + ends[1:]) / 2.0

    return pd.DataFrame(
        {
            "ghi_w_m2": ghi.to_numpy().round(1),
            "dni_w_m2": dni.to_numpy().round(1),
            "dhi_w_m2": dhi.to_numpy().round(1),
            "temp_air_c": interval_mean("temp_air_c").round(2),
            "wind_speed_m_s": interval_mean("wind_speed_m_s").round(2),
        },
        index=labels,
    )


def weather_csv(day: DateLike) -> str:
    """A weather forecast for the local ``day`` as CSV (:func:`weather_frame`): a ``time`` column (ISO 8601 with
    the UTC offset, the start of each 30-minute interval, the default label of ``forecasting.read_weather_csv``)
    and ``ghi_w_m2, dni_w_m2, dhi_w_m2, temp_air_c, wind_speed_m_s``; it covers the day from an hour before
    its first midnight to an hour after its last."""
    frame = weather_frame(day)
    out = io.StringIO()
    frame.rename_axis("time").reset_index().assign(time=lambda f: [t.isoformat() for t in f["time"]]).to_csv(
        out, index=False, lineterminator="\n"
    )
    return out.getvalue()


__all__ = [
    "INPUTS",
    "TZ",
    "WEATHER_COLUMNS",
    "demand_source_times",
    "history_frame",
    "local_index",
    "plan_as_readings",
    "readings_body",
    "readings_rows",
    "steel_source_times",
    "weather_csv",
    "weather_frame",
    "week_shift_days",
]
