"""Day-ahead dispatch optimiser for factory microgrids (Pyomo MILP solved by HiGHS).

Typical use::

    from optimizer import DispatchProblem, Horizon, solve
    result = solve(problem)
    result.schedule, result.kpis, result.report
"""

from optimizer.assets import BatterySpec, GreenContractSpec, GridSpec, LoadSpec, PvSpec
from optimizer.assets.air import AirDemandSpec, AirReceiverSpec
from optimizer.assets.cold_storage import ChillerSpec, ColdTankSpec, CoolingDemandSpec
from optimizer.assets.compressors import CompressorSpec
from optimizer.assets.fleet_charging import FleetChargingSpec
from optimizer.assets.flexible_load import BlockLoadSpec, EnergyWindowLoadSpec
from optimizer.assets.heat import GasBoilerSpec, HeatDemandSpec, HeatPumpSpec, HeatTankSpec, PurchasedHeatSpec
from optimizer.dispatch import DispatchResult, fallback, solve
from optimizer.horizon import Horizon
from optimizer.kpis import Kpis
from optimizer.problem import DispatchProblem, EmissionCap, FractionTarget, ObjectiveSpec, TargetProgress, Targets
from optimizer.solve import SolveOptions, SolverReport
from optimizer.tariff import TouPeriod, TouTariff, liaoning_tou

__all__ = [
    "AirDemandSpec",
    "AirReceiverSpec",
    "BatterySpec",
    "BlockLoadSpec",
    "ChillerSpec",
    "ColdTankSpec",
    "CompressorSpec",
    "CoolingDemandSpec",
    "DispatchProblem",
    "DispatchResult",
    "EmissionCap",
    "EnergyWindowLoadSpec",
    "FleetChargingSpec",
    "FractionTarget",
    "GasBoilerSpec",
    "GreenContractSpec",
    "GridSpec",
    "HeatDemandSpec",
    "HeatPumpSpec",
    "HeatTankSpec",
    "Horizon",
    "Kpis",
    "LoadSpec",
    "ObjectiveSpec",
    "PurchasedHeatSpec",
    "PvSpec",
    "SolveOptions",
    "SolverReport",
    "TargetProgress",
    "Targets",
    "TouPeriod",
    "TouTariff",
    "fallback",
    "liaoning_tou",
    "solve",
]
