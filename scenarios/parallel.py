"""Several cases (variants, sweep points, months of a split run) in parallel processes, with progress.

:func:`run_cases` runs each case through :func:`scenarios.pipeline.run_case` (the one compile path per
day), in a process pool from a forkserver, and shows days done and time left.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from scenarios.loader import Case
from scenarios.period_account import spans_months
from scenarios.pipeline import ScenarioRun, case_periods, merge_runs, run_case
from scenarios.rolling import Period

# --- several cases in parallel -----------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    case_index: int
    part: int
    case: Case
    periods: tuple[Period, ...]
    fresh_month: bool


def _split_by_month(periods: list[Period]) -> list[tuple[Period, ...]]:
    groups: dict[tuple[int, int], list[Period]] = {}
    for period in periods:
        first = period.dates[0]
        groups.setdefault((first.year, first.month), []).append(period)
    return [tuple(g) for g in groups.values()]


def _run_task(task: _Task, queue: Any) -> tuple[int, int, ScenarioRun]:
    def tick(n: int) -> None:
        if queue is not None:
            queue.put((task.case_index, n))

    run = run_case(task.case, periods=task.periods, progress=tick, fresh_month=task.fresh_month)
    return task.case_index, task.part, run


PLAIN_PROGRESS_EVERY_S = 30.0
"""Without a terminal (logs, CI), a progress line at most this often [s]."""


@contextlib.contextmanager
def _plain_progress(console: Any, total: int) -> Iterator[Callable[[int, int], None]]:
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
def _progress_display(cases: Sequence[Case], totals: list[int], enabled: bool) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr (per case when few, and overall) with days done and time remaining."""
    if not enabled:
        yield lambda _case, _n: None
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
            yield advance
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

        yield advance


def run_cases(
    cases: Sequence[Case],
    *,
    jobs: int | None = None,
    show_progress: bool = True,
    split_months: bool = False,
) -> list[ScenarioRun]:
    """Runs every case (in parallel processes when ``jobs`` > 1); results in the cases' order.

    ``split_months``: also run the calendar months of each case in parallel,
    each month starting from the scenario's initial state (exact for the
    demand charge, which restarts monthly; an approximation for stores and
    units at month starts), except a case with a target or contract volume over
    a year or a date range: its months share one account and run in sequence
    (the run's ``account_notes`` say so). Otherwise the days of a case run in sequence.
    """
    jobs = max(1, jobs if jobs is not None else (os.cpu_count() or 1))
    tasks: list[_Task] = []
    totals: list[int] = []
    for i, case in enumerate(cases):
        periods = case_periods(case)
        totals.append(len(periods))
        split = split_months and case.scenario.horizon.rolling and not spans_months(case.scenario.site)
        groups = _split_by_month(periods) if split else [tuple(periods)]
        tasks += [_Task(i, k, case, group, fresh_month=k > 0) for k, group in enumerate(groups)]
    parts: dict[int, dict[int, ScenarioRun]] = {i: {} for i in range(len(cases))}
    with _progress_display(cases, totals, show_progress) as advance:
        if jobs == 1 or len(tasks) == 1:
            for task in tasks:
                run = run_case(
                    task.case,
                    periods=task.periods,
                    progress=lambda n, i=task.case_index: advance(i, n),
                    fresh_month=task.fresh_month,
                )
                parts[task.case_index][task.part] = run
        else:
            _run_parallel(tasks, min(jobs, len(tasks)), advance, parts)
    runs = [merge_runs([parts[i][k] for k in sorted(parts[i])]) for i in range(len(cases))]
    if split_months:
        for run, case in zip(runs, cases, strict=True):
            if spans_months(case.scenario.site):
                run.account_notes.append(
                    "the months were not run apart (--split-months): a target or contract volume holds over a year "
                    "or a date range, so the days share one account and run in sequence"
                )
    return runs


def _run_parallel(
    tasks: list[_Task], workers: int, advance: Callable[[int, int], None], parts: dict[int, dict[int, ScenarioRun]]
) -> None:
    # forkserver: workers start from a clean process (forking a process whose HiGHS threads are running
    # could deadlock), with the pipeline's imports preloaded once.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["scenarios.parallel"])
    with context.Manager() as manager, cf.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        queue = manager.Queue()
        futures = {pool.submit(_run_task, task, queue) for task in tasks}
        pending = set(futures)
        while pending:
            done, pending = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
            _drain(queue, advance)
            for future in done:
                case_index, part, run = future.result()
                parts[case_index][part] = run
        _drain(queue, advance)


def _drain(queue: Any, advance: Callable[[int, int], None]) -> None:
    while True:
        try:
            case_index, n = queue.get_nowait()
        except Exception:  # noqa: BLE001 - queue.Empty from a manager proxy
            return
        advance(case_index, n)
