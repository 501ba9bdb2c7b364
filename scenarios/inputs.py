"""Series inputs of a scenario: inline daily profiles, CSV columns, weather-driven PV, load history.

Every source becomes a function of the run's time axis: :meth:`Inputs.values`
returns one value per step of a tz-aware index (labels are interval starts).
Values are interval averages: a source step coarser than the run's is held
over the finer steps, a finer one is averaged, both exactly (the cumulative
energy of the step function is interpolated at the run's step boundaries).

Time semantics of CSV sources (``repeat``):

- ``none``: timestamps are real times and must cover every day run;
- ``yearly``: a reference year (a typical year, last year's meters) matched by
  month, day and local clock time; 29 February takes 28 February's values
  (``align: weekday``: the nearest day with the same weekday, for weekly rhythms);
- ``daily``: one day by clock time, repeated every day.

Weather files (PV) and load histories go through the ``forecasting`` package,
imported only when such an input is used. ``sum`` adds other inputs up (e.g. a
daily shift profile plus a seasonal term from a weather-year column).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios.loader import Case
from scenarios.spec import CsvInput, InlineInput, LoadHistoryInput, SumInput, WeatherPvInput

MINUTES_PER_DAY = 1440
NS_PER_MIN = 60_000_000_000


@dataclass(frozen=True)
class StepSeries:
    """Interval averages on a regular axis: ``values[i]`` over ``[start + i*step, start + (i+1)*step)``."""

    start_ns: int
    step_ns: int
    values: np.ndarray

    @functools.cached_property
    def cumulative(self) -> np.ndarray:
        """Integral from the start to each boundary [value x ns]."""
        return np.concatenate([[0.0], np.cumsum(self.values * float(self.step_ns))])

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.step_ns * len(self.values)

    def averages(self, starts_ns: np.ndarray, step_ns: int) -> np.ndarray:
        """Mean over ``[s, s + step)`` for every ``s`` (all inside the data)."""
        edges = self.start_ns + self.step_ns * np.arange(len(self.values) + 1, dtype=np.int64)
        lo = np.interp(starts_ns.astype(float), edges.astype(float), self.cumulative)
        hi = np.interp((starts_ns + step_ns).astype(float), edges.astype(float), self.cumulative)
        return (hi - lo) / step_ns


class InputError(ValueError):
    """An input that cannot deliver the values asked for; ``field`` names the input's field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- reading files (cached per process) ---------------------------------------------------------

BUNDLED = "bundled:"
"""Prefix of a path in the data shipped with the package (``scenarios/data``, then ``forecasting/data``):
``bundled:steel_load_2018_15min.csv``, ``bundled:CHN_Liaoning.Shenyang.543420_CSWD.epw``."""
BUNDLED_PACKAGES = ("scenarios.data", "forecasting.data")


def input_path(base_dir: Path, name: str) -> Path:
    """A file named in a scenario: relative to the scenario file, absolute, or ``bundled:<file>`` (a file name
    only: shipped data is never reached by a path that leaves its folder)."""
    if name.startswith(BUNDLED):
        from importlib import resources

        file = Path(name.removeprefix(BUNDLED))
        if file.name != str(file):
            return Path(f"{BUNDLED}{file} is not a file name")  # reads as 'not found', never outside the package
        candidates = [Path(str(resources.files(package).joinpath(file.name))) for package in BUNDLED_PACKAGES]
        return next((c for c in candidates if c.is_file()), candidates[0])
    return (base_dir / name).resolve()


@functools.lru_cache(maxsize=32)
def _read_csv(path: str, mtime: float) -> pd.DataFrame:
    del mtime  # part of the cache key only
    return pd.read_csv(path, encoding="utf-8-sig")


def read_table(path: Path) -> pd.DataFrame:
    """A CSV file, read once per process (until it changes)."""
    if not path.is_file():
        raise InputError(f"file not found: {path}", "csv")
    return _read_csv(str(path), path.stat().st_mtime)


def _regular(stamps_ns: np.ndarray, where: str) -> int:
    if len(stamps_ns) < 2:
        raise InputError(f"{where}: needs at least two rows to know the step")
    steps = np.diff(stamps_ns)
    if np.any(steps <= 0):
        k = int(np.argmax(steps <= 0))
        raise InputError(f"{where}: timestamps must increase; row {k + 3} is not after row {k + 2}")
    step = int(np.median(steps))
    bad = np.flatnonzero(steps != step)
    if bad.size:
        k = int(bad[0])
        raise InputError(
            f"{where}: timestamps are not equally spaced ({step // NS_PER_MIN} min), "
            f"gap of {steps[k] // NS_PER_MIN} min after row {k + 2}"
        )
    return step


def _time_column(frame: pd.DataFrame, name: str | None, where: str) -> str:
    column = name or str(frame.columns[0])
    if column not in frame.columns:
        raise InputError(
            f"{where}: no column {column!r} (columns: {', '.join(map(str, frame.columns))})", "time_column"
        )
    return column


def _value_column(frame: pd.DataFrame, column: str, where: str) -> np.ndarray:
    if column not in frame.columns:
        raise InputError(f"{where}: no column {column!r} (columns: {', '.join(map(str, frame.columns))})", "column")
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        k = int(bad[0])
        raise InputError(f"{where}: column {column!r} has a missing or non-numeric value at row {k + 2}", "column")
    return values


def _local_wall_ns(stamps: pd.Series, tz: str, where: str) -> pd.DatetimeIndex:
    """Timestamps as local wall-clock times in ``tz`` (naive), from naive or offset-carrying text."""
    try:
        parsed = pd.to_datetime(stamps, format="mixed")
    except (ValueError, TypeError) as error:
        raise InputError(f"{where}: cannot read the timestamps: {error}", "time_column") from error
    index = pd.DatetimeIndex(parsed)
    if index.tz is not None:
        index = index.tz_convert(tz).tz_localize(None)
    return index


# --- sources -----------------------------------------------------------------------------------


def _daily_profile(values: np.ndarray, step_minutes: int) -> StepSeries:
    """A one-day profile as a step series over three days (so steps that cross midnight work)."""
    tiled = np.tile(values, 3)
    return StepSeries(-MINUTES_PER_DAY * NS_PER_MIN, step_minutes * NS_PER_MIN, tiled)


def _minutes_of_day_ns(index: pd.DatetimeIndex) -> np.ndarray:
    """Local clock time of each label, as ns since local midnight."""
    wall = index.tz_localize(None)
    return (wall - wall.normalize()).to_numpy().astype("timedelta64[ns]").astype(np.int64)


def _step_ns(index: pd.DatetimeIndex) -> int:
    if len(index) > 1:
        return int(index[1].value - index[0].value)
    freq = index.freq
    if freq is None:
        raise InputError("cannot tell the step of a one-step horizon")
    return int(pd.Timedelta(freq).value)


def _inline_values(source: InlineInput, index: pd.DatetimeIndex) -> np.ndarray:
    step = source.step_minutes or MINUTES_PER_DAY // len(source.values)
    profile = _daily_profile(np.asarray(source.values, dtype=float), step)
    return profile.averages(_minutes_of_day_ns(index), _step_ns(index))


@dataclass(frozen=True)
class _CsvData:
    series: StepSeries
    wall: bool  # True: axis is local wall time (naive), False: UTC ns

    def __post_init__(self) -> None:
        self.series.values.flags.writeable = False  # kept and shared (:func:`_parsed_csv`)


def _load_csv(source: CsvInput, base_dir: Path, tz: str) -> _CsvData:
    path = input_path(base_dir, source.csv)
    read_table(path)  # raises when the file is missing
    return _parsed_csv(path, path.stat().st_mtime, source.model_dump_json(), tz)


@functools.lru_cache(maxsize=32)
def _parsed_csv(path: Path, mtime: float, source_json: str, tz: str) -> _CsvData:
    """One CSV input's series, parsed once per process per file (until it changes: ``mtime``), column and
    settings: a run reads the same inputs for every day. An error is raised each time (not kept)."""
    source = CsvInput.model_validate_json(source_json)
    where = source.csv
    frame = read_table(path)
    time_column = _time_column(frame, source.time_column, where)
    values = _value_column(frame, source.column, where)
    if source.repeat == "daily":
        clock = pd.to_timedelta(
            [s if str(s).count(":") == 2 else f"{s}:00" for s in frame[time_column].astype(str).str[-8:].str.strip()]
        )
        minutes = clock.to_numpy().astype("timedelta64[ns]").astype(np.int64)
        step = _regular(minutes, where)
        if step * len(values) != MINUTES_PER_DAY * NS_PER_MIN or minutes[0] != (
            step if source.time_label == "end" else 0
        ):
            raise InputError(f"{where}: a daily profile needs one row per step from 00:00 to the end of the day")
        return _CsvData(_daily_profile(values, step // NS_PER_MIN), wall=True)
    wall = _local_wall_ns(frame[time_column], source.tz or tz, where)
    stamps = wall.as_unit("ns").asi8
    step = _regular(stamps, where)
    if source.time_label == "end":
        stamps = stamps - step
    if source.repeat == "yearly":
        return _CsvData(StepSeries(int(stamps[0]), step, values), wall=True)
    utc = pd.DatetimeIndex(stamps).tz_localize(source.tz or tz, ambiguous="NaT", nonexistent="NaT")
    if utc.isna().any():
        raise InputError(f"{where}: timestamps that do not exist or repeat at a DST change; give UTC offsets")
    return _CsvData(StepSeries(int(utc.as_unit("ns").asi8[0]), step, values), wall=False)


def _yearly_starts(data: StepSeries, index: pd.DatetimeIndex, align: str = "date") -> np.ndarray:
    """Each label moved into the reference year (local wall time, ns), 29 Feb onto 28 Feb.

    ``align="weekday"``: onto the day of the same weekday nearest the same date (at most 3 days away).
    """
    ref_year = pd.Timestamp(data.start_ns + data.step_ns).year  # the year most of the data is in
    wall = index.tz_localize(None)
    months, days = wall.month.to_numpy(), wall.day.to_numpy()
    leap_ref = pd.Timestamp(year=ref_year, month=1, day=1).is_leap_year
    days = np.where((months == 2) & (days == 29) & (not leap_ref), 28, days)
    dates = pd.to_datetime(pd.DataFrame({"year": ref_year, "month": months, "day": days}))
    clock = wall - wall.normalize()
    dates = pd.DatetimeIndex(dates)
    if align == "weekday":
        shift = (wall.day_of_week.to_numpy() - dates.day_of_week.to_numpy() + 3) % 7 - 3
        dates = dates + pd.to_timedelta(shift, unit="D")
    return (dates + clock).as_unit("ns").asi8


def _csv_values(source: CsvInput, case: Case, index: pd.DatetimeIndex) -> np.ndarray:
    data = _load_csv(source, case.base_dir, case.scenario.site.tz)
    step = _step_ns(index)
    if source.repeat == "daily":
        return data.series.averages(_minutes_of_day_ns(index), step)
    if source.repeat == "yearly":
        starts = _yearly_starts(data.series, index, source.align)
        lo, hi = data.series.start_ns, data.series.end_ns
        # the last interval of the reference year may need the first one: wrap around
        starts = np.where(starts + step > hi, starts - (hi - lo), starts)
        starts = np.where(starts < lo, starts + (hi - lo), starts)
        return data.series.averages(starts, step)
    starts = index.as_unit("ns").asi8
    first, last = int(starts[0]), int(starts[-1]) + step
    if first < data.series.start_ns or last > data.series.end_ns:
        covered = (
            f"{pd.Timestamp(data.series.start_ns, tz='UTC').tz_convert(index.tz)} to "
            f"{pd.Timestamp(data.series.end_ns, tz='UTC').tz_convert(index.tz)}"
        )
        raise InputError(
            f"{source.csv} covers {covered}, not the run's {index[0]} to {index[-1]}; "
            "use repeat: yearly for a reference year or repeat: daily for a daily profile",
            "repeat",
        )
    return data.series.averages(starts, step)


def _weather_pv_values(source: WeatherPvInput, case: Case, index: pd.DatetimeIndex) -> np.ndarray:
    from scenarios.forecast_bridge import forecast_pv_kw

    return forecast_pv_kw(source, case, index)


def _history_values(source: LoadHistoryInput, case: Case, index: pd.DatetimeIndex) -> np.ndarray:
    from scenarios.forecast_bridge import forecast_load_kw

    return forecast_load_kw(source, case, index)


_READERS: dict[type, Any] = {
    CsvInput: _csv_values,
    WeatherPvInput: _weather_pv_values,
    LoadHistoryInput: _history_values,
}


class Inputs:
    """The inputs of one case, resolved on demand; errors point at the input's line."""

    def __init__(self, case: Case) -> None:
        self.case = case

    def values(self, name: str, index: pd.DatetimeIndex, _seen: tuple[str, ...] = ()) -> np.ndarray:
        """Input ``name`` on ``index`` (scaled and offset), one value per step."""
        source = self.case.scenario.inputs[name]
        try:
            if isinstance(source, SumInput):
                raw = np.zeros(len(index))
                for k, part in enumerate(source.sum):
                    if part not in self.case.scenario.inputs:
                        raise InputError(f"no input named {part!r}", f"sum.{k}")
                    if part in (*_seen, name):
                        raise InputError(f"inputs refer to each other in a circle: {' -> '.join((*_seen, name, part))}")
                    raw = raw + self.values(part, index, (*_seen, name))
            elif isinstance(source, InlineInput):
                raw = _inline_values(source, index)
            else:
                raw = _READERS[type(source)](source, self.case, index)
        except InputError as error:
            path: tuple[str | int, ...] = ("inputs", name)
            if error.field is not None:
                path += tuple(int(p) if p.isdigit() else p for p in error.field.split("."))
            raise self.case.error(path, str(error)) from error
        values = raw * source.scale + source.offset
        if not np.all(np.isfinite(values)):
            raise self.case.error(("inputs", name), f"gives non-finite values on {index[0].date()}")
        return values
