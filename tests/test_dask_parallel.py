"""Scale-out: sweeps, variants and independent months on a real Dask LocalCluster, local processes, or here.

A LocalCluster of 2 single-threaded worker processes runs small one-day cases of the benchmark's reference site
(PV, load, battery, TOU grid): the results equal the serial run's, in the cases' order; a worker killed while it
holds a task has that task run again on the other, and every result arrives exactly once. The small-job rule keeps
a one-day compare in this process (and says so); the months of a case run apart only where nothing but the
month's peak carries.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from benchmarks.group_scaleout import write_reference_scenario
from scenarios.executors import SCHEDULER_ENV, DaskExecutor, ProcessExecutor, executor_for, local_cluster
from scenarios.loader import Case, load_scenario
from scenarios.parallel import carried_assets, months_independent, plan_tasks, run_cases

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A LocalCluster of 2 worker processes, 1 thread each, shared by the module's tests."""
    cluster = local_cluster(2)
    with distributed.Client(cluster) as connected:
        yield connected
    cluster.close()


@pytest.fixture(scope="module")
def sweep_cases(tmp_path_factory: pytest.TempPathFactory) -> list[Case]:
    """Six one-day sweep points of the reference site (battery capacity x charge power)."""
    folder = tmp_path_factory.mktemp("reference")
    return load_scenario(write_reference_scenario(folder, 1)).sweep("battery")[:6]


def _assert_same_runs(runs: list[Any], expected: list[Any]) -> None:
    assert [r.label for r in runs] == [r.label for r in expected]
    for run, serial in zip(runs, expected, strict=True):
        assert run.kpis.energy_cost_cny == pytest.approx(serial.kpis.energy_cost_cny, rel=1e-9, abs=1e-9)
        assert [d.period for d in run.days] == [d.period for d in serial.days]
        pd.testing.assert_frame_equal(run.schedule, serial.schedule, check_exact=False, atol=1e-6)


def test_cluster_results_equal_serial_in_order(client: Any, sweep_cases: list[Case]) -> None:
    serial = run_cases(sweep_cases, jobs=1, show_progress=False)
    notes: list[str] = []
    executor = DaskExecutor(client=client)
    on_cluster = run_cases(sweep_cases, executor=executor, auto_serial=False, show_progress=False, notes=notes.append)
    _assert_same_runs(on_cluster, serial)
    assert any("6 task(s)" in n and "Dask cluster" in n for n in notes), notes
    assert executor.workers == 2


def test_a_killed_worker_loses_and_doubles_nothing(client: Any, sweep_cases: list[Case]) -> None:
    serial = run_cases(sweep_cases, jobs=1, show_progress=False)
    pids: dict[str, int] = client.run(os.getpid)
    killed: dict[str, str] = {}

    def kill_a_busy_worker() -> None:
        """SIGKILL the first worker seen holding one of the run's tasks (the task is then lost with it)."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not killed:
            for address, keys in client.processing().items():
                ours = [k for k in keys if str(k).startswith("dispatch-")]
                if ours and address in pids:
                    os.kill(pids[address], signal.SIGKILL)
                    killed.update(address=address, key=str(ours[0]))
                    return
            time.sleep(0.005)

    killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
    killer.start()
    executor = DaskExecutor(client=client)
    on_cluster = run_cases(sweep_cases, executor=executor, auto_serial=False, show_progress=False)
    killer.join(timeout=20)
    assert killed, "no worker was seen holding a task"
    _assert_same_runs(on_cluster, serial)  # all six, in order, equal to serial
    assert len({r.label for r in on_cluster}) == len(sweep_cases)  # each exactly once
    story = client.run_on_scheduler(lambda dask_scheduler: [t[2] for t in dask_scheduler.story(killed["key"])])
    assert story.count("processing") >= 2, story  # the killed worker's task was assigned again


def test_small_job_stays_here_and_says_so(sweep_cases: list[Case]) -> None:
    notes: list[str] = []
    runs = run_cases(sweep_cases[:3], jobs=2, show_progress=False, notes=notes.append)
    assert len(runs) == 3
    assert any(n.startswith("ran in this process: a small job (3 task(s)") for n in notes), notes


def test_process_pool_results_equal_serial(sweep_cases: list[Case]) -> None:
    serial = run_cases(sweep_cases[:2], jobs=1, show_progress=False)
    pooled = run_cases(sweep_cases[:2], executor=ProcessExecutor(2), auto_serial=False, show_progress=False)
    _assert_same_runs(pooled, serial)


def test_executor_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    assert executor_for(1, None) is None
    assert isinstance(executor_for(2, None), ProcessExecutor)
    cluster = executor_for(3, "local")
    assert isinstance(cluster, DaskExecutor) and cluster.workers == 3
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://scheduler.example:8786")
    remote = executor_for(None, None)
    assert isinstance(remote, DaskExecutor) and remote.address == "tcp://scheduler.example:8786"
    assert isinstance(executor_for(2, None), ProcessExecutor)  # --jobs alone means local processes


def _stateless_case(folder: Path) -> Case:
    """A grid with a demand charge, PV and a load over 30 January to 2 February: only the month's peak carries."""
    document = {
        "name": "stateless",
        "site": {
            "name": "stateless",
            "tz": "Asia/Shanghai",
            "assets": [
                {
                    "kind": "grid",
                    "name": "grid",
                    "import_limit_kw": 2000,
                    "export_limit_kw": 0,
                    "demand_charge_cny_per_kw_month": 30,
                    "tariff": {"preset": "liaoning", "flat_price_cny_per_kwh": 0.6},
                },
                {"kind": "pv", "name": "pv", "available_kw": "$inputs.pv"},
                {"kind": "load", "name": "load", "power_kw": "$inputs.load"},
            ],
        },
        "horizon": {"start": "2026-01-30", "days": 4, "step_minutes": 60},
        "inputs": {
            "pv": {"values": [0] * 7 + [100, 300, 500, 600, 650, 650, 600, 500, 300, 100] + [0] * 7},
            "load": {"values": [300] * 8 + [700] * 10 + [300] * 6},
        },
    }
    path = folder / "stateless.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return load_scenario(path).base()


def test_independent_months_run_apart_exactly(client: Any, sweep_cases: list[Case], tmp_path: Path) -> None:
    case = _stateless_case(tmp_path)
    assert carried_assets(case) == [] and months_independent(case)
    assert carried_assets(sweep_cases[0]) == ["battery"] and not months_independent(sweep_cases[0])
    tasks, notes = plan_tasks([case], split_months=False, parallel=True)
    assert [[p.dates[0] for p in t.periods] for t in tasks] == [
        [dt.date(2026, 1, 30), dt.date(2026, 1, 31)],
        [dt.date(2026, 2, 1), dt.date(2026, 2, 2)],
    ]
    assert "independent (exact)" in notes[0]
    assert len(plan_tasks([case], split_months=False, parallel=False)[0]) == 1  # serial: one task
    (serial,) = run_cases([case], jobs=1, show_progress=False)
    (apart,) = run_cases([case], executor=DaskExecutor(client=client), auto_serial=False, show_progress=False)
    _assert_same_runs([apart], [serial])
    assert apart.kpis.cost_cny_by_component.get("demand_charge") == pytest.approx(
        serial.kpis.cost_cny_by_component.get("demand_charge")
    )


def test_a_long_stateful_case_says_its_days_run_in_sequence(sweep_cases: list[Case]) -> None:
    from scenarios.pipeline import with_dates

    long_case = with_dates(sweep_cases[0], dt.date(2026, 1, 30), dt.date(2026, 2, 2))
    tasks, notes = plan_tasks([long_case], split_months=False, parallel=True)
    assert len(tasks) == 1
    assert "the days run in sequence" in notes[0] and "battery" in notes[0]
    tasks, notes = plan_tasks([long_case], split_months=True, parallel=True)
    assert len(tasks) == 2 and "an approximation for battery" in notes[0]
