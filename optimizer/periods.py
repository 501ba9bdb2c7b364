"""Accounting periods of targets and contract volumes: which horizon steps count together, and how much of
the period the horizon covers.

A target or a contract volume holds ``over`` an accounting period:

- ``"horizon"``: the whole horizon, whatever it spans (the default);
- ``"day"``, ``"month"``, ``"year"``: each local calendar day, month or year the horizon touches gets its own
  constraint (a two-month horizon gets one per month);
- a :class:`DateRange`: the local dates ``start``..``end`` (inclusive); steps outside it are not bound by it.

A horizon rarely covers a whole month or year. Shares (PV self-consumption, green share) are ratios, so they
hold over the part covered plus what was metered earlier in the period (``Targets.so_far``). Volumes (a
contract's minimum or maximum energy, an emission budget) are pro-rated to the part of the period from its
start to the end of the horizon's last step in it: a one-day horizon with an annual take-or-pay minimum of
365 MWh must take 1 MWh with nothing taken before, and catches up with whatever ``so_far`` says is behind.
The part counts from the day progress was counted from (``TargetProgress.since``, default the period's start)
when earlier progress is given (``so_far`` is set), else from the horizon's first step in the period (nothing
is known of the days before).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimizer.errors import SpecError


class DateRange(BaseModel):
    """Local dates ``start``..``end``, both inclusive (e.g. a contract year that starts in July)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: dt.date
    end: dt.date = Field(description="Last day, inclusive.")

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.end < self.start:
            raise SpecError(f"{self.end} is before start {self.start}", field="end")
        return self


Over = Literal["horizon", "day", "month", "year"] | DateRange
"""The accounting period a target or volume holds over."""


@dataclass(frozen=True)
class PeriodGroup:
    """The horizon steps that one accounting period holds over.

    ``steps``: step numbers of the horizon in the period; ``label``: the period (``2026-07``, ``2026``, a date,
    ``2026-07-01..2027-06-30`` or ``horizon``); ``first``: the period of the horizon's first step (earlier
    progress, ``so_far``, belongs to it); ``covered_frac``: the share of the period's length that counts for
    volumes (see the module docstring), 1 for ``horizon``.
    """

    label: str
    steps: tuple[int, ...]
    first: bool
    covered_frac: float


def period_bounds(over: Over, day: dt.date) -> tuple[dt.date, dt.date, str]:
    """First day, day after the last, and label of the period ``over`` that contains ``day``."""
    if isinstance(over, DateRange):
        return over.start, over.end + dt.timedelta(days=1), f"{over.start.isoformat()}..{over.end.isoformat()}"
    if over == "day":
        return day, day + dt.timedelta(days=1), day.isoformat()
    if over == "month":
        first = day.replace(day=1)
        after = (first + dt.timedelta(days=32)).replace(day=1)
        return first, after, f"{day:%Y-%m}"
    first = day.replace(month=1, day=1)
    return first, first.replace(year=first.year + 1), str(day.year)


def progress_since(so_far: Any) -> dt.date | None:
    """The ``since`` argument of :func:`period_groups` for earlier progress ``so_far`` (a
    :class:`~optimizer.problem.TargetProgress` or None)."""
    if so_far is None:
        return None
    return so_far.since or dt.date.min


def period_groups(
    index: pd.DatetimeIndex, step_minutes: int, over: Over, since: dt.date | None = None
) -> list[PeriodGroup]:
    """The accounting periods of ``over`` on the horizon ``index`` (tz-aware interval starts), in time order.

    ``since``: the first day earlier progress counts from (``dt.date.min``: the period's start); None without
    earlier progress (the first period counts from the horizon's start)."""
    n_steps = len(index)
    if over == "horizon":
        return [PeriodGroup("horizon", tuple(range(n_steps)), True, 1.0)]
    tz = index.tz
    local_dates = index.tz_localize(None).normalize().date if tz is not None else index.normalize().date
    labels: dict[tuple[dt.date, dt.date, str], list[int]] = {}
    for step, day in enumerate(local_dates):
        start, after, label = period_bounds(over, day)
        if isinstance(over, DateRange) and not start <= day < after:
            continue
        labels.setdefault((start, after, label), []).append(step)
    step = pd.Timedelta(minutes=step_minutes)
    groups = []
    for (start, after, label), steps in labels.items():
        period_start = pd.Timestamp(start).tz_localize(tz)
        period_end = pd.Timestamp(after).tz_localize(tz)
        first = steps[0] == 0
        counted_from = index[steps[0]]
        if first and since is not None:
            counted_from = max(period_start, pd.Timestamp(max(since, start)).tz_localize(tz))
        covered = (min(index[steps[-1]] + step, period_end) - counted_from) / (period_end - period_start)
        groups.append(PeriodGroup(label, tuple(steps), first, float(np.clip(covered, 0.0, 1.0))))
    return groups
