"""One call from problem to schedule: build, solve, extract, KPIs, baseline, diagnosis."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import pyomo.core as pyo

from optimizer.assets import REGISTRY
from optimizer.assets.base import BuildContext
from optimizer.baseline import run_baseline
from optimizer.baseline_state import BaselineShortfall
from optimizer.diagnose import Violation, diagnose_infeasibility
from optimizer.kpis import BaselineKpis, Kpis, Savings, compute_baseline_kpis, compute_kpis, savings, shortfalls_of
from optimizer.linear_form import NotLinearError
from optimizer.model import BuiltModel, build_model
from optimizer.problem import DispatchProblem
from optimizer.reuse import ModelCache
from optimizer.solve import SolveOptions, SolverReport, solve_model

SHORTFALL_TOLERANCE = 1e-6


@dataclass(frozen=True)
class ColumnInfo:
    """Where a schedule column sits: its bus and sign (+1 supplies, -1 draws, None off any bus), its KPI role,
    and for a store's level column its capacity."""

    bus: str | None = None
    sign: float = 1.0
    role: str | None = None
    capacity: float | None = None


def column_info(ctx: BuildContext) -> dict[str, ColumnInfo]:
    """Bus, sign, role and capacity of every schedule column, as the builders registered them."""
    capacities: dict[str, float] = {}
    for spec in ctx.problem.assets:
        for rule in REGISTRY[spec.kind].state:
            capacities |= rule.capacities(spec)
    on_bus = {column: (bus, float(sign)) for bus, terms in ctx.bus_terms.items() for column, sign in terms}
    return {
        column: ColumnInfo(*on_bus.get(column, (None, 1.0)), flow.role, capacities.get(column))
        for column, flow in ctx.flows.items()
    }


def tariff_bands(ctx: BuildContext) -> pd.Series | None:
    """The TOU band of each step (from the grid's tariff), None without one."""
    if ctx.grid is None or ctx.grid.bands is None:
        return None
    return pd.Series(ctx.grid.bands.copy(), index=ctx.horizon.index, name="band")


@dataclass
class DispatchResult:
    """A schedule with its KPIs, the solver report and the rule-based comparison.

    ``schedule_source`` is ``"optimizer"`` when the schedule is the solver's, and
    ``"fallback"`` (the rule-based baseline) when the problem is infeasible or
    the solver produced no solution; ``diagnosis`` then says what could not hold.
    ``baseline_kpis`` (a :class:`~optimizer.kpis.BaselineKpis`) say what the baseline leaves unmet: against
    such a baseline no saving is stated (``saving_cny`` None, ``savings.label`` says why).
    """

    status: Literal["optimal", "feasible", "infeasible", "error"]
    schedule_source: Literal["optimizer", "fallback"]
    schedule: pd.DataFrame
    kpis: Kpis
    report: SolverReport
    baseline_schedule: pd.DataFrame
    baseline_kpis: Kpis
    baseline_warnings: list[str] = field(default_factory=list)
    diagnosis: list[Violation] = field(default_factory=list)
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    bands: pd.Series | None = None

    @property
    def baseline_shortfalls(self) -> list[BaselineShortfall]:
        """What the rule-based baseline leaves unmet (demand) or unplaced (electricity surplus), per bus."""
        return shortfalls_of(self.baseline_kpis)

    @property
    def baseline_feasible(self) -> bool:
        """False when the baseline leaves demand unmet: no saving is stated against it."""
        return not self.baseline_shortfalls

    @property
    def saving_cny(self) -> float | None:
        """Money saved against the rule-based baseline (money paid: carbon and penalties excluded) [CNY]; None
        when the baseline leaves demand unmet (see :attr:`savings`)."""
        if not self.baseline_feasible:
            return None
        return self.baseline_kpis.energy_cost_cny - self.kpis.energy_cost_cny

    @property
    def savings(self) -> Savings:
        """The saving split by cost group, with the carbon cost apart and its scaling to a year."""
        return savings(self.kpis, self.baseline_kpis)

    @property
    def targets_relaxed(self) -> bool:
        """True when a soft target was missed."""
        return any(s.shortfall > SHORTFALL_TOLERANCE for s in self.kpis.target_shortfalls)


def extract_schedule(ctx: BuildContext) -> pd.DataFrame:
    """Every registered flow as a column on the horizon index, in registration order."""
    columns: dict[str, np.ndarray] = {}
    for column, flow in ctx.flows.items():
        if flow.is_data:
            columns[column] = flow.component.copy()  # a re-used model overwrites its data with the next problem's
        else:
            values = [v.value for v in flow.component.values()]
            columns[column] = np.array([0.0 if v is None else v for v in values], dtype=float)
    return pd.DataFrame(columns, index=ctx.horizon.index)


def solve(
    problem: DispatchProblem,
    options: SolveOptions | None = None,
    baseline_problem: DispatchProblem | None = None,
    *,
    cache: ModelCache | None = None,
) -> DispatchResult:
    """Optimises ``problem``; never raises for infeasibility or solver limits.

    ``baseline_problem``: the same period with the rule-based baseline's own state (its store levels, units and
    month-to-date peak carried from its own earlier days), so that a run over several days compares two plants
    that each carry their own history (the demand charge is billed once per month to each); default ``problem``.
    A fallback schedule is always the baseline rule on ``problem`` (the plant as it is).

    ``cache``: re-use a model of ``problem``'s shape kept there, and keep this one (:mod:`optimizer.reuse`; a run
    over many days or variants of one site); ``report.model_reuse`` says how the model came.
    """
    options = options or SolveOptions()
    built, report = _built_and_solved(problem, options, cache)
    baseline_schedule, warnings, shortfalls = run_baseline(built.ctx)
    baseline_kpis = compute_baseline_kpis(baseline_schedule, built.ctx, shortfalls)
    if baseline_problem is not None and baseline_problem != problem and report.status in ("optimal", "feasible"):
        own = _context_for(baseline_problem, cache)
        baseline_schedule, warnings, shortfalls = run_baseline(own)
        baseline_kpis = compute_baseline_kpis(baseline_schedule, own, shortfalls)
    if report.status in ("optimal", "feasible"):
        schedule = extract_schedule(built.ctx)
        return DispatchResult(
            status=report.status,
            schedule_source="optimizer",
            schedule=schedule,
            kpis=compute_kpis(schedule, built.ctx),
            report=report,
            baseline_schedule=baseline_schedule,
            baseline_kpis=baseline_kpis,
            baseline_warnings=warnings,
            columns=column_info(built.ctx),
            bands=tariff_bands(built.ctx),
        )
    diagnosis = diagnose_infeasibility(problem, options) if report.status == "infeasible" else []
    return _fallback_result(built, report, baseline_schedule, baseline_kpis, warnings, diagnosis)


def _built_and_solved(
    problem: DispatchProblem, options: SolveOptions, cache: ModelCache | None
) -> tuple[BuiltModel, SolverReport]:
    """The model of ``problem`` and its solve: from ``cache`` when it keeps one of the problem's shape."""
    how = ""
    if cache is not None:
        reusable, how = cache.model_for(problem)
        if reusable is not None:
            try:
                report = reusable.solve(options)
            except NotLinearError as error:  # the shape said equal, the model disagreed: build afresh
                cache.forget(problem)
                how = f"rebuilt: {error}"
            except Exception:  # e.g. a number HiGHS would misread: raised as a fresh build raises it
                cache.forget(problem)
                raise
            else:
                report.build_seconds = reusable.built.build_seconds if how == "built" else 0.0
                report.model_reuse = how
                return reusable.built, report
    built = build_model(problem)
    report = solve_model(built.model, options)
    report.build_seconds = built.build_seconds
    report.model_reuse = how
    return built, report


def _context_for(problem: DispatchProblem, cache: ModelCache | None) -> BuildContext:
    """The build context of ``problem`` (for the baseline rule), from ``cache`` when it keeps one of its shape."""
    reusable = None if cache is None else cache.model_for(problem, implied_cuts=False)[0]
    return reusable.built.ctx if reusable is not None else build_model(problem, implied_cuts=False).ctx


def solve_relaxed(
    problem: DispatchProblem, options: SolveOptions | None = None
) -> tuple[SolverReport, pd.DataFrame | None, BuildContext]:
    """The LP relaxation of ``problem`` (integer decisions continuous, no implied cuts): the solver report, the
    schedule (None without a solution) and the build context its columns are described by. For plans that need
    the shape of a long horizon, not its on/off decisions (a period plan over a month or a year)."""
    built = build_model(problem, implied_cuts=False)
    import pyomo.core.plugins.transform.discrete_vars  # noqa: F401 - registers core.relax_integer_vars

    pyo.TransformationFactory("core.relax_integer_vars").apply_to(built.model)
    report = solve_model(built.model, options or SolveOptions())
    report.build_seconds = built.build_seconds
    schedule = extract_schedule(built.ctx) if report.status in ("optimal", "feasible") else None
    return report, schedule, built.ctx


def fallback(problem: DispatchProblem, reason: str) -> DispatchResult:
    """The rule-based schedule without solving, e.g. when a solve was killed at its deadline."""
    built = build_model(problem)
    baseline_schedule, warnings, shortfalls = run_baseline(built.ctx)
    report = SolverReport(status="error", termination="not_solved", message=reason, build_seconds=built.build_seconds)
    baseline_kpis = compute_baseline_kpis(baseline_schedule, built.ctx, shortfalls)
    return _fallback_result(built, report, baseline_schedule, baseline_kpis, warnings, [])


def _fallback_result(
    built: BuiltModel,
    report: SolverReport,
    baseline_schedule: pd.DataFrame,
    baseline_kpis: BaselineKpis,
    warnings: list[str],
    diagnosis: list[Violation],
) -> DispatchResult:
    return DispatchResult(
        status=report.status,
        schedule_source="fallback",
        schedule=baseline_schedule,
        kpis=baseline_kpis,
        report=report,
        baseline_schedule=baseline_schedule,
        baseline_kpis=baseline_kpis,
        baseline_warnings=warnings,
        diagnosis=diagnosis,
        columns=column_info(built.ctx),
        bands=tariff_bands(built.ctx),
    )
