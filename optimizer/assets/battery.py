"""Battery energy storage on the electricity bus.

Variables: ``charge_kw[t]``, ``discharge_kw[t]`` (AC side) and ``soc_kwh[t]``
(content at the end of step ``t``, within the SOC window). The store itself
(balance, self-discharge, end-of-horizon SOC ``>=`` or ``==``, exclusive
charge/discharge where needed) is the shared :func:`optimizer.assets.storage.add_store`;
the battery adds a reserve SOC during given local clock hours.

Throughput (degradation) cost: ``degradation_cost_cny_per_kwh`` is paid on every kWh
charged *and* every kWh discharged (AC side, cost component ``degradation``), so storing
and returning a kWh costs about twice the figure. Cycling wears the cells out, and the
plan should only cycle where the price spread pays for it: the cost of replacing the
battery spread over the energy it can cycle in its life,

    cost per kWh of throughput = replacement cost / (cycle life x 2 x usable energy per cycle)

:data:`LFP_THROUGHPUT_COST_CNY_PER_KWH` is that figure for a lithium-iron-phosphate
storage battery today. The spec's default stays 0: the optimizer prices only what it is
told (and the benchmarks' oracle-checked reference problem has a battery without a wear
cost); sites and the shipped examples give the figure, with its source, explicitly.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyomo.core as pyo
from pydantic import Field, model_validator

from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.assets.storage import ExclusiveMode, StoreColumns, StoreLimits, add_store
from optimizer.baseline_state import BaselineState
from optimizer.buses import ELECTRICITY
from optimizer.errors import SpecError
from optimizer.types import Efficiency, Fraction, NonNegFloat, PositiveFloat

if TYPE_CHECKING:
    from optimizer.problem import DispatchProblem

LFP_THROUGHPUT_COST_CNY_PER_KWH = 0.062
"""Throughput cost of an LFP storage battery, per kWh charged and per kWh discharged [CNY/kWh]:

- replacement cost: US$84/kWh, the average lithium-ion pack price in China in BloombergNEF's 2025 Lithium-Ion
  Battery Price Survey (as reported by Saur Energy, "Stationary Storage Leads Price Drop as Li-Ion Packs Fall 8 %"
  [2nd]) at 7.1 CNY/USD [est]: 596 CNY per kWh of capacity;
- cycle life: 6,000 full cycles to 70-80 % remaining capacity at 25 C, 0.2-0.5 C and 80-90 % depth of discharge,
  what makers state for 280 Ah LFP storage cells [2nd];
- usable energy per cycle: 80 % of the capacity (a 10-90 % SOC window, the examples' and the spec's default).

596 / (6,000 x 2 x 0.8) = 0.062 CNY per kWh of throughput, 0.124 per kWh stored and returned. Calendar ageing,
temperature and the remaining value at end of life are not in it; it is the figure to start from, not a warranty's.
"""


class BatterySpec(AssetSpec):
    """A battery with power limits, efficiencies and a SOC window."""

    kind: Literal["battery"] = "battery"
    capacity_kwh: PositiveFloat = Field(description="Usable nameplate energy [kWh].")
    charge_power_kw: NonNegFloat = Field(description="Maximum charging power, AC [kW].")
    discharge_power_kw: NonNegFloat = Field(description="Maximum discharging power, AC [kW].")
    charge_efficiency: Efficiency = Field(0.95, description="AC to stored energy efficiency (0, 1].")
    discharge_efficiency: Efficiency = Field(0.95, description="Stored energy to AC efficiency (0, 1].")
    soc_min_frac: Fraction = Field(0.10, description="Lowest allowed SOC as a fraction of capacity.")
    soc_max_frac: Fraction = Field(0.90, description="Highest allowed SOC as a fraction of capacity.")
    initial_soc_frac: Fraction = Field(0.50, description="SOC at the horizon start.")
    end_soc_frac: Fraction | None = Field(None, description="SOC at the horizon end; default: the initial SOC.")
    end_soc_rule: Literal[">=", "=="] = Field(">=", description="End SOC at least (>=) or exactly (==) end_soc_frac.")
    reserve_soc_frac: Fraction = Field(0.0, description="Backup reserve kept during reserve_hours.")
    reserve_hours: list[int] = Field(default_factory=list, description="Local clock hours (0-23) with the reserve.")
    self_discharge_frac_per_h: Fraction = Field(0.0, description="Standing loss per hour as a fraction of content.")
    degradation_cost_cny_per_kwh: NonNegFloat = Field(
        0.0,
        le=10.0,
        description=(
            "Throughput (wear) cost per kWh charged and per kWh discharged, AC side [CNY/kWh]; 0: none. "
            "About 0.062 for an LFP battery today (replacement cost / (cycle life x 2 x usable energy per cycle))."
        ),
    )
    exclusive_charge_discharge: ExclusiveMode = Field(
        "auto", description="When to forbid simultaneous charge and discharge with a binary per step."
    )

    @model_validator(mode="after")
    def _soc_window_consistent(self) -> BatterySpec:
        if self.soc_min_frac > self.soc_max_frac:
            raise SpecError(
                f"{self.soc_min_frac} is above soc_max_frac {self.soc_max_frac}",
                field="soc_min_frac",
                related=("soc_max_frac",),
            )
        checks = {"initial_soc_frac": self.initial_soc_frac, "end_soc_frac": self.end_soc_frac}
        if self.reserve_hours:
            checks["reserve_soc_frac"] = self.reserve_soc_frac
        for field, value in checks.items():
            if value is not None and not self.soc_min_frac - 1e-9 <= value <= self.soc_max_frac + 1e-9:
                raise SpecError(
                    f"{value} is outside the SOC window [{self.soc_min_frac}, {self.soc_max_frac}]",
                    field=field,
                    related=("soc_min_frac", "soc_max_frac"),
                )
        if any(h < 0 or h > 23 for h in self.reserve_hours):
            raise SpecError(f"must be clock hours 0-23, got {self.reserve_hours}", field="reserve_hours")
        return self


def reserve_held_at_step_end(hours: np.ndarray, reserve_hours: list[int]) -> np.ndarray:
    """Steps whose end-of-step SOC must hold the reserve.

    The reserve holds over whole reserved steps: at their start (the end of the
    previous step) and at their end. The initial SOC is a given, not constrained.
    """
    in_window = np.isin(np.asarray(hours), reserve_hours)
    next_in_window = np.append(in_window[1:], False)
    return in_window | next_in_window


def store_limits(spec: BatterySpec) -> StoreLimits:
    """The battery as a store [kW, kWh]."""
    cap = spec.capacity_kwh
    return StoreLimits(
        charge_max=spec.charge_power_kw,
        discharge_max=spec.discharge_power_kw,
        level_min=spec.soc_min_frac * cap,
        level_max=spec.soc_max_frac * cap,
        initial=spec.initial_soc_frac * cap,
        end=(spec.initial_soc_frac if spec.end_soc_frac is None else spec.end_soc_frac) * cap,
        end_rule=spec.end_soc_rule,
        charge_eff=spec.charge_efficiency,
        discharge_eff=spec.discharge_efficiency,
        loss_frac_per_h=spec.self_discharge_frac_per_h,
    )


def battery_parameters(spec: BatterySpec, problem: DispatchProblem) -> dict[str, Any]:
    """Power limits [kW], the SOC window, at the start and the end and the reserve [kWh]
    (:mod:`optimizer.parameters`): a re-used model takes a new size as it takes a new day."""
    limits = store_limits(spec)
    data = {
        "charge_power_kw": limits.charge_max,
        "discharge_power_kw": limits.discharge_max,
        "soc_min_kwh": limits.level_min,
        "soc_max_kwh": limits.level_max,
        "initial_soc_kwh": limits.initial,
        "end_soc_kwh": limits.end,
    }
    if battery_structure(spec, problem):
        data["reserve_soc_kwh"] = spec.reserve_soc_frac * spec.capacity_kwh
    return data


def battery_structure(spec: BatterySpec, problem: DispatchProblem) -> Any:
    """The steps whose end SOC holds the reserve (they depend on the horizon's clock hours); none without one."""
    if not (spec.reserve_hours and spec.reserve_soc_frac > spec.soc_min_frac):
        return ()
    return tuple(np.flatnonzero(reserve_held_at_step_end(problem.horizon.index.hour, spec.reserve_hours)).tolist())


def build_battery(spec: BatterySpec, ctx: BuildContext) -> None:
    n = spec.name
    block = ctx.block(n)
    data = {name: p.scalar for name, p in ctx.take_parameters(n, battery_parameters(spec, ctx.problem)).items()}
    limits = replace(
        store_limits(spec),
        charge_max=data["charge_power_kw"],
        discharge_max=data["discharge_power_kw"],
        level_min=data["soc_min_kwh"],
        level_max=data["soc_max_kwh"],
        initial=data["initial_soc_kwh"],
        end=data["end_soc_kwh"],
    )
    _, _, soc_kwh = add_store(
        block,
        ctx,
        limits,
        charge_bus=ELECTRICITY,
        discharge_bus=ELECTRICITY,
        columns=StoreColumns(level="soc_kwh"),
        roles=("storage_charge", "storage_discharge"),
        exclusive=spec.exclusive_charge_discharge,
    )
    held = battery_structure(spec, ctx.problem)
    if held:
        reserve_kwh = data["reserve_soc_kwh"]
        block.reserve_soc = pyo.Constraint(list(held), rule=lambda b, t: soc_kwh[t] >= reserve_kwh)
    wear = np.full(ctx.n_steps, spec.degradation_cost_cny_per_kwh)
    ctx.add_linear_cost("degradation", f"{n}.charge_kw", wear)
    ctx.add_linear_cost("degradation", f"{n}.discharge_kw", wear)


def baseline_battery(spec: BatterySpec, state: BaselineState) -> None:
    """Rule: PV surplus charges the battery, the battery covers the deficit, within limits."""
    cap = spec.capacity_kwh
    dt_h = state.dt_h
    keep = (1.0 - spec.self_discharge_frac_per_h) ** dt_h
    in_reserve = reserve_held_at_step_end(state.horizon.index.hour, spec.reserve_hours)
    n = state.horizon.n_steps
    charge, discharge, soc = np.zeros(n), np.zeros(n), np.zeros(n)
    level = spec.initial_soc_frac * cap
    for t in range(n):
        level *= keep
        floor = max(spec.soc_min_frac, spec.reserve_soc_frac if in_reserve[t] else 0.0) * cap
        net = state.net_kw[t]
        if net < 0:
            room_kw = max(0.0, spec.soc_max_frac * cap - level) / (spec.charge_efficiency * dt_h)
            charge[t] = min(-net, spec.charge_power_kw, room_kw)
            level += charge[t] * spec.charge_efficiency * dt_h
        elif net > 0:
            stock_kw = max(0.0, level - floor) * spec.discharge_efficiency / dt_h
            discharge[t] = min(net, spec.discharge_power_kw, stock_kw)
            level -= discharge[t] / spec.discharge_efficiency * dt_h
        soc[t] = level
    state.columns[f"{spec.name}.charge_kw"] = charge
    state.columns[f"{spec.name}.discharge_kw"] = discharge
    state.columns[f"{spec.name}.soc_kwh"] = soc
    state.net_kw += charge - discharge
