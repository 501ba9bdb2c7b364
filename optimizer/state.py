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
  and for how long (min up/down times hold across midnight); for a unit with
  ramp limits also its output at the last step (a boiler's ramp holds across
  midnight).
- :class:`MonthPeakState`: the month-to-date peak import, reset at a new month.
- :class:`WindowEnergyState`: the energy still owed by an energy window (a
  flexible load's, a fleet's) that goes on after the period, e.g. one across
  midnight cut at the day's end (:mod:`optimizer.assets.flexible_load`).
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
    """Switched units: ``<name>.on`` (units running) at the last step and the time spent in that state; with
    ``output``, also ``<name>.<output>`` at the last step into the spec field ``initial_output`` (the start of
    the next period's ramp limits), whether or not the unit has an ``on`` column."""

    on: str = "on"
    groups: bool = False  # the spec has units and initial_units_on
    output: str | None = None  # column suffix of the unit's output, e.g. "heat_kw"
    initial_output: str | None = None  # spec field the last output carries into, e.g. "initial_heat_kw"

    @property
    def fields(self) -> tuple[str, ...]:
        group = ("initial_units_on",) if self.groups else ()
        output = (self.initial_output,) if self.initial_output else ()
        return ("initial_on", *group, "initial_minutes_in_state", *output)

    def capacities(self, spec: Any) -> dict[str, float]:
        return {}

    def carry(self, spec: Any, schedule: pd.DataFrame, ctx: CarryContext) -> dict[str, Any]:
        state: dict[str, Any] = {}
        if self.output and self.initial_output:
            last = _last(schedule, f"{spec.name}.{self.output}")
            if last is not None:
                state[self.initial_output] = round(max(last, 0.0), 6)  # solver round-off below 0 or in 1e-9
        column = f"{spec.name}.{self.on}"
        if column not in schedule.columns or schedule.empty:
            return state
        on = np.rint(schedule[column].to_numpy())
        state["initial_on"] = bool(on[-1] > 0)
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


CARRIED_TOLERANCE_KWH = 1e-6
"""Owed energy below this [kWh] is solver round-off and carries as 0."""


@dataclass(frozen=True)
class WindowEnergyState:
    """An energy window in progress at the next period's start: the energy still owed, ``carried_energy_kwh``.

    The spec has ``energy_kwh``, ``min_energy_kwh``, ``carried_energy_kwh`` and ``carried_until`` (see
    :attr:`optimizer.assets.AssetSpec.WINDOW`). In progress at ``next_start`` is the carried part (from the
    previous window, due by ``carried_until``) or the spec's own window: begun before ``next_start`` and due after
    it, or due at it when the window was cut there (``min_energy_kwh`` set). Owed = that part's energy less what
    ``<name>.<column>`` delivered in it before ``next_start`` (times ``efficiency``: stored per drawn kWh). 0 when
    nothing is in progress, so a carried value never outlives its window. Where the next period puts it is the
    compile path's business (the window's end clock time on its first day).
    """

    start: str  # spec attribute: when the window opens ("window_start", "available_from")
    end: str  # spec attribute: when its energy is due ("window_end", "charge_by")
    efficiency: str | None = None  # spec field: stored energy per energy drawn ("charging_efficiency")
    column: str = "power_kw"
    field: str = "carried_energy_kwh"

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field,)

    def capacities(self, spec: Any) -> dict[str, float]:
        return {}

    def carry(self, spec: Any, schedule: pd.DataFrame, ctx: CarryContext) -> dict[str, Any]:
        column = f"{spec.name}.{self.column}"
        if column not in schedule.columns:
            return {}
        index = pd.DatetimeIndex(schedule.index)
        power = schedule[column].fillna(0.0).to_numpy(dtype=float)
        stored_per_kwh = 1.0 if self.efficiency is None else float(getattr(spec, self.efficiency))
        step_h = ctx.step_minutes / 60.0
        at = ctx.next_start

        def delivered(start: Any, end: Any) -> float:
            inside = (index < end) & (index < at) if start is None else (index >= start) & (index < end) & (index < at)
            return float(power[inside].sum()) * step_h * stored_per_kwh

        until = getattr(spec, "carried_until", None)
        start, end = getattr(spec, self.start), getattr(spec, self.end)
        cut = getattr(spec, "min_energy_kwh", None) is not None
        owed = 0.0
        if spec.carried_energy_kwh > 0 and until is not None and at < until:
            owed = spec.carried_energy_kwh - delivered(None, until)
        elif start < at and (at < end or (cut and at == end)):
            owed = spec.energy_kwh - delivered(start, end)
        return {self.field: round(owed, 6) if owed > CARRIED_TOLERANCE_KWH else 0.0}
