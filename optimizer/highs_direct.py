"""HiGHS through highspy, whole: :class:`~optimizer.linear_form.LinearArrays` in, the solution out as arrays.

One ``Highs.passModel`` call hands over the matrices (no row-by-row building); options as
:class:`~optimizer.solve.SolveOptions` set them; HiGHS's output off. The outcome carries what
:mod:`optimizer.solve` reports, in the terms of ``pyomo.contrib.solver`` (its ``TerminationCondition``
and ``SolutionStatus``, mapped from HiGHS's model status exactly as its HiGHS interface maps them), so
both paths fill the same :class:`~optimizer.solve.SolverReport`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

from optimizer.linear_form import LinearArrays

if TYPE_CHECKING:  # highspy loads on the first solve, not with the optimizer
    import highspy

_TERMINATION: dict[str, TerminationCondition] = {
    "kNotset": TerminationCondition.unknown,
    "kLoadError": TerminationCondition.error,
    "kModelError": TerminationCondition.error,
    "kPresolveError": TerminationCondition.error,
    "kSolveError": TerminationCondition.error,
    "kPostsolveError": TerminationCondition.error,
    "kModelEmpty": TerminationCondition.unknown,
    "kOptimal": TerminationCondition.convergenceCriteriaSatisfied,
    "kInfeasible": TerminationCondition.provenInfeasible,
    "kUnboundedOrInfeasible": TerminationCondition.infeasibleOrUnbounded,
    "kUnbounded": TerminationCondition.unbounded,
    "kObjectiveBound": TerminationCondition.objectiveLimit,
    "kObjectiveTarget": TerminationCondition.objectiveLimit,
    "kTimeLimit": TerminationCondition.maxTimeLimit,
    "kIterationLimit": TerminationCondition.iterationLimit,
    "kSolutionLimit": TerminationCondition.iterationLimit,
    "kUnknown": TerminationCondition.unknown,
}
"""HiGHS model status -> termination, as ``pyomo.contrib.solver.solvers.highs`` maps it (others: unknown)."""

_banner_shown = False


@dataclass
class HighsOutcome:
    """What one HiGHS run gave: termination, solution status, objective (offset included), bound, the column
    values (None without a feasible solution) and HiGHS's own seconds; ``pass_seconds`` is the hand-over (and
    the options)."""

    termination: TerminationCondition
    solution_status: SolutionStatus
    objective: float | None
    bound: float | None
    values: np.ndarray | None
    highs_seconds: float
    pass_seconds: float
    load_seconds: float | None = None
    """Putting ``values`` into the model's variables, once done."""


def version() -> str:
    """HiGHS's version, ``major.minor.patch``."""
    import highspy

    return f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"


def new_highs() -> highspy.Highs:
    """A ``Highs`` with its output off. The first one in a process prints HiGHS's banner to the standard
    output's file descriptor: that one is made with the descriptor captured, as Pyomo's interface does."""
    import highspy
    from pyomo.common.tee import capture_output

    global _banner_shown
    if _banner_shown:
        highs = highspy.Highs()
    else:
        with capture_output(capture_fd=True):
            highs = highspy.Highs()
        _banner_shown = True
    highs.setOptionValue("output_flag", False)
    return highs


def run_highs(
    arrays: LinearArrays,
    *,
    time_limit_s: float,
    mip_rel_gap: float,
    threads: int | None = None,
    random_seed: int | None = None,
) -> HighsOutcome:
    """Passes ``arrays`` to a new HiGHS, runs it with these options and reads the outcome."""
    started = time.perf_counter()
    highs = new_highs()
    _pass_model(highs, arrays)
    _set_options(highs, time_limit_s, mip_rel_gap, threads, random_seed)
    pass_seconds = time.perf_counter() - started
    try:
        highs.run()
        return _outcome(highs, arrays, pass_seconds)
    finally:
        highs.clear()  # frees HiGHS's copy of the model now: the Highs object lives on until a garbage collection


def _pass_model(highs: highspy.Highs, arrays: LinearArrays) -> None:
    import highspy

    status = highs.passModel(
        arrays.n_cols,
        arrays.n_rows,
        len(arrays.a_value),
        int(highspy.MatrixFormat.kRowwise),
        arrays.sense,
        float(arrays.offset),
        arrays.col_cost,
        arrays.col_lower,
        arrays.col_upper,
        arrays.row_lower,
        arrays.row_upper,
        arrays.a_start,
        arrays.a_index,
        arrays.a_value,
        arrays.integrality,
    )
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS rejected the model (passModel returned an error)")


def _set_options(
    highs: highspy.Highs, time_limit_s: float, mip_rel_gap: float, threads: int | None, random_seed: int | None
) -> None:
    options: dict[str, Any] = {"time_limit": float(time_limit_s), "mip_rel_gap": float(mip_rel_gap)}
    if threads is not None:
        options["threads"] = int(threads)
    if random_seed is not None:
        options["random_seed"] = int(random_seed)
    for name, value in options.items():
        highs.setOptionValue(name, value)


class HighsSession:
    """One HiGHS kept for a model that is solved again and again with changed numbers, warm-started
    (:mod:`optimizer.reuse`).

    The model is passed once; each change goes in as HiGHS's own bound, cost and coefficient changes, and a
    re-run of an LP starts from the previous optimal basis (HiGHS keeps it across such changes)."""

    def __init__(self, arrays: LinearArrays) -> None:
        self.arrays = arrays
        self.highs = new_highs()
        _pass_model(self.highs, arrays)

    def change_rows(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        if len(rows):
            self.highs.changeRowsBounds(len(rows), rows, lower, upper)

    def change_columns(self, columns: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        if len(columns):
            self.highs.changeColsBounds(len(columns), columns, lower, upper)

    def change_costs(self, columns: np.ndarray, cost: np.ndarray, offset: float) -> None:
        """New costs of ``columns`` and the objective's constant."""
        if len(columns):
            self.highs.changeColsCost(len(columns), columns, cost)
        self.highs.changeObjectiveOffset(float(offset))

    def change_coefficient(self, row: int, column: int, value: float) -> None:
        self.highs.changeCoeff(int(row), int(column), float(value))

    def run(
        self, *, time_limit_s: float, mip_rel_gap: float, threads: int | None = None, random_seed: int | None = None
    ) -> HighsOutcome:
        """Runs HiGHS on the model as changed so far, from its last basis; the outcome of this run alone."""
        started = time.perf_counter()
        _set_options(self.highs, time_limit_s, mip_rel_gap, threads, random_seed)
        clock = self.highs.getRunTime()  # HiGHS's run clock goes on across runs
        pass_seconds = time.perf_counter() - started
        self.highs.run()
        return _outcome(self.highs, self.arrays, pass_seconds, clock)


def _outcome(highs: highspy.Highs, arrays: LinearArrays, pass_seconds: float, clock: float = 0.0) -> HighsOutcome:
    import highspy

    model_status = highs.getModelStatus()
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2  # 0: none, 1: infeasible, 2: feasible
    termination = _TERMINATION.get(model_status.name, TerminationCondition.unknown)
    if model_status == highspy.HighsModelStatus.kOptimal:
        solution_status = SolutionStatus.optimal
    elif has_solution:
        solution_status = SolutionStatus.feasible
    else:
        solution_status = SolutionStatus.noSolution
    objective = bound = None
    if arrays.has_objective:
        objective = info.objective_function_value if has_solution else None
        if info.mip_node_count != -1:
            bound = info.mip_dual_bound
        elif has_solution and termination == TerminationCondition.convergenceCriteriaSatisfied:
            bound = info.objective_function_value
    values = None
    if has_solution:
        solution = highs.getSolution()
        if solution.value_valid:
            values = np.asarray(solution.col_value, dtype=float)
    return HighsOutcome(
        termination=termination,
        solution_status=solution_status if values is not None else SolutionStatus.noSolution,
        objective=objective,
        bound=bound,
        values=values,
        highs_seconds=highs.getRunTime() - clock,
        pass_seconds=pass_seconds,
    )
