"""Heat supply on the heat bus (kW_th): demand, gas boilers, heat pumps, hot-water tanks, purchased heat.

Asset kinds (each a spec, a builder and a baseline rule):

- ``heat_demand``: a heat series [kW_th] drawn from the heat bus;
- ``gas_boiler``: ``heat_kw[t]`` in ``[0, capacity]`` (``[min_load, capacity]``
  when on, with the shared on/off rules, if a minimum load is given); gas use
  ``gas_nm3_per_h = heat_kw / (efficiency * lhv)``, costed (component
  ``"gas"``) and emitting (source ``"gas"``) per Nm3;
- ``heat_pump``: air-source, ``electricity_kw = heat_kw / cop[t]`` drawn from
  the electricity bus; the COP is a constant or a series (e.g. from the outdoor
  temperature forecast);
- ``heat_tank``: a hot-water store with the shared level balance (levels at
  interval ends), standing loss, charge/discharge limits, end level;
- ``purchased_heat``: heat or steam from a district network, priced per GJ
  (component ``"heat"``), emitting per GJ (source ``"heat"``).

Other modules register flows on the heat bus too (recovered compressor heat and
its bypass, with the roles :data:`HEAT_RECOVERED` and :data:`HEAT_DUMPED`). The first gas
boiler's useful heat per Nm3 is recorded in ``ctx.scalars`` so the KPIs can
express recovered heat used as the boiler gas it displaced.

Baseline: the heat pump covers the heat deficit first (up to capacity), then
boilers, then purchased heat; tanks stay idle.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyomo.environ as pyo
from pydantic import Field, field_validator

from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.assets.commitment import add_commitment
from optimizer.assets.load import ELECTRIC_LOAD
from optimizer.assets.storage import ExclusiveMode, StoreLimits, add_store, idle_store_baseline, tank_limits
from optimizer.baseline_state import BaselineState
from optimizer.buses import ELECTRICITY, HEAT
from optimizer.types import Efficiency, Fraction, NonNegFloat, NonNegSeries, PositiveFloat

# Roles of flows on (or about) the heat bus.
HEAT_DEMAND = "heat_demand"
GAS_USE = "gas_use_nm3_per_h"
"""Role of a gas consumption flow [Nm3/h]; the KPIs sum it to ``gas_use_nm3``."""
HEAT_RECOVERED = "heat_recovered"
"""Role of waste heat recovered onto the heat bus [kW_th] (compressors.RECOVERED_HEAT is the same string)."""
HEAT_DUMPED = "heat_dumped"
"""Role of recovered heat rejected unused, the bypass [kW_th] (compressors.DUMPED_HEAT is the same string)."""
GAS_DISPLACEMENT_KWH_TH_PER_NM3 = "gas_displacement_kwh_th_per_nm3"
"""Key in ``BuildContext.scalars``: useful heat per Nm3 of the first gas boiler (efficiency x LHV)."""

NATURAL_GAS_LHV_KWH_PER_NM3 = 9.97
"""Lower heating value of natural gas, about 35.9 MJ/Nm3 [kWh/Nm3]: a typical value (the issue's default);
use the supplier's gas quality figure when known."""
NATURAL_GAS_KGCO2_PER_NM3 = 2.162
"""Natural gas combustion, 21.62 tCO2 per 10^4 Nm3 (Chinese accounting guidelines, secondary source)."""
PURCHASED_HEAT_KGCO2_PER_GJ = 110.0
"""Purchased heat or steam, 0.11 tCO2/GJ (Chinese accounting guidelines default, secondary source)."""
KWH_PER_GJ = 1e9 / 3.6e6
"""1 GJ = 277.78 kWh."""


# --- heat demand -----------------------------------------------------------------------------


class HeatDemandSpec(AssetSpec):
    """Heat that must be delivered (space heating, hot water, process heat)."""

    kind: Literal["heat_demand"] = "heat_demand"
    heat_kw: NonNegSeries = Field(description="Heat demand per step [kW_th].")


def build_heat_demand(spec: HeatDemandSpec, ctx: BuildContext) -> None:
    ctx.add_data(f"{spec.name}.heat_kw", ctx.series(spec.heat_kw), bus=HEAT, sign=-1, role=HEAT_DEMAND)


def baseline_heat_demand(spec: HeatDemandSpec, state: BaselineState) -> None:
    state.add_demand(f"{spec.name}.heat_kw", spec.heat_kw, HEAT)


# --- gas boiler ------------------------------------------------------------------------------


class GasBoilerSpec(AssetSpec):
    """A gas-fired boiler (hot water or steam) feeding the heat bus."""

    kind: Literal["gas_boiler"] = "gas_boiler"
    capacity_kw: PositiveFloat = Field(description="Rated heat output [kW_th].")
    efficiency: Efficiency = Field(description="Heat out per heat of gas in, on the lower heating value (0, 1].")
    gas_price_cny_per_nm3: NonNegSeries = Field(description="Gas price per normal cubic metre [CNY/Nm3].")
    gas_lhv_kwh_per_nm3: PositiveFloat = Field(
        NATURAL_GAS_LHV_KWH_PER_NM3,
        description="Gas lower heating value [kWh/Nm3]; default 9.97 (natural gas, about 35.9 MJ/Nm3, typical).",
    )
    location_kgco2_per_nm3: NonNegFloat = Field(
        NATURAL_GAS_KGCO2_PER_NM3, description="Combustion emissions, location-based [kgCO2/Nm3]."
    )
    market_kgco2_per_nm3: NonNegFloat = Field(
        NATURAL_GAS_KGCO2_PER_NM3, description="Combustion emissions, market-based [kgCO2/Nm3]."
    )
    min_load_frac: Fraction = Field(
        0.0, description="Lowest output when on, as a fraction of capacity; above 0 adds an on/off binary per step."
    )

    @property
    def heat_kwh_per_nm3(self) -> float:
        """Useful heat per Nm3 of gas [kWh_th/Nm3]."""
        return self.efficiency * self.gas_lhv_kwh_per_nm3


def build_gas_boiler(spec: GasBoilerSpec, ctx: BuildContext) -> None:
    n = spec.name
    block = ctx.block(n)
    block.heat_kw = pyo.Var(ctx.steps, bounds=(0.0, spec.capacity_kw))
    block.gas_nm3_per_h = pyo.Var(ctx.steps, bounds=(0.0, None))
    per_nm3 = spec.heat_kwh_per_nm3
    block.gas_use = pyo.Constraint(ctx.steps, rule=lambda b, t: b.gas_nm3_per_h[t] * per_nm3 == b.heat_kw[t])
    if spec.min_load_frac > 0:
        unit = add_commitment(block, ctx)
        block.max_when_on = pyo.Constraint(ctx.steps, rule=lambda b, t: b.heat_kw[t] <= spec.capacity_kw * unit.on[t])
        block.min_when_on = pyo.Constraint(
            ctx.steps, rule=lambda b, t: b.heat_kw[t] >= spec.min_load_frac * spec.capacity_kw * unit.on[t]
        )
        ctx.add_flow(f"{n}.on", unit.on)
    ctx.add_flow(f"{n}.heat_kw", block.heat_kw, bus=HEAT, sign=+1)
    if spec.min_load_frac > 0:
        ctx.add_switched_supply(HEAT, f"{n}.heat_kw", block.on, spec.capacity_kw)
    ctx.add_flow(f"{n}.gas_nm3_per_h", block.gas_nm3_per_h, role=GAS_USE)
    ctx.add_linear_cost("gas", f"{n}.gas_nm3_per_h", ctx.series(spec.gas_price_cny_per_nm3))
    ctx.add_emission("location", "gas", f"{n}.gas_nm3_per_h", np.full(ctx.n_steps, spec.location_kgco2_per_nm3))
    ctx.add_emission("market", "gas", f"{n}.gas_nm3_per_h", np.full(ctx.n_steps, spec.market_kgco2_per_nm3))
    ctx.scalars.setdefault(GAS_DISPLACEMENT_KWH_TH_PER_NM3, per_nm3)


def baseline_gas_boiler(spec: GasBoilerSpec, state: BaselineState) -> None:
    """Rule: cover the remaining heat deficit up to capacity; below the minimum load the boiler stays off."""
    deficit = np.maximum(state.bus(HEAT), 0.0)
    heat = np.minimum(deficit, spec.capacity_kw)
    if spec.min_load_frac > 0:
        heat = np.where(heat >= spec.min_load_frac * spec.capacity_kw - 1e-9, heat, 0.0)
        state.columns[f"{spec.name}.on"] = (heat > 0).astype(float)
    state.columns[f"{spec.name}.heat_kw"] = heat
    state.columns[f"{spec.name}.gas_nm3_per_h"] = heat / spec.heat_kwh_per_nm3
    state.bus(HEAT)[:] -= heat


# --- heat pump -------------------------------------------------------------------------------


class HeatPumpSpec(AssetSpec):
    """An air-source heat pump: electricity in, heat out at a coefficient of performance."""

    kind: Literal["heat_pump"] = "heat_pump"
    capacity_kw: PositiveFloat = Field(description="Heat output limit [kW_th].")
    cop: NonNegSeries = Field(description="Heat out per electricity in, a constant or one value per step (> 0).")

    @field_validator("cop")
    @classmethod
    def _cop_positive(cls, value: float | list[float]) -> float | list[float]:
        values = [value] if isinstance(value, (int, float)) else value
        if any(v <= 0 for v in values):
            raise ValueError("cop must be above 0 at every step (heat out per electricity in)")
        return value


def build_heat_pump(spec: HeatPumpSpec, ctx: BuildContext) -> None:
    n = spec.name
    cop = ctx.series(spec.cop)
    block = ctx.block(n)
    block.heat_kw = pyo.Var(ctx.steps, bounds=(0.0, spec.capacity_kw))
    block.electricity_kw = pyo.Var(ctx.steps, bounds=lambda _, t: (0.0, spec.capacity_kw / float(cop[t])))
    block.conversion = pyo.Constraint(ctx.steps, rule=lambda b, t: b.electricity_kw[t] * float(cop[t]) == b.heat_kw[t])
    ctx.add_flow(f"{n}.heat_kw", block.heat_kw, bus=HEAT, sign=+1)
    ctx.add_flow(f"{n}.electricity_kw", block.electricity_kw, bus=ELECTRICITY, sign=-1, role=ELECTRIC_LOAD)
    ctx.add_data(f"{n}.cop", cop)


def baseline_heat_pump(spec: HeatPumpSpec, state: BaselineState) -> None:
    """Rule: the heat pump covers the heat deficit first, up to its capacity."""
    cop = state.series(spec.cop)
    heat = np.minimum(np.maximum(state.bus(HEAT), 0.0), spec.capacity_kw)
    electricity = heat / cop
    state.columns[f"{spec.name}.heat_kw"] = heat
    state.columns[f"{spec.name}.electricity_kw"] = electricity
    state.columns[f"{spec.name}.cop"] = cop
    state.bus(HEAT)[:] -= heat
    state.net_kw += electricity


# --- hot-water tank --------------------------------------------------------------------------


class HeatTankSpec(AssetSpec):
    """A hot-water (or buffer) tank on the heat bus."""

    kind: Literal["heat_tank"] = "heat_tank"
    capacity_kwh: PositiveFloat = Field(description="Usable heat content, empty to full [kWh_th].")
    charge_power_kw: NonNegFloat = Field(description="Maximum charging heat flow [kW_th].")
    discharge_power_kw: NonNegFloat = Field(description="Maximum discharging heat flow [kW_th].")
    charge_efficiency: Efficiency = Field(1.0, description="Stored per heat charged (0, 1].")
    discharge_efficiency: Efficiency = Field(1.0, description="Heat delivered per heat taken from store (0, 1].")
    standing_loss_frac_per_h: Fraction = Field(0.0, description="Heat lost per hour as a fraction of content.")
    initial_level_frac: Fraction = Field(0.0, description="Content at the horizon start, fraction of capacity.")
    end_level_frac: Fraction | None = Field(
        None, description="Content at least this at the horizon end, fraction of capacity; default: the initial level."
    )
    exclusive_charge_discharge: ExclusiveMode = Field(
        "auto", description="When to forbid simultaneous charge and discharge with a binary per step."
    )


def _tank_limits(spec: HeatTankSpec) -> StoreLimits:
    return tank_limits(spec, charge_eff=spec.charge_efficiency, discharge_eff=spec.discharge_efficiency)


def build_heat_tank(spec: HeatTankSpec, ctx: BuildContext) -> None:
    add_store(
        ctx.block(spec.name),
        ctx,
        _tank_limits(spec),
        charge_bus=HEAT,
        discharge_bus=HEAT,
        exclusive=spec.exclusive_charge_discharge,
    )


def baseline_heat_tank(spec: HeatTankSpec, state: BaselineState) -> None:
    """Rule: the tank stays idle; its content only decays by the standing loss."""
    idle_store_baseline(state, spec.name, _tank_limits(spec))


# --- purchased heat or steam -----------------------------------------------------------------


class PurchasedHeatSpec(AssetSpec):
    """Heat or steam bought from a district network, priced and counted per GJ."""

    kind: Literal["purchased_heat"] = "purchased_heat"
    max_kw: NonNegFloat = Field(description="Largest heat flow the connection can deliver [kW_th].")
    price_cny_per_gj: NonNegSeries = Field(description="Heat price per GJ delivered (1 GJ = 277.78 kWh_th) [CNY/GJ].")
    location_kgco2_per_gj: NonNegFloat = Field(
        PURCHASED_HEAT_KGCO2_PER_GJ, description="Emissions, location-based [kgCO2/GJ]; default 0.11 tCO2/GJ."
    )
    market_kgco2_per_gj: NonNegFloat = Field(
        PURCHASED_HEAT_KGCO2_PER_GJ, description="Emissions, market-based [kgCO2/GJ]; default 0.11 tCO2/GJ."
    )


def build_purchased_heat(spec: PurchasedHeatSpec, ctx: BuildContext) -> None:
    n = spec.name
    column = f"{n}.heat_kw"
    block = ctx.block(n)
    block.heat_kw = pyo.Var(ctx.steps, bounds=(0.0, spec.max_kw))
    ctx.add_flow(column, block.heat_kw, bus=HEAT, sign=+1)
    ctx.add_linear_cost("heat", column, ctx.series(spec.price_cny_per_gj) / KWH_PER_GJ)
    ctx.add_emission("location", "heat", column, np.full(ctx.n_steps, spec.location_kgco2_per_gj / KWH_PER_GJ))
    ctx.add_emission("market", "heat", column, np.full(ctx.n_steps, spec.market_kgco2_per_gj / KWH_PER_GJ))


def baseline_purchased_heat(spec: PurchasedHeatSpec, state: BaselineState) -> None:
    """Rule: buy what the heat pump and boilers leave uncovered, up to the connection limit."""
    heat = np.minimum(np.maximum(state.bus(HEAT), 0.0), spec.max_kw)
    state.columns[f"{spec.name}.heat_kw"] = heat
    state.bus(HEAT)[:] -= heat
