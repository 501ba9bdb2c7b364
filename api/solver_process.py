"""Solves off the event loop, in a child process with a hard deadline and a memory limit, under a concurrency
limit with a short queue.

Each solve runs in a fresh process forked from a forkserver that has the
optimiser pre-imported, so a hung, crashed or bloated solve can be killed without
harming the service; the caller then answers with the rule-based fallback. The child's address space is capped
(``RLIMIT_AS``), so a run that needs more memory than the server gives it fails with a ``MemoryError`` in the child
(reported as ``ChildOutcome("memory")``), never in the service. When every slot is busy a request waits in a short
queue (:class:`SolveSlots`), without blocking the event loop, before it is refused with a Retry-After computed from
the queue and the recent solve times.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing as mp
import resource
import threading
import time
from collections import deque
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
    """Raised when no solver slot is free: the queue is full, or the wait for a slot ran out.

    ``retry_after_s``: when a slot is likely free again [s], from the queue and the recent solve times."""

    def __init__(self, retry_after_s: int, reason: str = "all solver slots are busy") -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s
        self.reason = reason


class ProblemBuildError(Exception):
    """The problem validated but no model (not even the rule-based fallback) can be built from it."""


def _fallback(problem: DispatchProblem, reason: str) -> DispatchResult:
    try:
        return fallback(problem, reason)
    except ValueError as error:  # e.g. two grid connections: the site is wrong, not the server
        raise ProblemBuildError(f"{error} ({reason})") from error


@dataclass(eq=False)
class _Waiter:
    """A request queued for a slot: woken on its own event loop when a released slot is handed to it."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]
    granted: bool = False


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


RECENT_SOLVES = 20
"""Solve times the Retry-After estimate averages over."""


class SolveSlots:
    """At most ``limit`` solves at once; when all are busy, up to ``max_queue`` requests wait in order, each up to
    ``wait_s`` [s], for a slot (:meth:`wait`, without blocking the event loop); the others are refused at once.

    A refusal carries a Retry-After [s]: the requests ahead of a new one (queued, plus the one it would wait for)
    times the mean of the last :data:`RECENT_SOLVES` slot holding times (``typical_solve_s`` before any), shared
    by the ``limit`` slots, at least 1 s. A released slot passes straight to the first waiter, so a newcomer never
    overtakes the queue."""

    def __init__(self, limit: int, max_queue: int = 0, wait_s: float = 0.0, typical_solve_s: float = 5.0) -> None:
        self.limit = limit
        self.max_queue = max_queue
        self.wait_s = wait_s
        self.typical_solve_s = typical_solve_s
        self._active = 0
        self._waiters: deque[_Waiter] = deque()
        self._held_s: deque[float] = deque(maxlen=RECENT_SOLVES)
        self._lock = threading.Lock()

    @property
    def queued(self) -> int:
        """Requests waiting for a slot now."""
        return len(self._waiters)

    def retry_after_s(self) -> int:
        """Seconds until a slot is likely free for a request that came now (at least 1)."""
        with self._lock:
            return self._retry_after_locked()

    def _retry_after_locked(self) -> int:
        mean_s = sum(self._held_s) / len(self._held_s) if self._held_s else self.typical_solve_s
        return max(1, math.ceil((len(self._waiters) + 1) * mean_s / self.limit))

    def acquire(self) -> None:
        """Takes a slot now, or raises :class:`SolverBusyError` (no waiting: for callers outside an event loop)."""
        with self._lock:
            if self._active >= self.limit or self._waiters:
                raise SolverBusyError(self._retry_after_locked())
            self._active += 1

    async def wait(self) -> None:
        """Takes a slot, waiting up to ``wait_s`` in the queue; :class:`SolverBusyError` when the queue is full or
        the wait runs out."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._active < self.limit and not self._waiters:
                self._active += 1
                return
            if len(self._waiters) >= self.max_queue or self.wait_s <= 0:
                raise SolverBusyError(self._retry_after_locked(), f"all solver slots are busy, {self.queued} queued")
            waiter = _Waiter(loop, loop.create_future())
            self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter.future, self.wait_s)
        except TimeoutError:
            with self._lock:
                if waiter.granted:  # handed a slot as the wait ran out: it is this request's
                    return
                self._waiters.remove(waiter)
                retry_after = self._retry_after_locked()
            raise SolverBusyError(retry_after, f"no solver slot was free within {self.wait_s:g} s") from None
        except BaseException:  # cancelled (the client left): give the slot on, or leave the queue
            with self._lock:
                if waiter.granted:
                    self._release_locked()
                else:
                    self._waiters.remove(waiter)
            raise

    def release(self, held_s: float | None = None) -> None:
        """Frees a slot (to the first waiter, if any); ``held_s``: how long it was held [s], for Retry-After."""
        with self._lock:
            if held_s is not None:
                self._held_s.append(held_s)
            self._release_locked()

    def _release_locked(self) -> None:
        if self._waiters:
            waiter = self._waiters.popleft()
            waiter.granted = True
            waiter.loop.call_soon_threadsafe(_wake, waiter.future)
            return
        self._active -= 1


@dataclass
class ChildOutcome:
    """How a child process ended: ``ok`` (payload: its return value), ``error`` (payload: the message),
    ``memory`` (a ``MemoryError`` at the child's memory limit; payload: the message), ``timeout`` (killed at the
    deadline) or ``died`` (exited without an answer, e.g. a segfault)."""

    kind: Literal["ok", "error", "memory", "timeout", "died"]
    payload: Any = None
    exitcode: int | None = None


def _limit_memory(memory_mb: int | None) -> None:
    """Caps this process's address space at ``memory_mb`` [MB] (the soft limit: lifted again to report a
    ``MemoryError``)."""
    if memory_mb is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def _child_main(
    target: Callable[..., Any],
    args: tuple[Any, ...],
    conn: Connection,
    stream: bool,
    plugins: tuple[str, ...],
    memory_mb: int | None,
) -> None:
    """Runs ``target`` in the child (after the service's asset plug-ins) within ``memory_mb`` [MB] of address space:
    a streaming target sends its own messages through ``emit``; any other one's return value is sent as
    ``("ok", value)``. A ``MemoryError`` is reported as ``("memory", text)``, whatever else the child hits as
    ``("error", text)``."""
    try:
        _limit_memory(memory_mb)
        load_asset_plugins(plugins)
        if stream:
            target(*args, conn.send)
        else:
            conn.send(("ok", target(*args)))
    except MemoryError as error:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))  # room to say so
        conn.send(("memory", f"MemoryError: {error or 'out of memory'} (memory limit {memory_mb} MB)"))
    except BaseException as error:  # noqa: BLE001 - anything the child hits is reported to the parent
        conn.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        conn.close()


class _Child:
    """A fresh process from the forkserver running ``target``, killed on leaving the ``with`` block."""

    def __init__(
        self,
        target: Callable[..., Any],
        args: tuple[Any, ...],
        deadline_s: float,
        stream: bool,
        memory_mb: int | None = None,
    ) -> None:
        self._receiver, sender = _CONTEXT.Pipe(duplex=False)
        child_args = (target, args, sender, stream, _PLUGINS, memory_mb)
        self._process = _CONTEXT.Process(target=_child_main, args=child_args)
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


def run_in_child(
    target: Callable[..., Any], args: tuple[Any, ...], deadline_s: float, memory_mb: int | None = None
) -> ChildOutcome:
    """``target(*args)`` in a fresh process from the forkserver within ``memory_mb`` [MB] of address space (None:
    no limit), killed if it has not answered by ``deadline_s``.

    ``target`` must be a module-level function; its arguments and result cross a pipe (pickled)."""
    with _Child(target, args, deadline_s, stream=False, memory_mb=memory_mb) as child:
        message = child.receive()
    if message is None:
        return ChildOutcome("timeout" if child.timed_out else "died", exitcode=child.exitcode)
    kind, payload = message
    return ChildOutcome(kind if kind in ("ok", "memory") else "error", payload, child.exitcode)


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


def plan_with_deadline(
    site_json: str, request_json: str, options: SolveOptions, deadline_s: float, memory_mb: int | None = None
) -> Plan:
    """Compile and solve in a child process with a deadline and ``memory_mb`` [MB] of address space (None: no
    limit); the rule-based fallback when the solve fails, dies, runs out of memory or runs past the deadline.
    Raises :class:`PlanInputError` for issues of the input, :class:`ProblemBuildError` when not even a problem could
    be compiled in time."""
    problem: DispatchProblem | None = None
    reason = f"solve killed at its {deadline_s:g} s deadline"
    args = (site_json, request_json, options.model_dump_json())
    with _Child(_plan_child, args, deadline_s, stream=True, memory_mb=memory_mb) as child:
        while (message := child.receive()) is not None:
            kind, payload = message
            if kind == "problem":
                problem = DispatchProblem.model_validate_json(payload)
            elif kind == "ok":
                assert problem is not None
                return Plan(problem, payload)
            elif kind == "issues":
                raise PlanInputError(payload)
            elif kind == "memory":
                reason = f"solver process ran out of memory (its limit is {memory_mb} MB)"
                break
            else:
                reason = f"solver process failed: {payload}"
                break
        if message is None and not child.timed_out:
            reason = "solver process died"
    if problem is None:
        raise ProblemBuildError(f"no problem could be compiled ({reason})")
    return Plan(problem, _fallback(problem, reason))


async def plan_off_loop(
    site_json: str,
    request_json: str,
    options: SolveOptions,
    deadline_s: float,
    slots: SolveSlots,
    memory_mb: int | None = None,
) -> Plan:
    """:func:`plan_with_deadline` in a worker thread under a solver slot (:class:`SolverBusyError` if none comes)."""
    return await call_off_loop(slots, plan_with_deadline, site_json, request_json, options, deadline_s, memory_mb)


async def call_off_loop(slots: SolveSlots, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a worker thread while holding a solver slot, waiting in the slots' queue for one
    without blocking the event loop (:class:`SolverBusyError` if none comes)."""
    await slots.wait()
    started = time.monotonic()
    try:
        return await asyncio.to_thread(function, *args)
    finally:
        slots.release(time.monotonic() - started)
