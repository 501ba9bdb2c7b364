"""Shared helpers for the API tests: small sites, request bodies, an app on a temp database, a real server.

Small sites (grid + load + PV + battery) solve 96 steps in about 50 ms, so most
tests pay only for the solver child process; the full factory is used once.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from optimizer import BatterySpec, DispatchProblem, GridSpec, LoadSpec, PvSpec, liaoning_tou
from tests.databases import database_url

API_KEY = "test-key-1"
OTHER_KEY = "test-key-2"
"""Two keys of DISPATCH_API_KEYS: both of the tenant "default", so they see the same sites."""
ADMIN_KEY = "test-admin-key"
"""DISPATCH_ADMIN_KEYS: manages tenants and keys (/v1/admin), reads no tenant's data."""
HEADERS = {"X-API-Key": API_KEY}
ADMIN_HEADERS = {"X-API-Key": ADMIN_KEY}
REPO = Path(__file__).resolve().parents[1]
DAY = "2026-07-15"


def pv_profile(n_steps: int = 96, peak_kw: float = 300.0) -> list[float]:
    """A clear-sky-like bell between 06:00 and 18:00 on a 96-step day (scaled to ``n_steps``)."""
    values = []
    for step in range(n_steps):
        hour = 24.0 * step / n_steps
        values.append(round(peak_kw * max(0.0, math.sin(math.pi * (hour - 6.0) / 12.0)), 3) if 6 <= hour <= 18 else 0.0)
    return values


def small_site(
    name: str = "small plant",
    timezone: str = "Asia/Shanghai",
    *,
    import_limit_kw: float = 1000.0,
    load_kw: float | list[float] = 200.0,
    pv_kw: float | list[float] | None = None,
    targets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A grid + load + PV + battery site as the JSON body of ``POST /v1/sites``."""
    assets = [
        GridSpec(name="grid", import_limit_kw=import_limit_kw, tariff=liaoning_tou(0.62)),
        LoadSpec(name="load", power_kw=load_kw),
        PvSpec(name="pv", available_kw=pv_profile() if pv_kw is None else pv_kw),
        BatterySpec(
            name="battery", capacity_kwh=400.0, charge_power_kw=200.0, discharge_power_kw=200.0, initial_soc_frac=0.5
        ),
    ]
    site: dict[str, Any] = {
        "name": name,
        "tz": timezone,
        "latitude": 41.8,
        "longitude": 123.4,
        "assets": [a.model_dump(mode="json") for a in assets],
    }
    if targets is not None:
        site["targets"] = targets
    return site


def site_from_problem(problem: DispatchProblem, name: str | None = None, timezone: str = "Asia/Shanghai") -> dict:
    """A site body from a scenario's problem (e.g. :func:`scenarios.factory.factory_problem`)."""
    return {
        "name": name or problem.name,
        "tz": timezone,
        "assets": [a.model_dump(mode="json") for a in problem.assets],
        "targets": problem.targets.model_dump(mode="json"),
        "objective": problem.objective.model_dump(mode="json"),
    }


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "api_keys": [API_KEY, OTHER_KEY],
        "admin_keys": [ADMIN_KEY],
        "database_url": database_url(tmp_path / "api.sqlite"),  # SQLite, or PostgreSQL in a [postgresql] test
        "default_time_limit_s": 20.0,
    }
    values.update(overrides)
    return Settings(**values)


@contextlib.contextmanager
def api_client(tmp_path: Path, **overrides: Any) -> Iterator[TestClient]:
    """A TestClient on a fresh app and a fresh database (:func:`tests.databases.database_url`); server errors are
    answered, not raised."""
    with TestClient(create_app(make_settings(tmp_path, **overrides)), raise_server_exceptions=False) as client:
        yield client


def create_site(client: TestClient | httpx.Client, site: dict[str, Any] | None = None) -> int:
    response = client.post("/v1/sites", json=site or small_site(), headers=HEADERS)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def new_tenant(client: TestClient | httpx.Client, name: str) -> tuple[int, dict[str, str]]:
    """A tenant made with the admin key, and the headers of a new key of it: ``(tenant id, headers)``."""
    tenant = client.post("/v1/admin/tenants", json={"name": name}, headers=ADMIN_HEADERS)
    assert tenant.status_code == 201, tenant.text
    key = client.post(f"/v1/admin/tenants/{tenant.json()['id']}/keys", json={"label": name}, headers=ADMIN_HEADERS)
    assert key.status_code == 201, key.text
    return int(tenant.json()["id"]), {"X-API-Key": key.json()["key"]}


def field_names(response: httpx.Response) -> list[str]:
    """The ``field`` of every error of a 422 problem (``application/problem+json``, its ``errors`` member)."""
    assert response.status_code == 422, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json", response.headers["content-type"]
    problem = response.json()
    assert isinstance(problem["detail"], str) and problem["status"] == 422, problem
    errors = problem["errors"]
    assert isinstance(errors, list) and errors, errors
    return [e["field"] for e in errors]


# --- a real server on loopback ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``python -m uvicorn api.app:create_app --factory`` on 127.0.0.1 in its own process group."""

    def __init__(self, db_path: Path, log_path: Path, *, workers: int = 1, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        environment = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "DATABASE_URL": database_url(db_path),
            "DISPATCH_API_KEYS": f"{API_KEY},{OTHER_KEY}",
            "DISPATCH_ADMIN_KEYS": ADMIN_KEY,
            **(env or {}),
        }
        command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        command += ["--log-level", "warning", "--timeout-graceful-shutdown", "5"]
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            command, cwd=REPO, env=environment, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"server not ready after {timeout_s} s: {self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the server, then whatever it left in its process group (forkserver, solver children)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()

    def stop(self) -> None:
        """SIGTERM (graceful), SIGKILL if it does not stop."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        self.kill()

    def __enter__(self) -> Server:
        try:
            self.wait_ready()
        except BaseException:
            self.kill()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
