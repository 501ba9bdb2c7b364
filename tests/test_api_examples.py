"""``/v1/examples``: the shipped examples' sites post to ``/v1/sites`` as they are."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api_fixtures import HEADERS, REPO, make_settings


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path))) as test_client:
        yield test_client


def test_every_shipped_example_becomes_a_site(client: TestClient) -> None:
    listed = client.get("/v1/examples", headers=HEADERS)
    assert listed.status_code == 200
    names = {e["name"] for e in listed.json()}
    assert names == {p.stem for p in (REPO / "scenarios" / "examples").glob("*.yaml")}
    for name in sorted(names):
        site = client.get(f"/v1/examples/{name}/site", headers=HEADERS)
        assert site.status_code == 200, site.text
        created = client.post("/v1/sites", json=site.json(), headers=HEADERS)
        assert created.status_code == 201, (name, created.text)


def test_unknown_example(client: TestClient) -> None:
    assert client.get("/v1/examples/nope/site", headers=HEADERS).status_code == 404
    assert client.get("/v1/examples/NOT-a-name/site", headers=HEADERS).status_code == 422
    assert client.get("/v1/examples", headers={"X-API-Key": "wrong"}).status_code == 401
