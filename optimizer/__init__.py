"""Day-ahead dispatch optimiser for factory microgrids (Pyomo MILP solved by HiGHS).

Typical use::

    from optimizer import DispatchProblem, Horizon, solve
    result = solve(problem)
    result.schedule, result.kpis, result.report
"""

from optimizer.assets import BatterySpec, GreenContractSpec, GridSpec, LoadSpec, PvSpec
from optimizer.dispatch import DispatchResult, solve
from optimizer.horizon import Horizon
from optimizer.kpis import Kpis
from optimizer.problem import DispatchProblem, EmissionCap, FractionTarget, ObjectiveSpec, Targets
from optimizer.solve import SolveOptions, SolverReport
from optimizer.tariff import TouPeriod, TouTariff, liaoning_tou

__all__ = [
    "BatterySpec",
    "DispatchProblem",
    "DispatchResult",
    "EmissionCap",
    "FractionTarget",
    "GreenContractSpec",
    "GridSpec",
    "Horizon",
    "Kpis",
    "LoadSpec",
    "ObjectiveSpec",
    "PvSpec",
    "SolveOptions",
    "SolverReport",
    "Targets",
    "TouPeriod",
    "TouTariff",
    "liaoning_tou",
    "solve",
]
