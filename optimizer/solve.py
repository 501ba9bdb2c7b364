"""Solving with HiGHS (with :mod:`optimizer.highs_direct`, the only modules that know the solver).

Two ways to hand a Pyomo model to HiGHS (:data:`Interface`):

- ``"direct"`` (the default): :func:`optimizer.linear_form.compile_linear` reads the model into numpy arrays,
  :mod:`optimizer.highs_direct` passes them to highspy in one call and reads the solution back as an array,
  which goes into the Pyomo variables in one loop. A model the compiler cannot read (a nonlinear term, a
  component type it does not know) goes the persistent way, with the reason in ``SolverReport.interface_note``.
- ``"persistent"``: ``pyomo.contrib.solver``'s HiGHS interface, which builds HiGHS's model row by row (the
  former path, several times slower on long horizons; kept for comparison in tests and benchmarks).

``solve_model(..., interface=...)`` chooses; without it, the environment variable ``DISPATCH_HIGHS_INTERFACE``
(``persistent`` for the former path; anything else: direct). Both fill the same :class:`SolverReport`.

Never raises on a time limit or an infeasible model: the report says what
happened and whether a solution was loaded.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any, Literal

import pyomo.core as pyo
from pydantic import BaseModel, ConfigDict, Field
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

from optimizer import highs_direct
from optimizer.linear_form import LinearArrays, NotLinearError, compile_linear, load_values
from optimizer.model_guard import check_linear_arrays

SOLVER_NAME = "highs"
INTERFACE_ENV = "DISPATCH_HIGHS_INTERFACE"
"""Environment variable choosing the default :data:`Interface` (``persistent``; anything else: ``direct``)."""

SolveStatus = Literal["optimal", "feasible", "infeasible", "error"]
Interface = Literal["direct", "persistent"]


class SolveOptions(BaseModel):
    """Caller's limits for one solve."""

    model_config = ConfigDict(extra="forbid")

    time_limit_s: float = Field(60.0, gt=0, le=3600, description="Wall-clock limit for HiGHS [s].")
    mip_rel_gap: float = Field(1e-4, ge=0, le=1, description="Relative MIP gap at which HiGHS stops.")
    threads: int | None = Field(None, ge=1, description="HiGHS threads; default: HiGHS's choice.")
    random_seed: int | None = Field(
        None, ge=0, description="HiGHS's random seed; default: HiGHS's own (0). MIP solve times vary with it."
    )

    def for_highs(self) -> dict[str, Any]:
        """These limits as :mod:`optimizer.highs_direct`'s runs take them (keyword arguments)."""
        return {
            "time_limit_s": self.time_limit_s,
            "mip_rel_gap": self.mip_rel_gap,
            "threads": self.threads,
            "random_seed": self.random_seed,
        }


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
    handover_seconds: float | None = Field(
        None,
        description="From the Pyomo model to HiGHS: compiling to arrays and passing them (direct); the solve call "
        "less HiGHS's own time (persistent).",
    )
    load_seconds: float | None = Field(None, description="Putting the solution into the Pyomo variables.")
    interface: Interface = Field("direct", description="How the model reached HiGHS (see optimizer.solve).")
    interface_note: str = Field("", description="Why the direct interface was not used when it was asked for.")
    model_reuse: str = Field(
        "",
        description="With a model cache (optimizer.reuse): 're-used' (numbers changed in a kept model and HiGHS), "
        "'built' (kept for the next problem of its shape), 'not re-usable: <why>' or 'rebuilt: <why>'; empty "
        "without one.",
    )
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


def default_interface() -> Interface:
    """The interface :func:`solve_model` uses when none is given: ``DISPATCH_HIGHS_INTERFACE``, default direct."""
    return "persistent" if os.environ.get(INTERFACE_ENV, "").strip().lower() == "persistent" else "direct"


def solve_model(model: pyo.ConcreteModel, options: SolveOptions, *, interface: Interface | None = None) -> SolverReport:
    """Solves ``model`` in place; variable values are loaded when a solution exists.

    ``interface``: how the model reaches HiGHS (module docstring); default :func:`default_interface`.
    Raises :class:`optimizer.model_guard.ModelNumberError` when the compiled model holds a finite number HiGHS
    would misread (at or above 1e15 in magnitude).
    """
    size = model_size(model)
    if (interface or default_interface()) == "persistent":
        return _solve_persistent(model, options, size)
    started = time.perf_counter()
    try:
        arrays = compile_linear(model)
    except NotLinearError as reason:
        return _fall_back(model, options, size, str(reason))
    except Exception as error:  # noqa: BLE001 - whatever the compiler trips on, the former path may solve
        return _fall_back(model, options, size, f"{type(error).__name__}: {error}")
    check_linear_arrays(arrays)  # no number HiGHS would misread as infinite (ModelNumberError)
    return _solve_direct(arrays, options, size, started)


def _fall_back(model: pyo.ConcreteModel, options: SolveOptions, size: ModelSize, reason: str) -> SolverReport:
    """The persistent interface for a model the compiler could not read, the reason in the report."""
    report = _solve_persistent(model, options, size)
    report.interface_note = f"direct interface not used: {reason}"
    return report


def _solve_direct(arrays: LinearArrays, options: SolveOptions, size: ModelSize, started: float) -> SolverReport:
    """The compiled model through highspy; the solution back into the model's variables."""
    compile_seconds = time.perf_counter() - started
    try:
        outcome = highs_direct.run_highs(arrays, **options.for_highs())
    except Exception as error:  # noqa: BLE001 - a solver crash must become a report, not a 500
        return _crash_report(error, started, size, highs_direct.version(), "direct")
    return direct_report(outcome, arrays.columns, size, started, compile_seconds)


def direct_report(
    outcome: highs_direct.HighsOutcome, columns: list[Any], size: ModelSize, started: float, compile_seconds: float
) -> SolverReport:
    """The report of a run through highspy (:func:`solve_model`'s direct way, :mod:`optimizer.reuse`), after its
    solution went into the variables of ``columns``; ``started`` is the solve call's start, ``compile_seconds`` its
    time until HiGHS had the model."""
    if outcome.values is not None:
        loading = time.perf_counter()
        load_values(columns, outcome.values)
        outcome.load_seconds = time.perf_counter() - loading
    report = _report(outcome.termination, outcome.values is not None, outcome.objective, outcome.bound)
    report.solve_seconds = time.perf_counter() - started
    report.highs_seconds = outcome.highs_seconds
    report.handover_seconds = compile_seconds + outcome.pass_seconds
    report.load_seconds = outcome.load_seconds
    report.size = size
    report.solver_version = highs_direct.version()
    return report


def _crash_report(
    error: Exception, started: float, size: ModelSize, version: str, interface: Interface
) -> SolverReport:
    """The report of a solve that raised: status ``error``, the exception as the message."""
    return SolverReport(
        status="error",
        termination="exception",
        message=f"{type(error).__name__}: {error}",
        solve_seconds=time.perf_counter() - started,
        size=size,
        solver_version=version,
        interface=interface,
    )


def _report(
    termination: TerminationCondition, has_solution: bool, objective: float | None, bound: float | None
) -> SolverReport:
    """Status, termination, message, objective, bound and gap, the same for both interfaces."""
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
    objective = objective if has_solution else None
    return SolverReport(
        status=status,
        termination=termination.name,
        message=message,
        objective=objective,
        best_bound=bound,
        mip_gap=_relative_gap(objective, bound),
    )


def _solve_persistent(model: pyo.ConcreteModel, options: SolveOptions, size: ModelSize) -> SolverReport:
    """``model`` through ``pyomo.contrib.solver``'s HiGHS interface (row by row)."""
    import pyomo.environ  # noqa: F401 - registers the contrib HiGHS with SolverFactory (not loaded at import)

    solver = SolverFactory(SOLVER_NAME)
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
        return _crash_report(error, started, size, version, "persistent")
    solved = time.perf_counter()
    has_solution = results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
    load_seconds = None
    if has_solution:
        results.solution_loader.load_vars()
        load_seconds = time.perf_counter() - solved
    highs_seconds = getattr(results.timing_info, "highs_time", None)
    report = _report(results.termination_condition, has_solution, results.incumbent_objective, results.objective_bound)
    report.solve_seconds = time.perf_counter() - started
    report.highs_seconds = highs_seconds
    report.handover_seconds = None if highs_seconds is None else solved - started - highs_seconds
    report.load_seconds = load_seconds
    report.size = size
    report.solver_version = version
    report.interface = "persistent"
    return report
