"""What an asset carries from one period to the next, declared once per asset kind.

An asset kind lists its state rules in its registry entry
(:attr:`optimizer.assets.AssetType.state`). A rule knows which spec fields hold
the state, how to read the state at the end of a solved period from the
schedule, and (for stores) the capacity of its level column. Day-ahead runs,
the API's measured states and reports all go through these rules, so nothing
outside the asset's registry entry guesses by field name.

- :class:`LevelState`: a store's level (battery SOC, tank and receiver
  levels) as a fraction of capacity, clipped into the allowed window; the
  end-of-period target stays the first period's (its end target, or its
  initial level), so a store is not ratcheted up day after day.
- :class:`CommitmentState`: units on/off at the last step (a group's count),
  and for how long (min up/down times hold across midnight).
- :class:`MonthPeakState`: the month-to-date peak import, reset at a new month.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class CarryContext:
    """Where a period ended: its last step's start, the next period's start, the step, the first period's spec."""

    last_start: pd.Timestamp
    next_start: pd.Timestamp
    step_minutes: int
    first_spec: Any = None

    @property
    def new_month(self) -> bool:
        return (self.next_start.year, self.next_start.month) != (self.last_start.year, self.last_start.month)


class StateRule(Protocol):
    """One piece of an asset's state: its fields, how it carries, and the capacities of its level columns."""

    @property
    def fields(self) -> tuple[str, ...]: ...

    def carry(self, spec: Any, schedule: pd.DataFrame, ctx: CarryContext) -> dict[str, Any]: ...

    def capacities(self, spec: Any) -> dict[str, float]: ...


def _last(schedule: pd.DataFrame, column: str) -> float | None:
    if column not in schedule.columns or schedule.empty:
        return None
    value = float(schedule[column].iloc[-1])
    return value if np.isfinite(value) else None


@dataclass(frozen=True)
class LevelState:
    """A store: ``<name>.<level>`` over ``capacity`` is the fraction that starts the next period."""

    level: str  # column suffix, e.g. "soc_kwh"
    capacity: str  # spec field, e.g. "capacity_kwh"
    initial: str  # spec field, e.g. "initial_soc_frac"
    end: str  # spec field, e.g. "end_soc_frac"
    window: tuple[str, str] | None = None  # spec fields of the allowed (low, high) fraction

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.initial, self.end)

    def capacities(self, spec: Any) -> dict[str, float]:
        return {f"{spec.name}.{self.level}": float(getattr(spec, self.capacity))}

    def carry(self, spec: Any, schedule: pd.DataFrame, ctx: CarryContext) -> dict[str, Any]:
        level = _last(schedule, f"{spec.name}.{self.level}")
        capacity = float(getattr(spec, self.capacity))
        if level is None or capacity <= 0:
            return {}
        low, high = (getattr(spec, self.window[0]), getattr(spec, self.window[1])) if self.window else (0.0, 1.0)
        state: dict[str, Any] = {self.initial: float(np.clip(level / capacity, low, high))}
        if ctx.first_spec is not None:
            target = getattr(ctx.first_spec, self.end)
            state[self.end] = getattr(ctx.first_spec, self.initial) if target is None else target
        return state


@dataclass(frozen=True)
class CommitmentState:
    """Switched units: ``<name>.on`` (units running) at the last step and the time spent in that state."""

    on: str = "on"
    groups: bool = False  # the spec has units and initial_units_on

    @property
    def fields(self) -> tuple[str, ...]:
        group = ("initial_units_on",) if self.groups else ()
        return ("initial_on", *group, "initial_minutes_in_state")

    def capacities(self, spec: Any) -> dict[str, float]:
        return {}

    def carry(self, spec: Any, schedule: pd.DataFrame, ctx: CarryContext) -> dict[str, Any]:
        column = f"{spec.name}.{self.on}"
        if column not in schedule.columns or schedule.empty:
            return {}
        on = np.rint(schedule[column].to_numpy())
        state: dict[str, Any] = {"initial_on": bool(on[-1] > 0)}
        units = getattr(spec, "units", 1)
        if units > 1:
            state["initial_units_on"] = int(on[-1])
        changes = np.flatnonzero(on != on[-1])
        steps = len(on) - (int(changes[-1]) + 1) if changes.size else len(on)
        minutes: float | None = float(steps * ctx.step_minutes)
        initial = spec.units_on_at_start if units > 1 else int(spec.initial_on)
        if not changes.size and initial == int(on[-1]):
            # in the same state all period long: add the time before (None = long enough stays so)
            before = spec.initial_minutes_in_state
            minutes = None if before is None else before + minutes
        state["initial_minutes_in_state"] = minutes
        return state


@dataclass(frozen=True)
class MonthPeakState:
    """The month-to-date peak of ``<name>.<column>``: the larger of the carried peak and the period's, 0 in a new
    month."""

    column: str = "import_kw"
    field: str = "month_to_date_peak_kw"

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field,)

    def capacities(self, spec: Any) -> dict[str, float]:
        return {}

    def carry(self, spec: Any, schedule: pd.DataFrame, ctx: CarryContext) -> dict[str, Any]:
        column = f"{spec.name}.{self.column}"
        if column not in schedule.columns:
            return {}
        if ctx.new_month:
            return {self.field: 0.0}
        return {self.field: max(float(getattr(spec, self.field)), float(schedule[column].max()))}

    def reset(self) -> dict[str, Any]:
        """The state of a new month."""
        return {self.field: 0.0}
