"""Solves off the event loop, in a child process with a hard deadline, under a concurrency limit.

Each solve runs in a fresh process forked from a forkserver that has the
optimiser pre-imported, so a hung or crashed solve can be killed without
harming the service; the caller then answers with the rule-based fallback.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Literal, TypeVar

from optimizer import DispatchProblem, DispatchResult, SolveOptions, fallback, solve
from optimizer.assets import load_asset_plugins
from optimizer.errors import Issue, ProblemError, SpecError

_CONTEXT = mp.get_context("forkserver")
# Imported once in the forkserver, so each child starts warm (a missing module is skipped by multiprocessing).
# "__main__" (multiprocessing's default) too: every child re-runs the parent's main script (e.g. the `dispatch`
# or `uvicorn` console script), and that is only cheap when the forkserver has already imported what it imports.
_PRELOAD = ["__main__", "optimizer", "scenarios.ems", "scenarios.pipeline", "api.what_if", "forecasting"]
_CONTEXT.set_forkserver_preload(_PRELOAD)
_PLUGINS: tuple[str, ...] = ()
"""Asset-kind plug-ins (``module:function``) loaded in every child before its target runs."""
T = TypeVar("T")


def use_plugins(entries: list[str]) -> None:
    """Loads asset-kind plug-ins here and in every solver child; call before the forkserver starts (:func:`warm_up`),
    so that the forkserver preloads their modules too."""
    global _PLUGINS
    load_asset_plugins(entries)
    _PLUGINS = tuple(entries)
    _CONTEXT.set_forkserver_preload(_PRELOAD + [entry.partition(":")[0] for entry in entries])


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


def _child_main(
    target: Callable[..., Any], args: tuple[Any, ...], conn: Connection, stream: bool, plugins: tuple[str, ...]
) -> None:
    """Runs ``target`` in the child (after the service's asset plug-ins): a streaming target sends its own messages
    through ``emit``; any other one's return value is sent as ``("ok", value)``. Whatever the child hits is reported
    as ``("error", text)``."""
    try:
        load_asset_plugins(plugins)
        if stream:
            target(*args, conn.send)
        else:
            conn.send(("ok", target(*args)))
    except BaseException as error:  # noqa: BLE001 - anything the child hits is reported to the parent
        conn.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        conn.close()


class _Child:
    """A fresh process from the forkserver running ``target``, killed on leaving the ``with`` block."""

    def __init__(self, target: Callable[..., Any], args: tuple[Any, ...], deadline_s: float, stream: bool) -> None:
        self._receiver, sender = _CONTEXT.Pipe(duplex=False)
        self._process = _CONTEXT.Process(target=_child_main, args=(target, args, sender, stream, _PLUGINS))
        self._sender = sender
        self._deadline = time.monotonic() + deadline_s
        self.timed_out = False

    def __enter__(self) -> _Child:
        self._process.start()
        self._sender.close()
        return self

    def receive(self) -> tuple[str, Any] | None:
        """The next message, or None when the deadline passed (``timed_out``) or the child died without one."""
        try:
            left = self._deadline - time.monotonic()
            if left > 0 and self._receiver.poll(left):
                return self._receiver.recv()
        except (EOFError, OSError):
            return None
        self.timed_out = True
        return None

    @property
    def exitcode(self) -> int | None:
        return self._process.exitcode

    def __exit__(self, *_: object) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join(timeout=5)
        self._receiver.close()


def run_in_child(target: Callable[..., Any], args: tuple[Any, ...], deadline_s: float) -> ChildOutcome:
    """``target(*args)`` in a fresh process from the forkserver, killed if it has not answered by ``deadline_s``.

    ``target`` must be a module-level function; its arguments and result cross a pipe (pickled)."""
    with _Child(target, args, deadline_s, stream=False) as child:
        message = child.receive()
    if message is None:
        return ChildOutcome("timeout" if child.timed_out else "died", exitcode=child.exitcode)
    kind, payload = message
    return ChildOutcome("ok" if kind == "ok" else "error", payload, child.exitcode)


class PlanInputError(Exception):
    """The request (or the stored site) cannot make a problem: the typed issues, found in the child."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(str(i) for i in issues))
        self.issues = issues


@dataclass
class Plan:
    """A compiled problem and its result (the solver's, or the rule-based fallback)."""

    problem: DispatchProblem
    result: DispatchResult


def _plan_child(site_json: str, request_json: str, options_json: str, emit: Callable[[Any], None]) -> None:
    """Compiles (pvlib included) and solves in the child; sends the problem first, so that the parent can fall
    back to the rule-based schedule if the solve is killed."""
    from scenarios.ems import DispatchRequest, request_problem
    from scenarios.site import Site

    try:
        problem = request_problem(
            Site.model_validate_json(site_json), DispatchRequest.model_validate_json(request_json)
        )
    except ProblemError as error:
        emit(("issues", error.issues))
        return
    emit(("problem", problem.model_dump_json()))
    try:
        result = solve(problem, SolveOptions.model_validate_json(options_json))
    except SpecError as error:  # a rule that needs the whole problem (e.g. a chiller's bands without a tariff)
        emit(("issues", [error.issue()]))
        return
    emit(("ok", result))


def plan_with_deadline(site_json: str, request_json: str, options: SolveOptions, deadline_s: float) -> Plan:
    """Compile and solve in a child process with a deadline; the rule-based fallback when the solve fails, dies or
    runs past it. Raises :class:`PlanInputError` for issues of the input, :class:`ProblemBuildError` when not even
    a problem could be compiled in time."""
    problem: DispatchProblem | None = None
    reason = f"solve killed at its {deadline_s:g} s deadline"
    args = (site_json, request_json, options.model_dump_json())
    with _Child(_plan_child, args, deadline_s, stream=True) as child:
        while (message := child.receive()) is not None:
            kind, payload = message
            if kind == "problem":
                problem = DispatchProblem.model_validate_json(payload)
            elif kind == "ok":
                assert problem is not None
                return Plan(problem, payload)
            elif kind == "issues":
                raise PlanInputError(payload)
            else:
                reason = f"solver process failed: {payload}"
                break
        if message is None and not child.timed_out:
            reason = "solver process died"
    if problem is None:
        raise ProblemBuildError(f"no problem could be compiled ({reason})")
    return Plan(problem, _fallback(problem, reason))


async def plan_off_loop(
    site_json: str, request_json: str, options: SolveOptions, deadline_s: float, slots: SolveSlots
) -> Plan:
    """:func:`plan_with_deadline` in a worker thread under a solver slot (:class:`SolverBusyError` if none)."""
    return await call_off_loop(slots, plan_with_deadline, site_json, request_json, options, deadline_s)


async def call_off_loop(slots: SolveSlots, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a worker thread while holding a solver slot (:class:`SolverBusyError` if none)."""
    slots.acquire()
    try:
        return await asyncio.to_thread(function, *args)
    finally:
        slots.release()
