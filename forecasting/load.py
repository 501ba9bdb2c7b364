"""Load forecasts from metered history: a day-type profile model and the seasonal-naive reference.

The same functions serve electric load and cooling, heat or compressed-air
demand: anything metered as average power per interval.

Profile model, for each local day of the horizon:

1. the day's type from the holiday calendar: ``workday``, ``saturday`` (when
   Saturday is a weekend day) or ``offday`` (Sunday or public holiday; an
   adjusted working weekend day is a ``workday``);
2. the profile: per time-of-day slot, the median (or mean) over the last
   ``n_days`` days of the same type within ``lookback_days`` (older days of
   that type if there are none, any days if the type never occurred);
3. the recent-level adjustment: the ratio of metered to back-cast energy over
   the last ``level_days`` fully metered days of the same type (each
   back-cast with the profile rule from the days before it), clipped to
   ``level_bounds`` and applied with weight ``level_weight`` (0 = off, 1 = the
   full ratio).

Seasonal naive: the value at the same local clock time one week earlier.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from forecasting.errors import ForecastWarning, LoadHistoryError
from forecasting.holidays import HolidayCalendar, china_calendar
from forecasting.timeaxis import HorizonLike, horizon_index, index_step

DayType = Literal["workday", "saturday", "offday"]


@dataclass(frozen=True)
class ProfileSettings:
    """Settings of the profile model (see the module docstring).

    Attributes
    ----------
    n_days : int
        Days of the same type averaged per profile.
    lookback_days : int
        Only days this recent count first [days].
    statistic : "median" or "mean"
        Per-slot statistic over the chosen days.
    level_days : int
        Most recent days of the same type in the recent-level ratio.
    level_weight : float
        Share of the level ratio applied [0-1].
    level_bounds : (float, float)
        Clip of the level ratio.
    separate_saturday : bool
        Give Saturdays their own profile (else they are ``offday``).
    """

    n_days: int = 6
    lookback_days: int = 42
    statistic: Literal["median", "mean"] = "median"
    level_days: int = 2
    level_weight: float = 0.5
    level_bounds: tuple[float, float] = (0.8, 1.25)
    separate_saturday: bool = True

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


def _profile(
    target: dt.date,
    matrix: pd.DataFrame,
    observed: list[dt.date],
    types: dict[dt.date, DayType],
    target_type: DayType,
    settings: ProfileSettings,
    notes: list[str],
) -> np.ndarray:
    """Per-slot profile for ``target`` from the ``observed`` days (dates with data, sorted) before it."""
    earlier = [d for d in observed if d < target]
    same = [d for d in earlier if types[d] == target_type]
    recent = [d for d in same if (target - d).days <= settings.lookback_days]
    chosen = recent[-settings.n_days :] or same[-settings.n_days :]
    if not chosen:
        chosen = earlier[-settings.n_days :]
        notes.append(f"no {target_type} in the history before {target}: profile from the last {len(chosen)} day(s)")
    rows = matrix.loc[chosen].to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slots are filled below
        values = np.nanmedian(rows, axis=0) if settings.statistic == "median" else np.nanmean(rows, axis=0)
        if np.isnan(values).any():
            fallback = np.nanmean(matrix.loc[earlier].to_numpy(dtype=float), axis=0)
            values = np.where(np.isnan(values), fallback, values)
    return values


def profile_forecast(
    history: pd.Series,
    horizon: HorizonLike,
    calendar: HolidayCalendar | None = None,
    settings: ProfileSettings | None = None,
) -> pd.Series:
    """Day-type profile forecast with a recent-level adjustment (see the module docstring).

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

    Returns
    -------
    Series
        Forecast on the horizon's labels, same unit as ``history``;
        ``attrs["warnings"]`` lists fallbacks, ``attrs["level_factors"]`` the level factor per local date.
    """
    settings = settings or ProfileSettings()
    calendar = calendar or china_calendar()
    index = horizon_index(horizon)
    name = str(history.name) if history.name is not None else "load"
    series = _history_on_step(history, index, name)
    step = index_step(index)
    matrix = _day_matrix(series, step)
    notes: list[str] = []
    target_wall = index.tz_localize(None)
    target_dates = sorted(set(target_wall.normalize().date))
    uncovered = [d for d in target_dates if not calendar.covers(d)]
    if uncovered:
        notes.append(f"holiday calendar {calendar.name!r} does not cover {uncovered[0]}: only weekends are days off")
    all_dates = list(matrix.index) + target_dates
    types = {d: day_type(d, calendar, settings.separate_saturday) for d in all_dates}
    observed = [d for d, seen in zip(matrix.index, matrix.notna().any(axis=1), strict=True) if seen]
    profiles = {d: _profile(d, matrix, observed, types, types[d], settings, notes) for d in target_dates}
    factors = {d: _level_factor(matrix, observed, types, types[d], settings, target_dates[0]) for d in target_dates}
    n_slots = matrix.shape[1]
    slots = ((target_wall - target_wall.normalize()) // step).astype(int)
    dates = target_wall.normalize().date
    values = np.array(
        [profiles[d][s] * factors[d] if s < n_slots else np.nan for d, s in zip(dates, slots, strict=True)]
    )
    result = pd.Series(values, index=index, name=history.name)
    result.attrs["warnings"] = tuple(dict.fromkeys(notes))
    result.attrs["level_factors"] = {d.isoformat(): f for d, f in factors.items()}
    return result


def _level_factor(
    matrix: pd.DataFrame,
    observed: list[dt.date],
    types: dict[dt.date, DayType],
    target_type: DayType,
    settings: ProfileSettings,
    first_target: dt.date,
) -> float:
    """Metered over back-cast energy on the last ``level_days`` observed days of ``target_type``, damped, clipped."""
    if settings.level_days == 0 or settings.level_weight == 0.0:
        return 1.0
    complete = matrix.notna().mean(axis=1) >= 0.9  # a part-metered day (the forecast is issued mid-day) is no level
    recent = [d for d in observed if d < first_target and types[d] == target_type and complete[d]]
    recent = recent[-settings.level_days :]
    metered = backcast = 0.0
    for day in recent:
        if day == observed[0]:
            continue  # nothing before it to back-cast from
        actual = matrix.loc[day].to_numpy(dtype=float)
        fitted = _profile(day, matrix, observed, types, types[day], settings, [])
        seen = ~np.isnan(actual) & ~np.isnan(fitted)
        metered += float(actual[seen].sum())
        backcast += float(fitted[seen].sum())
    if backcast <= 0.0:
        return 1.0
    low, high = settings.level_bounds
    ratio = min(max(metered / backcast, low), high)
    return 1.0 + settings.level_weight * (ratio - 1.0)


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
) -> pd.Series:
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

    Returns
    -------
    Series
        Average power per interval on the horizon, same unit and name as
        ``history``; fallbacks in ``attrs["warnings"]`` (also issued as
        :class:`~forecasting.errors.ForecastWarning`).
    """
    if method == "profile":
        result = profile_forecast(history, horizon, calendar, settings)
    elif method == "seasonal_naive":
        result = seasonal_naive(history, horizon)
    else:
        raise ValueError(f"unknown method {method!r}; use 'profile' or 'seasonal_naive'")
    for note in result.attrs.get("warnings", ()):
        warnings.warn(note, ForecastWarning, stacklevel=2)
    return result
