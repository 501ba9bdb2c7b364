"""Heat on its levels (kW_th): demand, hot-water tanks and purchased heat here; the other heat kinds in their own
modules, re-exported here.

Asset kinds (each a spec, a builder and a baseline rule), each on the heat level it names with ``level``
(:mod:`optimizer.assets.heat_levels`; default: the one ``heat`` bus of a site without levels):

- ``heat_demand``: a heat series [kW_th] drawn from its level;
- ``gas_boiler`` (:mod:`optimizer.assets.boilers`): gas to heat, with start cost, start gas, minimum load,
  minimum up/down times and ramp limits; gas use costed (component ``"gas"``) and emitting (source ``"gas"``);
- ``heat_pump`` (:mod:`optimizer.assets.heat_pump`): ``electricity_kw = heat_kw / cop[t]``, the COP given or a
  Carnot fraction between the source temperature (e.g. the outdoor air) and the level's; never above its
  ``max_sink_temperature_c`` (no heat pump serves steam); start cost and minimum up/down times;
- ``heat_exchanger`` (:mod:`optimizer.assets.heat_exchanger`): heat from a hotter level to a colder one, with a
  loss, downward only;
- ``heat_levels`` (:mod:`optimizer.assets.heat_levels`): the site's levels and their temperatures;
- ``heat_tank``: a hot-water (or steam accumulator) store with the shared level balance (levels at interval
  ends), standing loss, charge/discharge limits, end level, on one level;
- ``purchased_heat``: heat or steam from a district network at a level, priced per GJ (component ``"heat"``),
  emitting per GJ (source ``"heat"``).

Other modules register flows on a heat bus too (recovered compressor heat and its bypass, with the roles
:data:`HEAT_RECOVERED` and :data:`HEAT_DUMPED`; :func:`optimizer.buses.heat_bus` gives a level's bus). The first
gas boiler's useful heat per Nm3 is recorded in ``ctx.scalars`` so the KPIs can express recovered heat used as the
boiler gas it displaced.

Baseline, level by level from the coldest (:func:`optimizer.assets.heat_levels.heat_supply_rank`): heat pumps
cover the level's deficit first (up to capacity), then boilers, then purchased heat, then heat exchangers pass
the rest up to their hotter level; tanks stay idle.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyomo.core as pyo
from pydantic import Field

from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.assets.boilers import (
    GAS_DISPLACEMENT_KWH_TH_PER_NM3,
    GAS_USE,
    NATURAL_GAS_KGCO2_PER_NM3,
    NATURAL_GAS_LHV_KWH_PER_NM3,
    GasBoilerSpec,
    baseline_gas_boiler,
    build_gas_boiler,
)
from optimizer.assets.heat_exchanger import HeatExchangerSpec, baseline_heat_exchanger, build_heat_exchanger
from optimizer.assets.heat_levels import (
    HeatLevel,
    HeatLevelsSpec,
    LevelField,
    baseline_heat_levels,
    build_heat_levels,
    level_bus,
)
from optimizer.assets.heat_pump import HeatPumpSpec, baseline_heat_pump, build_heat_pump
from optimizer.assets.storage import ExclusiveMode, StoreLimits, add_store, idle_store_baseline, tank_limits
from optimizer.baseline_state import BaselineState
from optimizer.buses import heat_bus
from optimizer.types import Efficiency, Fraction, NonNegFloat, NonNegSeries, PositiveFloat

__all__ = [
    "GAS_DISPLACEMENT_KWH_TH_PER_NM3",
    "GAS_USE",
    "HEAT_DEMAND",
    "HEAT_DUMPED",
    "HEAT_RECOVERED",
    "KWH_PER_GJ",
    "NATURAL_GAS_KGCO2_PER_NM3",
    "NATURAL_GAS_LHV_KWH_PER_NM3",
    "PURCHASED_HEAT_KGCO2_PER_GJ",
    "GasBoilerSpec",
    "HeatDemandSpec",
    "HeatExchangerSpec",
    "HeatLevel",
    "HeatLevelsSpec",
    "HeatPumpSpec",
    "HeatTankSpec",
    "PurchasedHeatSpec",
    "baseline_gas_boiler",
    "baseline_heat_exchanger",
    "baseline_heat_levels",
    "baseline_heat_pump",
    "build_gas_boiler",
    "build_heat_exchanger",
    "build_heat_levels",
    "build_heat_pump",
]

# Roles of flows on (or about) the heat buses.
HEAT_DEMAND = "heat_demand"
HEAT_RECOVERED = "heat_recovered"
"""Role of waste heat recovered onto the heat bus [kW_th] (compressors.RECOVERED_HEAT is the same string)."""
HEAT_DUMPED = "heat_dumped"
"""Role of recovered heat rejected unused, the bypass [kW_th] (compressors.DUMPED_HEAT is the same string)."""
PURCHASED_HEAT_KGCO2_PER_GJ = 110.0
"""Purchased heat or steam, 0.11 tCO2/GJ (Chinese accounting guidelines default, secondary source)."""
KWH_PER_GJ = 1e9 / 3.6e6
"""1 GJ = 277.78 kWh."""


# --- heat demand -----------------------------------------------------------------------------


class HeatDemandSpec(AssetSpec):
    """Heat that must be delivered (space heating, hot water, process heat)."""

    kind: Literal["heat_demand"] = "heat_demand"
    heat_kw: NonNegSeries = Field(description="Heat demand per step [kW_th].")
    level: LevelField = None


def build_heat_demand(spec: HeatDemandSpec, ctx: BuildContext) -> None:
    bus = level_bus(spec, ctx)
    ctx.add_data(f"{spec.name}.heat_kw", ctx.series(spec.heat_kw), bus=bus, sign=-1, role=HEAT_DEMAND)


def baseline_heat_demand(spec: HeatDemandSpec, state: BaselineState) -> None:
    state.add_demand(f"{spec.name}.heat_kw", spec.heat_kw, heat_bus(spec.level))


# --- hot-water tank --------------------------------------------------------------------------


class HeatTankSpec(AssetSpec):
    """A hot-water (or buffer) tank, or a steam accumulator, on one heat level."""

    kind: Literal["heat_tank"] = "heat_tank"
    level: LevelField = None
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
    bus = level_bus(spec, ctx)
    add_store(
        ctx.block(spec.name),
        ctx,
        _tank_limits(spec),
        charge_bus=bus,
        discharge_bus=bus,
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
    level: LevelField = None
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
    ctx.add_flow(column, block.heat_kw, bus=level_bus(spec, ctx), sign=+1)
    ctx.add_linear_cost("heat", column, ctx.series(spec.price_cny_per_gj) / KWH_PER_GJ)
    ctx.add_emission("location", "heat", column, np.full(ctx.n_steps, spec.location_kgco2_per_gj / KWH_PER_GJ))
    ctx.add_emission("market", "heat", column, np.full(ctx.n_steps, spec.market_kgco2_per_gj / KWH_PER_GJ))


def baseline_purchased_heat(spec: PurchasedHeatSpec, state: BaselineState) -> None:
    """Rule: buy what the level's heat pumps and boilers leave uncovered, up to the connection limit."""
    bus = heat_bus(spec.level)
    heat = np.minimum(np.maximum(state.bus(bus), 0.0), spec.max_kw)
    state.columns[f"{spec.name}.heat_kw"] = heat
    state.bus(bus)[:] -= heat
