"""The one pipeline behind the CLI and the API: scenario -> inputs -> problem -> optimiser -> results.

- :func:`build_problem`: one :class:`~optimizer.DispatchProblem` for a period
  (a day, or one explicit horizon) from a case, its inputs and a carried state;
- :func:`run_case`: a case over its horizon, day-ahead day after day with the
  state carried across midnight (:mod:`scenarios.rolling`), as a
  :class:`ScenarioRun` (schedules, combined KPIs, per-day records);
- :func:`run_cases`: several cases (variants, sweep points) in parallel
  processes, with a progress bar and time remaining.

Errors in the scenario (a spec's cross-field check, a series of the wrong
length, an input that does not cover a day) raise
:class:`~scenarios.errors.ScenarioError` pointing at the file line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from optimizer import DispatchProblem, DispatchResult, Kpis, Targets, solve
from optimizer.baseline_state import BaselineShortfall, infeasible_label, merge_shortfalls
from optimizer.dispatch import ColumnInfo
from optimizer.errors import Issue, ProblemError, SpecError
from optimizer.kpis import Savings, savings, with_shortfalls
from optimizer.model import build_model
from optimizer.reuse import ModelCache
from scenarios.assets import input_refs
from scenarios.compile import State, compile_problem
from scenarios.errors import ScenarioError
from scenarios.inputs import Inputs
from scenarios.kpis import combine_kpis
from scenarios.loader import Case
from scenarios.period_account import DayShare, PeriodAccount, PeriodFigure
from scenarios.rolling import Period, carried_state, make_periods, new_month_state
from scenarios.spec import HorizonSpec

Progress = Callable[[int], None]


# --- problem building --------------------------------------------------------------------------

FlowInfo = ColumnInfo
"""Where a schedule column sits (bus, sign, role, capacity): the optimizer's own description of its result."""


def case_state(case: Case, state: State | None) -> State:
    """The case's initial state with a carried ``state`` on top, by asset name."""
    merged = {name: dict(fields) for name, fields in case.scenario.initial_state.items()}
    for name, fields in (state or {}).items():
        merged.setdefault(name, {}).update(fields)
    return merged


def build_problem(
    case: Case,
    period: Period,
    state: State | None = None,
    inputs: Inputs | None = None,
    committed: Mapping[str, Any] | None = None,
    updates: State | None = None,
    targets: Targets | None = None,
) -> DispatchProblem:
    """The dispatch problem of ``case`` on ``period`` through the one compile path; ``state`` overrides initial
    fields by asset name; ``committed``, ``updates`` and ``targets``: see
    :func:`scenarios.compile.compile_problem`. Issues raise :class:`ScenarioError` at the file lines."""
    scenario = case.scenario
    source = _CollectingInputs(inputs or Inputs(case))
    try:
        problem = compile_problem(
            scenario.site,
            period,
            inputs=source,
            state=case_state(case, state),
            name=f"{scenario.name}:{case.label}:{period.label}",
            committed=committed,
            updates=updates,
            targets=targets,
        )
    except ProblemError as error:
        raise ScenarioError(source.issues + [file_issue(case, i, period) for i in error.issues]) from error
    if source.issues:
        raise ScenarioError(source.issues)
    return problem


class _CollectingInputs:
    """Reads inputs, keeping the issues of those that fail (at their file lines) so the other assets are still
    checked; a failed input reads as zeros until the issues are raised."""

    def __init__(self, inputs: Inputs) -> None:
        self.inputs = inputs
        self.issues: list[Any] = []

    def values(self, name: str, index: pd.DatetimeIndex) -> np.ndarray:
        try:
            return self.inputs.values(name, index)
        except ScenarioError as error:
            self.issues += [i for i in error.issues if i not in self.issues]
            return np.zeros(len(index))


_BOUNDS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})


def file_issue(case: Case, issue: Issue, period: Period) -> Any:
    """An issue of the compile path at its line in the scenario file (the asset entry, its field, or the
    ``initial_state`` entry that set it), with the input and time behind a bad series value."""
    scenario = case.scenario
    parts: tuple[str | int, ...] = tuple(int(p) if p.isdigit() else p for p in (issue.field or "").split(".") if p)
    message = issue.message
    if issue.code in _BOUNDS and isinstance(issue.value, (int, float)):
        message = f"{issue.value!r}: {message[:1].lower()}{message[1:]}"
    if issue.code == "series_length" or len(period.dates) > 1:
        message += f" (on {period.label})"
    if issue.asset is None:
        return case.issue(("site", *parts) if parts else ("site",), message)
    field = str(parts[0]) if parts else None
    if field is not None and field in scenario.initial_state.get(issue.asset, {}):
        return case.issue(("initial_state", issue.asset, field), message)
    refs = input_refs(scenario.site.asset(issue.asset))
    if field in refs:
        index = period.horizon.index
        when = ""
        if issue.step is not None and 0 <= issue.step < len(index):
            when = f" at step {issue.step} ({index[issue.step]:%Y-%m-%d %H:%M})"
        message += f" (from $inputs.{refs[field]}{when})"
    return case.issue((*case.asset_path(issue.asset), *parts), message)


# --- results -----------------------------------------------------------------------------------


@dataclass
class DayRecord:
    """What happened in one period of a run."""

    period: str
    start: str
    status: str
    schedule_source: str
    energy_cost_cny: float
    baseline_energy_cost_cny: float
    objective_cny: float | None
    mip_gap: float | None
    build_seconds: float
    solve_seconds: float
    diagnosis: list[str] = field(default_factory=list)
    baseline_warnings: list[str] = field(default_factory=list)
    baseline_shortfalls: list[BaselineShortfall] = field(default_factory=list)
    model_reuse: str = ""
    """How the period's model came (``SolverReport.model_reuse``): ``re-used``, ``built``, ``not re-usable: <why>``."""

    @property
    def baseline_feasible(self) -> bool:
        """False when the period's rule-based baseline leaves demand unmet: no saving is stated against it."""
        return not self.baseline_shortfalls

    @property
    def saving_label(self) -> str | None:
        """``baseline infeasible: <what is unmet>`` when no saving is stated, else None."""
        return infeasible_label(self.baseline_shortfalls)

    @property
    def saving_cny(self) -> float | None:
        """Baseline money paid minus the plan's [currency]; None against an infeasible baseline."""
        if not self.baseline_feasible:
            return None
        return self.baseline_energy_cost_cny - self.energy_cost_cny


@dataclass
class ScenarioRun:
    """A case run over its horizon: schedules, combined KPIs, per-period records and what the report needs."""

    scenario: str
    label: str
    description: str
    currency: str
    schedule: pd.DataFrame
    baseline_schedule: pd.DataFrame
    kpis: Kpis
    baseline_kpis: Kpis
    days: list[DayRecord]
    daily_kpis: list[Kpis]
    daily_baseline_kpis: list[Kpis]
    flows: dict[str, FlowInfo]
    capacities: dict[str, float]
    bands: pd.Series | None
    seconds: float
    variant: str | None = None
    sweep: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    period_figures: list[PeriodFigure] = field(default_factory=list)
    account_days: list[DayShare] = field(default_factory=list)
    account_notes: list[str] = field(default_factory=list)

    @property
    def baseline_shortfalls(self) -> list[BaselineShortfall]:
        """What the rule-based baseline leaves unmet over the run, per bus (its periods' shortfalls merged)."""
        return merge_shortfalls(s for d in self.days for s in d.baseline_shortfalls)

    @property
    def baseline_feasible(self) -> bool:
        """False when the baseline leaves demand unmet on any period: no saving is stated for the run."""
        return all(d.baseline_feasible for d in self.days)

    @property
    def savings(self) -> Savings:
        """The run's saving split by cost group (carbon apart) and scaled to a year; amounts None and a label
        when the baseline is infeasible (:func:`optimizer.kpis.savings`)."""
        return savings(self.kpis, with_shortfalls(self.baseline_kpis, self.baseline_shortfalls))

    @property
    def saving_cny(self) -> float | None:
        """Energy cost of the rule-based baseline minus the optimised one, over the run [currency]; None when the
        baseline leaves demand unmet (see :attr:`savings`)."""
        if not self.baseline_feasible:
            return None
        return self.baseline_kpis.energy_cost_cny - self.kpis.energy_cost_cny

    @property
    def fallback_days(self) -> list[str]:
        """Periods whose schedule is the rule-based fallback (infeasible or no solution)."""
        return [d.period for d in self.days if d.schedule_source != "optimizer"]

    @property
    def ok(self) -> bool:
        return not self.fallback_days


def merge_runs(parts: Sequence[ScenarioRun]) -> ScenarioRun:
    """Consecutive parts of one case's run (e.g. months run in parallel) as one run."""
    first = parts[0]
    if len(parts) == 1:
        return first
    daily = [k for p in parts for k in p.daily_kpis]
    daily_base = [k for p in parts for k in p.daily_baseline_kpis]
    bands = [p.bands for p in parts if p.bands is not None]
    return ScenarioRun(
        scenario=first.scenario,
        label=first.label,
        description=first.description,
        currency=first.currency,
        schedule=pd.concat([p.schedule for p in parts]),
        baseline_schedule=pd.concat([p.baseline_schedule for p in parts]),
        kpis=combine_kpis(daily),
        baseline_kpis=combine_kpis(daily_base),
        days=[d for p in parts for d in p.days],
        daily_kpis=daily,
        daily_baseline_kpis=daily_base,
        flows=first.flows,
        capacities=first.capacities,
        bands=pd.concat(bands) if bands else None,
        seconds=sum(p.seconds for p in parts),
        variant=first.variant,
        sweep=first.sweep,
        parameters=first.parameters,
        period_figures=[f for p in parts for f in p.period_figures],
        account_days=[d for p in parts for d in p.account_days],
        account_notes=[n for p in parts for n in p.account_notes],
    )


def _record(period: Period, result: DispatchResult) -> DayRecord:
    report = result.report
    return DayRecord(
        period=period.label,
        start=period.horizon.index[0].isoformat(),
        status=result.status,
        schedule_source=result.schedule_source,
        energy_cost_cny=result.kpis.energy_cost_cny,
        baseline_energy_cost_cny=result.baseline_kpis.energy_cost_cny,
        objective_cny=report.objective,
        mip_gap=report.mip_gap,
        build_seconds=report.build_seconds,
        solve_seconds=report.solve_seconds,
        diagnosis=[f"{v.constraint} by {v.amount:.3g}" for v in result.diagnosis[:5]],
        baseline_warnings=list(result.baseline_warnings),
        baseline_shortfalls=list(result.baseline_shortfalls),
        model_reuse=report.model_reuse,
    )


def capacities_of(result: DispatchResult) -> dict[str, float]:
    """Level column -> capacity of every store in a result [kWh, kWh_th or m3]."""
    return {c: info.capacity for c, info in result.columns.items() if info.capacity is not None}


def run_from_result(result: DispatchResult, problem: DispatchProblem, label: str | None = None) -> ScenarioRun:
    """One solved problem as a :class:`ScenarioRun` (e.g. for the API's HTML view of a schedule)."""
    index = problem.horizon.index
    first, last = index[0].date(), (index[-1]).date()
    period = Period(problem.horizon, tuple(d.date() for d in pd.date_range(first, last, freq="D")))
    return ScenarioRun(
        scenario=problem.name,
        label=label or "schedule",
        description="",
        currency=problem.currency,
        schedule=result.schedule,
        baseline_schedule=result.baseline_schedule,
        kpis=result.kpis,
        baseline_kpis=result.baseline_kpis,
        days=[_record(period, result)],
        daily_kpis=[result.kpis],
        daily_baseline_kpis=[result.baseline_kpis],
        flows=result.columns,
        capacities=capacities_of(result),
        bands=result.bands,
        seconds=result.report.build_seconds + result.report.solve_seconds,
    )


def with_dates(case: Case, start: dt.date | None = None, end: dt.date | None = None, days: int | None = None) -> Case:
    """The case with its horizon replaced by the days ``start``..``end`` (or ``days`` days), e.g. from the CLI."""
    if start is None and end is None and days is None:
        return case
    current = case.scenario.horizon
    first = start or (current.start.date() if isinstance(current.start, dt.datetime) else current.start)
    if end is None and days is None and start is not None:
        dates = current.dates()
        days = len(dates)
    horizon = HorizonSpec(
        start=first,
        end=end,
        days=None if end is not None else days,
        step_minutes=current.step_minutes,
        rolling=current.rolling if not current.is_explicit else True,
    )
    scenario = case.scenario.model_copy(update={"horizon": horizon})
    data = {**case.data, "horizon": horizon.model_dump(mode="json", exclude_none=True)}
    return dataclasses.replace(case, scenario=scenario, data=data)


def case_periods(case: Case) -> list[Period]:
    """The periods the case runs, in order."""
    return make_periods(case.scenario.horizon, case.scenario.site.tz)


def run_case(
    case: Case,
    *,
    periods: Sequence[Period] | None = None,
    progress: Progress | None = None,
    fresh_month: bool = False,
) -> ScenarioRun:
    """Runs ``case`` over its periods (or the given ones), carrying the state from each to the next.

    ``fresh_month``: the first period starts a later month of a split run (its
    month-to-date peak is 0; stores and units start from the scenario's values).
    """
    started = time.perf_counter()
    scenario = case.scenario
    periods = list(periods) if periods is not None else case_periods(case)
    options = scenario.solver  # threads: HiGHS's choice unless the file sets it (HiGHS fixes it per process)
    inputs = Inputs(case)
    account = PeriodAccount(scenario.site, scenario.period_plan)
    account.run_dates = [d for p in periods for d in p.dates]
    daily = all(len(p.dates) == 1 for p in periods) and len(periods) > 0
    state: State | None = None
    baseline_state: State | None = None  # the rule-based baseline carries its own state from its own days
    first_problem: DispatchProblem | None = None
    results: list[DispatchResult] = []
    records: list[DayRecord] = []
    bands: list[pd.Series] = []
    flows: dict[str, FlowInfo] = {}
    capacities: dict[str, float] = {}
    for k, period in enumerate(periods):
        targets, updates = None, None
        if account.active and daily:
            day = period.dates[0]
            if account.needs_plan(day):
                rest = [p.dates[0] for p in periods[k:]]
                account.plan(rest, _plan_compiler(case, state, inputs))
            targets, updates = account.day_terms(day)
        problem = build_problem(case, period, state, inputs, updates=updates, targets=targets)
        if k == 0:
            first_problem = problem
            if fresh_month:
                problem = build_problem(
                    case, period, new_month_state(problem), inputs, updates=updates, targets=targets
                )
        baseline_problem = (
            problem
            if baseline_state is None
            else build_problem(case, period, baseline_state, inputs, updates=updates, targets=targets)
        )
        result = _solved(case, period, problem, options, baseline_problem)
        if k == 0:
            flows = result.columns
            capacities = capacities_of(result)
        results.append(result)
        records.append(_record(period, result))
        if account.active and daily:
            account.record(period.dates[0], result, problem.horizon.dt_h)
        if result.bands is not None:
            bands.append(result.bands)
        if k + 1 < len(periods):
            next_start = periods[k + 1].horizon.index[0]
            state = carried_state(problem, result.schedule, next_start, first_problem)
            baseline_state = carried_state(baseline_problem, result.baseline_schedule, next_start, first_problem)
        if progress is not None:
            progress(1)
    daily = [r.kpis for r in results]
    daily_base = [r.baseline_kpis for r in results]
    description = case.description or scenario.description
    return ScenarioRun(
        scenario=scenario.name,
        label=case.label,
        description=description,
        currency=scenario.site.currency,
        schedule=pd.concat([r.schedule for r in results]),
        baseline_schedule=pd.concat([r.baseline_schedule for r in results]),
        kpis=combine_kpis(daily),
        baseline_kpis=combine_kpis(daily_base),
        days=records,
        daily_kpis=daily,
        daily_baseline_kpis=daily_base,
        flows=flows,
        capacities=capacities,
        bands=pd.concat(bands) if bands else None,
        seconds=time.perf_counter() - started,
        variant=case.variant,
        sweep=case.sweep,
        parameters=dict(case.parameters),
        period_figures=account.figures(),
        account_days=account.days,
        account_notes=account.notes,
    )


MODEL_CACHE = ModelCache()
"""Models kept across the days of a run and across the cases a process runs (a sweep over prices): each
problem of a kept model's shape re-uses it (:mod:`optimizer.reuse`)."""


def _solved(
    case: Case, period: Period, problem: DispatchProblem, options: Any, baseline_problem: DispatchProblem
) -> DispatchResult:
    """:func:`optimizer.solve`, with a rule the model builder checks on the whole problem (e.g. a heat level an
    asset cannot reach) raised as a :class:`ScenarioError` at the file line."""
    try:
        return solve(problem, options, baseline_problem, cache=MODEL_CACHE)
    except SpecError as error:
        raise ScenarioError([file_issue(case, error.issue(), period)]) from error


def _plan_compiler(case: Case, state: State | None, inputs: Inputs) -> Callable[..., DispatchProblem]:
    """The run's compile path for a period plan over several days, from the day's carried ``state``."""

    def compile_plan(period: Period, targets: Targets, updates: State) -> DispatchProblem:
        return compile_problem(
            case.scenario.site,
            period,
            inputs=inputs,
            state=case_state(case, state),
            updates=updates,
            name=f"{case.scenario.name}:{case.label}:plan {period.label}",
            targets=targets,
        )

    return compile_plan


def check_case(case: Case) -> int:
    """Builds (does not solve) the first period's problem and model and reads every input over the whole run.

    Returns the number of periods; raises :class:`ScenarioError` for anything that would stop a run.
    """
    periods = case_periods(case)
    inputs = Inputs(case)
    problem = build_problem(case, periods[0], None, inputs)
    try:
        build_model(problem)  # the rules the builders check on the whole problem (heat levels, a tariff's bands)
    except SpecError as error:
        raise ScenarioError([file_issue(case, error.issue(), periods[0])]) from error
    full = pd.date_range(
        periods[0].horizon.index[0],
        periods[-1].horizon.end,
        freq=f"{periods[0].horizon.step_minutes}min",
        inclusive="left",
    )
    for asset in case.scenario.site.assets:
        for ref in set(input_refs(asset).values()):
            inputs.values(ref, full)
    return len(periods)
