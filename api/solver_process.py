"""Solves off the event loop, in a child process with a hard deadline, under a concurrency limit.

Each solve runs in a fresh process forked from a forkserver that has the
optimiser pre-imported, so a hung or crashed solve can be killed without
harming the service; the caller then answers with the rule-based fallback.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import threading
from multiprocessing.connection import Connection
from typing import Any

from optimizer import DispatchProblem, DispatchResult, SolveOptions, fallback, solve

_CONTEXT = mp.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["optimizer", "scenarios.ems"])


class SolverBusyError(Exception):
    """Raised when the concurrency limit is reached."""


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


def _child(problem_json: str, options_json: str, conn: Connection) -> None:
    try:
        result = solve(
            DispatchProblem.model_validate_json(problem_json), SolveOptions.model_validate_json(options_json)
        )
        conn.send(("ok", result))
    except BaseException as error:  # noqa: BLE001 - anything the child hits is reported, then fallback
        conn.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        conn.close()


def _run_with_deadline(problem: DispatchProblem, options: SolveOptions, deadline_s: float) -> DispatchResult:
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=_child, args=(problem.model_dump_json(), options.model_dump_json(), sender))
    process.start()
    sender.close()
    outcome: tuple[str, Any] | None = None
    try:
        if receiver.poll(deadline_s):
            outcome = receiver.recv()
    except (EOFError, OSError):
        outcome = None
    finally:
        if process.is_alive():
            process.kill()
        process.join(timeout=5)
        receiver.close()
    if outcome is None:
        reason = (
            f"solve killed at its {deadline_s:.0f} s deadline"
            if process.exitcode in (None, -9)
            else f"solver process died (exit code {process.exitcode})"
        )
        return fallback(problem, reason)
    kind, payload = outcome
    if kind == "ok":
        return payload
    return fallback(problem, f"solver process failed: {payload}")


async def solve_off_loop(
    problem: DispatchProblem, options: SolveOptions, deadline_s: float, slots: SolveSlots
) -> DispatchResult:
    """Solves in a child process; raises :class:`SolverBusyError` when every slot is taken."""
    slots.acquire()
    try:
        return await asyncio.to_thread(_run_with_deadline, problem, options, deadline_s)
    finally:
        slots.release()
