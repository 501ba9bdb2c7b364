"""Offline replay of the EMS loop over a date range: what forecast errors cost, measured three ways.

``dispatch replay SCENARIO --start --end --every 1h`` runs every local day of the range once per strategy;
each strategy carries its own state (store levels, units on/off, the month-to-date peak import) across
midnight from what it *executed*, through the registry's state rules (:func:`scenarios.rolling.carried_state`):

1. ``day_ahead``: at local midnight one plan of the day from day-ahead forecasts, executed in full against the
   actual data;
2. ``intraday`` (receding horizon): the same kind of day-ahead plan, then every ``every`` (default 1 h) a
   re-plan from the state reached so far to the end of the day, with forecasts corrected by what has been
   observed; the first ``every`` of each plan is executed against the actual data;
3. ``perfect_foresight``: each day planned with the actual data; its plan is executed exactly.

Definitions:

- *actual*: the scenario's inputs as the pipeline resolves them for the day (:class:`scenarios.inputs.Inputs`
  on the day's time axis, what :func:`scenarios.pipeline.build_problem` reads);
- *forecast inputs*: only inputs that feed the electricity bus are forecast, i.e. those referenced by a ``load``
  asset's ``power_kw`` or a ``pv`` asset's ``available_kw``; every other input (thermal and air demands, prices)
  is taken as known (forecast = actual);
- *day-ahead load forecast*: ``site.load_model.forecast(history, day)``, ``history`` the input's actual values
  over the ``history_days`` (28) days before the day; *day-ahead PV forecast*: persistence, the previous day's
  actual profile by local clock time;
- *intraday correction* at re-plan time t: forecast + e x exp(-h / 2 h) for the steps from t on, e the mean error
  (actual - day-ahead forecast) over the hour before t, h the hours from t to the step's start; clipped at >= 0;
  PV also at the largest actual value seen (history window and the day so far), and left at 0 where the
  day-ahead PV forecast is 0 (no PV appears at night);
- *execution* of a stretch of a plan against actual data: every decision column (storage, units, flexible
  loads) follows the plan; PV output = actual available PV minus the plan's curtailment (>= 0); the grid takes
  the rest: net = planned import - planned export + (actual - planned electric load) - (actual - planned PV
  output); import = max(net, 0), export = min(-net, export limit), any surplus beyond the export limit is
  curtailed PV (what PV cannot absorb is reported as ``unplaced_surplus_kwh``); green purchases are capped at
  the executed import. Columns are found by their roles (:attr:`optimizer.DispatchResult.columns`);
- *cost*: the optimiser's own KPI code (:func:`optimizer.kpis.compute_kpis`, every cost term's ``evaluate``) on
  the executed day, for the day's actual problem (actual inputs, the strategy's state at midnight).

Re-plans start mid-day, and two things are not part of the registry's state: progress inside clock-time windows
(energy delivered so far, a block already started) and per-horizon volumes and targets. So an asset with clock
times whose window has begun is *committed* to the latest plan: the re-plan sees its planned power as a fixed
load; and targets and contract volumes (``max_energy_kwh``) apply to each re-plan's remaining horizon.

The code, one job a module: this one runs the loop (a day per strategy: plans, re-plans, execution, cost);
:mod:`scenarios.replay_options` holds the strategies and options, :mod:`scenarios.replay_forecasts` the actual
data and the forecasts, :mod:`scenarios.replay_execution` the execution of a plan, :mod:`scenarios.replay_costs`
the costs, totals and notes, :mod:`scenarios.replay_report` the outputs.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer import DispatchProblem, DispatchResult, Horizon, SolveOptions, solve
from optimizer.dispatch import ColumnInfo
from optimizer.model import build_model
from scenarios.assets import clock_fields, input_refs
from scenarios.compile import State, committed_power
from scenarios.inputs import Inputs
from scenarios.loader import Case
from scenarios.pipeline import build_problem, case_periods
from scenarios.replay_costs import DayCost, ReplayResult, cost_split, evaluate_schedule
from scenarios.replay_execution import (
    Execution,
    GridLimits,
    data_frame,
    deviations,
    execute_plan,
    grid_limits,
)
from scenarios.replay_forecasts import (
    ActualData,
    CachedInputs,
    ForecastInputs,
    corrected_forecast,
    day_ahead_forecasts,
    forecast_inputs,
    pv_seen,
)
from scenarios.replay_options import DAY_AHEAD, INTRADAY, PERFECT_FORESIGHT, STRATEGIES, ReplayOptions, parse_every
from scenarios.replay_report import print_replay, replay_payload, write_replay
from scenarios.rolling import Period, carried_state

__all__ = [
    "DAY_AHEAD",
    "INTRADAY",
    "PERFECT_FORESIGHT",
    "STRATEGIES",
    "DayCost",
    "ReplayOptions",
    "ReplayResult",
    "parse_every",
    "print_replay",
    "replay_case",
    "replay_payload",
    "run_day",
    "write_replay",
]

"""Name suffix of the fixed load that stands for a clock-time asset committed to its plan in a re-plan."""

Progress = Callable[[str], None]


@dataclass
class _Day:
    """What every strategy of one day shares."""

    case: Case
    period: Period
    actual: ActualData
    forecasts: dict[str, pd.Series]
    pv_seen_kw: dict[str, float]
    first: DispatchProblem
    solver: SolveOptions
    options: ReplayOptions

    @property
    def date(self) -> dt.date:
        return self.period.dates[0]

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.period.horizon.index


@dataclass
class _Solves:
    count: int = 0
    fallbacks: int = 0
    max_gap: float = 0.0
    seconds: float = 0.0

    def add(self, result: DispatchResult) -> None:
        self.count += 1
        self.fallbacks += result.schedule_source != "optimizer"
        gap = result.report.mip_gap
        if gap is not None and math.isfinite(gap):
            self.max_gap = max(self.max_gap, gap)
        self.seconds += result.report.solve_seconds


def _windows(n_steps: int, every_steps: int) -> list[tuple[int, int]]:
    """Step ranges executed from successive plans."""
    return [(lo, min(lo + every_steps, n_steps)) for lo in range(0, n_steps, every_steps)]


def _rest_of_day(period: Period, lo: int) -> Period:
    """The period from step ``lo`` to the end of the day."""
    horizon = period.horizon
    start = horizon.index[lo].to_pydatetime()
    rest = Horizon(start=start, step_minutes=horizon.step_minutes, n_steps=horizon.n_steps - lo, tz=horizon.tz)
    return Period(rest, period.dates)


def _inputs_at(day: _Day, strategy: str, at: pd.Timestamp, lo: int) -> Inputs:
    """What a plan made at ``at`` knows: actual data, day-ahead forecasts, or corrected forecasts."""
    if strategy == PERFECT_FORESIGHT:
        return day.actual.inputs
    if lo == 0:
        return ForecastInputs(day.actual.inputs, day.forecasts)
    corrected = {}
    for name, forecast in day.forecasts.items():
        actual = day.actual.day(name, day.date)
        upper = None
        if name in day.pv_seen_kw:
            upper = max(day.pv_seen_kw[name], float(np.max(actual[actual.index < at].to_numpy(), initial=0.0)))
        corrected[name] = corrected_forecast(forecast, actual, at, day.options, upper)
    return ForecastInputs(day.actual.inputs, corrected)


def _plan(
    day: _Day,
    strategy: str,
    state: State | None,
    actual_problem: DispatchProblem,
    executed: list[Execution],
    lo: int,
    plan: pd.DataFrame | None,
    columns: Mapping[str, ColumnInfo],
) -> DispatchResult:
    """The plan made at step ``lo``: from midnight with the carried state, or from the state reached so far."""
    at = day.index[lo]
    case, period = day.case, day.period
    if lo > 0:
        so_far = pd.concat([e.schedule for e in executed])
        state = carried_state(actual_problem, so_far, at, day.first)
        assert plan is not None
        committed, period = committed_power(case.scenario.site, plan, columns, at), _rest_of_day(period, lo)
    else:
        committed = None
    problem = build_problem(case, period, state, _inputs_at(day, strategy, at, lo), committed)
    return solve(problem, day.solver)


def _merged(plan: pd.DataFrame | None, result: DispatchResult, columns: list[str]) -> pd.DataFrame:
    """The day's current plan: ``result`` over its steps for the columns it has, the earlier plan elsewhere."""
    if plan is None:
        return result.schedule.reindex(columns=columns, fill_value=0.0)
    merged = plan.copy()
    shared = [c for c in columns if c in result.schedule.columns]
    merged.loc[result.schedule.index, shared] = result.schedule[shared].to_numpy(dtype=float)
    return merged


def run_day(day: _Day, strategy: str, state: State | None) -> tuple[DayCost, State, pd.DataFrame]:
    """One strategy's day: plan(s), execution against actual data, cost; the state that starts the next day."""
    started = time.perf_counter()
    actual_problem = build_problem(day.case, day.period, state, day.actual.inputs)
    ctx = build_model(actual_problem).ctx
    actual = data_frame(ctx)
    n_steps = day.period.horizon.n_steps
    every = day.options.every_minutes // day.period.horizon.step_minutes if strategy == INTRADAY else n_steps
    plan: pd.DataFrame | None = None
    columns: dict[str, ColumnInfo] = {}
    limits: GridLimits | None = None
    executed: list[Execution] = []
    solves = _Solves()
    for lo, hi in _windows(n_steps, every):
        result = _plan(day, strategy, state, actual_problem, executed, lo, plan, columns)
        solves.add(result)
        if plan is None:
            columns = result.columns
            limits = grid_limits(ctx, columns)
        plan = _merged(plan, result, list(ctx.flows))
        assert limits is not None
        rows = plan.iloc[lo:hi]
        executed.append(execute_plan(rows, columns, actual.iloc[lo:hi], limits.rows(lo, hi), ctx.dt_h))
    schedule = pd.concat([e.schedule for e in executed])
    kpis = evaluate_schedule(schedule, ctx)
    next_state = carried_state(actual_problem, schedule, day.period.horizon.end, day.first)
    cost = DayCost(
        date=day.date.isoformat(),
        strategy=strategy,
        **cost_split(kpis),
        peak_import_kw=kpis.peak_import_kw,
        solves=solves.count,
        fallback_solves=solves.fallbacks,
        max_mip_gap=solves.max_gap,
        solve_seconds=solves.seconds,
        wall_seconds=time.perf_counter() - started,
        **deviations(executed),
        max_balance_residual_kw=kpis.max_balance_residual_kw,
    )
    return cost, next_state, schedule


def _day_periods(case: Case) -> list[Period]:
    """The case's local days, each a whole day (a replay plans and executes day by day)."""
    periods = case_periods(case)
    tz = case.scenario.site.tz
    for period in periods:
        whole = Horizon.day(period.dates[0], tz, period.horizon.step_minutes)
        if len(period.dates) != 1 or period.horizon.index[0] != whole.index[0] or period.horizon.end != whole.end:
            raise ValueError("a replay runs whole local days one by one: give a date range (horizon rolling: true)")
    return periods


def replay_case(
    case: Case,
    options: ReplayOptions | None = None,
    progress: Progress | None = None,
    keep_schedules: bool = False,
) -> ReplayResult:
    """Replays ``case`` over its days with the three strategies (see the module docstring).

    ``keep_schedules``: also return each strategy's executed schedule (all days) in ``schedules``.
    """
    options = options or ReplayOptions()
    started = time.perf_counter()
    scenario = case.scenario
    periods = _day_periods(case)
    step = periods[0].horizon.step_minutes
    if options.every_minutes % step:
        raise ValueError(f"the re-plan interval ({options.every_minutes} min) is not a multiple of the {step}-min step")
    inputs = CachedInputs(case)
    actual = ActualData(inputs, scenario.site.tz, step)
    methods = forecast_inputs(scenario.site)
    first = build_problem(case, periods[0], None, inputs)
    states: dict[str, State | None] = dict.fromkeys(STRATEGIES)
    schedules: dict[str, list[pd.DataFrame]] = {s: [] for s in STRATEGIES}
    days: list[DayCost] = []
    for period in periods:
        date = period.dates[0]
        day = _Day(
            case=case,
            period=period,
            actual=actual,
            forecasts=day_ahead_forecasts(scenario.site, actual, methods, date, options.history_days),
            pv_seen_kw=pv_seen(actual, methods, date, options.history_days),
            first=first,
            solver=scenario.solver,
            options=options,
        )
        for strategy in STRATEGIES:
            cost, states[strategy], schedule = run_day(day, strategy, states[strategy])
            days.append(cost)
            if keep_schedules:
                schedules[strategy].append(schedule)
        if progress is not None:
            progress(date.isoformat())
    return ReplayResult(
        scenario=scenario.name,
        label=case.label,
        currency=scenario.site.currency,
        start=periods[0].dates[0],
        end=periods[-1].dates[0],
        every_minutes=options.every_minutes,
        forecast=methods,
        known=sorted({ref for a in scenario.site.assets for ref in input_refs(a).values()} - set(methods)),
        committed=[a.name for a in scenario.site.assets if clock_fields(a)],
        days=days,
        seconds=time.perf_counter() - started,
        schedules={s: pd.concat(parts) for s, parts in schedules.items() if parts},
    )
