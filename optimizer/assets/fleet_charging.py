"""Fleet charging (electric forklifts, EVs): energy into the batteries by a deadline.

One asset per fleet (a group of vehicles and their chargers). ``power_kw[t]``
is drawn from the grid side of the chargers, in ``[0, max_power_kw]`` while the
fleet is plugged in and before the deadline, 0 otherwise; the energy stored is
``charging_efficiency * power_kw * dt_h`` and must add up to ``energy_kwh``
exactly by the deadline (the fleet takes no more than it needs).

Times are tz-aware timestamps on the horizon's step grid; the problem checks
that they lie in the horizon.

Baseline: charge at full power from the start of availability until done.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyomo.environ as pyo
from pydantic import AwareDatetime, Field, model_validator

from optimizer.assets.base import ACROSS_MIDNIGHT_HINT, AssetSpec, BuildContext
from optimizer.assets.flexible_load import ENERGY_TOLERANCE_KWH, run_from_start, window_mask
from optimizer.assets.load import ELECTRIC_LOAD
from optimizer.baseline_state import BaselineState
from optimizer.buses import ELECTRICITY
from optimizer.errors import SpecError
from optimizer.horizon import Horizon
from optimizer.types import Efficiency, NonNegFloat, PositiveFloat


class FleetChargingSpec(AssetSpec):
    """A fleet that must have ``energy_kwh`` charged by ``deadline``."""

    kind: Literal["fleet_charging"] = "fleet_charging"
    energy_kwh: NonNegFloat = Field(description="Energy to store in the fleet's batteries by the deadline [kWh].")
    max_power_kw: PositiveFloat = Field(description="Highest total charging power, grid side [kW].")
    available_from: AwareDatetime = Field(description="When the fleet is plugged in (tz-aware, on the step grid).")
    available_until: AwareDatetime = Field(description="When the fleet leaves (tz-aware, on the step grid).")
    deadline: AwareDatetime | None = Field(
        None, description="When the energy must be stored (tz-aware, on the step grid); default: available_until."
    )
    charging_efficiency: Efficiency = Field(
        0.9, description="Stored energy per energy drawn from the grid (0, 1]; default 0.9, a typical value."
    )

    @property
    def charge_by(self) -> AwareDatetime:
        return self.available_until if self.deadline is None else self.deadline

    @model_validator(mode="after")
    def _feasible(self) -> FleetChargingSpec:
        if self.available_until <= self.available_from:
            raise SpecError(
                f"{self.available_until.isoformat()} must be after available_from {self.available_from.isoformat()}"
                + ACROSS_MIDNIGHT_HINT,
                field="available_until",
            )
        if self.deadline is not None and not self.available_from < self.deadline <= self.available_until:
            raise SpecError(
                f"{self.deadline.isoformat()} must be after available_from and at most available_until",
                field="deadline",
            )
        hours = (self.charge_by - self.available_from).total_seconds() / 3600.0
        most = self.max_power_kw * hours * self.charging_efficiency
        if self.energy_kwh > most + ENERGY_TOLERANCE_KWH:
            raise SpecError(
                f"{self.energy_kwh:g} cannot be charged in time: at most max_power_kw {self.max_power_kw:g} "
                f"x {hours:g} h x charging_efficiency {self.charging_efficiency:g} = {most:g} kWh",
                field="energy_kwh",
            )
        return self

    def charging_mask(self, horizon: Horizon) -> np.ndarray:
        """Steps in which the fleet may charge: plugged in and before the deadline."""
        window_mask(horizon, self.available_from, self.available_until, ("available_from", "available_until"))
        return window_mask(horizon, self.available_from, self.charge_by, ("available_from", "deadline"))

    def check_horizon(self, horizon: Horizon) -> None:
        self.charging_mask(horizon)


def build_fleet_charging(spec: FleetChargingSpec, ctx: BuildContext) -> None:
    n = spec.name
    mask = spec.charging_mask(ctx.horizon)
    block = ctx.block(n)
    block.power_kw = pyo.Var(ctx.steps, bounds=lambda _, t: (0.0, spec.max_power_kw if mask[t] else 0.0))
    block.energy = pyo.Constraint(
        expr=sum(block.power_kw[t] for t in ctx.steps) * ctx.dt_h * spec.charging_efficiency == spec.energy_kwh
    )
    ctx.add_flow(f"{n}.power_kw", block.power_kw, bus=ELECTRICITY, sign=-1, role=ELECTRIC_LOAD)


def baseline_fleet_charging(spec: FleetChargingSpec, state: BaselineState) -> None:
    """Rule: full power from the start of availability until the energy is stored."""
    mask = spec.charging_mask(state.horizon)
    power = run_from_start(mask, spec.energy_kwh / spec.charging_efficiency, spec.max_power_kw, state.dt_h)
    state.columns[f"{spec.name}.power_kw"] = power
    state.net_kw += power
