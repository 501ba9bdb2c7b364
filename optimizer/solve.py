"""Solving with HiGHS through ``pyomo.contrib.solver`` (the only module that knows the solver).

Never raises on a time limit or an infeasible model: the report says what
happened and whether a solution was loaded.
"""

from __future__ import annotations

import math
import time
from typing import Literal

import pyomo.environ as pyo
from pydantic import BaseModel, ConfigDict, Field
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

SOLVER_NAME = "highs"

SolveStatus = Literal["optimal", "feasible", "infeasible", "error"]


class SolveOptions(BaseModel):
    """Caller's limits for one solve."""

    model_config = ConfigDict(extra="forbid")

    time_limit_s: float = Field(60.0, gt=0, le=3600, description="Wall-clock limit for HiGHS [s].")
    mip_rel_gap: float = Field(1e-4, ge=0, le=1, description="Relative MIP gap at which HiGHS stops.")
    threads: int | None = Field(None, ge=1, description="HiGHS threads; default: HiGHS's choice.")
    random_seed: int | None = Field(
        None, ge=0, description="HiGHS's random seed; default: HiGHS's own (0). MIP solve times vary with it."
    )


class ModelSize(BaseModel):
    variables: int
    binaries: int
    integers: int = Field(0, description="General integer variables (e.g. units running in a group), not binaries.")
    constraints: int


class SolverReport(BaseModel):
    """What the solver did, with times in seconds and money in the problem's currency."""

    status: SolveStatus
    termination: str = Field(description="The solver interface's termination condition.")
    message: str = ""
    objective: float | None = None
    best_bound: float | None = None
    mip_gap: float | None = Field(None, description="Relative gap |objective - bound| / max(|objective|, 1e-9).")
    build_seconds: float = 0.0
    solve_seconds: float = Field(0.0, description="Wall time of the solve call, translation to HiGHS included.")
    highs_seconds: float | None = Field(None, description="HiGHS's own run time.")
    size: ModelSize | None = None
    solver: str = SOLVER_NAME
    solver_version: str = ""


def model_size(model: pyo.ConcreteModel) -> ModelSize:
    """Counts variables, binaries, integers and constraints per indexed component (cheap on large models)."""
    variables = binaries = integers = 0
    for var in model.component_objects(pyo.Var, active=True, descend_into=True):
        count = len(var)
        variables += count
        first = next(iter(var.values()), None)
        if first is not None and first.is_binary():
            binaries += count
        elif first is not None and first.is_integer():
            integers += count
    constraints = sum(len(c) for c in model.component_objects(pyo.Constraint, active=True, descend_into=True))
    return ModelSize(variables=variables, binaries=binaries, integers=integers, constraints=constraints)


def _relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None or not math.isfinite(bound):
        return None
    return abs(objective - bound) / max(abs(objective), 1e-9)


def solve_model(model: pyo.ConcreteModel, options: SolveOptions) -> SolverReport:
    """Solves ``model`` in place; variable values are loaded when a solution exists."""
    solver = SolverFactory(SOLVER_NAME)
    size = model_size(model)
    version = ".".join(str(v) for v in solver.version())
    started = time.perf_counter()
    try:
        results = solver.solve(
            model,
            time_limit=options.time_limit_s,
            rel_gap=options.mip_rel_gap,
            threads=options.threads,
            solver_options={} if options.random_seed is None else {"random_seed": options.random_seed},
            load_solutions=False,
            raise_exception_on_nonoptimal_result=False,
        )
    except Exception as error:  # noqa: BLE001 - a solver crash must become a report, not a 500
        return SolverReport(
            status="error",
            termination="exception",
            message=f"{type(error).__name__}: {error}",
            solve_seconds=time.perf_counter() - started,
            size=size,
            solver_version=version,
        )
    solve_seconds = time.perf_counter() - started
    termination = results.termination_condition
    has_solution = results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
    if has_solution:
        results.solution_loader.load_vars()
    status: SolveStatus
    message = ""
    if termination == TerminationCondition.convergenceCriteriaSatisfied:
        status = "optimal"
    elif termination in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded):
        status = "infeasible"
    elif has_solution:
        status = "feasible"
        message = f"stopped by {termination.name} with a feasible solution"
    else:
        status = "error"
        message = f"no solution: {termination.name}"
    objective = results.incumbent_objective if has_solution else None
    bound = results.objective_bound
    return SolverReport(
        status=status,
        termination=termination.name,
        message=message,
        objective=objective,
        best_bound=bound,
        mip_gap=_relative_gap(objective, bound),
        solve_seconds=solve_seconds,
        highs_seconds=getattr(results.timing_info, "highs_time", None),
        size=size,
        solver_version=version,
    )
