"""Solves off the event loop, in a child process with a hard deadline, under a concurrency limit.

Each solve runs in a fresh process forked from a forkserver that has the
optimiser pre-imported, so a hung or crashed solve can be killed without
harming the service; the caller then answers with the rule-based fallback.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Literal, TypeVar

from optimizer import DispatchProblem, DispatchResult, SolveOptions, fallback, solve

_CONTEXT = mp.get_context("forkserver")
# Imported once in the forkserver, so each child starts warm (a missing module is skipped by multiprocessing).
# "__main__" (multiprocessing's default) too: every child re-runs the parent's main script (e.g. the `dispatch`
# or `uvicorn` console script), and that is only cheap when the forkserver has already imported what it imports.
_CONTEXT.set_forkserver_preload(["__main__", "optimizer", "scenarios.ems", "scenarios.pipeline", "api.what_if"])
T = TypeVar("T")


def warm_up() -> None:
    """Starts the forkserver (and its imports) now rather than on the first solve."""
    from multiprocessing import forkserver

    forkserver.ensure_running()


class SolverBusyError(Exception):
    """Raised when the concurrency limit is reached."""


class ProblemBuildError(Exception):
    """The problem validated but no model (not even the rule-based fallback) can be built from it."""


def _fallback(problem: DispatchProblem, reason: str) -> DispatchResult:
    try:
        return fallback(problem, reason)
    except ValueError as error:  # e.g. two grid connections: the site is wrong, not the server
        raise ProblemBuildError(f"{error} ({reason})") from error


class SolveSlots:
    """A non-queueing concurrency limit: acquire fails at once when all slots are taken."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._active = 0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            if self._active >= self.limit:
                raise SolverBusyError
            self._active += 1

    def release(self) -> None:
        with self._lock:
            self._active -= 1


@dataclass
class ChildOutcome:
    """How a child process ended: ``ok`` (payload: its return value), ``error`` (payload: the message),
    ``timeout`` (killed at the deadline) or ``died`` (exited without an answer, e.g. a segfault)."""

    kind: Literal["ok", "error", "timeout", "died"]
    payload: Any = None
    exitcode: int | None = None


def _child_main(target: Callable[..., Any], args: tuple[Any, ...], conn: Connection) -> None:
    try:
        conn.send(("ok", target(*args)))
    except BaseException as error:  # noqa: BLE001 - anything the child hits is reported to the parent
        conn.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        conn.close()


def run_in_child(target: Callable[..., Any], args: tuple[Any, ...], deadline_s: float) -> ChildOutcome:
    """``target(*args)`` in a fresh process from the forkserver, killed if it has not answered by ``deadline_s``.

    ``target`` must be a module-level function; its arguments and result cross a pipe (pickled)."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=_child_main, args=(target, args, sender))
    process.start()
    sender.close()
    outcome: tuple[str, Any] | None = None
    timed_out = False
    try:
        if receiver.poll(deadline_s):
            outcome = receiver.recv()
        else:
            timed_out = True
    except (EOFError, OSError):
        outcome = None  # the child died without an answer
    finally:
        if process.is_alive():
            process.kill()
        process.join(timeout=5)
        receiver.close()
    if outcome is None:
        return ChildOutcome("timeout" if timed_out else "died", exitcode=process.exitcode)
    kind, payload = outcome
    return ChildOutcome("ok" if kind == "ok" else "error", payload, process.exitcode)


def _solve_child(problem_json: str, options_json: str) -> DispatchResult:
    return solve(DispatchProblem.model_validate_json(problem_json), SolveOptions.model_validate_json(options_json))


def run_with_deadline(problem: DispatchProblem, options: SolveOptions, deadline_s: float) -> DispatchResult:
    """The solver's result, or the rule-based fallback if the child fails, dies or is still running at the deadline."""
    outcome = run_in_child(_solve_child, (problem.model_dump_json(), options.model_dump_json()), deadline_s)
    if outcome.kind == "ok":
        return outcome.payload
    if outcome.kind == "timeout":
        reason = f"solve killed at its {deadline_s:g} s deadline"
    elif outcome.kind == "died":
        reason = f"solver process died (exit code {outcome.exitcode})"
    else:
        reason = f"solver process failed: {outcome.payload}"
    return _fallback(problem, reason)


async def solve_off_loop(
    problem: DispatchProblem, options: SolveOptions, deadline_s: float, slots: SolveSlots
) -> DispatchResult:
    """Solves in a child process; raises :class:`SolverBusyError` when every slot is taken."""
    return await call_off_loop(slots, run_with_deadline, problem, options, deadline_s)


async def call_off_loop(slots: SolveSlots, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a worker thread while holding a solver slot (:class:`SolverBusyError` if none)."""
    slots.acquire()
    try:
        return await asyncio.to_thread(function, *args)
    finally:
        slots.release()
