"""A real uvicorn server on 127.0.0.1: SIGKILL during writes loses nothing acknowledged and leaves nothing partial;
20 parallel dispatch calls get only 201/200/503 and leave exactly one schedule per idempotency key."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from api.models import IdempotencyRecord, ScheduleRecord, ScheduleRowRecord
from tests.api_fixtures import DAY, HEADERS, Server, small_site
from tests.databases import assert_integrity, database_url

WEEK = {"horizon": {"start": "2026-07-13T00:00:00+08:00", "n_steps": 7 * 96}}  # 672 rows per schedule


def _create_site(server: Server) -> int:
    site = small_site(pv_kw=0.0)  # constant series fit any horizon
    response = httpx.post(f"{server.url}/v1/sites", json=site, headers=HEADERS, timeout=30)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _check_database(db_path: Path) -> dict[int, int]:
    """Every schedule has all its rows, every idempotency key points at a schedule; ``{id: n_steps}``."""
    engine = create_engine(database_url(db_path))
    try:
        with Session(engine) as session:
            assert_integrity(session.connection())
            counts = dict(
                session.execute(
                    select(ScheduleRowRecord.schedule_id, func.count()).group_by(ScheduleRowRecord.schedule_id)
                ).all()
            )
            schedules = {s.id: s for s in session.scalars(select(ScheduleRecord))}
            for schedule in schedules.values():  # no partial schedule
                assert counts.get(schedule.id, 0) == schedule.n_steps, (schedule.id, counts.get(schedule.id))
                assert schedule.response["schedule_id"] == schedule.id
                assert len(schedule.response["schedule"]) == schedule.n_steps
            assert set(counts) <= set(schedules), "rows without a schedule"
            for key in session.scalars(select(IdempotencyRecord)):
                assert key.schedule_id in schedules
            return {s.id: s.n_steps for s in schedules.values()}
    finally:
        engine.dispose()


class Firehose:
    """Worker threads posting dispatch requests (each with its own Idempotency-Key) until the server dies."""

    def __init__(self, server: Server, site_id: int, prefix: str, workers: int = 4) -> None:
        self.server, self.site_id, self.prefix = server, site_id, prefix
        self.acknowledged: dict[int, int] = {}  # schedule id -> n_steps, from 201/200 answers
        self.sent: dict[str, dict[str, Any]] = {}  # key -> request
        self.cut: list[str] = []  # keys whose request died with the server
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(w,)) for w in range(workers)]
        for thread in self._threads:
            thread.start()

    def _run(self, worker: int) -> None:
        with httpx.Client(base_url=self.server.url, timeout=60) as client:
            for i in range(10_000):
                if self._stop.is_set():
                    return
                key = f"{self.prefix}-w{worker}-{i}"
                body = WEEK if i % 2 else {"date": DAY}
                with self._lock:
                    self.sent[key] = {"site_id": self.site_id, "body": body}
                try:
                    response = client.post(
                        f"/v1/sites/{self.site_id}/dispatch", json=body, headers={**HEADERS, "Idempotency-Key": key}
                    )
                except httpx.HTTPError:
                    with self._lock:
                        self.cut.append(key)
                    return
                if response.status_code in (200, 201):
                    out = response.json()
                    with self._lock:
                        self.acknowledged[out["schedule_id"]] = len(out["schedule"])
                else:
                    assert response.status_code == 503, response.text

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def test_sigkill_during_writes_loses_no_acknowledged_schedule(tmp_path: Path) -> None:
    db_path = tmp_path / "kill.sqlite"
    acknowledged: dict[int, int] = {}
    sent: dict[str, dict[str, Any]] = {}
    rng = random.Random(7)
    for round_ in range(2):
        with Server(db_path, tmp_path / "server.log", env={"DISPATCH_MAX_CONCURRENT_SOLVES": "4"}) as server:
            hose = Firehose(server, _create_site(server), prefix=f"round{round_}")
            deadline = time.monotonic() + 30
            while len(hose.acknowledged) < 6 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 0.3))  # somewhere in the middle of the next solves and writes
            server.kill()
            hose.stop()
        assert len(hose.acknowledged) >= 6, "the server acknowledged too few schedules before the kill"
        assert hose.cut, "no request was in flight when the server was killed"
        acknowledged.update(hose.acknowledged)
        sent.update(hose.sent)

        stored = _check_database(db_path)  # straight after the kill, before any restart
        missing = {sid: n for sid, n in acknowledged.items() if stored.get(sid) != n}
        assert not missing, f"acknowledged schedules lost or incomplete after SIGKILL: {missing}"

    with Server(db_path, tmp_path / "server.log") as server, httpx.Client(base_url=server.url, timeout=60) as client:
        for schedule_id, n_steps in list(acknowledged.items())[:5]:  # readable after a restart
            response = client.get(f"/v1/schedules/{schedule_id}", headers=HEADERS)
            assert response.status_code == 200
            assert len(response.json()["schedule"]) == n_steps
        for key, request in sent.items():  # retry everything sent: replayed or stored now, exactly once
            url, headers = f"/v1/sites/{request['site_id']}/dispatch", {**HEADERS, "Idempotency-Key": key}
            response = client.post(url, json=request["body"], headers=headers)
            while response.status_code == 503:
                time.sleep(0.2)
                response = client.post(url, json=request["body"], headers=headers)
            assert response.status_code in (200, 201), response.text
    _check_database(db_path)
    engine = create_engine(database_url(db_path))
    with Session(engine) as session:
        assert sorted(session.scalars(select(IdempotencyRecord.key))) == sorted(sent)
        assert len(set(session.scalars(select(IdempotencyRecord.schedule_id)))) == len(sent)
    engine.dispose()


def test_parallel_dispatch_calls_are_bounded_and_stored_once_per_key(tmp_path: Path) -> None:
    db_path = tmp_path / "parallel.sqlite"
    # no queue: refusals and retries (the queue itself: tests/test_solver_queue.py)
    env = {"DISPATCH_MAX_CONCURRENT_SOLVES": "2", "DISPATCH_RETRY_AFTER_S": "1", "DISPATCH_MAX_QUEUE": "0"}
    keys = [f"parallel-{i}" for i in range(10)] * 2  # 20 calls: every key sent twice at the same time
    with Server(db_path, tmp_path / "server.log", env=env) as server:
        site_id = _create_site(server)
        barrier = threading.Barrier(len(keys))

        def call(key: str) -> httpx.Response:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                barrier.wait()
                return client.post(
                    f"/v1/sites/{site_id}/dispatch", json={"date": DAY}, headers={**HEADERS, "Idempotency-Key": key}
                )

        with ThreadPoolExecutor(max_workers=len(keys)) as pool:
            first = list(pool.map(call, keys))
        statuses = Counter(r.status_code for r in first)
        assert set(statuses) <= {200, 201, 503}, statuses
        assert statuses[503] >= 1, f"20 parallel calls on 2 solver slots were never refused: {statuses}"
        for response in first:
            if response.status_code == 503:
                assert int(response.headers["Retry-After"]) >= 1  # from the queue and the solves timed

        answers: dict[str, list[int]] = {}
        pending = []
        for key, response in zip(keys, first, strict=True):
            if response.status_code == 503:
                pending.append(key)
            else:
                answers.setdefault(key, []).append(response.json()["schedule_id"])
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for _ in range(100):  # retry the refused ones, honouring Retry-After
                if not pending:
                    break
                time.sleep(1)
                retry = []
                for key in pending:
                    response = client.post(
                        f"/v1/sites/{site_id}/dispatch", json={"date": DAY}, headers={**HEADERS, "Idempotency-Key": key}
                    )
                    assert response.status_code in (200, 201, 503), response.text
                    if response.status_code == 503:
                        retry.append(key)
                    else:
                        answers.setdefault(key, []).append(response.json()["schedule_id"])
                pending = retry
        assert not pending

    for key, ids in answers.items():  # both calls of a key got the same schedule
        assert len(ids) == 2 and len(set(ids)) == 1, (key, ids)
    stored = _check_database(db_path)
    assert len(stored) == 10  # exactly one schedule per key
    engine = create_engine(database_url(db_path))
    with Session(engine) as session:
        by_key = dict(session.execute(select(IdempotencyRecord.key, IdempotencyRecord.schedule_id)).all())
    engine.dispose()
    assert by_key == {key: ids[0] for key, ids in answers.items()}
