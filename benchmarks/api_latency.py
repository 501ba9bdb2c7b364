"""HTTP API latency and throughput: a day-ahead dispatch of the full factory on a warm server.

Starts real uvicorn servers on 127.0.0.1 (a temporary SQLite database, WAL +
synchronous=FULL as in production), creates the full-factory site
(:func:`scenarios.factory.factory_problem`), warms up, then measures:

- ``sequential``: N day-ahead calls one after the other on 1 worker: client-side
  p50/p90/p99 latency, and the server's own solve time (HiGHS in the child
  process) so the API's overhead (process start, validation, the store) shows;
  at the server's default gap (0.01 %) and at a 0.5 % gap a caller may ask for;
- ``small site``: the same for grid + load + PV + battery (the overhead floor);
- ``throughput``: N calls from 2 concurrent clients on 1 and on 2 workers
  (2 solver slots per worker, so nothing is refused): completed calls per minute.

Measured, never asserted; the target is p50 < 1 s for the full-factory day on
2 cores.

    python -m benchmarks.api_latency              # 50 calls per case (about 20 minutes on 2 cores)
    python -m benchmarks.api_latency --calls 10   # a shorter look
    python -m benchmarks.api_latency --quick      # 5 calls per case, writes api_latency_quick.* (CI)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

from benchmarks.core import RESULTS, cell, machine_info
from optimizer import BatterySpec, GridSpec, LoadSpec, PvSpec, liaoning_tou
from scenarios.factory import DEFAULT_DATE, factory_problem

KEY = "benchmark-key"
HEADERS = {"X-API-Key": KEY}
REPO = Path(__file__).resolve().parents[1]
TARGET_P50_S = 1.0
COLUMNS = (
    "case",
    "workers",
    "clients",
    "calls",
    "statuses",
    "p50_s",
    "p90_s",
    "p99_s",
    "mean_s",
    "max_s",
    "solve_p50_s",
    "overhead_p50_s",
    "calls_per_min",
)


class Server:
    """``python -m uvicorn api.app:create_app --factory`` on a free loopback port, in its own process group."""

    def __init__(self, db: Path, workers: int, log: Path, env: dict[str, str]) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("ab")
        environment = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "DATABASE_URL": f"sqlite:///{db}",
            "DISPATCH_API_KEYS": KEY,
            "DISPATCH_MAX_EXPENSIVE_PER_MINUTE": "1000000",  # measure the solves, not the per-key limit
            **env,
        }
        command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--workers", str(workers), "--log-level", "warning"]
        self.process = subprocess.Popen(
            command, cwd=REPO, env=environment, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; see {log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        self.close()
        raise TimeoutError(f"server not ready; see {log}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self.log.close()


def factory_site() -> dict[str, Any]:
    problem = factory_problem()
    return {
        "name": "shenyang full factory",
        "tz": "Asia/Shanghai",
        "assets": [a.model_dump(mode="json") for a in problem.assets],
        "targets": problem.targets.model_dump(mode="json"),
        "objective": problem.objective.model_dump(mode="json"),
    }


def small_site() -> dict[str, Any]:
    assets = [
        GridSpec(name="grid", import_limit_kw=1000.0, tariff=liaoning_tou(0.62)),
        LoadSpec(name="load", power_kw=200.0),
        PvSpec(name="pv", available_kw=150.0),
        BatterySpec(name="battery", capacity_kwh=400.0, charge_power_kw=200.0, discharge_power_kw=200.0),
    ]
    return {"name": "small", "tz": "Asia/Shanghai", "assets": [a.model_dump(mode="json") for a in assets]}


def call(client: httpx.Client, site_id: int, body: dict[str, Any]) -> tuple[float, int, dict[str, Any] | None]:
    started = time.perf_counter()
    response = client.post(f"/v1/sites/{site_id}/dispatch", json=body, headers=HEADERS)
    elapsed = time.perf_counter() - started
    return elapsed, response.status_code, response.json() if response.status_code in (200, 201) else None


def summary(
    case: str, workers: int, clients: int, samples: list[tuple[float, int, dict[str, Any] | None]], wall_s: float
) -> dict[str, Any]:
    latencies = [s for s, status, _ in samples if status in (200, 201)]
    solves = [out["solver"]["solve_seconds"] for _, _, out in samples if out is not None]
    overheads = [s - out["solver"]["solve_seconds"] for s, _, out in samples if out is not None]
    statuses = Counter(status for _, status, _ in samples)
    labels = Counter(out["status"] for _, _, out in samples if out is not None)
    return {
        "case": case,
        "workers": workers,
        "clients": clients,
        "calls": len(samples),
        "statuses": " ".join(f"{k}x{v}" for k, v in sorted(statuses.items())),
        "labels": dict(labels),
        "p50_s": float(np.percentile(latencies, 50)) if latencies else None,
        "p90_s": float(np.percentile(latencies, 90)) if latencies else None,
        "p99_s": float(np.percentile(latencies, 99)) if latencies else None,
        "mean_s": statistics.fmean(latencies) if latencies else None,
        "max_s": max(latencies) if latencies else None,
        "solve_p50_s": float(np.percentile(solves, 50)) if solves else None,
        "overhead_p50_s": float(np.percentile(overheads, 50)) if overheads else None,
        "calls_per_min": 60.0 * len(latencies) / wall_s if wall_s > 0 else None,
        "latencies_s": latencies,
    }


def sequential(server: Server, site_id: int, body: dict[str, Any], calls: int, case: str) -> dict[str, Any]:
    with httpx.Client(base_url=server.url, timeout=600) as client:
        for _ in range(2):  # warm: the forkserver, the database, imports
            call(client, site_id, body)
        started = time.perf_counter()
        samples = [call(client, site_id, body) for _ in range(calls)]
        return summary(case, 1, 1, samples, time.perf_counter() - started)


def concurrent(server: Server, workers: int, site_id: int, body: dict[str, Any], calls: int) -> dict[str, Any]:
    clients = 2
    samples: list[tuple[float, int, dict[str, Any] | None]] = []
    lock = threading.Lock()
    per_client = [calls // clients + (1 if i < calls % clients else 0) for i in range(clients)]

    def run(n: int) -> None:
        with httpx.Client(base_url=server.url, timeout=600) as client:
            for _ in range(n):
                result = call(client, site_id, body)
                while result[1] == 503:  # not expected with 2 slots per worker; retried if it happens
                    with lock:
                        samples.append(result)
                    time.sleep(0.2)
                    result = call(client, site_id, body)
                with lock:
                    samples.append(result)

    with httpx.Client(base_url=server.url, timeout=600) as client:  # warm every worker's forkserver
        for _ in range(2 * workers):
            call(client, site_id, body)
    threads = [threading.Thread(target=run, args=(n,)) for n in per_client]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summary(
        f"throughput, full factory, {workers} worker(s)", workers, clients, samples, time.perf_counter() - started
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=50, help="calls per case (default 50)")
    parser.add_argument("--quick", action="store_true", help="5 calls per case; writes api_latency_quick.* (CI)")
    args = parser.parse_args()
    calls = 5 if args.quick else max(2, args.calls)
    name = "api_latency_quick" if args.quick else "api_latency"
    day = {"date": DEFAULT_DATE.isoformat()}
    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="api-latency-") as folder:
        tmp = Path(folder)
        env = {"DISPATCH_MAX_CONCURRENT_SOLVES": "2"}
        server = Server(tmp / "one.sqlite", 1, tmp / "server.log", env)
        try:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                factory = client.post("/v1/sites", json=factory_site(), headers=HEADERS).json()["id"]
                small = client.post("/v1/sites", json=small_site(), headers=HEADERS).json()["id"]
            rows.append(sequential(server, factory, day, calls, "full factory day, default gap 0.01 %"))
            loose = {**day, "solver": {"mip_rel_gap": 0.005}}
            rows.append(sequential(server, factory, loose, calls, "full factory day, gap 0.5 %"))
            rows.append(sequential(server, small, day, calls, "small site day (overhead floor)"))
            rows.append(concurrent(server, 1, factory, day, calls))
        finally:
            server.close()
        server = Server(tmp / "two.sqlite", 2, tmp / "server.log", env)
        try:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                factory = client.post("/v1/sites", json=factory_site(), headers=HEADERS).json()["id"]
            rows.append(concurrent(server, 2, factory, day, calls))
        finally:
            server.close()

    table = Table(title=f"HTTP API: day-ahead dispatch latency (target p50 < {TARGET_P50_S:g} s, full factory)")
    for column in COLUMNS:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(*(cell(row[c]) for c in COLUMNS))
    Console(width=250).print(table)
    for row in rows[:2]:
        met = row["p50_s"] is not None and row["p50_s"] < TARGET_P50_S
        print(f"{row['case']}: p50 {cell(row['p50_s'])} s, target < {TARGET_P50_S:g} s {'met' if met else 'NOT met'}")
    load = {"before": load_before, "after": os.getloadavg()}
    print(f"load average (1, 5, 15 min) before {load['before']}, after {load['after']}: other work skews the times")
    RESULTS.mkdir(exist_ok=True)
    payload = {
        "group": name,
        "calls": calls,
        "target_p50_s": TARGET_P50_S,
        "load_average": load,
        "machine": machine_info(),
        "rows": rows,
    }
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(payload, indent=2, default=str))
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(row[c]) for c in COLUMNS) + " |" for row in rows]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out} and {RESULTS / f'{name}.md'}")


if __name__ == "__main__":
    main()
