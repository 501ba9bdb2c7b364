"""Where the runs of a command execute when they go parallel: local processes or a Dask cluster.

:mod:`scenarios.parallel` cuts a command's work into tasks (a case, or a part of a case's days: one month of a
split run) and runs them in this process first; when what is left is worth it, it hands the tasks not started yet
to one of these executors (:func:`executor_for`):

- :class:`ProcessExecutor`: a pool of ``--jobs`` local processes started from a forkserver (``--jobs N``);
- :class:`DaskExecutor`: a ``dask.distributed`` client, on an existing cluster (``--cluster tcp://host:8786`` or
  :data:`SCHEDULER_ENV`) or on a ``LocalCluster`` of ``--jobs`` single-threaded worker processes
  (``--cluster local``). ``distributed`` is imported only here, when a cluster is asked for.

An executor runs a *task function* ``fn(task)`` (pure: its output depends on the task only, and it writes
nothing) on each task and returns the outputs by the task's ``key``. Each output is kept once: a task whose worker
dies is run again by the scheduler (Dask) and its output replaces nothing, it fills its key; a key already filled
is never counted again, so no result is lost or doubled. The tasks carry what they need (the validated case, its
periods): a remote cluster's workers need this package installed and the scenario's input files at the same paths.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import multiprocessing
import os
import queue as queue_module
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from distributed import Client, Future

SCHEDULER_ENV = "DISPATCH_DASK_SCHEDULER"
"""Environment variable with the Dask scheduler to use when ``--cluster`` is not given (an address, or ``local``)."""
LOCAL_CLUSTER = "local"
"""``--cluster local``: a ``LocalCluster`` of ``--jobs`` worker processes (default one per core), made for the run."""

Advance = Callable[[int, int], None]
"""Progress: ``advance(case_index, days)`` when days of a case are done."""


class ClusterError(RuntimeError):
    """The Dask scheduler asked for cannot be reached (or ``distributed`` is not installed)."""


class Task(Protocol):
    """What an executor needs of a task: a unique key, the case it belongs to and how many days it runs."""

    @property
    def key(self) -> str: ...

    @property
    def case_index(self) -> int: ...

    @property
    def days(self) -> int: ...


class Executor(Protocol):
    """Runs tasks elsewhere than this process; results by task key.

    ``submit`` returns at once (this process keeps working), ``poll`` forwards progress and collects what is done
    without waiting, ``gather`` waits for every submitted task. ``close`` stops what the executor started.
    """

    label: str
    """What it is, for the command's output: ``2 local processes``, ``the Dask cluster at tcp://...``."""
    startup_s: float
    """About what starting it costs before the first task runs there [s] (the small-job rule weighs it)."""
    workers: int
    """Tasks it runs at once."""

    def submit(self, fn: Callable[[Any], Any], tasks: Sequence[Task]) -> None: ...

    def poll(self, advance: Advance) -> None: ...

    def gather(self, advance: Advance) -> dict[str, Any]: ...

    def close(self) -> None: ...


def scheduler_address(cluster: str | None, jobs: int | None = None) -> str | None:
    """The Dask scheduler asked for: ``cluster`` (``--cluster``); else :data:`SCHEDULER_ENV` unless ``jobs``
    (``--jobs``, local processes) is given; else None."""
    if cluster is not None and cluster.strip():
        return cluster.strip()
    if jobs is not None:
        return None
    return os.environ.get(SCHEDULER_ENV, "").strip() or None


def executor_for(jobs: int | None, cluster: str | None) -> Executor | None:
    """The executor for ``--jobs`` and ``--cluster`` (without either, :data:`SCHEDULER_ENV`); None when the run
    stays in this process (``--jobs 1`` without a cluster, or a machine with one core). ``--jobs`` with
    ``--cluster local`` sizes the LocalCluster; alone it means local processes. Nothing starts until tasks are
    submitted."""
    address = scheduler_address(cluster, jobs)
    if address is not None:
        return DaskExecutor(address, workers=jobs)
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    return ProcessExecutor(workers) if workers > 1 else None


# --- local processes ---------------------------------------------------------------------------------------------

_progress_queue: Any = None
"""A pool worker's queue for day ticks (set by :func:`_init_worker`)."""


def _init_worker(progress: Any) -> None:
    global _progress_queue
    _progress_queue = progress


def _tick(case_index: int) -> Callable[[int], None]:
    def tick(n: int) -> None:
        if _progress_queue is not None:
            _progress_queue.put((case_index, n))

    return tick


def _run_in_pool(fn: Callable[..., Any], task: Any) -> Any:
    return fn(task, _tick(task.case_index))


class ProcessExecutor:
    """A pool of local processes from a forkserver, with day-by-day progress through a queue.

    forkserver: workers start from a clean process (forking a process whose HiGHS threads are running could
    deadlock), with the pipeline's imports loaded once in the server. The task function gets a second argument,
    ``progress(days)``, which reaches :meth:`poll` and :meth:`gather` as ``advance(case_index, days)``.
    """

    STARTUP_S = 1.5
    """Starting the forkserver (importing the pipeline once) and the workers, on a small machine [s]."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self.label = f"{self.workers} local processes"
        self.startup_s = self.STARTUP_S
        self._pool: cf.ProcessPoolExecutor | None = None
        self._queue: Any = None
        self._futures: dict[cf.Future[Any], str] = {}
        self._results: dict[str, Any] = {}

    def _start(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            context = multiprocessing.get_context(method)
            if method == "forkserver":
                context.set_forkserver_preload(["scenarios.parallel"])
            self._queue = context.Queue()  # handed to each worker as it starts: no manager process
            self._pool = cf.ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context, initializer=_init_worker, initargs=(self._queue,)
            )
        return self._pool

    def submit(self, fn: Callable[[Any], Any], tasks: Sequence[Task]) -> None:
        """Queues ``tasks`` on the pool (started on first use)."""
        pool = self._start()
        for task in tasks:
            self._futures[pool.submit(_run_in_pool, fn, task)] = task.key

    def _drain(self, advance: Advance) -> None:
        while self._queue is not None:
            try:
                case_index, n = self._queue.get_nowait()
            except (queue_module.Empty, EOFError, OSError):
                return
            advance(case_index, n)

    def _collect(self, done: set[cf.Future[Any]]) -> None:
        for future in done:
            key = self._futures.pop(future)
            result = future.result()  # a task's exception (e.g. a ScenarioError) is raised here
            self._results.setdefault(key, result)

    def poll(self, advance: Advance) -> None:
        """Forwards the day ticks so far and keeps the outputs of finished tasks."""
        self._drain(advance)
        self._collect({f for f in self._futures if f.done()})

    def gather(self, advance: Advance) -> dict[str, Any]:
        """Waits for every submitted task; outputs by key."""
        while self._futures:
            done, _ = cf.wait(self._futures, timeout=0.2, return_when=cf.FIRST_COMPLETED)
            self._drain(advance)
            self._collect(done)
        self._drain(advance)
        return dict(self._results)

    def close(self) -> None:
        """Stops the pool; tasks not started are cancelled."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._queue is not None:
            with contextlib.suppress(OSError, ValueError):
                self._queue.close()
            self._queue = None


# --- Dask --------------------------------------------------------------------------------------------------------


def _slots(client: Client) -> int:
    """Tasks the cluster runs at once: its workers' threads."""
    return max(1, sum(client.nthreads().values()))


def local_cluster(workers: int) -> Any:
    """A ``LocalCluster`` of ``workers`` single-threaded worker processes (HiGHS and Pyomo hold the GIL: one task
    per process), no dashboard. Its workers start from a forkserver that has imported the pipeline once (as
    :class:`ProcessExecutor`'s do), rather than each importing it after a spawn: on 2 cores that halves the
    cluster's start-up."""
    import dask
    from distributed import LocalCluster
    from distributed.utils import get_mp_context

    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    with dask.config.set({"distributed.worker.multiprocessing-method": method}):
        if method == "forkserver":
            get_mp_context().set_forkserver_preload(["distributed", "scenarios.parallel"])  # after distributed's own
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        )


class DaskExecutor:
    """Tasks on a ``dask.distributed`` cluster: ``address`` (``tcp://host:8786``), or ``local`` for a
    ``LocalCluster`` of ``workers`` single-threaded processes (default one per core) made for the run; or an
    existing ``client`` (tests, notebooks), which :meth:`close` leaves open.

    Each task is submitted under its own key (the run's id, the case, the part): the scheduler runs it again if
    its worker dies, and its output is kept once. Progress is per task (its days when it ends).
    """

    LOCAL_STARTUP_S = 3.0
    """Starting a LocalCluster: the scheduler and the worker processes, each importing the pipeline [s]."""
    REMOTE_STARTUP_S = 1.0
    """Connecting to a running scheduler [s] (its workers import the pipeline with their first task)."""

    def __init__(self, address: str | None = None, *, workers: int | None = None, client: Client | None = None):
        if (address is None) == (client is None):
            raise ValueError("give a scheduler address (or 'local') or a client, one of them")
        self.address = address
        self._client = client
        self._cluster: Any = None
        self._owns_client = client is None
        local = address == LOCAL_CLUSTER
        self.workers = max(1, workers if workers is not None else (os.cpu_count() or 1)) if local else 0
        if client is not None:
            self.workers = _slots(client)
            self.label = f"a Dask cluster ({self.workers} worker threads)"
        elif local:
            self.label = f"a local Dask cluster ({self.workers} worker processes)"
        else:
            self.label = f"the Dask cluster at {address}"
        self.startup_s = self.LOCAL_STARTUP_S if local else self.REMOTE_STARTUP_S
        self._run_id = uuid.uuid4().hex[:10]
        self._futures: dict[str, tuple[Future, Task]] = {}
        self._results: dict[str, Any] = {}

    @property
    def client(self) -> Client:
        """The client, connected (and the LocalCluster started) on first use."""
        if self._client is None:
            try:
                from distributed import Client
            except ImportError as error:
                raise ClusterError(f"--cluster needs dask.distributed: pip install distributed ({error})") from error
            if self.address == LOCAL_CLUSTER:
                self._cluster = local_cluster(self.workers)
                self._client = Client(self._cluster)
            else:
                try:
                    self._client = Client(self.address, timeout="30s")
                except (OSError, TimeoutError, ValueError) as error:
                    raise ClusterError(f"cannot reach the Dask scheduler at {self.address}: {error}") from error
                self.workers = _slots(self._client)
                self.label = f"the Dask cluster at {self.address} ({self.workers} worker threads)"
        return self._client

    def key(self, task: Task) -> str:
        """The task's key on the cluster: unique to this run, the same however often the task is (re)run."""
        return f"dispatch-{self._run_id}-{task.key}"

    def submit(self, fn: Callable[[Any], Any], tasks: Sequence[Task]) -> None:
        """Sends ``tasks`` to the cluster; a task submitted twice runs once (one key)."""
        client = self.client
        for task in tasks:
            key = self.key(task)
            if key in self._futures or task.key in self._results:
                continue
            self._futures[key] = (client.submit(fn, task, key=key, pure=False), task)

    def _collect(self, key: str, advance: Advance) -> None:
        future, task = self._futures.pop(key)
        result = future.result()  # a task's exception is raised here; a lost worker's task was run again
        if task.key not in self._results:  # kept once, counted once
            self._results[task.key] = result
            advance(task.case_index, task.days)
        future.release()

    def poll(self, advance: Advance) -> None:
        """Keeps the outputs of finished tasks (does not wait)."""
        for key in [k for k, (future, _) in self._futures.items() if future.done()]:
            self._collect(key, advance)

    def gather(self, advance: Advance) -> dict[str, Any]:
        """Waits for every submitted task, taking them as they finish; outputs by task key."""
        from distributed import as_completed

        for future in as_completed([future for future, _ in self._futures.values()]):
            if future.key in self._futures:
                self._collect(future.key, advance)
        return dict(self._results)

    def close(self) -> None:
        """Cancels what is left; closes the client and the LocalCluster this executor made."""
        if self._futures and self._client is not None:
            with contextlib.suppress(Exception):  # closing after an error must not hide it
                self._client.cancel([future for future, _ in self._futures.values()])
        self._futures.clear()
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
