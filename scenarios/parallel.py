"""Several cases (variants, sweep points, months of a split run) in this process, local processes or on Dask.

:func:`run_cases` cuts the work into tasks (:class:`CaseTask`: a case, or the days of one month of it) and runs
them through :func:`run_task` (:func:`scenarios.pipeline.run_case`, the one compile path per day), with days done
and time left on a progress bar:

- **In this process first.** Tasks run here in order; after each day the run weighs what is left against the
  start-up of the executor asked for (``--jobs N``: local processes; ``--cluster ADDRESS`` or
  ``DISPATCH_DASK_SCHEDULER``: Dask, see :mod:`scenarios.executors`). When the tasks not started yet would take
  clearly longer here than starting the executor costs, they go there, and this process finishes its own task
  meanwhile. A small job (a one-day compare) never starts a pool, so it is never slower than ``--jobs 1``; the
  command says which way it went.
- **Independent chunks only where state allows.** The days of a case carry state across midnight (store levels,
  units on or off, energy owed by a window, the month's peak import), so a case is one task: its days run in
  sequence. Its months run apart only (a) when nothing but the month's peak import carries and no target holds
  over a period (then the months are independent: exact, done by itself when the run goes parallel), or (b) with
  ``split_months`` (``--split-months``), each month from the scenario's initial state: exact for the demand
  charge, an approximation for stores and units at month starts, and not done for a case with a target or
  contract volume over a year or a date range. The notes (``notes``) say which.
- **Results in submission order, each once.** Outputs are kept by task key and merged per case in the cases'
  order; a task re-run after a lost worker fills its key once (nothing lost, nothing doubled). Tasks write no
  files: the command writes them from the merged runs.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scenarios.pipeline import case_periods, merge_runs, run_case

if TYPE_CHECKING:
    from scenarios.executors import Executor
    from scenarios.loader import Case
    from scenarios.pipeline import ScenarioRun
    from scenarios.rolling import Period

Advance = Callable[[int, int], None]
Say = Callable[[str], None]

SCALE_OUT_FACTOR = 2.5
"""Tasks go to the executor when their estimated time here is at least this many times its start-up plus a
worker's first-day warm-up (2 workers break even at 2x; the margin keeps small jobs here)."""


# --- tasks -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseTask:
    """One unit of work: ``periods`` of case number ``case_index`` (all of them, or one month's); serialisable."""

    case_index: int
    part: int
    case: Case
    periods: tuple[Period, ...]
    fresh_month: bool = False
    """The first period starts a later month afresh (month-to-date peak 0; see :func:`run_case`)."""

    @property
    def key(self) -> str:
        """Unique in a run: the case's position and the part."""
        return f"case{self.case_index}-part{self.part}"

    @property
    def days(self) -> int:
        """Periods it runs (days of a rolling run), for progress."""
        return len(self.periods)


def run_task(task: CaseTask, progress: Callable[[int], None] | None = None) -> ScenarioRun:
    """The task function: runs the task's periods of its case; a pure function of the task (writes nothing)."""
    return run_case(task.case, periods=task.periods, progress=progress, fresh_month=task.fresh_month)


def _split_by_month(periods: Sequence[Period]) -> list[tuple[Period, ...]]:
    groups: dict[tuple[int, int], list[Period]] = {}
    for period in periods:
        first = period.dates[0]
        groups.setdefault((first.year, first.month), []).append(period)
    return [tuple(g) for g in groups.values()]


def carried_assets(case: Case) -> list[str]:
    """The assets of ``case`` whose state carries across midnight other than the month's peak import (store
    levels, units on/off, energy owed by a window), from each kind's state rules."""
    from optimizer.assets import REGISTRY
    from optimizer.state import MonthPeakState

    return [
        asset.name
        for asset in case.scenario.site.assets
        if any(not isinstance(rule, MonthPeakState) for rule in REGISTRY[asset.kind].state)
    ]


def months_independent(case: Case) -> bool:
    """Whether the months of a rolling ``case`` are independent runs: nothing but the month's peak import carries
    (it restarts monthly) and no target or contract volume holds over a period (no account across days)."""
    from scenarios.period_account import period_items

    return not carried_assets(case) and not period_items(case.scenario.site)


def _names(items: Sequence[str], most: int = 3) -> str:
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")


def plan_tasks(cases: Sequence[Case], *, split_months: bool, parallel: bool) -> tuple[list[CaseTask], list[str]]:
    """The tasks of ``cases`` in submission order, and notes on how the days of long cases were cut (or not).

    ``parallel``: the run may go parallel (then independent months of a case are run apart on their own).
    """
    from scenarios.period_account import spans_months

    tasks: list[CaseTask] = []
    exact: list[str] = []
    approximate: list[str] = []
    shared: list[str] = []
    sequential: list[str] = []
    for i, case in enumerate(cases):
        periods = case_periods(case)
        rolling = case.scenario.horizon.rolling
        months = _split_by_month(periods) if rolling else [tuple(periods)]
        groups = [tuple(periods)]
        if len(months) > 1:
            if months_independent(case) and (parallel or split_months):
                groups = months
                exact.append(case.label)
            elif split_months and not spans_months(case.scenario.site):
                groups = months
                approximate.append(case.label)
            elif split_months:
                shared.append(case.label)
            elif parallel and len(cases) == 1:
                sequential.append(case.label)
        tasks += [CaseTask(i, k, case, group, fresh_month=k > 0) for k, group in enumerate(groups)]
    notes = []
    if exact:
        notes.append(
            f"months run apart for {_names(exact)}: nothing but the month's peak import carries from day to day, "
            "so the months are independent (exact)"
        )
    if approximate:
        carried = sorted({a for c in cases if c.label in approximate for a in carried_assets(c)})
        notes.append(
            f"months run apart for {_names(approximate)} (--split-months), each from the file's initial state: "
            f"exact for the demand charge, an approximation for {_names(carried) or 'the carried state'} at month "
            "starts"
        )
    if sequential:
        carried = carried_assets(cases[0])
        notes.append(
            f"{_names(sequential)}: the days run in sequence, each from the state the day before left "
            f"({_names(carried)}); --split-months would run months apart from the file's initial state"
        )
    return tasks, notes


# --- progress ----------------------------------------------------------------------------------------------------

PLAIN_PROGRESS_EVERY_S = 30.0
"""Without a terminal (logs, CI), a progress line at most this often [s]."""


@contextlib.contextmanager
def _plain_progress(console: Any, total: int) -> Iterator[Advance]:
    """Progress lines for logs: days done, elapsed and estimated time left."""
    started = time.perf_counter()
    state = {"done": 0, "last": started}

    def advance(_case_index: int, n: int) -> None:
        state["done"] += n
        now = time.perf_counter()
        if now - state["last"] >= PLAIN_PROGRESS_EVERY_S or state["done"] == total:
            state["last"] = now
            elapsed = now - started
            left = elapsed / state["done"] * (total - state["done"])
            console.print(f"{state['done']}/{total} days, {elapsed:.0f} s elapsed, about {left:.0f} s left")

    yield advance


@contextlib.contextmanager
def _progress_display(
    cases: Sequence[Case], totals: list[int], enabled: bool, say: Say | None
) -> Iterator[tuple[Advance, Say]]:
    """A rich progress bar on stderr (per case when few, and overall) with days done and time remaining; and how
    to print a note meanwhile (above the bar)."""
    quiet: Say = say or (lambda _text: None)
    if not enabled:
        yield (lambda _case, _n: None), quiet
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    if not console.is_terminal:
        with _plain_progress(console, sum(totals)) as advance:
            yield advance, quiet
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False, console=console) as bar:
        overall = bar.add_task("all", total=sum(totals)) if len(cases) > 1 else None
        rows = [bar.add_task(c.label, total=n) for c, n in zip(cases, totals, strict=True)] if len(cases) <= 12 else []

        def advance(case_index: int, n: int) -> None:
            if rows:
                bar.advance(rows[case_index], n)
            if overall is not None:
                bar.advance(overall, n)

        def note(text: str) -> None:
            if say is not None:
                bar.console.print(text, highlight=False, markup=False, soft_wrap=True)

        yield advance, note


# --- running -----------------------------------------------------------------------------------------------------


class _Runner:
    """Runs tasks here in order and hands those not started to ``executor`` once that clearly pays."""

    def __init__(self, tasks: Sequence[CaseTask], executor: Executor | None, advance: Advance, say: Say) -> None:
        self.pending: deque[CaseTask] = deque(tasks)
        self.executor = executor
        self.advance = advance
        self.say = say
        self.scaled_out = False
        self.started = self.last = time.perf_counter()
        self.first_day_s: float | None = None
        self.warm_s = 0.0
        self.warm_days = 0
        self.here_days = 0

    def scale_out(self, why: str = "") -> None:
        """Sends every task not started to the executor."""
        assert self.executor is not None
        tasks = list(self.pending)
        self.pending.clear()
        self.scaled_out = True
        self.executor.submit(run_task, tasks)
        days = sum(t.days for t in tasks)
        self.say(f"{len(tasks)} task(s), {days} day(s), sent to {self.executor.label}{why}")

    def _tick(self, case_index: int, n: int) -> None:
        self.advance(case_index, n)
        now = time.perf_counter()
        spent, self.last = now - self.last, now
        self.here_days += n
        if self.first_day_s is None:
            self.first_day_s = spent / max(n, 1)
        else:
            self.warm_s += spent
            self.warm_days += n
        if self.scaled_out:
            assert self.executor is not None
            self.executor.poll(self.advance)
        elif self.executor is not None and self.pending and self.warm_days:
            rate = self.warm_s / self.warm_days
            warm_up = max(0.0, self.first_day_s - rate)
            left = rate * sum(t.days for t in self.pending)
            if left >= SCALE_OUT_FACTOR * (self.executor.startup_s + warm_up):
                self.scale_out(f" after {self.here_days} day(s) here (about {left:.0f} s of work left for one process)")

    def run(self) -> dict[str, ScenarioRun]:
        """Every task's run, by task key."""
        results: dict[str, ScenarioRun] = {}
        while self.pending:
            task = self.pending.popleft()
            results[task.key] = run_task(task, progress=lambda n, i=task.case_index: self._tick(i, n))
        if self.scaled_out:
            assert self.executor is not None
            for key, run in self.executor.gather(self.advance).items():
                results.setdefault(key, run)
        return results


def run_cases(
    cases: Sequence[Case],
    *,
    jobs: int | None = None,
    cluster: str | None = None,
    show_progress: bool = True,
    split_months: bool = False,
    notes: Say | None = None,
    executor: Executor | None = None,
    auto_serial: bool = True,
) -> list[ScenarioRun]:
    """Runs every case; results in the cases' order (one merged run per case).

    ``jobs``: local solver processes (default one per core; 1 keeps the run in this process); ``cluster``: a Dask
    scheduler address or ``local`` (default: ``DISPATCH_DASK_SCHEDULER``), used instead of local processes
    (:func:`scenarios.executors.executor_for`); ``executor``: one made by the caller (e.g. a
    :class:`~scenarios.executors.DaskExecutor` on a client), which the caller closes. ``auto_serial=False``
    sends every task to the executor at once instead of starting here (tests, benchmarks).

    ``split_months``: also run the calendar months of each case apart, each month starting from the scenario's
    initial state (exact for the demand charge, which restarts monthly; an approximation for stores and units at
    month starts), except a case with a target or contract volume over a year or a date range: its months share
    one account and run in sequence (the run's ``account_notes`` say so). Months whose state is independent run
    apart whenever the run may go parallel (module docstring).

    ``notes(text)``: how the work was cut and where it ran (a small job kept here, tasks sent to a cluster).
    """
    from scenarios.executors import executor_for
    from scenarios.period_account import spans_months

    owned = executor is None
    if executor is None:
        executor = executor_for(jobs, cluster)
    say: Say = notes or (lambda _text: None)
    try:
        tasks, plan_notes = plan_tasks(cases, split_months=split_months, parallel=executor is not None)
        totals = [len(case_periods(case)) for case in cases]
        if executor is not None and len(tasks) == 1 and auto_serial:
            executor = None  # one task: nothing to run beside it
        with _progress_display(cases, totals, show_progress, notes) as (advance, note):
            for text in plan_notes:
                note(text)
            runner = _Runner(tasks, executor, advance, note)
            if executor is not None and not auto_serial:
                runner.scale_out()
            results = runner.run()
        if executor is not None and not runner.scaled_out:
            here = time.perf_counter() - runner.started
            say(
                f"ran in this process: a small job ({len(tasks)} task(s), {sum(totals)} day(s) in {here:.1f} s); "
                f"starting {executor.label} would have cost more than it saves"
            )
    finally:
        if owned and executor is not None:
            executor.close()
    parts: dict[int, dict[int, ScenarioRun]] = {i: {} for i in range(len(cases))}
    for task in tasks:
        parts[task.case_index][task.part] = results[task.key]
    runs = [merge_runs([parts[i][k] for k in sorted(parts[i])]) for i in range(len(cases))]
    if split_months:
        for run, case in zip(runs, cases, strict=True):
            if spans_months(case.scenario.site):
                run.account_notes.append(
                    "the months were not run apart (--split-months): a target or contract volume holds over a year "
                    "or a date range, so the days share one account and run in sequence"
                )
    return runs
