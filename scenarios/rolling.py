"""Day-ahead runs over a date range: the periods to optimise and the state carried across midnight.

A rolling run optimises each local day on its own, as an EMS does each
morning, and starts the next day where the previous one ended:

- stores (battery SOC, cold and heat tank levels, air receivers): the level at
  the end of the last step, as a fraction of capacity (clipped into the
  allowed window against solver round-off); the end-of-day target stays the
  scenario's (``end_*_frac``, or the scenario's initial level when unset), so
  a store is not ratcheted up day after day;
- switched units (compressors, chillers): on/off at the last step (a group's
  number of units running) and, where the spec has ``initial_minutes_in_state``,
  for how long (min up/down times hold across midnight);
- energy windows across midnight (flexible loads, fleets): the energy the day's
  window, cut at midnight, still owes (``carried_energy_kwh``), which the next
  day draws before the window's end clock time (:mod:`scenarios.compile`);
- grid demand charge: the month-to-date peak import becomes
  ``max(previous month-to-date peak, the day's peak)``, and 0 on the first day
  of a new month.

What carries is declared by each asset kind's registry entry
(:attr:`optimizer.assets.AssetType.state`, rules in :mod:`optimizer.state`), so a
new asset kind is carried without a change here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from optimizer import DispatchProblem, Horizon
from optimizer.assets import REGISTRY
from optimizer.state import CarryContext, MonthPeakState
from scenarios.spec import HorizonSpec


@dataclass(frozen=True)
class Period:
    """One optimisation horizon of a run and the local days it covers (clock times resolve on each)."""

    horizon: Horizon
    dates: tuple[dt.date, ...]

    @property
    def label(self) -> str:
        first, last = self.dates[0], self.dates[-1]
        return first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"


def _localize(value: dt.datetime, tz: str) -> dt.datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return pd.Timestamp(value).tz_localize(tz).to_pydatetime()
    return value


def make_periods(spec: HorizonSpec, tz: str) -> list[Period]:
    """The horizons to optimise, in order: one per day when rolling, else one."""
    if spec.is_explicit:
        assert isinstance(spec.start, dt.datetime) and spec.n_steps is not None
        horizon = Horizon(start=_localize(spec.start, tz), step_minutes=spec.step_minutes, n_steps=spec.n_steps, tz=tz)
        index = horizon.index
        dates = tuple(dict.fromkeys(d.date() for d in index.tz_localize(None).normalize()))
        return [Period(horizon, dates)]
    dates = spec.dates()
    if spec.rolling:
        return [Period(Horizon.day(d, tz, spec.step_minutes), (d,)) for d in dates]
    first = Horizon.day(dates[0], tz, spec.step_minutes)
    end = pd.Timestamp(dates[-1] + dt.timedelta(days=1)).tz_localize(tz)
    n_steps = int((end - pd.Timestamp(first.start)).total_seconds() // (60 * spec.step_minutes))
    horizon = Horizon(start=first.start, step_minutes=spec.step_minutes, n_steps=n_steps, tz=tz)
    return [Period(horizon, tuple(dates))]


def carried_state(
    problem: DispatchProblem,
    schedule: pd.DataFrame,
    next_start: pd.Timestamp,
    first: DispatchProblem | None = None,
) -> dict[str, dict[str, Any]]:
    """Field values, by asset name, that start the next period where ``schedule`` ended.

    Each asset kind's state rules (its registry entry) say what carries.
    ``first`` is the run's first problem: its initial levels (or end targets)
    are the end-of-period targets of every later period.
    """
    first_specs = {a.name: a for a in first.assets} if first is not None else {}
    state: dict[str, dict[str, Any]] = {}
    for spec in problem.assets:
        ctx = CarryContext(
            problem.horizon.index[-1], next_start, problem.horizon.step_minutes, first_specs.get(spec.name)
        )
        fields: dict[str, Any] = {}
        for rule in REGISTRY[spec.kind].state:
            fields |= rule.carry(spec, schedule, ctx)
        if fields:
            state[spec.name] = fields
    return state


def new_month_state(problem: DispatchProblem) -> dict[str, dict[str, Any]]:
    """State that only resets the month-to-date peaks (a run that starts a later month afresh)."""
    return {
        spec.name: rule.reset()
        for spec in problem.assets
        for rule in REGISTRY[spec.kind].state
        if isinstance(rule, MonthPeakState)
    }
