"""Schemathesis against the app's own OpenAPI spec, in process (ASGI): no input may produce a 5xx.

Each operation of the spec gets generated requests, valid and invalid
(schemathesis' positive and negative modes), authenticated with X-API-Key, on a
fresh app whose database already holds a few sites and a stored schedule so that
generated ids hit real rows too. Solves are bounded by small server limits.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a dev dependency: pip install -e .[dev]")

from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation.modes import GenerationMode  # noqa: E402

from api.app import create_app  # noqa: E402
from tests.api_fixtures import DAY, HEADERS, create_site, make_settings, small_site  # noqa: E402

MAX_EXAMPLES = int(os.environ.get("API_SCHEMATHESIS_EXAMPLES", "25"))  # e.g. 500 for a deep, random run
SERVER_LIMITS = {"default_time_limit_s": 2.0, "max_time_limit_s": 2.0, "deadline_margin_s": 2.0}


def _operations() -> list[tuple[str, str]]:
    """``(METHOD, path)`` of every operation in the spec (building the app opens no database)."""
    spec = create_app(make_settings(Path(tempfile.gettempdir()) / "not-opened")).openapi()
    return [(method.upper(), path) for path, item in spec["paths"].items() for method in item]


@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda value: str(value))
def test_no_server_errors(method: str, path: str, tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, max_body_bytes=200_000, **SERVER_LIMITS))
    with TestClient(app) as client:  # seed: sites 1-3, and schedule 1 for the operations on sites and schedules
        site_ids = [create_site(client, small_site(name=f"seed {i}")) for i in range(3)]
        if "/sites/" in path or "/schedules" in path:
            response = client.post(f"/v1/sites/{site_ids[0]}/dispatch", json={"date": DAY}, headers=HEADERS)
            assert response.status_code == 201, response.text
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operation = schema[path][method]
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    existing = {"site_id": site_ids[0], "schedule_id": 1}
    if "{" in path:  # valid requests on rows that exist (generated ids are mostly unknown: 404)
        ids = {name: value for name, value in existing.items() if "{" + name + "}" in path}
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=ids))
    strategy = st.one_of(strategies)

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize="API_SCHEMATHESIS_EXAMPLES" not in os.environ,  # a deep run explores new inputs each time
        database=None,
    )
    def check(case) -> None:  # type: ignore[no-untyped-def]
        case.call_and_validate(headers=HEADERS, checks=[not_a_server_error])

    check()
