"""A short wait instead of a refusal (issue 16): requests queue for a solver slot, without blocking the event loop,
and are refused only past the queue's length or wait, with a Retry-After computed from the queue and recent solves.

The slots on their own (:class:`api.solver_process.SolveSlots`, in an event loop), then a real uvicorn server."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from api.solver_process import SolverBusyError, SolveSlots
from tests.api_fixtures import DAY, HEADERS, Server, small_site

WEEK = {"horizon": {"start": "2026-07-13T00:00:00+08:00", "n_steps": 7 * 96}}


# --- the slots --------------------------------------------------------------------------------------------------


def test_a_request_waits_for_a_slot_and_the_event_loop_keeps_running() -> None:
    async def scenario() -> tuple[float, int]:
        slots = SolveSlots(1, max_queue=4, wait_s=5.0)
        slots.acquire()  # a solve in progress
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        async def waiting() -> float:
            started = time.monotonic()
            await slots.wait()
            return time.monotonic() - started

        ticking = asyncio.create_task(ticker())
        waiter = asyncio.create_task(waiting())
        await asyncio.sleep(0.3)
        assert slots.queued == 1
        threading.Thread(target=slots.release, args=(2.0,)).start()  # a worker thread ends its solve
        waited = await waiter
        ticking.cancel()
        assert slots.queued == 0
        slots.release()
        return waited, ticks

    waited, ticks = asyncio.run(scenario())
    assert 0.25 < waited < 3.0
    assert ticks >= 10  # the loop ran other work while the request waited


def test_slots_pass_in_order_and_a_full_queue_is_refused_at_once_with_a_computed_retry_after() -> None:
    async def scenario() -> list[str]:
        slots = SolveSlots(2, max_queue=2, wait_s=5.0, typical_solve_s=5.0)
        slots.acquire()
        slots.acquire()
        order: list[str] = []

        async def queued(name: str) -> None:
            await slots.wait()
            order.append(name)

        first, second = asyncio.create_task(queued("first")), asyncio.create_task(queued("second"))
        await asyncio.sleep(0.05)
        assert slots.queued == 2
        started = time.monotonic()
        with pytest.raises(SolverBusyError) as busy:
            await slots.wait()
        assert time.monotonic() - started < 0.1  # no wait past a full queue
        assert busy.value.retry_after_s == 8  # (2 queued + 1) x 5 s assumed / 2 slots, rounded up
        with pytest.raises(SolverBusyError):
            slots.acquire()  # a newcomer never overtakes the queue
        slots.release(held_s=3.0)
        slots.release(held_s=6.0)
        await asyncio.gather(first, second)
        assert slots.retry_after_s() == 3  # nobody queued: 1 x the mean of 3 s and 6 s / 2 slots, rounded up
        slots.release()
        slots.release()
        slots.acquire()  # both slots free again
        slots.acquire()
        return order

    assert asyncio.run(scenario()) == ["first", "second"]


def test_a_wait_that_runs_out_or_is_cancelled_leaves_the_queue() -> None:
    async def scenario() -> None:
        slots = SolveSlots(1, max_queue=4, wait_s=0.2, typical_solve_s=3.0)
        slots.acquire()
        started = time.monotonic()
        with pytest.raises(SolverBusyError, match=r"no solver slot was free within 0\.2 s") as busy:
            await slots.wait()
        assert 0.15 < time.monotonic() - started < 2.0
        assert busy.value.retry_after_s == 3 and slots.queued == 0
        slots.wait_s = 5.0
        leaving = asyncio.create_task(slots.wait())
        await asyncio.sleep(0.05)
        leaving.cancel()  # the client went away
        with pytest.raises(asyncio.CancelledError):
            await leaving
        assert slots.queued == 0
        slots.release()
        slots.acquire()  # the slot was not lost to the cancelled waiter
        slots.release()

    asyncio.run(scenario())


def test_no_queue_refuses_at_once() -> None:
    async def scenario() -> None:
        slots = SolveSlots(1, max_queue=0, wait_s=5.0, typical_solve_s=4.0)
        await slots.wait()
        with pytest.raises(SolverBusyError) as busy:
            await slots.wait()
        assert busy.value.retry_after_s == 4
        slots.release()

    asyncio.run(scenario())


# --- a real server ------------------------------------------------------------------------------------------------


def _site(server: Server) -> int:
    response = httpx.post(f"{server.url}/v1/sites", json=small_site(pv_kw=0.0), headers=HEADERS, timeout=30)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _concurrently(server: Server, site_id: int, bodies: list[dict]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(bodies))

    def call(body: dict) -> httpx.Response:
        with httpx.Client(base_url=server.url, timeout=300) as client:
            barrier.wait()
            return client.post(f"/v1/sites/{site_id}/dispatch", json=body, headers=HEADERS)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(call, bodies))


def test_twenty_concurrent_dispatches_on_two_slots_all_get_a_plan(tmp_path: Path) -> None:
    env = {"DISPATCH_MAX_CONCURRENT_SOLVES": "2", "DISPATCH_MAX_QUEUE": "20", "DISPATCH_QUEUE_WAIT_S": "240"}
    with Server(tmp_path / "queue.sqlite", tmp_path / "server.log", env=env) as server:
        site_id = _site(server)
        probes: list[float] = []

        def probe() -> None:  # while requests queue, the server answers at once
            time.sleep(1.0)
            started = time.monotonic()
            assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200
            probes.append(time.monotonic() - started)

        prober = threading.Thread(target=probe)
        prober.start()
        responses = _concurrently(server, site_id, [{"date": DAY}] * 20)
        prober.join()
    statuses = Counter(r.status_code for r in responses)
    assert statuses == Counter({201: 20}), [r.text for r in responses if r.status_code != 201][:3]
    assert probes and probes[0] < 2.0


def test_past_the_queue_limit_a_503_with_retry_after_from_the_queue(tmp_path: Path) -> None:
    env = {
        "DISPATCH_MAX_CONCURRENT_SOLVES": "1",
        "DISPATCH_MAX_QUEUE": "1",
        "DISPATCH_QUEUE_WAIT_S": "240",
        "DISPATCH_RETRY_AFTER_S": "7",  # the solve time assumed until one has been timed
    }
    with Server(tmp_path / "full.sqlite", tmp_path / "server.log", env=env) as server:
        site_id = _site(server)
        responses = _concurrently(server, site_id, [WEEK] * 6)  # a week: each solve outlasts the arrivals
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {201, 503} and statuses[201] >= 2 and statuses[503] >= 1, statuses
    retry_after = [int(r.headers["Retry-After"]) for r in responses if r.status_code == 503]
    assert all(seconds >= 1 for seconds in retry_after)
    assert 14 in retry_after, retry_after  # (1 queued + 1) x 7 s / 1 slot, while the first solve runs
