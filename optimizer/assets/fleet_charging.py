"""Fleet charging (electric forklifts, EVs): energy into the batteries by a deadline.

One asset per fleet (a group of vehicles and their chargers). ``power_kw[t]``
is drawn from the grid side of the chargers, in ``[0, max_power_kw]`` while the
fleet is plugged in and before the deadline, 0 otherwise; the energy stored is
``charging_efficiency * power_kw * dt_h`` and must add up to ``energy_kwh``
exactly by the deadline (the fleet takes no more than it needs).

Times are tz-aware timestamps on the horizon's step grid; the problem checks
that they lie in the horizon. A site's clock times may cross midnight (plugged
in ``"22:00"`` until ``"06:00"`` the next morning): the compile path plans the
evening part with the window cut at the period end (``min_energy_kwh``) and the
morning part in the next period from the carried state
(``carried_energy_kwh`` due by ``carried_until``), as for energy-window loads
(:mod:`optimizer.assets.flexible_load`); energies are stored kWh, so what
``max_power_kw`` can deliver counts ``charging_efficiency``.

Baseline: charge at full power from the start of availability until done (the
carried part first, from the horizon start).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pyomo.core as pyo
from pydantic import AwareDatetime, Field, model_validator

from optimizer.assets.base import ACROSS_MIDNIGHT_HINT, AssetSpec, BuildContext
from optimizer.assets.flexible_load import (
    ENERGY_TOLERANCE_KWH,
    add_energy_rows,
    carried_mask,
    check_carried,
    check_carried_fits,
    take_window_energies,
    window_baseline,
    window_mask,
    window_structure,
)
from optimizer.assets.load import ELECTRIC_LOAD
from optimizer.baseline_state import BaselineState
from optimizer.buses import ELECTRICITY
from optimizer.errors import SpecError
from optimizer.horizon import Horizon
from optimizer.types import Efficiency, NonNegFloat, PositiveFloat


class FleetChargingSpec(AssetSpec):
    """A fleet that must have ``energy_kwh`` charged by ``deadline``."""

    WINDOW: ClassVar[tuple[str, ...]] = ("available_from", "available_until", "deadline")

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
    min_energy_kwh: NonNegFloat | None = Field(
        None,
        description="Least energy to store by the deadline [kWh] when the window goes on after it (set by the "
        "compile path for a window across midnight cut at the period end: energy_kwh less what max_power_kw can "
        "still store after the cut); up to energy_kwh may be stored, the rest is carried. Default: energy_kwh.",
    )
    carried_energy_kwh: NonNegFloat = Field(
        0.0,
        description="Energy still owed at the horizon start by the window that began before it (the previous "
        "evening's, across midnight) [kWh stored], stored before carried_until. State: carried from the previous "
        "day.",
    )
    carried_until: AwareDatetime | None = Field(
        None,
        description="When the carried energy is due (tz-aware, on the step grid, at or before available_from); the "
        "compile path sets it to the window's deadline (else available_until) clock time on the day.",
    )

    @property
    def charge_by(self) -> AwareDatetime:
        return self.available_until if self.deadline is None else self.deadline

    @property
    def least_energy_kwh(self) -> float:
        """The least energy to store by the deadline [kWh]: ``min_energy_kwh`` if set, else ``energy_kwh``."""
        return self.energy_kwh if self.min_energy_kwh is None else self.min_energy_kwh

    def most_kwh(self, start: dt.datetime, end: dt.datetime) -> float:
        """What the fleet can store between ``start`` and ``end`` at ``max_power_kw`` [kWh stored]."""
        hours = max(0.0, (end - start).total_seconds() / 3600.0)
        return self.max_power_kw * hours * self.charging_efficiency

    def cut_at(self, end: dt.datetime) -> Self:
        """The window's part before ``end`` (a period's end): availability and deadline end by ``end``, and it must
        store at least what the rest of the window cannot (``min_energy_kwh``); unchanged when it ends by ``end``."""
        if self.available_until <= end:
            return self
        update: dict[str, object] = {"available_until": end}
        if self.charge_by > end:
            least = max(0.0, self.least_energy_kwh - self.most_kwh(end, self.charge_by))
            update |= {"deadline": None, "min_energy_kwh": least}
        return type(self).model_validate(self.model_dump() | update)

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
        check_carried(self, self.available_from, "available_from")
        hours = (self.charge_by - self.available_from).total_seconds() / 3600.0
        most = self.most_kwh(self.available_from, self.charge_by)
        if self.least_energy_kwh > most + ENERGY_TOLERANCE_KWH:
            raise SpecError(
                f"{self.least_energy_kwh:g} cannot be charged in time: at most max_power_kw {self.max_power_kw:g} "
                f"x {hours:g} h x charging_efficiency {self.charging_efficiency:g} = {most:g} kWh",
                field="energy_kwh" if self.min_energy_kwh is None else "min_energy_kwh",
            )
        return self

    def charging_mask(self, horizon: Horizon) -> np.ndarray:
        """Steps in which the fleet may charge its window's energy: plugged in and before the deadline."""
        window_mask(horizon, self.available_from, self.available_until, ("available_from", "available_until"))
        return window_mask(horizon, self.available_from, self.charge_by, ("available_from", "deadline"))

    def check_horizon(self, horizon: Horizon) -> None:
        self.charging_mask(horizon)
        check_carried_fits(horizon, self)


def fleet_charging_structure(spec: FleetChargingSpec, problem: Any) -> tuple[Any, ...]:
    """:func:`~optimizer.assets.flexible_load.window_structure` of the fleet's charging window."""
    return window_structure(spec, spec.charging_mask(problem.horizon), problem.horizon)


def build_fleet_charging(spec: FleetChargingSpec, ctx: BuildContext) -> None:
    n = spec.name
    own = spec.charging_mask(ctx.horizon)
    mask = own | carried_mask(ctx.horizon, spec)
    block = ctx.block(n)
    block.power_kw = pyo.Var(ctx.steps, bounds=lambda _, t: (0.0, spec.max_power_kw if mask[t] else 0.0))
    add_energy_rows(block, ctx, spec, own, spec.charging_efficiency, take_window_energies(spec, ctx))
    ctx.add_flow(f"{n}.power_kw", block.power_kw, bus=ELECTRICITY, sign=-1, role=ELECTRIC_LOAD)


def baseline_fleet_charging(spec: FleetChargingSpec, state: BaselineState) -> None:
    """Rule: full power from the start of availability until the energy is stored (the carried part first)."""
    own = spec.charging_mask(state.horizon)
    power = window_baseline(state.horizon, spec, own, spec.max_power_kw, spec.charging_efficiency)
    state.columns[f"{spec.name}.power_kw"] = power
    state.net_kw += power
