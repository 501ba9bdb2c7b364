"""Issue 16, "done when": the attacks that found the holes, replayed against a live uvicorn server.

Each attack gets a 4xx (never a 5xx, never a dropped connection), the server keeps answering, and its resident
memory stays flat (the YAML bomb once grew the service past 8 GB). The limits themselves are tested in
``test_input_limits.py``, ``test_api_tenants.py`` and ``test_api_http_hardening.py``; this file checks that they hold
together on a real server.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.api_fixtures import HEADERS, Server, create_site, new_tenant, small_site
from tests.test_api_scenarios import SCENARIO
from tests.test_input_limits import DAY_HORIZON, LAUGHS

pytestmark = pytest.mark.sqlite_only  # the server's own resilience; the backends are covered by the other API tests


def _resident_mb(pid: int) -> float:
    """Resident memory of process ``pid`` [MB] (``VmRSS`` of ``/proc/<pid>/status``)."""
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def _scenario_run(client: httpx.Client, scenario: str) -> httpx.Response:
    return client.post("/v1/scenarios/run", json={"scenario": scenario, "variants": ["base"]}, headers=HEADERS)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_the_attacks_get_4xx_and_the_server_stays_up_with_memory_flat(tmp_path: Path) -> None:
    with (
        Server(tmp_path / "api.sqlite", tmp_path / "server.log") as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        site_id = create_site(client)
        assert _scenario_run(client, SCENARIO).status_code == 200  # warm: the solver children exist
        resident_before_mb = _resident_mb(server.process.pid)

        answers: dict[str, httpx.Response] = {}
        answers["yaml bomb"] = _scenario_run(client, LAUGHS)
        _, other_tenant = new_tenant(client, "another plant")
        answers["read another tenant's site"] = client.get(f"/v1/sites/{site_id}", headers=other_tenant)
        answers["dispatch another tenant's site"] = client.post(
            f"/v1/sites/{site_id}/dispatch", json={"date": "2026-07-15"}, headers=other_tenant
        )
        answers["delete another tenant's site"] = client.delete(f"/v1/sites/{site_id}", headers=other_tenant)
        huge_load = small_site()
        huge_load["assets"][1]["power_kw"] = 1e21
        answers["1e21 kW load"] = client.post("/v1/sites", json=huge_load, headers=HEADERS)
        for name, horizon in {
            "ten-year horizon": "horizon: {start: 2026-07-15, days: 3650, rolling: false}",
            "40,000 steps": "horizon: {start: '2026-07-15T00:00:00+08:00', n_steps: 40000}",
            "start on 9999-12-31": "horizon: {start: 9999-12-31, days: 1}",
        }.items():
            answers[name] = _scenario_run(client, SCENARIO.replace(DAY_HORIZON, horizon))
        answers["dispatch on 9999-12-31"] = client.post(
            f"/v1/sites/{site_id}/dispatch", json={"date": "9999-12-31"}, headers=HEADERS
        )

        statuses = {name: response.status_code for name, response in answers.items()}
        assert statuses == {
            "yaml bomb": 422,
            "read another tenant's site": 404,
            "dispatch another tenant's site": 404,
            "delete another tenant's site": 404,
            "1e21 kW load": 422,
            "ten-year horizon": 422,
            "40,000 steps": 422,
            "start on 9999-12-31": 422,
            "dispatch on 9999-12-31": 422,
        }
        for response in answers.values():
            assert response.headers["content-type"] == "application/problem+json"

        assert client.get("/healthz").status_code == 200
        assert client.get(f"/v1/sites/{site_id}", headers=HEADERS).status_code == 200  # the owner's site is intact
        assert _scenario_run(client, SCENARIO).status_code == 200
        assert _resident_mb(server.process.pid) - resident_before_mb < 100.0
