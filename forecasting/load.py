"""Load forecasts from metered history: a day-type profile model, its quantiles, and the seasonal-naive reference.

The same functions serve electric load and cooling, heat or compressed-air
demand: anything metered as average power per interval.

Profile model, for each local day of the horizon:

1. the day's type from the holiday calendar: ``workday``, ``saturday`` (when
   Saturday is a weekend day) or ``offday`` (Sunday or public holiday; an
   adjusted working weekend day is a ``workday``);
2. the profile: per time-of-day slot, the median (or mean) over the last
   ``n_days`` days of the same type within ``lookback_days`` (older days of
   that type if there are none, any days if the type never occurred); when
   the day before is of the same type, the quantile at ``0.5 + rank_weight x
   (its rank - 0.5)`` instead of the median, its rank being where its metered
   load sat among its own profile days (the recent level in rank space);
3. the recent-level adjustment: the ratio of metered to back-cast energy over
   the last ``level_days`` fully metered days of the same type (each
   back-cast with the profile rule from the days before it), clipped to
   ``level_bounds`` and applied with weight ``level_weight`` (0 = off, the
   default since it did not pay on the validation plant, 1 = the full ratio);
4. with a temperature series (measured over the history, forecast over the
   horizon): heating and cooling degree terms, ``max(heating_base_c - T, 0)``
   and ``max(T - cooling_base_c, 0)`` [K] per interval, whose coefficients
   [kW/K, never negative: demand rises with heating or cooling need] are fitted
   by non-negative least squares on the back-cast residuals of the last
   ``weather_days`` days; the forecast adds coefficient x (the day's degree
   term - the mean degree term of the days its profile came from).

Quantiles (``forecast_load(..., quantiles=(0.1, 0.5, 0.9))``): the recent
``LoadQuantileSettings.error_days`` fully metered days are back-cast with the
same model and the same lead as the forecast (each from the days before it
only, as if issued then), and the empirical quantiles of their errors per day
type and hour (coarser groups where a group has few errors) are added to the
point forecast (see :mod:`forecasting.quantiles`).

Seasonal naive: the value at the same local clock time one week earlier.

Defaults (``n_days=15``, ``lookback_days=120``, ``rank_weight=0.3``, ``level_weight=0``) were chosen on the
first half of 2018 of the measured steel plant and confirmed on its second half
(``benchmarks/forecast_load_validation.py``).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from forecasting.errors import ForecastWarning, LoadHistoryError
from forecasting.holidays import HolidayCalendar, china_calendar
from forecasting.quantiles import ConditionalQuantiles, check_levels, quantile_label
from forecasting.timeaxis import HorizonLike, horizon_index, index_step

DayType = Literal["workday", "saturday", "offday"]


@dataclass(frozen=True)
class ProfileSettings:
    """Settings of the profile model (see the module docstring).

    Attributes
    ----------
    n_days : int
        Days of the same type in the per-slot statistic. 15 (about three weeks of workdays, fifteen Sundays):
        on the steel plant the median over more days beat 6 (MASE 0.682 against 0.717) because a slot's load
        is spiky and a median over few days follows the spikes of those days.
    lookback_days : int
        Only days this recent count first [days]; 120 lets ``n_days`` weekend days be found.
    statistic : "median" or "mean"
        Per-slot statistic over the chosen days (median: the best point forecast for the mean absolute error).
    level_days : int
        Most recent days of the same type in the recent-level ratio.
    level_weight : float
        Share of the level ratio applied [0-1]; 0 (off) by default: a plant's daily level did not persist from
        one day to the next on the validation data (half weight cost 1-2 % of MAE there). Set it for loads
        that trend over weeks.
    level_bounds : (float, float)
        Clip of the level ratio.
    rank_weight : float
        The recent level in rank space [0-1]: where the day before sat within its own profile days (the mean
        over its slots of the share of those days' values below it; 0.5 typical) carries over to a day of the
        same type at this weight: the profile is the per-slot quantile at ``0.5 + rank_weight x (rank - 0.5)``
        (within ``rank_bounds``) instead of the median. A slot's load is on/off-like (a furnace runs or not), so
        a busy day shows as more slots in the upper mode, which a quantile follows and a factor does not; on
        the steel plant the rank of one workday and the next correlate at 0.45 and 0.3 took MASE from 0.682 to
        0.678 (0.680 to 0.676 on the first half, where it was chosen). Median statistic only; 0 = off.
    rank_bounds : (float, float)
        Clip of the quantile level the rank gives.
    separate_saturday : bool
        Give Saturdays their own profile (else they are ``offday``).
    heating_base_c, cooling_base_c : float
        Base temperatures of the heating and cooling degree terms [C] (with a temperature series only).
    weather_days : int
        Recent days whose back-cast residuals fit the degree-term coefficients [days].
    """

    n_days: int = 15
    lookback_days: int = 120
    statistic: Literal["median", "mean"] = "median"
    level_days: int = 2
    level_weight: float = 0.0
    level_bounds: tuple[float, float] = (0.8, 1.25)
    rank_weight: float = 0.3
    rank_bounds: tuple[float, float] = (0.2, 0.8)
    separate_saturday: bool = True
    heating_base_c: float = 15.0
    cooling_base_c: float = 22.0
    weather_days: int = 56

    def __post_init__(self) -> None:
        if self.n_days < 1 or self.lookback_days < 1 or self.level_days < 0:
            raise ValueError("n_days and lookback_days must be >= 1, level_days >= 0")
        if not 0.0 <= self.level_weight <= 1.0:
            raise ValueError(f"level_weight must be in [0, 1], got {self.level_weight}")
        low, high = self.level_bounds
        if not 0.0 < low <= 1.0 <= high:
            raise ValueError(f"level_bounds must satisfy 0 < low <= 1 <= high, got {self.level_bounds}")
        if self.statistic not in ("median", "mean"):
            raise ValueError(f"statistic must be 'median' or 'mean', got {self.statistic!r}")
        if not 0.0 <= self.rank_weight <= 1.0:
            raise ValueError(f"rank_weight must be in [0, 1], got {self.rank_weight}")
        if not 0.0 < self.rank_bounds[0] <= 0.5 <= self.rank_bounds[1] < 1.0:
            raise ValueError(f"rank_bounds must satisfy 0 < low <= 0.5 <= high < 1, got {self.rank_bounds}")
        if self.heating_base_c > self.cooling_base_c:
            raise ValueError(
                f"heating_base_c {self.heating_base_c} must not exceed cooling_base_c {self.cooling_base_c}"
            )
        if self.weather_days < 7:
            raise ValueError(f"weather_days must be >= 7, got {self.weather_days}")


@dataclass(frozen=True)
class LoadQuantileSettings:
    """How load quantiles are made from back-cast errors (see the module docstring).

    Attributes
    ----------
    error_days : int
        Fully metered days before the forecast that are back-cast for their errors [days]; 56 (eight weeks:
        about 40 workdays and 8 of each weekend type) balanced recency and sample size on the steel plant.
    min_count : int
        Fewest errors a group (day type x hour) needs; else day type alone, then all errors.
    groupings : tuple of tuple of str
        Conditions of the errors, finest first: ``day_type``, ``hour`` (local clock hour of the slot).
    """

    error_days: int = 56
    min_count: int = 24
    groupings: tuple[tuple[str, ...], ...] = field(default=(("day_type", "hour"), ("day_type",)))

    def __post_init__(self) -> None:
        if self.error_days < 7:
            raise ValueError(f"error_days must be >= 7, got {self.error_days}")
        if self.min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {self.min_count}")
        unknown = sorted({c for g in self.groupings for c in g} - {"day_type", "hour"})
        if unknown:
            raise ValueError(f"unknown error condition(s) {unknown}; use day_type and hour")


def day_type(day: dt.date, calendar: HolidayCalendar, separate_saturday: bool = True) -> DayType:
    """The profile a local calendar day uses.

    Parameters
    ----------
    day : date
    calendar : HolidayCalendar
    separate_saturday : bool
        Saturdays that are weekend days get their own type.

    Returns
    -------
    "workday", "saturday" or "offday"
    """
    if calendar.is_working_weekend(day):
        return "workday"
    if calendar.is_holiday(day):
        return "offday"
    if day.weekday() == 5 and 5 in calendar.weekend:
        return "saturday" if separate_saturday else "offday"
    return "offday" if calendar.is_off(day) else "workday"


def _history_on_step(history: pd.Series, index: pd.DatetimeIndex, name: str) -> pd.Series:
    """Validate the history and express it in the horizon's zone and step (interval averages)."""
    if not isinstance(history, pd.Series) or not isinstance(history.index, pd.DatetimeIndex):
        raise LoadHistoryError(f"{name} history must be a pandas Series with a DatetimeIndex")
    if history.index.tz is None:
        raise LoadHistoryError(f"{name} history timestamps carry no time zone (first: {history.index[0]})")
    if history.index.has_duplicates:
        raise LoadHistoryError(
            f"{name} history has a duplicate timestamp {history.index[history.index.duplicated()][0]}"
        )
    history = history.sort_index().astype(float)
    try:
        step = index_step(history.index)
    except ValueError as exc:
        raise LoadHistoryError(
            f"{name} history is not equally spaced ({exc}); reindex it to a regular grid with NaN for missing readings"
        ) from exc
    if history.index[-1] + step > index[0]:
        bad = history.index[history.index + step > index[0]][0]
        raise LoadHistoryError(
            f"{name} history reaches into the horizon: the interval starting {bad} ends after the horizon "
            f"starts ({index[0]}); pass only what is metered before the forecast"
        )
    if history.isna().all():
        raise LoadHistoryError(f"{name} history holds no values (all NaN)")
    target_step = index_step(index)
    history = history.tz_convert(index.tz)
    if step == target_step:
        return history
    if target_step % step == pd.Timedelta(0):  # finer history: average onto the horizon's grid
        origin = index[0]
        key = (history.index - origin) // target_step
        grouped = history.groupby(np.asarray(key))
        means = grouped.mean().where(grouped.count() == target_step // step)
        return pd.Series(means.to_numpy(), index=origin + means.index.to_numpy() * target_step, name=history.name)
    raise LoadHistoryError(
        f"{name} history step {step} does not divide the horizon step {target_step}; resample the history first"
    )


def _day_matrix(history: pd.Series, step: pd.Timedelta) -> pd.DataFrame:
    """Rows: local dates; columns: time-of-day slots (local clock time // step); values: mean per slot."""
    wall = pd.DatetimeIndex(history.index).tz_localize(None)
    dates = wall.normalize()
    slots = ((wall - dates) // step).astype(int)
    frame = pd.DataFrame({"date": dates.date, "slot": slots, "value": history.to_numpy()})
    return frame.groupby(["date", "slot"])["value"].mean().unstack("slot").sort_index()


def _temperature_on_grid(temperature: pd.Series, index: pd.DatetimeIndex, step: pd.Timedelta) -> pd.Series:
    """Temperature [C] at the midpoints of the intervals starting at ``index`` (linear in absolute time).

    The temperature is read as instants (the forecasting time rule); NaN outside its span.
    """
    if not isinstance(temperature, pd.Series) or not isinstance(temperature.index, pd.DatetimeIndex):
        raise LoadHistoryError("temperature must be a pandas Series with a DatetimeIndex [C]")
    if temperature.index.tz is None:
        raise LoadHistoryError(f"temperature timestamps carry no time zone (first: {temperature.index[0]})")
    known = temperature.dropna().sort_index()
    known = known[~known.index.duplicated()]
    if known.empty:
        raise LoadHistoryError("temperature holds no values (all NaN)")
    if known.abs().max() > 70.0:
        raise LoadHistoryError(
            f"temperature reaches {known.abs().max():.1f} at {known.abs().idxmax()}: not degrees Celsius"
        )
    source = known.index.as_unit("ns").asi8.astype(float)
    wanted = (index + step / 2).as_unit("ns").asi8.astype(float)
    values = np.interp(wanted, source, known.to_numpy(dtype=float), left=np.nan, right=np.nan)
    return pd.Series(values, index=index)


class _Book:
    """The history as a day x slot matrix with the day types: the profile model on any cut-off date."""

    def __init__(
        self,
        series: pd.Series,
        step: pd.Timedelta,
        calendar: HolidayCalendar,
        settings: ProfileSettings,
        extra_dates: Sequence[dt.date],
    ) -> None:
        self.step = step
        self.settings = settings
        self.matrix = _day_matrix(series, step)
        self.values = self.matrix.to_numpy(dtype=float)
        self.row = {d: i for i, d in enumerate(self.matrix.index)}
        self.n_slots = self.matrix.shape[1]
        all_dates = list(self.matrix.index) + list(extra_dates)
        self.types = {d: day_type(d, calendar, settings.separate_saturday) for d in all_dates}
        seen = ~np.isnan(self.values).all(axis=1)
        self.observed = [d for d, ok in zip(self.matrix.index, seen, strict=True) if ok]
        share = (~np.isnan(self.values)).mean(axis=1)  # a part-metered day (issued mid-day) is no level or error
        self.complete = {d: bool(c >= 0.9) for d, c in zip(self.matrix.index, share, strict=True)}
        self._pools: dict[tuple[dt.date, dt.date], tuple[list, list]] = {}
        self._ranks: dict[dt.date, float | None] = {}

    def pool(self, target: dt.date, cutoff: dt.date, notes: list[str] | None = None) -> tuple[list, list]:
        """The days the profile of ``target`` comes from (observed before ``cutoff``), and all observed before."""
        key = (target, cutoff)
        if key in self._pools and notes is None:
            return self._pools[key]
        settings = self.settings
        target_type = self.types[target]
        earlier = [d for d in self.observed if d < cutoff]
        same = [d for d in earlier if self.types[d] == target_type]
        recent = [d for d in same if (target - d).days <= settings.lookback_days]
        chosen = recent[-settings.n_days :] or same[-settings.n_days :]
        if not chosen:
            chosen = earlier[-settings.n_days :]
            if notes is not None:
                notes.append(
                    f"no {target_type} in the history before {target}: profile from the last {len(chosen)} day(s)"
                )
        self._pools[key] = (chosen, earlier)
        return chosen, earlier

    def rank(self, day: dt.date) -> float | None:
        """Where ``day``'s metered load sits among its own profile days: mean over its metered slots of the share
        of those days' values below it (ties half) [0-1]; None without a metered slot or a profile day."""
        if day in self._ranks:
            return self._ranks[day]
        self._ranks[day] = self._rank(day)
        return self._ranks[day]

    def _rank(self, day: dt.date) -> float | None:
        if day not in self.row:
            return None
        chosen, _ = self.pool(day, day)
        actual = self.values[self.row[day]]
        rows = self.values[[self.row[d] for d in chosen]] if chosen else np.empty((0, self.n_slots))
        known = ~np.isnan(rows)
        counted = known.sum(axis=0)
        seen = ~np.isnan(actual) & (counted > 0)
        if not seen.any():
            return None
        below = ((rows < actual) & known).sum(axis=0) + 0.5 * ((rows == actual) & known).sum(axis=0)
        return float(np.mean(below[seen] / counted[seen]))

    def level_quantile(self, target: dt.date, cutoff: dt.date) -> float:
        """The per-slot quantile level of ``target``'s profile: 0.5 moved by the day before's rank (same type)."""
        settings = self.settings
        if settings.rank_weight == 0.0 or settings.statistic != "median":
            return 0.5
        before = target - dt.timedelta(days=1)
        if before >= cutoff or self.types.get(before) != self.types[target]:
            return 0.5
        rank = self.rank(before)
        if rank is None:
            return 0.5
        low, high = settings.rank_bounds
        return min(max(0.5 + settings.rank_weight * (rank - 0.5), low), high)

    def profile(self, target: dt.date, cutoff: dt.date, notes: list[str] | None = None) -> tuple[np.ndarray, list]:
        """Per-slot profile for ``target`` from the observed days before ``cutoff``, and those days."""
        chosen, earlier = self.pool(target, cutoff, notes)
        rows = self.values[[self.row[d] for d in chosen]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slots are filled below
            if self.settings.statistic == "median":
                level = self.level_quantile(target, cutoff)
                if np.isnan(rows).any():  # nanquantile goes column by column: only where needed
                    values = np.nanquantile(rows, level, axis=0)
                else:
                    values = np.quantile(rows, level, axis=0)
            else:
                values = np.nanmean(rows, axis=0)
            if np.isnan(values).any():
                fallback = np.nanmean(self.values[[self.row[d] for d in earlier]], axis=0)
                values = np.where(np.isnan(values), fallback, values)
        return values, chosen

    def level_factor(self, target_type: DayType, cutoff: dt.date) -> float:
        """Metered over back-cast energy on the last ``level_days`` complete days of ``target_type`` before
        ``cutoff``, clipped and damped (1 when the adjustment is off)."""
        settings = self.settings
        if settings.level_days == 0 or settings.level_weight == 0.0:
            return 1.0
        recent = [d for d in self.observed if d < cutoff and self.types[d] == target_type and self.complete[d]]
        metered = backcast = 0.0
        for day in recent[-settings.level_days :]:
            if day == self.observed[0]:
                continue  # nothing before it to back-cast from
            actual = self.values[self.row[day]]
            fitted, _ = self.profile(day, day)
            seen = ~np.isnan(actual) & ~np.isnan(fitted)
            metered += float(actual[seen].sum())
            backcast += float(fitted[seen].sum())
        if backcast <= 0.0:
            return 1.0
        low, high = settings.level_bounds
        ratio = min(max(metered / backcast, low), high)
        return 1.0 + settings.level_weight * (ratio - 1.0)

    def point(self, target: dt.date, cutoff: dt.date, notes: list[str] | None = None) -> tuple[np.ndarray, list, float]:
        """Profile x level factor for ``target`` from the days before ``cutoff``; the pool and the factor."""
        values, chosen = self.profile(target, cutoff, notes)
        factor = self.level_factor(self.types[target], cutoff)
        return values * factor, chosen, factor

    def backcast_days(self, before: dt.date, days: int) -> list[dt.date]:
        """Complete days within ``days`` before ``before`` that have observed days before them."""
        first = before - dt.timedelta(days=days)
        return [d for d in self.observed if first <= d < before and self.complete[d] and d > self.observed[0]]


class _Weather:
    """Degree terms [K] per (date, slot) from a temperature series, and their fitted coefficients [kW/K]."""

    def __init__(self, temperature: pd.Series, book: _Book, dates: Sequence[dt.date], tz: object) -> None:
        settings = book.settings
        starts = pd.DatetimeIndex([pd.Timestamp(d).tz_localize(tz) for d in dates])  # type: ignore[arg-type]
        wall = pd.DatetimeIndex(
            np.concatenate([pd.date_range(s, periods=book.n_slots, freq=book.step).tz_localize(None) for s in starts])
        )
        grid = wall.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")  # type: ignore[arg-type]
        valid = ~grid.isna()
        temps = np.full(len(grid), np.nan)
        temps[valid] = _temperature_on_grid(temperature, grid[valid], book.step).to_numpy()
        temps = temps.reshape(len(dates), book.n_slots)
        self.row = {d: i for i, d in enumerate(dates)}
        self.heating = np.maximum(settings.heating_base_c - temps, 0.0)
        self.cooling = np.maximum(temps - settings.cooling_base_c, 0.0)
        self.coefficients = (0.0, 0.0)

    def terms(self, target: dt.date, pool: Sequence[dt.date]) -> np.ndarray:
        """(2, slots): the target's degree terms minus the mean of its profile's days (NaN where unknown)."""
        rows = [self.row[d] for d in pool if d in self.row]
        out = np.full((2, self.heating.shape[1]), np.nan)
        if target not in self.row or not rows:
            return out
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for k, matrix in enumerate((self.heating, self.cooling)):
                out[k] = matrix[self.row[target]] - np.nanmean(matrix[rows], axis=0)
        return out

    def correction(self, target: dt.date, pool: Sequence[dt.date]) -> np.ndarray:
        """The degree-term correction of ``target``'s profile [kW per slot] (0 where the temperature is unknown)."""
        terms = self.terms(target, pool)
        return np.nan_to_num(self.coefficients[0] * terms[0] + self.coefficients[1] * terms[1])

    def fit(self, book: _Book, cutoff: dt.date) -> None:
        """Coefficients by non-negative least squares on the back-cast residuals of the days before ``cutoff``."""
        xs, ys = [], []
        for day in book.backcast_days(cutoff, book.settings.weather_days):
            fitted, pool, _ = book.point(day, day)
            terms = self.terms(day, pool)
            residual = book.values[book.row[day]] - fitted
            ok = ~np.isnan(residual) & ~np.isnan(terms).any(axis=0)
            xs.append(terms[:, ok].T)
            ys.append(residual[ok])
        if not xs:
            return
        x, y = np.concatenate(xs), np.concatenate(ys)
        if len(y) < 2 * len(book.values[0]):
            return  # fewer than two days with temperatures: leave the terms out
        coefficients, _ = nnls(x, y)
        self.coefficients = (float(coefficients[0]), float(coefficients[1]))


@dataclass
class _Run:
    """One forecast: the book, the targets, their cut-offs (leads) and the weather terms."""

    book: _Book
    series: pd.Series
    index: pd.DatetimeIndex
    target_dates: list[dt.date]
    cutoffs: dict[dt.date, dt.date]
    weather: _Weather | None
    notes: list[str]

    def backcast(self, day: dt.date, lead_days: int) -> np.ndarray:
        """The forecast of a metered ``day`` made ``lead_days`` whole days earlier than its own start.

        The profile, rank and level use only days before that; the degree-term coefficients are the forecast's
        own (fitted on the recent back-casts), so with a temperature the errors are slightly optimistic."""
        cutoff = day - dt.timedelta(days=lead_days)
        values, pool, _ = self.book.point(day, cutoff)
        if self.weather is not None:
            values = values + self.weather.correction(day, pool)
        return values


def _prepare(
    history: pd.Series,
    horizon: HorizonLike,
    calendar: HolidayCalendar | None,
    settings: ProfileSettings | None,
    temperature: pd.Series | None,
) -> _Run:
    settings = settings or ProfileSettings()
    calendar = calendar or china_calendar()
    index = horizon_index(horizon)
    name = str(history.name) if history.name is not None else "load"
    series = _history_on_step(history, index, name)
    step = index_step(index)
    target_wall = index.tz_localize(None)
    target_dates = sorted(set(target_wall.normalize().date))
    book = _Book(series, step, calendar, settings, target_dates)
    notes: list[str] = []
    uncovered = [d for d in target_dates if not calendar.covers(d)]
    if uncovered:
        notes.append(f"holiday calendar {calendar.name!r} does not cover {uncovered[0]}: only weekends are days off")
    last = book.observed[-1]
    cutoffs = {d: min(d, last + dt.timedelta(days=1)) for d in target_dates}
    weather = None
    if temperature is not None:
        dates = sorted(set(book.matrix.index) | set(target_dates))
        weather = _Weather(temperature, book, dates, index.tz)
        missing = [d for d in target_dates if np.isnan(weather.heating[weather.row[d]]).any()]
        if missing:
            raise LoadHistoryError(
                f"temperature does not cover the horizon: no value around {missing[0]} (it must span the horizon)"
            )
        weather.fit(book, min(cutoffs.values()))
    return _Run(book, series, index, target_dates, cutoffs, weather, notes)


def _on_horizon(run: _Run, per_day: dict[dt.date, np.ndarray]) -> np.ndarray:
    """Day x slot arrays (slots along the last axis) spread onto the horizon's labels (NaN beyond the slots)."""
    wall = run.index.tz_localize(None)
    slots = ((wall - wall.normalize()) // run.book.step).astype(int)
    dates = wall.normalize().date
    width = next(iter(per_day.values())).shape[:-1]
    out = np.full((len(run.index), *width), np.nan)
    for i, (d, s) in enumerate(zip(dates, slots, strict=True)):
        if s < run.book.n_slots:
            out[i] = per_day[d][..., s]
    return out


def _point_forecast(run: _Run) -> tuple[pd.Series, dict[dt.date, float]]:
    per_day: dict[dt.date, np.ndarray] = {}
    factors: dict[dt.date, float] = {}
    for d in run.target_dates:
        values, pool, factors[d] = run.book.point(d, run.cutoffs[d], run.notes)
        if run.weather is not None:
            values = values + run.weather.correction(d, pool)
        per_day[d] = values
    values = _on_horizon(run, per_day)
    if run.weather is not None and np.nanmin(run.series.to_numpy(dtype=float)) >= 0.0:
        values = np.maximum(values, 0.0)  # a demand metered non-negative stays so
    return pd.Series(values, index=run.index, name=run.series.name), factors


def profile_forecast(
    history: pd.Series,
    horizon: HorizonLike,
    calendar: HolidayCalendar | None = None,
    settings: ProfileSettings | None = None,
    temperature: pd.Series | None = None,
) -> pd.Series:
    """Day-type profile forecast with the recent-level and degree terms (see the module docstring).

    Parameters
    ----------
    history : Series
        Metered average power per interval [kW] (or any demand), tz-aware,
        equally spaced, ending before the horizon starts; NaN marks missing readings.
    horizon : DatetimeIndex or object with ``.index``
        Interval starts of the forecast.
    calendar : HolidayCalendar, optional
        Default: :func:`~forecasting.holidays.china_calendar`.
    settings : ProfileSettings, optional
    temperature : Series, optional
        Air temperature [C], tz-aware instants, measured over the history and forecast over the horizon
        (it must cover the horizon): adds the heating and cooling degree terms.

    Returns
    -------
    Series
        Forecast on the horizon's labels, same unit as ``history``;
        ``attrs["warnings"]`` lists fallbacks, ``attrs["level_factors"]`` the level factor per local date,
        ``attrs["degree_coefficients"]`` the heating and cooling coefficients [unit/K] with a temperature.
    """
    run = _prepare(history, horizon, calendar, settings, temperature)
    result, factors = _point_forecast(run)
    result.attrs["warnings"] = tuple(dict.fromkeys(run.notes))
    result.attrs["level_factors"] = {d.isoformat(): f for d, f in factors.items()}
    if run.weather is not None:
        heating, cooling = run.weather.coefficients
        result.attrs["degree_coefficients"] = {"heating_per_k": heating, "cooling_per_k": cooling}
    return result


def load_quantiles(
    history: pd.Series,
    horizon: HorizonLike,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    calendar: HolidayCalendar | None = None,
    settings: ProfileSettings | None = None,
    quantile_settings: LoadQuantileSettings | None = None,
    temperature: pd.Series | None = None,
) -> pd.DataFrame:
    """The profile forecast and its quantiles from the errors of back-casts with the same lead.

    Parameters
    ----------
    history, horizon, calendar, settings, temperature
        As for :func:`profile_forecast`.
    quantiles : sequence of float
        Levels in (0, 1), e.g. ``(0.1, 0.5, 0.9)``.
    quantile_settings : LoadQuantileSettings, optional

    Returns
    -------
    DataFrame
        On the horizon's labels: ``point`` (the profile forecast) and one column per level (``p10``, ``p50``,
        ``p90`` ...), same unit as the history, increasing across levels, not below 0 when the history never
        is. ``attrs``: ``levels``, ``warnings``, ``level_factors``, ``error_days`` (back-cast days per lead).
    """
    levels = check_levels(quantiles)
    quantile_settings = quantile_settings or LoadQuantileSettings()
    run = _prepare(history, horizon, calendar, settings, temperature)
    point, factors = _point_forecast(run)
    book = run.book
    last_cutoff = max(run.cutoffs.values())
    per_day: dict[dt.date, np.ndarray] = {}
    used: dict[int, int] = {}
    for lead in sorted({(d - run.cutoffs[d]).days for d in run.target_dates}):
        days = book.backcast_days(last_cutoff, quantile_settings.error_days)
        residuals, day_types, hours = [], [], []
        slot_hours = (np.arange(book.n_slots) * book.step) // pd.Timedelta(hours=1)
        for day in days:
            cutoff = day - dt.timedelta(days=lead)
            if not any(d < cutoff for d in book.observed):
                continue
            residuals.append(book.values[book.row[day]] - run.backcast(day, lead))
            day_types.append(np.full(book.n_slots, book.types[day], dtype=object))
            hours.append(slot_hours)
        used[lead] = len(residuals)
        if not residuals:
            raise LoadHistoryError(
                f"{run.series.name or 'load'} history has no complete day to back-cast for the quantiles "
                f"(needs at least two metered days before {last_cutoff})"
            )
        conditions = pd.DataFrame({"day_type": np.concatenate(day_types), "hour": np.concatenate(hours)})
        model = ConditionalQuantiles.fit(
            np.concatenate(residuals), conditions, levels, quantile_settings.groupings, quantile_settings.min_count
        )
        for d in (d for d in run.target_dates if (d - run.cutoffs[d]).days == lead):
            target = pd.DataFrame({"day_type": [book.types[d]] * book.n_slots, "hour": slot_hours})
            per_day[d] = model.predict(target).T  # (levels, slots)
        if used[lead] < 14:
            run.notes.append(
                f"only {used[lead]} metered day(s) to back-cast for the quantiles at lead {lead} day(s): they are rough"
            )
    errors = _on_horizon(run, per_day)  # (steps, levels)
    values = point.to_numpy()[:, None] + errors
    if np.nanmin(run.series.to_numpy(dtype=float)) >= 0.0:
        values = np.maximum(values, 0.0)
    values = np.sort(values, axis=1)
    frame = pd.DataFrame(values, index=run.index, columns=[quantile_label(q) for q in levels])
    frame.insert(0, "point", point.to_numpy())
    frame.attrs["levels"] = levels
    frame.attrs["warnings"] = tuple(dict.fromkeys(run.notes))
    frame.attrs["level_factors"] = {d.isoformat(): f for d, f in factors.items()}
    frame.attrs["error_days"] = used
    return frame


def seasonal_naive(history: pd.Series, horizon: HorizonLike, season: pd.Timedelta | None = None) -> pd.Series:
    """The value at the same local clock time one season (default one week) before.

    Parameters
    ----------
    history : Series
        As for :func:`profile_forecast`.
    horizon : DatetimeIndex or object with ``.index``
    season : Timedelta, optional
        Default 7 days; a whole number of days keeps local clock times across DST.

    Returns
    -------
    Series
        Forecast on the horizon's labels (NaN where the history has no value).
    """
    season = season if season is not None else pd.Timedelta(days=7)
    index = horizon_index(horizon)
    name = str(history.name) if history.name is not None else "load"
    series = _history_on_step(history, index, name)
    wall = pd.Series(series.to_numpy(), index=pd.DatetimeIndex(series.index).tz_localize(None))
    wall = wall[~wall.index.duplicated()]
    lagged = index.tz_localize(None) - season
    if lagged[0] < wall.index[0]:
        raise LoadHistoryError(
            f"{name} history starts {series.index[0]}; seasonal naive needs values from {lagged[0]} (one season back)"
        )
    values = wall.reindex(lagged).to_numpy()
    result = pd.Series(values, index=index, name=history.name)
    missing = np.isnan(values)
    result.attrs["warnings"] = (
        (f"{int(missing.sum())} value(s) one season back are missing, first for {index[missing][0]}",)
        if missing.any()
        else ()
    )
    return result


def forecast_load(
    history: pd.Series,
    horizon: HorizonLike,
    *,
    calendar: HolidayCalendar | None = None,
    method: Literal["profile", "seasonal_naive"] = "profile",
    settings: ProfileSettings | None = None,
    quantiles: Sequence[float] | None = None,
    quantile_settings: LoadQuantileSettings | None = None,
    temperature: pd.Series | None = None,
) -> pd.Series | pd.DataFrame:
    """Forecast a load (or cooling, heat, compressed-air demand) on the horizon from its history.

    Parameters
    ----------
    history : Series
        Metered average power per interval, tz-aware, ending before the horizon.
    horizon : DatetimeIndex or object with ``.index``
    calendar : HolidayCalendar, optional
        Default: mainland China's official calendar.
    method : "profile" or "seasonal_naive"
    settings : ProfileSettings, optional
        For the profile model.
    quantiles : sequence of float, optional
        Levels in (0, 1), e.g. ``(0.1, 0.5, 0.9)``: return a DataFrame with ``point`` and one column per level
        (:func:`load_quantiles`; profile model only).
    quantile_settings : LoadQuantileSettings, optional
    temperature : Series, optional
        Air temperature [C] over the history and the horizon: heating and cooling degree terms.

    Returns
    -------
    Series or DataFrame
        Average power per interval on the horizon, same unit and name as
        ``history`` (a DataFrame of quantiles with ``quantiles``); fallbacks in ``attrs["warnings"]`` (also
        issued as :class:`~forecasting.errors.ForecastWarning`).
    """
    result: pd.Series | pd.DataFrame
    if method not in ("profile", "seasonal_naive"):
        raise ValueError(f"unknown method {method!r}; use 'profile' or 'seasonal_naive'")
    if quantiles is not None:
        if method != "profile":
            raise ValueError("quantiles come from the profile model; use method='profile'")
        result = load_quantiles(history, horizon, quantiles, calendar, settings, quantile_settings, temperature)
    elif method == "profile":
        result = profile_forecast(history, horizon, calendar, settings, temperature)
    else:
        result = seasonal_naive(history, horizon)
    for note in result.attrs.get("warnings", ()):
        warnings.warn(note, ForecastWarning, stacklevel=2)
    return result
