"""Flexible electric loads: energy-window loads and block loads.

- ``energy_window_load`` (dryers, batch heating): ``energy_kwh`` must be drawn
  between ``window_start`` and ``window_end``; ``power_kw[t]`` in
  ``[0, max_power_kw]`` inside the window and 0 outside. With
  ``min_power_kw > 0`` the load is a switched unit (shared on/off rules):
  ``min_power_kw * on[t] <= power_kw[t] <= max_power_kw * on[t]``.
- ``block_load``: a fixed power profile (one value per horizon step) that runs
  once, contiguously, starting at a step between ``earliest_start`` and
  ``latest_start``: one binary ``start[s]`` per candidate start with
  ``sum(start) == 1`` and ``power_kw[t] = sum_s profile[t - s] * start[s]``.

Times are tz-aware timestamps on the horizon's step grid (e.g. 08:00 or 08:15
with 15-minute steps); a window covers the steps whose intervals lie inside
``[start, end)``. The problem checks that every window lies in the horizon.

Windows across a period's end (energy-window loads and fleets, ``WINDOW`` on
the spec). A site's clock-time window may cross midnight (``"22:00"`` to
``"06:00"``: until 06:00 the next morning) and belongs to the day it starts;
a day-ahead period ends at midnight, so the compile path
(:mod:`scenarios.compile`) plans the window in two parts, and the builders see
only two plain energy rows:

- the evening part: the spec cut at the period end (:meth:`cut_at`): the window
  ends there, ``energy_kwh`` stays the whole window's and ``min_energy_kwh``
  becomes ``energy_kwh`` less what ``max_power_kw`` can still deliver after the
  cut (``most_kwh``), so ``min_energy_kwh <= drawn <= energy_kwh`` keeps every
  split feasible; what is still owed at the period end is the asset's state
  ``carried_energy_kwh`` (:class:`optimizer.state.WindowEnergyState`), carried
  like a battery's SOC;
- the morning part, in the next period: ``carried_energy_kwh`` must be drawn
  exactly between the horizon start and ``carried_until`` (the window's end
  clock time on that day), at most ``max_power_kw``; those steps precede the
  day's own window, so the two parts never share a step.

Baseline: an energy-window load runs at full power from the window start until
its energy is delivered (the carried part first, from the horizon start); a
block load starts at ``earliest_start``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd
import pyomo.core as pyo
from pydantic import AwareDatetime, Field, model_validator

from optimizer.assets.base import ACROSS_MIDNIGHT_HINT, AssetSpec, BuildContext
from optimizer.assets.commitment import add_commitment
from optimizer.assets.load import ELECTRIC_LOAD
from optimizer.baseline_state import BaselineState
from optimizer.buses import ELECTRICITY
from optimizer.errors import SpecError
from optimizer.horizon import Horizon
from optimizer.types import NonNegFloat, PositiveFloat

ENERGY_TOLERANCE_KWH = 1e-9


def step_boundary(horizon: Horizon, when: dt.datetime, field: str) -> int:
    """The step boundary at ``when``: 0 is the horizon start, ``n_steps`` its end.

    Raises ``ValueError`` naming ``field`` when ``when`` is off the step grid or outside the horizon.
    """
    start = pd.Timestamp(horizon.start)
    steps = (pd.Timestamp(when) - start).total_seconds() / 60.0 / horizon.step_minutes
    k = round(steps)
    if abs(steps - k) > 1e-9:
        raise SpecError(
            f"{when.isoformat()} is not on a step boundary "
            f"(the horizon has {horizon.step_minutes}-minute steps from {start.isoformat()})",
            field=field,
        )
    if not 0 <= k <= horizon.n_steps:
        raise SpecError(
            f"{when.isoformat()} is outside the horizon {start.isoformat()} to {horizon.end.isoformat()}",
            field=field,
        )
    return k


def window_mask(horizon: Horizon, start: dt.datetime, end: dt.datetime, fields: tuple[str, str]) -> np.ndarray:
    """True for the steps whose intervals lie in ``[start, end)``."""
    first = step_boundary(horizon, start, fields[0])
    last = step_boundary(horizon, end, fields[1])
    mask = np.zeros(horizon.n_steps, dtype=bool)
    mask[first:last] = True
    return mask


def _hours(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / 3600.0


# --- shared by windows that may be cut at a period's end (energy-window loads, fleets) ---------


def check_carried(spec: Any, start: dt.datetime, start_field: str) -> None:
    """Raises ``SpecError`` when the carried part is incomplete or overlaps the window starting at ``start``."""
    if spec.min_energy_kwh is not None and spec.min_energy_kwh > spec.energy_kwh + ENERGY_TOLERANCE_KWH:
        raise SpecError(f"{spec.min_energy_kwh:g} is above energy_kwh {spec.energy_kwh:g}", field="min_energy_kwh")
    if spec.carried_energy_kwh <= 0:
        return
    if spec.carried_until is None:
        raise SpecError(
            f"{spec.carried_energy_kwh:g} kWh carried needs carried_until (when it is due)", field="carried_until"
        )
    if spec.carried_until > start:
        raise SpecError(
            f"{spec.carried_until.isoformat()} must be at or before {start_field} {start.isoformat()}: "
            "the carried part of the previous window comes first",
            field="carried_until",
        )


def carried_mask(horizon: Horizon, spec: Any) -> np.ndarray:
    """The steps of the carried part: from the horizon start until ``carried_until`` (none without carried energy)."""
    mask = np.zeros(horizon.n_steps, dtype=bool)
    if spec.carried_energy_kwh > 0 and spec.carried_until is not None:
        mask[: step_boundary(horizon, spec.carried_until, "carried_until")] = True
    return mask


def check_carried_fits(horizon: Horizon, spec: Any) -> None:
    """Raises ``SpecError`` when the carried energy cannot be delivered between the horizon start and
    ``carried_until`` at maximum power."""
    if spec.carried_energy_kwh <= 0:
        return
    carried_mask(horizon, spec)  # on the grid, inside the horizon
    most = spec.most_kwh(horizon.start, spec.carried_until)
    if spec.carried_energy_kwh > most + ENERGY_TOLERANCE_KWH:
        raise SpecError(
            f"{spec.carried_energy_kwh:g} cannot be delivered between the horizon start {horizon.start.isoformat()} "
            f"and carried_until {spec.carried_until.isoformat()}: at most {most:g} kWh",
            field="carried_energy_kwh",
        )


WINDOW_PARAMETER_FIELDS = ("energy_kwh", "min_energy_kwh", "carried_energy_kwh", "carried_until")
"""Fields of an energy window whose numbers a re-used model takes as parameters (its window's times also, named by
each kind); which steps they cover is the kind's structure (:func:`window_structure`)."""


def window_energy_parameters(spec: Any) -> dict[str, float]:
    """The energies a window's rows hold [kWh stored] (:mod:`optimizer.parameters`)."""
    return {
        "energy_kwh": spec.energy_kwh,
        "least_energy_kwh": spec.least_energy_kwh,
        "carried_energy_kwh": spec.carried_energy_kwh,
    }


def window_structure(spec: Any, own: np.ndarray, horizon: Horizon) -> tuple[Any, ...]:
    """What of a window's data shapes its model: the window's steps, the carried part's steps, and whether the
    window's energy is exact or a range (a window cut at the horizon end)."""
    carried = carried_mask(horizon, spec)
    return (
        tuple(np.flatnonzero(own).tolist()),
        tuple(np.flatnonzero(carried).tolist()),
        spec.least_energy_kwh >= spec.energy_kwh,
    )


def add_energy_rows(
    block: Any, ctx: BuildContext, spec: Any, own: np.ndarray, stored_per_kwh: float, energies: dict[str, Any]
) -> None:
    """The energy rows of a window on ``block.power_kw`` [kW, drawn]: ``stored_per_kwh * drawn * dt_h`` over the
    window's steps ``own`` is ``energy_kwh`` (between ``min_energy_kwh`` and ``energy_kwh`` for a window cut at
    the horizon end), and over the carried part it is exactly ``carried_energy_kwh``. ``energies``: those three
    (:func:`window_energy_parameters`) as numbers or the model's parameters."""
    factor = ctx.dt_h * stored_per_kwh
    stored = sum(block.power_kw[t] for t in ctx.steps if own[t]) * factor
    if spec.least_energy_kwh >= spec.energy_kwh:
        block.energy = pyo.Constraint(expr=stored == energies["energy_kwh"])
    else:
        block.energy = pyo.Constraint(expr=pyo.inequality(energies["least_energy_kwh"], stored, energies["energy_kwh"]))
    carried = carried_mask(ctx.horizon, spec)
    if carried.any():
        block.carried = pyo.Constraint(
            expr=sum(block.power_kw[t] for t in ctx.steps if carried[t]) * factor == energies["carried_energy_kwh"]
        )


def take_window_energies(spec: Any, ctx: BuildContext) -> dict[str, Any]:
    """A window's energies registered as parameters (:meth:`BuildContext.take_parameters`), for
    :func:`add_energy_rows`."""
    return {name: p.scalar for name, p in ctx.take_parameters(spec.name, window_energy_parameters(spec)).items()}


def window_baseline(horizon: Horizon, spec: Any, own: np.ndarray, power_kw: float, stored_per_kwh: float) -> np.ndarray:
    """Rule: full power from the horizon start until the carried energy is in, and from the window start until
    ``energy_kwh`` is in (or the window, cut at the horizon end, is over) [kW, drawn]."""
    carried = run_from_start(
        carried_mask(horizon, spec), spec.carried_energy_kwh / stored_per_kwh, power_kw, horizon.dt_h
    )
    return carried + run_from_start(own, spec.energy_kwh / stored_per_kwh, power_kw, horizon.dt_h)


# --- energy-window load ----------------------------------------------------------------------


class EnergyWindowLoadSpec(AssetSpec):
    """A load that needs a given energy within a time window, at any power up to a maximum."""

    WINDOW: ClassVar[tuple[str, ...]] = ("window_start", "window_end")

    kind: Literal["energy_window_load"] = "energy_window_load"
    energy_kwh: NonNegFloat = Field(description="Energy to draw within the window [kWh].")
    window_start: AwareDatetime = Field(description="Earliest time the load may run (tz-aware, on the step grid).")
    window_end: AwareDatetime = Field(description="When the energy must have been drawn (tz-aware, on the step grid).")
    max_power_kw: PositiveFloat = Field(description="Highest power while running [kW].")
    min_power_kw: NonNegFloat = Field(
        0.0, description="Lowest power while running [kW]; above 0 adds an on/off binary per step of the window."
    )
    min_energy_kwh: NonNegFloat | None = Field(
        None,
        description="Least energy to draw within the window [kWh] when the window goes on after window_end (set by "
        "the compile path for a window across midnight cut at the period end: energy_kwh less what max_power_kw "
        "can still draw after the cut); up to energy_kwh may be drawn, the rest is carried. Default: energy_kwh.",
    )
    carried_energy_kwh: NonNegFloat = Field(
        0.0,
        description="Energy still owed at the horizon start by the window that began before it (the previous "
        "evening's, across midnight) [kWh], drawn before carried_until. State: carried from the previous day.",
    )
    carried_until: AwareDatetime | None = Field(
        None,
        description="When the carried energy is due (tz-aware, on the step grid, at or before window_start); the "
        "compile path sets it to the window's end clock time on the day.",
    )

    @model_validator(mode="after")
    def _feasible(self) -> EnergyWindowLoadSpec:
        hours = _hours(self.window_start, self.window_end)
        if hours <= 0:
            message = f"{self.window_end.isoformat()} must be after window_start {self.window_start.isoformat()}"
            raise SpecError(message + ACROSS_MIDNIGHT_HINT, field="window_end")
        if self.min_power_kw > self.max_power_kw:
            raise SpecError(f"{self.min_power_kw:g} is above max_power_kw {self.max_power_kw:g}", field="min_power_kw")
        check_carried(self, self.window_start, "window_start")
        most = self.most_kwh(self.window_start, self.window_end)
        if self.least_energy_kwh > most + ENERGY_TOLERANCE_KWH:
            field = "energy_kwh" if self.min_energy_kwh is None else "min_energy_kwh"
            raise SpecError(
                f"{self.least_energy_kwh:g} cannot be drawn in the window: at most max_power_kw "
                f"{self.max_power_kw:g} x {hours:g} h = {most:g} kWh",
                field=field,
            )
        return self

    @property
    def least_energy_kwh(self) -> float:
        """The least energy the window must draw [kWh]: ``min_energy_kwh`` if set, else ``energy_kwh``."""
        return self.energy_kwh if self.min_energy_kwh is None else self.min_energy_kwh

    def most_kwh(self, start: dt.datetime, end: dt.datetime) -> float:
        """What the load can draw between ``start`` and ``end`` at ``max_power_kw`` [kWh]."""
        return self.max_power_kw * max(0.0, _hours(start, end))

    def cut_at(self, end: dt.datetime) -> Self:
        """The window's part before ``end`` (a period's end): it ends at ``end`` and must draw at least what the
        rest of the window cannot (``min_energy_kwh``); unchanged when the window ends by ``end``."""
        if self.window_end <= end:
            return self
        least = max(0.0, self.least_energy_kwh - self.most_kwh(end, self.window_end))
        return type(self).model_validate(self.model_dump() | {"window_end": end, "min_energy_kwh": least})

    def check_horizon(self, horizon: Horizon) -> None:
        mask = window_mask(horizon, self.window_start, self.window_end, ("window_start", "window_end"))
        check_carried_fits(horizon, self)
        if self.min_power_kw > 0:
            per_step_min = self.min_power_kw * horizon.dt_h
            per_step_max = self.max_power_kw * horizon.dt_h
            carried = self.carried_energy_kwh
            parts = [
                (mask, self.least_energy_kwh, self.energy_kwh, "energy_kwh"),
                (carried_mask(horizon, self), carried, carried, "carried_energy_kwh"),
            ]
            for steps, least, most, field in parts:
                if most <= 0:
                    continue
                counts = range(1, int(steps.sum()) + 1)
                if not any(k * per_step_min <= most + 1e-9 and least <= k * per_step_max + 2e-9 for k in counts):
                    raise SpecError(
                        f"{most:g} cannot be drawn with min_power_kw {self.min_power_kw:g} and "
                        f"max_power_kw {self.max_power_kw:g} in whole steps of {horizon.step_minutes} min",
                        field=field,
                    )


def energy_window_mask(spec: EnergyWindowLoadSpec, horizon: Horizon) -> np.ndarray:
    """The window's steps."""
    return window_mask(horizon, spec.window_start, spec.window_end, ("window_start", "window_end"))


def energy_window_structure(spec: EnergyWindowLoadSpec, problem: Any) -> tuple[Any, ...]:
    """:func:`window_structure` of the load's window (with ``min_power_kw``, its steps also get the on/off binary)."""
    return window_structure(spec, energy_window_mask(spec, problem.horizon), problem.horizon)


def build_energy_window_load(spec: EnergyWindowLoadSpec, ctx: BuildContext) -> None:
    n = spec.name
    own = energy_window_mask(spec, ctx.horizon)
    mask = own | carried_mask(ctx.horizon, spec)
    block = ctx.block(n)
    block.power_kw = pyo.Var(ctx.steps, bounds=lambda _, t: (0.0, spec.max_power_kw if mask[t] else 0.0))
    add_energy_rows(block, ctx, spec, own, 1.0, take_window_energies(spec, ctx))
    if spec.min_power_kw > 0:
        unit = add_commitment(block, ctx, available=mask.astype(float))
        block.max_when_on = pyo.Constraint(ctx.steps, rule=lambda b, t: b.power_kw[t] <= spec.max_power_kw * unit.on[t])
        block.min_when_on = pyo.Constraint(ctx.steps, rule=lambda b, t: b.power_kw[t] >= spec.min_power_kw * unit.on[t])
        ctx.add_flow(f"{n}.on", unit.on)
    ctx.add_flow(f"{n}.power_kw", block.power_kw, bus=ELECTRICITY, sign=-1, role=ELECTRIC_LOAD)


def run_from_start(mask: np.ndarray, energy_kwh: float, power_kw: float, dt_h: float) -> np.ndarray:
    """Full power from the first step of ``mask`` until ``energy_kwh`` is delivered (the last step partly)."""
    power = np.zeros(len(mask))
    remaining = energy_kwh
    for t in np.flatnonzero(mask):
        if remaining <= ENERGY_TOLERANCE_KWH:
            break
        power[t] = min(power_kw, remaining / dt_h)
        remaining -= power[t] * dt_h
    return power


def baseline_energy_window_load(spec: EnergyWindowLoadSpec, state: BaselineState) -> None:
    """Rule: full power from the window start until the energy is delivered (the carried part first)."""
    own = energy_window_mask(spec, state.horizon)
    power = window_baseline(state.horizon, spec, own, spec.max_power_kw, 1.0)
    state.columns[f"{spec.name}.power_kw"] = power
    if spec.min_power_kw > 0:
        state.columns[f"{spec.name}.on"] = (power > 0).astype(float)
    state.net_kw += power


# --- block load ------------------------------------------------------------------------------


class BlockLoadSpec(AssetSpec):
    """A batch that runs once with a fixed power profile, starting within a window."""

    kind: Literal["block_load"] = "block_load"
    profile_kw: list[NonNegFloat] = Field(
        min_length=1, description="Power in each step of the run, one value per horizon step length [kW]."
    )
    earliest_start: AwareDatetime = Field(description="Earliest start (tz-aware, on the step grid).")
    latest_start: AwareDatetime = Field(
        description="Latest start (tz-aware, on the step grid); the whole run must end within the horizon."
    )

    @model_validator(mode="after")
    def _ordered(self) -> BlockLoadSpec:
        if self.latest_start < self.earliest_start:
            raise SpecError(
                f"{self.latest_start.isoformat()} is before earliest_start {self.earliest_start.isoformat()}",
                field="latest_start",
            )
        return self

    def candidate_starts(self, horizon: Horizon) -> range:
        """Steps at which the run may start; raises ``ValueError`` when a run would leave the horizon."""
        first = step_boundary(horizon, self.earliest_start, "earliest_start")
        last = step_boundary(horizon, self.latest_start, "latest_start")
        length = len(self.profile_kw)
        if last + length > horizon.n_steps:
            raise SpecError(
                f"{self.latest_start.isoformat()} leaves no room for the {length}-step profile_kw "
                f"before the horizon end {horizon.end.isoformat()}",
                field="latest_start",
            )
        return range(first, last + 1)

    def check_horizon(self, horizon: Horizon) -> None:
        self.candidate_starts(horizon)


def build_block_load(spec: BlockLoadSpec, ctx: BuildContext) -> None:
    n = spec.name
    starts = spec.candidate_starts(ctx.horizon)
    profile = spec.profile_kw
    block = ctx.block(n)
    block.start = pyo.Var(ctx.steps, domain=pyo.Binary)
    for t in ctx.steps:
        if t not in starts:
            block.start[t].fix(0.0)  # only the candidate starts are free
    block.power_kw = pyo.Var(ctx.steps, bounds=(0.0, max(profile)))
    block.once = pyo.Constraint(expr=sum(block.start[s] for s in ctx.steps) == 1)
    block.profile = pyo.Constraint(
        ctx.steps,
        rule=lambda b, t: (
            b.power_kw[t] == sum(profile[t - s] * b.start[s] for s in range(max(0, t - len(profile) + 1), t + 1))
        ),
    )
    ctx.add_flow(f"{n}.start", block.start)
    ctx.add_flow(f"{n}.power_kw", block.power_kw, bus=ELECTRICITY, sign=-1, role=ELECTRIC_LOAD)


def baseline_block_load(spec: BlockLoadSpec, state: BaselineState) -> None:
    """Rule: the batch starts at the earliest start."""
    first = spec.candidate_starts(state.horizon)[0]
    n_steps = state.horizon.n_steps
    start = np.zeros(n_steps)
    start[first] = 1.0
    power = np.zeros(n_steps)
    power[first : first + len(spec.profile_kw)] = spec.profile_kw
    state.columns[f"{spec.name}.start"] = start
    state.columns[f"{spec.name}.power_kw"] = power
    state.net_kw += power
