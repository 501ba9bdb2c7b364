"""Tenants: a key is a tenant's; another tenant's sites, schedules, readings, weather and idempotency keys are not
there for it (404, as if missing); keys are stored hashed, made, listed (prefix only) and revoked by an admin key or
``dispatch keys``; wrong keys and expensive requests are limited (429 with Retry-After); lists come in pages."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi import APIRouter
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

import api.routes
from api import migrations
from api.app import create_app
from api.db import init_db, make_engine, migration_connection
from api.key_store import key_prefix
from api.models import ApiKeyRecord, IdempotencyRecord, TenantRecord
from api.rate_limits import SlidingWindowLimit
from api.tenancy import tenant_site_id
from scenarios.cli import app as cli_app
from tests.api_fixtures import (
    ADMIN_HEADERS,
    API_KEY,
    DAY,
    HEADERS,
    OTHER_KEY,
    api_client,
    create_site,
    make_settings,
    new_tenant,
    small_site,
)
from tests.databases import database_url

WEATHER = json.loads((Path(__file__).parent / "data" / "forecasting" / "open_meteo_shenyang_hourly.json").read_text())
RANGE = {"start": "2026-07-14T00:00:00+08:00", "end": "2026-07-16T00:00:00+08:00"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with api_client(tmp_path) as test_client:
        yield test_client


def _site(client: TestClient, headers: dict[str, str], name: str = "plant") -> int:
    response = client.post("/v1/sites", json=small_site(name), headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _same_as_missing(client: TestClient, headers: dict[str, str], site_id: int, call: tuple[Any, ...]) -> None:
    """``(method, tail, body, params)`` on the site answers 404 for ``headers``: the very answer a site that exists
    nowhere gets."""
    method, tail, body, params = call
    answers = [
        client.request(method, f"/v1/sites/{site}{tail}", headers=headers, json=body, params=params)
        for site in (site_id, 999999)
    ]
    assert [a.status_code for a in answers] == [404, 404], (method, tail, answers[0].text, answers[1].text)
    texts = [
        a.text.replace(f"/sites/{site}", "/sites/ID").replace(f"site {site} ", "site ID ")
        for a, site in zip(answers, (site_id, 999999), strict=True)
    ]
    assert texts[0] == texts[1]


# --- isolation ---------------------------------------------------------------------------------------------------


def test_another_tenants_site_and_all_below_it_is_not_found(client: TestClient) -> None:
    site_a = create_site(client)
    readings = [{"series": "grid.import_kw", "time": "2026-07-14T10:00:00+08:00", "value": 200.0}]
    assert client.post(f"/v1/sites/{site_a}/readings", json={"readings": readings}, headers=HEADERS).status_code == 200
    assert client.post(f"/v1/sites/{site_a}/weather", json=WEATHER, headers=HEADERS).status_code == 201
    schedule = client.post(f"/v1/sites/{site_a}/dispatch", json={"date": DAY}, headers=HEADERS)
    assert schedule.status_code == 201, schedule.text
    schedule_a = schedule.json()["schedule_id"]
    _, b = new_tenant(client, "tenant b")

    assert client.get("/v1/sites", headers=b).json() == []
    assert client.get("/v1/schedules", headers=b).json() == []
    assert client.get("/v1/schedules", headers=b, params={"site_id": site_a}).json() == []
    calls = [
        ("GET", "", None, None),
        ("PUT", "", small_site("taken"), None),
        ("DELETE", "", None, None),
        ("POST", "/dispatch", {"date": DAY}, None),
        ("POST", "/readings", {"readings": readings}, None),
        ("GET", "/readings", None, RANGE),
        ("GET", "/readings/series", None, None),
        ("POST", "/weather", WEATHER, None),
        ("POST", "/weather/fetch", None, None),
        ("GET", "/weather", None, None),
        ("GET", "/plan", None, RANGE),
        ("GET", "/performance", None, RANGE),
        ("GET", "/carbon", None, {"year": 2026}),
    ]
    for call in calls:
        _same_as_missing(client, b, site_a, call)
    for accept in ("application/json", "text/csv", "text/html"):
        theirs = client.get(f"/v1/schedules/{schedule_a}", headers={**b, "Accept": accept})
        assert theirs.status_code == 404, (accept, theirs.text)

    # tenant A still has everything, unchanged
    assert [s["id"] for s in client.get("/v1/sites", headers=HEADERS).json()] == [site_a]
    assert client.get(f"/v1/sites/{site_a}", headers=HEADERS).json()["name"] == "small plant"
    assert client.get(f"/v1/schedules/{schedule_a}", headers=HEADERS).status_code == 200
    assert len(client.get(f"/v1/sites/{site_a}/weather", headers=HEADERS).json()) == 1
    series = client.get(f"/v1/sites/{site_a}/readings/series", headers=HEADERS).json()
    assert [(s["series"], s["readings"]) for s in series] == [("grid.import_kw", 1)]
    # both keys of DISPATCH_API_KEYS are the tenant "default"'s
    assert client.get(f"/v1/sites/{site_a}", headers={"X-API-Key": OTHER_KEY}).status_code == 200


@pytest.mark.sqlite_only  # no database
def test_every_route_on_a_site_checks_its_tenant() -> None:
    """A route with ``{site_id}`` that forgot the tenant would serve any tenant's site: each depends on the check."""

    def calls(dependant: Any) -> Iterator[Any]:
        for sub in dependant.dependencies:
            yield sub.call
            yield from calls(sub)

    modules = [importlib.import_module(f"api.routes.{m.name}") for m in pkgutil.iter_modules(api.routes.__path__)]
    routes = [
        route
        for module in modules
        for route in getattr(module, "router", APIRouter()).routes
        if isinstance(route, APIRoute) and "{site_id}" in route.path
    ]
    assert len(routes) >= 12
    for route in routes:
        assert tenant_site_id in set(calls(route.dependant)), route.path


def test_idempotency_keys_are_the_tenants(client: TestClient) -> None:
    site_a = create_site(client)
    first = client.post(f"/v1/sites/{site_a}/dispatch", json={"date": DAY}, headers={**HEADERS, "Idempotency-Key": "k"})
    assert first.status_code == 201, first.text
    _, b = new_tenant(client, "tenant b")
    site_b = _site(client, b)

    own = client.post(f"/v1/sites/{site_b}/dispatch", json={"date": DAY}, headers={**b, "Idempotency-Key": "k"})
    assert own.status_code == 201, own.text  # a new schedule, not A's (nor a conflict with A's key)
    assert own.json()["schedule_id"] != first.json()["schedule_id"]
    assert own.json()["site_id"] == site_b
    again = client.post(f"/v1/sites/{site_b}/dispatch", json={"date": DAY}, headers={**b, "Idempotency-Key": "k"})
    assert (again.status_code, again.json()["schedule_id"]) == (200, own.json()["schedule_id"])
    replay_a = client.post(
        f"/v1/sites/{site_a}/dispatch", json={"date": DAY}, headers={**HEADERS, "Idempotency-Key": "k"}
    )
    assert (replay_a.status_code, replay_a.json()["schedule_id"]) == (200, first.json()["schedule_id"])
    # B replaying A's key on A's site gets no schedule of A's
    theirs = client.post(f"/v1/sites/{site_a}/dispatch", json={"date": DAY}, headers={**b, "Idempotency-Key": "k"})
    assert theirs.status_code == 404
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        rows = session.execute(select(IdempotencyRecord.tenant_id, IdempotencyRecord.key)).all()
    assert len(rows) == 2 and {key for _, key in rows} == {"k"}


def test_a_database_from_before_tenants_is_the_default_tenants(tmp_path: Path) -> None:
    """Revision 0002 on a database at 0001 with a site, a schedule and an idempotency key: all of them become the
    tenant "default"'s, which the configured keys are."""
    url = database_url(tmp_path / "old.sqlite")
    engine = make_engine(url)
    init_db(engine)
    with migration_connection(engine) as connection:
        command.downgrade(migrations.alembic_config(connection), "0001")
    old = migrations.script_directory().get_revision("0001").module.metadata.tables  # type: ignore[union-attr]
    now = dt.datetime(2026, 7, 14, 12, tzinfo=dt.UTC)
    site = {"name": "old plant", "spec": small_site(), "created_at": now, "updated_at": now}
    schedule = {
        **{"site_id": 1, "horizon_start": now, "local_date": DAY, "n_steps": 96, "status": "optimal"},
        **{"input_hash": "0" * 64, "product_version": "0.1.0", "solver_version": "highs", "response": {}},
        **{"violations": [], "created_at": now},
    }
    key = {"key": "k", "request_hash": "0" * 64, "schedule_id": 1, "created_at": now}
    with engine.begin() as connection:
        for table, row in (("sites", site), ("schedules", schedule), ("idempotency_keys", key)):
            connection.execute(old[table].insert(), [row])
    engine.dispose()

    with TestClient(create_app(make_settings(tmp_path, database_url=url))) as client:
        [site] = client.get("/v1/sites", headers=HEADERS).json()
        assert (site["id"], site["name"]) == (1, "old plant")
        assert [s["schedule_id"] for s in client.get("/v1/schedules", headers=HEADERS).json()] == [1]
        _, b = new_tenant(client, "tenant b")
        assert client.get("/v1/sites", headers=b).json() == []
        assert client.get("/v1/schedules/1", headers=b).status_code == 404
        with client.app.state.sessions() as session:  # type: ignore[attr-defined]
            default = session.scalars(select(TenantRecord).where(TenantRecord.name == "default")).one()
            assert session.execute(select(IdempotencyRecord.tenant_id, IdempotencyRecord.key)).all() == [
                (default.id, "k")
            ]


# --- keys ----------------------------------------------------------------------------------------------------------


def _stored_values(client: TestClient) -> str:
    """Every value of every row of the tenant and key tables, as text."""
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        rows = [*session.scalars(select(ApiKeyRecord)), *session.scalars(select(TenantRecord))]
        return json.dumps([{c.name: str(getattr(r, c.key)) for c in r.__table__.columns} for r in rows])


def test_keys_are_stored_hashed_and_listed_by_prefix(client: TestClient) -> None:
    tenant_id, b = new_tenant(client, "tenant b")
    key_b = b["X-API-Key"]
    assert key_b.startswith("dsp_") and len(key_b) >= 40
    stored = _stored_values(client)
    for key in (key_b, API_KEY, OTHER_KEY):
        assert key not in stored
    assert "dsp_" in stored  # the prefix is kept

    listed = client.get(f"/v1/admin/tenants/{tenant_id}/keys", headers=ADMIN_HEADERS)
    assert listed.status_code == 200, listed.text
    [entry] = listed.json()
    assert set(entry) == {"id", "tenant_id", "prefix", "label", "origin", "created_at", "revoked_at", "last_used_at"}
    assert key_b.startswith(entry["prefix"]) and len(entry["prefix"]) <= 12
    assert (entry["label"], entry["origin"], entry["revoked_at"]) == ("tenant b", "api", None)
    assert key_b[len(entry["prefix"]) :] not in listed.text
    assert entry["last_used_at"] is None
    assert client.get("/v1/sites", headers=b).status_code == 200
    used = client.get(f"/v1/admin/tenants/{tenant_id}/keys", headers=ADMIN_HEADERS).json()[0]
    assert used["last_used_at"] is not None


@pytest.mark.sqlite_only
def test_no_key_is_in_the_database_file(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        _, b = new_tenant(client, "tenant b")
        assert client.get("/v1/sites", headers=b).status_code == 200
    files = [p for p in tmp_path.iterdir() if p.name.startswith("api.sqlite")]
    assert files
    for path in files:
        content = path.read_bytes()
        for key in (b["X-API-Key"], API_KEY, OTHER_KEY):
            assert key.encode() not in content, path


def test_a_revoked_key_is_refused_at_once(client: TestClient) -> None:
    tenant_id, b = new_tenant(client, "tenant b")
    site_b = _site(client, b)
    assert client.get(f"/v1/sites/{site_b}", headers=b).status_code == 200
    [entry] = client.get(f"/v1/admin/tenants/{tenant_id}/keys", headers=ADMIN_HEADERS).json()
    assert client.delete(f"/v1/admin/keys/{entry['id']}", headers=ADMIN_HEADERS).status_code == 204
    for url in ("/v1/sites", f"/v1/sites/{site_b}"):
        refused = client.get(url, headers=b)
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "APIKey"
    [entry] = client.get(f"/v1/admin/tenants/{tenant_id}/keys", headers=ADMIN_HEADERS).json()
    assert entry["revoked_at"] is not None
    assert client.delete(f"/v1/admin/keys/{entry['id']}", headers=ADMIN_HEADERS).status_code == 204  # again: same
    assert client.delete("/v1/admin/keys/999999", headers=ADMIN_HEADERS).status_code == 404
    # a second key of the tenant sees its site
    again = client.post(f"/v1/admin/tenants/{tenant_id}/keys", json={}, headers=ADMIN_HEADERS).json()["key"]
    assert client.get(f"/v1/sites/{site_b}", headers={"X-API-Key": again}).status_code == 200


def test_only_admin_keys_manage_tenants(client: TestClient) -> None:
    admin_urls = [
        ("POST", "/v1/admin/tenants", {"name": "x"}),
        ("GET", "/v1/admin/tenants", None),
        ("POST", "/v1/admin/tenants/1/keys", {}),
        ("GET", "/v1/admin/tenants/1/keys", None),
        ("DELETE", "/v1/admin/keys/1", None),
    ]
    for method, url, body in admin_urls:
        assert client.request(method, url, headers=HEADERS, json=body).status_code == 403, (method, url)
        assert client.request(method, url, headers={"X-API-Key": "nope"}, json=body).status_code == 401
        assert client.request(method, url, json=body).status_code == 401
    assert client.get("/v1/sites", headers=HEADERS).status_code == 200  # the 403s revoked nothing
    assert client.get("/v1/sites", headers=ADMIN_HEADERS).status_code == 401  # an admin key is no tenant's key

    made = client.post("/v1/admin/tenants", json={"name": "tenant b"}, headers=ADMIN_HEADERS)
    assert made.status_code == 201, made.text
    assert client.post("/v1/admin/tenants", json={"name": "tenant b"}, headers=ADMIN_HEADERS).status_code == 409
    assert client.post("/v1/admin/tenants", json={"name": " "}, headers=ADMIN_HEADERS).status_code == 422
    for name in ("a\x00b", "a\tb", "line\nbreak"):  # a NUL was a 500 on PostgreSQL, which refuses it in text
        assert client.post("/v1/admin/tenants", json={"name": name}, headers=ADMIN_HEADERS).status_code == 422, name
    assert client.post("/v1/admin/tenants/1/keys", json={"label": "a\x00b"}, headers=ADMIN_HEADERS).status_code == 422
    names = [t["name"] for t in client.get("/v1/admin/tenants", headers=ADMIN_HEADERS).json()]
    assert names == ["default", "tenant b"]
    assert client.post("/v1/admin/tenants/999999/keys", json={}, headers=ADMIN_HEADERS).status_code == 404
    assert client.get("/v1/admin/tenants/999999/keys", headers=ADMIN_HEADERS).status_code == 404
    key = client.post(f"/v1/admin/tenants/{made.json()['id']}/keys", json={"label": "ems"}, headers=ADMIN_HEADERS)
    assert key.status_code == 201 and key.json()["label"] == "ems"
    b = {"X-API-Key": key.json()["key"]}
    site_b = _site(client, b, "b's plant")
    assert [s["id"] for s in client.get("/v1/sites", headers=b).json()] == [site_b]
    assert client.get(f"/v1/sites/{site_b}", headers=HEADERS).status_code == 404


def test_configured_keys_left_out_of_the_settings_are_revoked(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        site = create_site(client)
    with api_client(tmp_path, api_keys=[OTHER_KEY]) as client:
        assert client.get("/v1/sites", headers=HEADERS).status_code == 401
        assert [s["id"] for s in client.get("/v1/sites", headers={"X-API-Key": OTHER_KEY}).json()] == [site]
    with api_client(tmp_path) as client:  # listed again: a revoked key stays revoked (replace it)
        assert client.get("/v1/sites", headers=HEADERS).status_code == 401
        assert client.get("/v1/sites", headers={"X-API-Key": OTHER_KEY}).status_code == 200


def test_cli_creates_lists_and_revokes_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(tmp_path)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    runner = CliRunner()
    created = runner.invoke(cli_app, ["keys", "create", "--tenant", "acme", "--label", "ems"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("dsp_")
    assert "tenant 'acme' created" in created.stderr
    second = runner.invoke(cli_app, ["keys", "create", "--tenant", "acme"])
    assert second.exit_code == 0 and "created" not in second.stderr

    with TestClient(create_app(settings)) as client:
        acme = {"X-API-Key": key}
        site = _site(client, acme)
        assert [s["id"] for s in client.get("/v1/sites", headers=acme).json()] == [site]
        assert client.get(f"/v1/sites/{site}", headers=HEADERS).status_code == 404

        listed = runner.invoke(cli_app, ["keys", "list", "--tenant", "acme"])
        assert listed.exit_code == 0, listed.output
        assert key_prefix(key) in listed.stdout and key[len(key_prefix(key)) :] not in listed.stdout
        assert "ems" in listed.stdout and "cli" in listed.stdout
        everything = runner.invoke(cli_app, ["keys", "list"]).stdout
        assert "default" in everything and "acme" in everything
        key_id = next(re.findall(r"\d+", line)[0] for line in listed.stdout.splitlines() if key_prefix(key) in line)

        revoked = runner.invoke(cli_app, ["keys", "revoke", key_id])
        assert revoked.exit_code == 0, revoked.output
        assert client.get("/v1/sites", headers=acme).status_code == 401
    assert runner.invoke(cli_app, ["keys", "revoke", "999999"]).exit_code == 1
    assert runner.invoke(cli_app, ["keys", "list", "--tenant", "nobody"]).exit_code == 1


# --- limits --------------------------------------------------------------------------------------------------------


@pytest.mark.sqlite_only  # no database
def test_a_sliding_window_allows_again_as_old_events_leave_it() -> None:
    now = [1000.0]
    limit = SlidingWindowLimit(2, 10.0, clock=lambda: now[0])
    assert limit.take("a") is None and limit.take("a") is None
    assert limit.take("a") == 10 and limit.take("b") is None  # each subject its own count
    now[0] += 4.5
    assert limit.take("a") == 6  # the oldest event leaves the window at 1010
    now[0] += 5.5  # both events of 1000 have left
    assert limit.take("a") is None and limit.take("a") is None and limit.take("a") == 10
    limit.record("c")
    assert limit.retry_after_s("c") is None
    limit.record("c")
    assert limit.retry_after_s("c") == 10


def test_too_many_wrong_keys_get_429_whatever_the_key(tmp_path: Path) -> None:
    with api_client(tmp_path, max_failed_auth=3, failed_auth_window_s=120) as client:
        for _ in range(3):
            assert client.get("/v1/sites", headers={"X-API-Key": "guess"}).status_code == 401
        for headers in ({"X-API-Key": "guess"}, HEADERS, ADMIN_HEADERS):
            refused = client.get("/v1/sites", headers=headers)
            assert refused.status_code == 429, refused.text
            assert 1 <= int(refused.headers["Retry-After"]) <= 120
        assert client.get("/v1/admin/tenants", headers=ADMIN_HEADERS).status_code == 429
        assert client.get("/healthz").status_code == 200


def test_missing_keys_are_not_counted_as_wrong_ones(tmp_path: Path) -> None:
    with api_client(tmp_path, max_failed_auth=2) as client:
        for _ in range(5):
            assert client.get("/v1/sites").status_code == 401
        assert client.get("/v1/sites", headers=HEADERS).status_code == 200


def test_expensive_requests_are_limited_per_key(tmp_path: Path) -> None:
    with api_client(tmp_path, max_expensive_per_minute=2) as client:
        site = create_site(client)
        _, b = new_tenant(client, "tenant b")
        site_b = _site(client, b)
        url = f"/v1/sites/{site}/dispatch"
        replayable = {**HEADERS, "Idempotency-Key": "once"}
        assert client.post(url, json={"date": DAY}, headers=replayable).status_code == 201
        assert client.post(url, json={"date": DAY}, headers=replayable).status_code == 200
        for method_url, body in ((url, {"date": DAY}), ("/v1/scenarios/run", {"scenario": "name: x"})):
            refused = client.post(method_url, json=body, headers=replayable)
            assert refused.status_code == 429, refused.text
            assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert client.get(f"/v1/sites/{site}", headers=HEADERS).status_code == 200  # cheap requests go on
        other = client.post(f"/v1/sites/{site_b}/dispatch", json={"date": DAY}, headers=b)
        assert other.status_code == 201, other.text  # another key has its own count


# --- pages ---------------------------------------------------------------------------------------------------------


def _walk(client: TestClient, url: str, headers: dict[str, str], **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of a list, following the ``Link: <...>; rel="next"`` headers."""
    pages = []
    response = client.get(url, headers=headers, params=params)
    while True:
        assert response.status_code == 200, response.text
        pages.append(response.json())
        link = response.headers.get("Link")
        if link is None:
            return pages
        assert link.endswith('>; rel="next"'), link
        response = client.get(link[1 : link.index(">")], headers=headers)


def test_site_and_schedule_lists_come_in_pages(client: TestClient) -> None:
    _, b = new_tenant(client, "tenant b")
    mine = []
    for i in range(7):
        mine.append(create_site(client, small_site(f"a{i}")))
        _site(client, b, f"b{i}")  # interleaved ids of another tenant
    pages = _walk(client, "/v1/sites", HEADERS, limit=3)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [s["id"] for p in pages for s in p] == mine
    assert [s["id"] for p in _walk(client, "/v1/sites", HEADERS, limit=7) for s in p] == mine
    assert client.get("/v1/sites", headers=HEADERS, params={"limit": 1001}).status_code == 422
    assert client.get("/v1/sites", headers=HEADERS, params={"cursor": 0}).status_code == 422

    made = []
    for key in ("one", "two", "three"):
        response = client.post(
            f"/v1/sites/{mine[0]}/dispatch", json={"date": DAY}, headers={**HEADERS, "Idempotency-Key": key}
        )
        made.append(response.json()["schedule_id"])
    pages = _walk(client, "/v1/schedules", HEADERS, limit=2, site_id=mine[0])
    assert [len(p) for p in pages] == [2, 1]
    assert [s["schedule_id"] for p in pages for s in p] == made[::-1]  # newest first

    for issued in ("2026-07-13T12:00:00+08:00", "2026-07-14T12:00:00+08:00", "2026-07-14T12:00:00+08:00"):
        params = {"issued_at": issued}
        assert (
            client.post(f"/v1/sites/{mine[0]}/weather", json=WEATHER, headers=HEADERS, params=params).status_code == 201
        )
    pages = _walk(client, f"/v1/sites/{mine[0]}/weather", HEADERS, limit=2)
    assert [len(p) for p in pages] == [2, 1]
    flat = [w["weather_id"] for p in pages for w in p]
    assert sorted(flat) == sorted(set(flat)) and len(flat) == 3
    assert flat == [w["weather_id"] for w in client.get(f"/v1/sites/{mine[0]}/weather", headers=HEADERS).json()]
