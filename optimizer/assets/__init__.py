"""Asset types: one module each, registered here.

A new asset type is one new module (spec + builder + baseline rule) and one
entry in :data:`REGISTRY` (or :func:`register_asset_kind` from outside the package).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optimizer.assets import air, compressors, fleet_charging, flexible_load, heat
from optimizer.assets import cold_storage as cold
from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.assets.battery import (
    BatterySpec,
    baseline_battery,
    battery_parameters,
    battery_structure,
    build_battery,
)
from optimizer.assets.entry import kind_entry
from optimizer.assets.green_contract import GreenContractSpec, baseline_green_contract, build_green_contract
from optimizer.assets.grid import GridSpec, baseline_grid, build_grid, grid_parameters, grid_structure
from optimizer.assets.heat_levels import heat_supply_rank
from optimizer.assets.load import LoadSpec, baseline_load, build_load, load_parameters
from optimizer.assets.pv import PvSpec, baseline_pv, build_pv, pv_parameters
from optimizer.baseline_state import BaselineState
from optimizer.state import CommitmentState, LevelState, MonthPeakState, StateRule, WindowEnergyState


@dataclass(frozen=True)
class AssetType:
    """Everything the rest of the code needs to know about an asset kind, declared in one place.

    ``build_order``: assets that others reference (the grid) are built first.
    ``baseline_order``: sources and loads first, storage next, then the grid
    takes the remainder, then contracts reclassify the grid's import.
    ``baseline_rank``: where one asset of the kind runs in the baseline, from the
    problem's assets, instead of ``baseline_order`` (heat supplies: level by level
    from the coldest, :func:`optimizer.assets.heat_levels.heat_supply_rank`).
    ``state``: what carries from one period to the next (and which fields a
    measured initial state may set), see :mod:`optimizer.state`.
    ``emission_defaults``: site-wide emission factor -> the spec fields it is
    the default for (a site's ``emission_factors.gas_kgco2_per_nm3`` fills a
    boiler's ``location_kgco2_per_nm3`` and ``market_kgco2_per_nm3``).
    ``parameters``: for a kind whose model can be re-used (:mod:`optimizer.reuse`), ``(spec, problem) -> {name:
    values}``, every number of its model that may change between problems of one shape (:mod:`optimizer.parameters`);
    ``parameter_fields`` are the spec fields they come from, and ``structure``, ``(spec, problem) -> key``, what else
    of the data shapes its model (e.g. the steps that get a binary). None: the kind is rebuilt for every problem.
    """

    spec: type[AssetSpec]
    build: Callable[[Any, BuildContext], None]
    baseline: Callable[[Any, BaselineState], None]
    build_order: int = 1
    baseline_order: float = 0
    baseline_rank: Callable[[Any, Sequence[Any]], float] | None = None
    state: tuple[StateRule, ...] = ()
    emission_defaults: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    parameters: Callable[[Any, Any], dict[str, Any]] | None = None
    parameter_fields: tuple[str, ...] = ()
    structure: Callable[[Any, Any], Hashable] | None = None

    def baseline_position(self, spec: Any, assets: Sequence[Any]) -> float:
        """Where ``spec`` runs in the baseline among ``assets``: its rank, else the kind's order."""
        return self.baseline_order if self.baseline_rank is None else self.baseline_rank(spec, assets)

    @property
    def state_fields(self) -> tuple[str, ...]:
        """Spec fields that hold state (settable as a measured or carried initial state)."""
        return tuple(f for rule in self.state for f in rule.fields)


_STORE = LevelState("level_kwh", "capacity_kwh", "initial_level_frac", "end_level_frac")
_HEAT_UNIT = CommitmentState(output="heat_kw", initial_output="initial_heat_kw")
"""A boiler or heat pump: on/off, the minutes in it and the last heat output (the ramp limits' start)."""
GRID_FACTORS = {
    "grid_location_kgco2_per_kwh": ("location_kgco2_per_kwh",),
    "grid_market_kgco2_per_kwh": ("market_kgco2_per_kwh",),
}
GAS_FACTORS = {"gas_kgco2_per_nm3": ("location_kgco2_per_nm3", "market_kgco2_per_nm3")}
HEAT_FACTORS = {"purchased_heat_kgco2_per_gj": ("location_kgco2_per_gj", "market_kgco2_per_gj")}

REGISTRY: dict[str, AssetType] = {
    "grid": AssetType(
        GridSpec,
        build_grid,
        baseline_grid,
        build_order=0,
        baseline_order=3,
        state=(MonthPeakState(),),
        emission_defaults=GRID_FACTORS,
        parameters=grid_parameters,
        parameter_fields=("tariff", "import_price_cny_per_kwh", "export_price_cny_per_kwh", "month_to_date_peak_kw"),
        structure=grid_structure,
    ),
    "pv": AssetType(PvSpec, build_pv, baseline_pv, parameters=pv_parameters, parameter_fields=("available_kw",)),
    "load": AssetType(LoadSpec, build_load, baseline_load, parameters=load_parameters, parameter_fields=("power_kw",)),
    "battery": AssetType(
        BatterySpec,
        build_battery,
        baseline_battery,
        baseline_order=2,
        state=(
            LevelState("soc_kwh", "capacity_kwh", "initial_soc_frac", "end_soc_frac", ("soc_min_frac", "soc_max_frac")),
        ),
        parameters=battery_parameters,
        parameter_fields=(
            "capacity_kwh",
            "charge_power_kw",
            "discharge_power_kw",
            "soc_min_frac",
            "soc_max_frac",
            "reserve_soc_frac",
            "initial_soc_frac",
            "end_soc_frac",
        ),
        structure=battery_structure,
    ),
    "compressor": AssetType(
        compressors.CompressorSpec,
        compressors.build_compressor,
        compressors.baseline_compressor,
        baseline_order=1,
        state=(CommitmentState(groups=True),),
    ),
    "air_receiver": AssetType(
        air.AirReceiverSpec,
        air.build_air_receiver,
        air.baseline_air_receiver,
        baseline_order=1,
        state=(LevelState("level_m3", "capacity_m3", "initial_level_frac", "end_level_frac"),),
    ),
    "air_demand": AssetType(air.AirDemandSpec, air.build_air_demand, air.baseline_air_demand),
    "cooling_demand": AssetType(cold.CoolingDemandSpec, cold.build_cooling_demand, cold.baseline_cooling_demand),
    "chiller": AssetType(
        cold.ChillerSpec,
        cold.build_chiller,
        cold.baseline_chiller,
        baseline_order=1,
        state=(CommitmentState(output="cooling_kw", initial_output="initial_cooling_kw"),),
    ),
    "cold_tank": AssetType(
        cold.ColdTankSpec, cold.build_cold_tank, cold.baseline_cold_tank, baseline_order=1, state=(_STORE,)
    ),
    "green_contract": AssetType(
        GreenContractSpec, build_green_contract, baseline_green_contract, build_order=2, baseline_order=4
    ),
    # Heat baseline: demands, then recovered heat (compressors, 1) and idle tanks (1), then level by level from the
    # coldest (heat_supply_rank, within [1.5, 2)): heat pumps, boilers, purchased heat, exchangers into the level.
    "heat_levels": AssetType(heat.HeatLevelsSpec, heat.build_heat_levels, heat.baseline_heat_levels),
    "heat_demand": AssetType(heat.HeatDemandSpec, heat.build_heat_demand, heat.baseline_heat_demand),
    "heat_pump": AssetType(
        heat.HeatPumpSpec,
        heat.build_heat_pump,
        heat.baseline_heat_pump,
        baseline_order=1.5,
        baseline_rank=heat_supply_rank(0.0),
        state=(_HEAT_UNIT,),
    ),
    "heat_tank": AssetType(
        heat.HeatTankSpec, heat.build_heat_tank, heat.baseline_heat_tank, baseline_order=1, state=(_STORE,)
    ),
    "gas_boiler": AssetType(
        heat.GasBoilerSpec,
        heat.build_gas_boiler,
        heat.baseline_gas_boiler,
        baseline_order=2,
        baseline_rank=heat_supply_rank(0.25),
        state=(_HEAT_UNIT,),
        emission_defaults=GAS_FACTORS,
    ),
    "purchased_heat": AssetType(
        heat.PurchasedHeatSpec,
        heat.build_purchased_heat,
        heat.baseline_purchased_heat,
        baseline_order=3,
        baseline_rank=heat_supply_rank(0.5),
        emission_defaults=HEAT_FACTORS,
    ),
    "heat_exchanger": AssetType(
        heat.HeatExchangerSpec,
        heat.build_heat_exchanger,
        heat.baseline_heat_exchanger,
        baseline_order=1.5,
        baseline_rank=heat_supply_rank(0.75, field="to_level"),
    ),
    "energy_window_load": AssetType(
        flexible_load.EnergyWindowLoadSpec,
        flexible_load.build_energy_window_load,
        flexible_load.baseline_energy_window_load,
        state=(WindowEnergyState("window_start", "window_end"),),
        parameters=lambda spec, _problem: flexible_load.window_energy_parameters(spec),
        parameter_fields=(*flexible_load.WINDOW_PARAMETER_FIELDS, "window_start", "window_end"),
        structure=flexible_load.energy_window_structure,
    ),
    "block_load": AssetType(
        flexible_load.BlockLoadSpec, flexible_load.build_block_load, flexible_load.baseline_block_load
    ),
    "fleet_charging": AssetType(
        fleet_charging.FleetChargingSpec,
        fleet_charging.build_fleet_charging,
        fleet_charging.baseline_fleet_charging,
        state=(WindowEnergyState("available_from", "charge_by", "charging_efficiency"),),
        parameters=lambda spec, _problem: flexible_load.window_energy_parameters(spec),
        parameter_fields=(*flexible_load.WINDOW_PARAMETER_FIELDS, "available_from", "available_until", "deadline"),
        structure=fleet_charging.fleet_charging_structure,
    ),
}


def register_asset_kind(kind: str, asset_type: AssetType) -> None:
    """Adds an asset kind (e.g. from a plug-in or a test): every model that takes assets accepts it at once.

    ``asset_type.spec`` must have ``kind: Literal[kind]``.
    """
    declared = asset_type.spec.model_fields.get("kind")
    if declared is None or declared.default != kind:
        raise ValueError(f"{asset_type.spec.__name__} must declare kind: Literal[{kind!r}] = {kind!r}")
    REGISTRY[kind] = asset_type


def load_asset_plugins(entries: Iterable[str]) -> None:
    """Calls each ``"module:function"`` entry once per process (a plug-in's function registers its kinds).

    Raises ``ValueError`` naming the entry that cannot be imported or called.
    """
    for entry in entries:
        if entry in _LOADED_PLUGINS:
            continue
        module_name, _, function_name = entry.partition(":")
        try:
            function = getattr(importlib.import_module(module_name), function_name or "register")
            function()
        except (ImportError, AttributeError, TypeError) as error:
            raise ValueError(f"asset plug-in {entry!r} cannot be loaded: {error}") from error
        _LOADED_PLUGINS.add(entry)


_LOADED_PLUGINS: set[str] = set()


def unregister_asset_kind(kind: str) -> None:
    """Removes a kind added by :func:`register_asset_kind`."""
    REGISTRY.pop(kind, None)


def spec_models() -> dict[str, type[AssetSpec]]:
    """kind -> spec class, in registry order."""
    return {kind: t.spec for kind, t in REGISTRY.items()}


AnyAsset = kind_entry(spec_models, "asset")
"""Any registered asset spec, chosen by its ``kind`` field when it validates."""

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
    "load_asset_plugins",
    "register_asset_kind",
    "spec_models",
    "unregister_asset_kind",
]
