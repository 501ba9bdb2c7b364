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

Baseline: an energy-window load runs at full power from the window start until
its energy is delivered; a block load starts at ``earliest_start``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo
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


# --- energy-window load ----------------------------------------------------------------------


class EnergyWindowLoadSpec(AssetSpec):
    """A load that needs a given energy within a time window, at any power up to a maximum."""

    kind: Literal["energy_window_load"] = "energy_window_load"
    energy_kwh: NonNegFloat = Field(description="Energy to draw within the window [kWh].")
    window_start: AwareDatetime = Field(description="Earliest time the load may run (tz-aware, on the step grid).")
    window_end: AwareDatetime = Field(description="When the energy must have been drawn (tz-aware, on the step grid).")
    max_power_kw: PositiveFloat = Field(description="Highest power while running [kW].")
    min_power_kw: NonNegFloat = Field(
        0.0, description="Lowest power while running [kW]; above 0 adds an on/off binary per step of the window."
    )

    @model_validator(mode="after")
    def _feasible(self) -> EnergyWindowLoadSpec:
        hours = _hours(self.window_start, self.window_end)
        if hours <= 0:
            message = f"{self.window_end.isoformat()} must be after window_start {self.window_start.isoformat()}"
            raise SpecError(message + ACROSS_MIDNIGHT_HINT, field="window_end")
        if self.min_power_kw > self.max_power_kw:
            raise SpecError(f"{self.min_power_kw:g} is above max_power_kw {self.max_power_kw:g}", field="min_power_kw")
        most = self.max_power_kw * hours
        if self.energy_kwh > most + ENERGY_TOLERANCE_KWH:
            raise SpecError(
                f"{self.energy_kwh:g} cannot be drawn in the window: at most max_power_kw "
                f"{self.max_power_kw:g} x {hours:g} h = {most:g} kWh",
                field="energy_kwh",
            )
        return self

    def check_horizon(self, horizon: Horizon) -> None:
        mask = window_mask(horizon, self.window_start, self.window_end, ("window_start", "window_end"))
        if self.min_power_kw > 0 and self.energy_kwh > 0:
            per_step_min = self.min_power_kw * horizon.dt_h
            per_step_max = self.max_power_kw * horizon.dt_h
            counts = range(1, int(mask.sum()) + 1)
            if not any(k * per_step_min <= self.energy_kwh + 1e-9 <= k * per_step_max + 2e-9 for k in counts):
                raise SpecError(
                    f"{self.energy_kwh:g} cannot be drawn with min_power_kw {self.min_power_kw:g} and "
                    f"max_power_kw {self.max_power_kw:g} in whole steps of {horizon.step_minutes} min",
                    field="energy_kwh",
                )


def build_energy_window_load(spec: EnergyWindowLoadSpec, ctx: BuildContext) -> None:
    n = spec.name
    mask = window_mask(ctx.horizon, spec.window_start, spec.window_end, ("window_start", "window_end"))
    block = ctx.block(n)
    block.power_kw = pyo.Var(ctx.steps, bounds=lambda _, t: (0.0, spec.max_power_kw if mask[t] else 0.0))
    block.energy = pyo.Constraint(expr=sum(block.power_kw[t] for t in ctx.steps) * ctx.dt_h == spec.energy_kwh)
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
    """Rule: full power from the window start until the energy is delivered."""
    mask = window_mask(state.horizon, spec.window_start, spec.window_end, ("window_start", "window_end"))
    power = run_from_start(mask, spec.energy_kwh, spec.max_power_kw, state.dt_h)
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
