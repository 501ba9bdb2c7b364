"""Asset types: one module each, registered here.

A new asset type is one new module (spec + builder + baseline rule) and one
line in :data:`REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Union

from pydantic import Field

from optimizer.assets import cold_storage as cold
from optimizer.assets import compressors as air
from optimizer.assets import fleet_charging, flexible_load, heat
from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.assets.battery import BatterySpec, baseline_battery, build_battery
from optimizer.assets.green_contract import GreenContractSpec, baseline_green_contract, build_green_contract
from optimizer.assets.grid import GridSpec, baseline_grid, build_grid
from optimizer.assets.load import LoadSpec, baseline_load, build_load
from optimizer.assets.pv import PvSpec, baseline_pv, build_pv
from optimizer.baseline_state import BaselineState


@dataclass(frozen=True)
class AssetType:
    """How to build an asset into the model and how the rule-based baseline runs it.

    ``build_order``: assets that others reference (the grid) are built first.
    ``baseline_order``: sources and loads first, storage next, then the grid
    takes the remainder, then contracts reclassify the grid's import.
    """

    spec: type[AssetSpec]
    build: Callable[[Any, BuildContext], None]
    baseline: Callable[[Any, BaselineState], None]
    build_order: int
    baseline_order: float


REGISTRY: dict[str, AssetType] = {
    "grid": AssetType(GridSpec, build_grid, baseline_grid, build_order=0, baseline_order=3),
    "pv": AssetType(PvSpec, build_pv, baseline_pv, build_order=1, baseline_order=0),
    "load": AssetType(LoadSpec, build_load, baseline_load, build_order=1, baseline_order=0),
    "battery": AssetType(BatterySpec, build_battery, baseline_battery, build_order=1, baseline_order=2),
    "compressor": AssetType(air.CompressorSpec, air.build_compressor, air.baseline_compressor, 1, 1),
    "air_receiver": AssetType(air.AirReceiverSpec, air.build_air_receiver, air.baseline_air_receiver, 1, 1),
    "air_demand": AssetType(air.AirDemandSpec, air.build_air_demand, air.baseline_air_demand, 1, 0),
    "cooling_demand": AssetType(cold.CoolingDemandSpec, cold.build_cooling_demand, cold.baseline_cooling_demand, 1, 0),
    "chiller": AssetType(cold.ChillerSpec, cold.build_chiller, cold.baseline_chiller, 1, 1),
    "cold_tank": AssetType(cold.ColdTankSpec, cold.build_cold_tank, cold.baseline_cold_tank, 1, 1),
    "green_contract": AssetType(
        GreenContractSpec, build_green_contract, baseline_green_contract, build_order=2, baseline_order=4
    ),
    # Heat bus baseline: demand, then recovered heat (compressors, 1), heat pump, boilers, purchased heat.
    "heat_demand": AssetType(
        heat.HeatDemandSpec, heat.build_heat_demand, heat.baseline_heat_demand, build_order=1, baseline_order=0
    ),
    "heat_pump": AssetType(
        heat.HeatPumpSpec, heat.build_heat_pump, heat.baseline_heat_pump, build_order=1, baseline_order=1.5
    ),
    "heat_tank": AssetType(
        heat.HeatTankSpec, heat.build_heat_tank, heat.baseline_heat_tank, build_order=1, baseline_order=1
    ),
    "gas_boiler": AssetType(
        heat.GasBoilerSpec, heat.build_gas_boiler, heat.baseline_gas_boiler, build_order=1, baseline_order=2
    ),
    "purchased_heat": AssetType(
        heat.PurchasedHeatSpec,
        heat.build_purchased_heat,
        heat.baseline_purchased_heat,
        build_order=1,
        baseline_order=3,
    ),
    "energy_window_load": AssetType(
        flexible_load.EnergyWindowLoadSpec,
        flexible_load.build_energy_window_load,
        flexible_load.baseline_energy_window_load,
        build_order=1,
        baseline_order=0,
    ),
    "block_load": AssetType(
        flexible_load.BlockLoadSpec,
        flexible_load.build_block_load,
        flexible_load.baseline_block_load,
        build_order=1,
        baseline_order=0,
    ),
    "fleet_charging": AssetType(
        fleet_charging.FleetChargingSpec,
        fleet_charging.build_fleet_charging,
        fleet_charging.baseline_fleet_charging,
        build_order=1,
        baseline_order=0,
    ),
}

AnyAsset = Annotated[
    Union[tuple(t.spec for t in REGISTRY.values())],  # noqa: UP007
    Field(discriminator="kind"),
]
"""Any registered asset spec, discriminated by its ``kind`` field."""

__all__ = [
    "REGISTRY",
    "AnyAsset",
    "AssetSpec",
    "AssetType",
    "BatterySpec",
    "GreenContractSpec",
    "GridSpec",
    "LoadSpec",
    "PvSpec",
]
