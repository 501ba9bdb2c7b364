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
- grid demand charge: the month-to-date peak import becomes
  ``max(previous month-to-date peak, the day's peak)``, and 0 on the first day
  of a new month.

State is found by field and column names (``initial_soc_frac`` with
``<name>.soc_kwh``, ``initial_level_frac`` with ``<name>.level_kwh`` or
``.level_m3``, ``initial_on`` with ``<name>.on``, ``month_to_date_peak_kw``
with ``<name>.import_kw``), so any asset type that follows these conventions
is carried without a change here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from optimizer import DispatchProblem, Horizon
from scenarios.spec import HorizonSpec

LEVEL_FIELDS = {
    # state field: (level columns, capacity fields, window fields (low, high) or None, end-target field)
    "initial_soc_frac": (("soc_kwh",), ("capacity_kwh",), ("soc_min_frac", "soc_max_frac"), "end_soc_frac"),
    "initial_level_frac": (("level_kwh", "level_m3"), ("capacity_kwh", "capacity_m3"), None, "end_level_frac"),
}


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


def _last(schedule: pd.DataFrame, column: str) -> float | None:
    if column not in schedule.columns or schedule.empty:
        return None
    value = float(schedule[column].iloc[-1])
    return value if np.isfinite(value) else None


def _level_state(spec: Any, schedule: pd.DataFrame, field: str, first: Any) -> dict[str, Any]:
    columns, capacity_fields, window, end_field = LEVEL_FIELDS[field]
    level = next((v for c in columns if (v := _last(schedule, f"{spec.name}.{c}")) is not None), None)
    capacity = next((getattr(spec, f) for f in capacity_fields if getattr(spec, f, None)), None)
    if level is None or not capacity:
        return {}
    low, high = (getattr(spec, window[0]), getattr(spec, window[1])) if window else (0.0, 1.0)
    state: dict[str, Any] = {field: float(np.clip(level / capacity, low, high))}
    if hasattr(spec, end_field) and first is not None:
        target = getattr(first, end_field, None)
        state[end_field] = getattr(first, field) if target is None else target
    return state


def _on_state(spec: Any, schedule: pd.DataFrame, step_minutes: int) -> dict[str, Any]:
    column = f"{spec.name}.on"
    if column not in schedule.columns:
        return {}
    on = np.rint(schedule[column].to_numpy())  # units running (0/1 for a single unit)
    state: dict[str, Any] = {"initial_on": bool(on[-1] > 0)}
    units = getattr(spec, "units", 1)
    if units > 1:
        state["initial_units_on"] = int(on[-1])
    if hasattr(spec, "initial_minutes_in_state"):
        changes = np.flatnonzero(on != on[-1])
        steps = len(on) - (int(changes[-1]) + 1) if changes.size else len(on)
        minutes: float | None = float(steps * step_minutes)
        initial = spec.units_on_at_start if units > 1 else int(spec.initial_on)
        if not changes.size and initial == int(on[-1]):
            # in the same state all period long: add the time before (None = long enough stays so)
            before = spec.initial_minutes_in_state
            minutes = None if before is None else before + minutes
        state["initial_minutes_in_state"] = minutes
    return state


def _peak_state(spec: Any, schedule: pd.DataFrame, new_month: bool) -> dict[str, Any]:
    column = f"{spec.name}.import_kw"
    if column not in schedule.columns:
        return {}
    if new_month:
        return {"month_to_date_peak_kw": 0.0}
    return {"month_to_date_peak_kw": max(float(spec.month_to_date_peak_kw), float(schedule[column].max()))}


def carried_state(
    problem: DispatchProblem,
    schedule: pd.DataFrame,
    next_start: pd.Timestamp,
    first: DispatchProblem | None = None,
) -> dict[str, dict[str, Any]]:
    """Field values, by asset name, that start the next period where ``schedule`` ended.

    ``first`` is the run's first problem: its initial levels (or end targets)
    are the end-of-period targets of every later period.
    """
    last_start = problem.horizon.index[-1]
    new_month = (next_start.year, next_start.month) != (last_start.year, last_start.month)
    first_specs = {a.name: a for a in first.assets} if first is not None else {}
    state: dict[str, dict[str, Any]] = {}
    for spec in problem.assets:
        fields: dict[str, Any] = {}
        for field in LEVEL_FIELDS:
            if hasattr(spec, field):
                fields |= _level_state(spec, schedule, field, first_specs.get(spec.name))
        if hasattr(spec, "initial_on"):
            fields |= _on_state(spec, schedule, problem.horizon.step_minutes)
        if hasattr(spec, "month_to_date_peak_kw"):
            fields |= _peak_state(spec, schedule, new_month)
        if fields:
            state[spec.name] = fields
    return state


def new_month_state(problem: DispatchProblem) -> dict[str, dict[str, Any]]:
    """State that only resets the month-to-date peaks (a run that starts a later month afresh)."""
    return {a.name: {"month_to_date_peak_kw": 0.0} for a in problem.assets if hasattr(a, "month_to_date_peak_kw")}
