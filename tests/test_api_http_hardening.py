"""HTTP hardening (issue 16): one error format, no Host-built redirects, security headers and CSPs, the charting
library as a cached static file, CORS off unless configured, docs behind their setting, a read timeout for slow
clients and the uvicorn limits of ``dispatch serve``.

Every error is an RFC 9457 problem (``application/problem+json``: ``type``, ``title``, ``status``, ``detail`` as one
sentence, ``instance``) with a 422's problems in ``errors`` (``loc``, ``field``, ``msg``, ``type``, a short
``input``). The slow-client tests run a real uvicorn server and talk to it over a raw socket.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.errors import problem_response
from api.limits import UVICORN_LIMITS, BodyReadTimeout
from api.problems import MAX_INPUT_CHARS, PROBLEM_MEDIA_TYPE
from api.security import SECURITY_HEADERS
from api.settings import Settings
from api.static import IMMUTABLE, plotly_js_path, plotly_js_url
from tests.api_fixtures import DAY, HEADERS, Server, api_client, create_site, make_settings, small_site

# On SQLite only: the HTTP layer's error formats, headers and limits, before the database.
pytestmark = pytest.mark.sqlite_only

JSON = {**HEADERS, "content-type": "application/json"}
HOSTILE_HOST = "evil.example"
ORIGIN = "https://ems.plant.example"
MAX_API_PAGE_BYTES = 300_000


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with api_client(tmp_path) as test_client:
        yield test_client


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem of an error answer, checked for the members every problem has."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE, response.headers["content-type"]
    problem = response.json()
    assert problem["type"] == "about:blank" and problem["status"] == status, problem
    assert isinstance(problem["title"], str) and problem["title"], problem
    assert isinstance(problem["detail"], str) and problem["detail"], problem
    return problem


# --- 1. one error format ---------------------------------------------------------------------------------------


def test_every_kind_of_error_is_a_problem(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, max_concurrent_solves=1))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        site_id = create_site(client)
        unauthorised = _problem(client.get("/v1/sites"), 401)
        assert unauthorised["detail"] == "missing X-API-Key header" and unauthorised["instance"] == "/v1/sites"
        assert _problem(client.get("/v1/sites/999", headers=HEADERS), 404)["detail"] == "site 999 not found"
        assert _problem(client.get("/no/such/route"), 404)["instance"] == "/no/such/route"
        not_allowed = client.delete("/v1/sites", headers=HEADERS)
        assert _problem(not_allowed, 405)["title"] == "Method Not Allowed" and not_allowed.headers["allow"]
        crashed = _problem(client.get("/boom"), 500)
        assert "secret" not in crashed["detail"]
        invalid = _problem(client.get("/v1/sites/0", headers=HEADERS), 422)
        assert invalid["errors"][0]["loc"] == ["path", "site_id"] and invalid["errors"][0]["field"] == "path.site_id"

        slots = app.state.slots
        slots.acquire()
        try:
            busy = client.post(f"/v1/sites/{site_id}/dispatch", json={"date": DAY}, headers=HEADERS)
        finally:
            slots.release()
        assert "busy" in _problem(busy, 503)["detail"] and int(busy.headers["Retry-After"]) >= 1


def test_problem_response_is_the_one_helper() -> None:
    response = problem_response(429, "too many requests", headers={"Retry-After": "7"}, retry_after_s=7, limit=None)
    assert response.status_code == 429 and response.media_type == PROBLEM_MEDIA_TYPE
    assert response.headers["retry-after"] == "7"
    body = json.loads(bytes(response.body))
    assert body == {
        "type": "about:blank",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "too many requests",
        "retry_after_s": 7,
    }


def test_413_from_the_middleware_is_a_problem(tmp_path: Path) -> None:
    with api_client(tmp_path, max_body_bytes=1000) as client:
        problem = _problem(client.post("/v1/sites", json=small_site(load_kw=[1.0] * 500), headers=HEADERS), 413)
    assert problem["detail"] == "request body larger than 1000 bytes"


def test_validation_errors_name_the_path_and_echo_only_excerpts(client: TestClient) -> None:
    site = small_site()
    site["name"] = "y" * 1_500_000  # a ~1.5 MB body, refused: none of it comes back but an excerpt
    site["assets"][3]["capacity_kwh"] = -1.0
    response = client.post("/v1/sites", json=site, headers=HEADERS)
    problem = _problem(response, 422)
    assert len(response.content) < 5_000, len(response.content)
    by_field = {e["field"]: e for e in problem["errors"]}
    assert set(by_field) == {"body.name", "body.assets[3].capacity_kwh"}, problem
    assert by_field["body.assets[3].capacity_kwh"]["loc"] == ["body", "assets", 3, "capacity_kwh"]
    assert by_field["body.assets[3].capacity_kwh"]["input"] == -1.0
    excerpt = by_field["body.name"]["input"]
    assert excerpt.startswith("yyyy") and len(excerpt) <= MAX_INPUT_CHARS + 1, len(excerpt)
    assert problem["detail"].startswith("body.name: ") and "1 more problem" in problem["detail"]
    for error in problem["errors"]:
        assert {"loc", "field", "msg", "type"} <= set(error), error

    whole = client.post("/v1/sites", json={"junk": ["z" * 1000] * 1500}, headers=HEADERS)  # 1.5 MB of extras
    assert len(whole.content) < 5_000 and all(len(json.dumps(e)) < 1_000 for e in _problem(whole, 422)["errors"])


def test_a_series_key_with_a_dot_keeps_its_name_in_the_path(client: TestClient) -> None:
    site_id = create_site(client)
    body = {"date": DAY, "series": {"pv.available_kw": [1.0] * 7 + [float("nan")] + [1.0] * 88}}
    response = client.post(f"/v1/sites/{site_id}/dispatch", content=json.dumps(body), headers=JSON)
    error = _problem(response, 422)["errors"][0]
    assert (
        error["loc"] == ["body", "series", "pv.available_kw", 7] and error["field"] == "body.series.pv.available_kw[7]"
    )


def test_malformed_json_says_what_and_where(client: TestClient) -> None:
    response = client.post("/v1/sites", content=b'{"name": "x" "tz": 1}', headers=JSON)
    problem = _problem(response, 422)
    message = "request body is not valid JSON: Expecting ',' delimiter at line 1 column 14"
    assert problem["errors"] == [{"loc": ["body"], "field": "body", "msg": message, "type": "json_invalid"}]
    assert message in problem["detail"]
    two_lines = client.post("/v1/sites", content=b'{"name": "x",\n  "tz": }', headers=JSON)
    assert "at line 2 column 9" in _problem(two_lines, 422)["errors"][0]["msg"]


def test_deeply_nested_and_non_utf8_bodies_are_told_apart(client: TestClient) -> None:
    deep = client.post("/v1/sites", content=b"[" * 100_000 + b"]" * 100_000, headers=JSON)
    error = _problem(deep, 422)["errors"][0]
    assert error["type"] == "json_too_deep" and "nested too deeply" in error["msg"] and "UTF-8" not in error["msg"]
    not_utf8 = client.post("/v1/sites", content=b'{"name": "\xff"}', headers=JSON)
    assert "not UTF-8" in _problem(not_utf8, 422)["errors"][0]["msg"]


def test_a_body_in_another_media_type_gets_415(client: TestClient) -> None:
    site_id = create_site(client)
    body = json.dumps(small_site()).encode()
    for headers, sent in (({"content-type": "text/plain"}, "text/plain"), ({}, "no Content-Type")):
        refused = _problem(client.post("/v1/sites", content=body, headers={**HEADERS, **headers}), 415)
        assert sent in refused["detail"] and "application/json" in refused["detail"]
    assert client.post("/v1/sites", content=body, headers={**HEADERS, "content-type": "application/json"}).is_success
    csv = "series,time,value\ngrid.import_kw,2026-07-14T10:00:00+08:00,812.5\n"
    readings = f"/v1/sites/{site_id}/readings"
    as_xml = client.post(readings, content=csv, headers={**HEADERS, "content-type": "application/xml"})
    assert "text/csv" in _problem(as_xml, 415)["detail"]  # the upload's own media types
    assert client.post(readings, content=csv, headers={**HEADERS, "content-type": "text/csv"}).status_code != 415


def test_the_document_declares_problems_under_their_media_type(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    create = spec["paths"]["/v1/sites"]["post"]["responses"]
    for code in ("401", "408", "413", "415", "422"):
        assert set(create[code]["content"]) == {PROBLEM_MEDIA_TYPE}, (code, create[code])
    assert create["422"]["content"][PROBLEM_MEDIA_TYPE]["schema"]["$ref"].endswith("/ValidationErrorOut")
    problem = spec["components"]["schemas"]["ErrorOut"]
    assert {"type", "title", "status", "detail", "instance"} <= set(problem["properties"])


# --- 2. no redirect built from the Host header -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/sites/", "/docs/", "/openapi.json/", "/docs-assets"])
def test_a_trailing_slash_is_never_redirected_to_the_callers_host(client: TestClient, path: str) -> None:
    response = client.get(path, headers={**HEADERS, "host": HOSTILE_HOST}, follow_redirects=False)
    assert HOSTILE_HOST not in response.headers.get("location", ""), response.headers
    assert not response.is_redirect and response.status_code == 404
    assert HOSTILE_HOST not in response.text


# --- 3. security headers and CSPs -----------------------------------------------------------------------------


def _has_security_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name, response.headers.get(name))
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_every_answer_has_the_security_headers(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        for response in (
            client.get("/healthz"),
            client.get("/v1/sites", headers=HEADERS),
            client.get("/v1/sites"),
            client.get("/nowhere"),
            client.get("/boom"),  # a 500 comes from Starlette's outermost error middleware
            client.get("/docs"),
            client.get(plotly_js_url()),
        ):
            _has_security_headers(response)
        assert client.get("/healthz").headers["content-security-policy"].startswith("default-src 'none'")


def _nonce(csp: str) -> str:
    found = re.search(r"'nonce-([A-Za-z0-9_-]+)'", csp)
    assert found, csp
    return found.group(1)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_run_only_their_own_scripts(client: TestClient, page: str) -> None:
    response = client.get(page)
    csp = response.headers["content-security-policy"]
    nonce = _nonce(csp)
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", response.text)
    assert all(f'nonce="{nonce}"' in attributes for attributes in inline), inline
    assert _nonce(client.get(page).headers["content-security-policy"]) != nonce  # a fresh nonce per answer


def test_the_html_report_is_small_nonced_and_loads_the_library_from_the_server(client: TestClient) -> None:
    out = client.post(f"/v1/sites/{create_site(client)}/dispatch", json={"date": DAY}, headers=HEADERS)
    assert out.status_code == 201, out.text
    response = client.get(f"/v1/schedules/{out.json()['schedule_id']}", headers={**HEADERS, "Accept": "text/html"})
    assert response.status_code == 200
    assert len(response.content) < MAX_API_PAGE_BYTES, len(response.content)  # 4.9 MB with plotly.js inline
    page = response.text
    assert f'<script type="text/javascript" src="{plotly_js_url()}"' in page
    csp = response.headers["content-security-policy"]
    nonce = _nonce(csp)
    assert "script-src 'self' 'nonce-" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page)
    assert len(inline_scripts) >= 2 and all(f'nonce="{nonce}"' in a for a in inline_scripts), inline_scripts
    assert all(f'nonce="{nonce}"' in a for a in re.findall(r"<style([^>]*)>", page))
    _has_security_headers(response)


# --- 4. the charting library: a cached static file for the API, inline in files -------------------------------


def test_plotly_js_is_served_once_with_a_versioned_name_and_cached_for_good(client: TestClient) -> None:
    from plotly.offline import get_plotlyjs_version

    url = plotly_js_url()
    assert url == f"/static/plotly-{get_plotlyjs_version()}.min.js"
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["cache-control"] == IMMUTABLE == "public, max-age=31536000, immutable"
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.content == plotly_js_path().read_bytes() and len(response.content) > 3_000_000
    assert client.get("/static/plotly-0.0.1.min.js").status_code == 404  # only this version's name


def test_a_report_rendered_for_a_file_still_carries_the_library_inline(client: TestClient) -> None:
    from scenarios.report_html import render_stored_schedule_html

    out = client.post(f"/v1/sites/{create_site(client)}/dispatch", json={"date": DAY}, headers=HEADERS)
    payload = client.get(f"/v1/schedules/{out.json()['schedule_id']}", headers=HEADERS).json()
    page = render_stored_schedule_html(payload)  # the renderer's default: a self-contained file
    assert "<script src=" not in page.replace("'", '"') and "plotly.js v" in page and len(page) > 3_000_000
    assert "nonce=" not in page


# --- 5. docs behind their setting, CORS off unless configured ---------------------------------------------------


@pytest.mark.parametrize("protect", [False, True])
def test_docs_pages_and_the_document_honour_protect_docs(tmp_path: Path, protect: bool) -> None:
    with api_client(tmp_path, protect_docs=protect) as client:
        for page in ("/docs", "/redoc", "/openapi.json"):
            assert client.get(page).status_code == (401 if protect else 200), page
            assert client.get(page, headers=HEADERS).status_code == 200, page


def test_cors_is_off_by_default(client: TestClient) -> None:
    preflight = client.options("/v1/sites", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
    _problem(preflight, 405)
    simple = client.get("/v1/sites", headers={**HEADERS, "Origin": ORIGIN})
    assert simple.status_code == 200 and "access-control-allow-origin" not in simple.headers


def test_cors_allows_only_the_configured_origins(tmp_path: Path) -> None:
    with api_client(tmp_path, cors_origins=[ORIGIN]) as client:
        request = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key,content-type"}
        allowed = client.options("/v1/sites", headers={"Origin": ORIGIN, **request})
        assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == ORIGIN
        assert "x-api-key" in allowed.headers["access-control-allow-headers"].lower()
        assert "access-control-allow-credentials" not in allowed.headers
        simple = client.get("/v1/sites", headers={**HEADERS, "Origin": ORIGIN})
        assert simple.headers["access-control-allow-origin"] == ORIGIN
        other = client.options("/v1/sites", headers={"Origin": "https://evil.example", **request})
        assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
        stranger = client.get("/v1/sites", headers={**HEADERS, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in stranger.headers


def test_cors_origins_come_comma_separated_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCH_CORS_ORIGINS", f"{ORIGIN}, https://b.example")
    assert Settings().cors_origins == [ORIGIN, "https://b.example"]
    monkeypatch.delenv("DISPATCH_CORS_ORIGINS")
    assert Settings().cors_origins == []


# --- 6. slow clients -----------------------------------------------------------------------------------------------


def test_a_body_that_stops_arriving_gets_408() -> None:
    """The middleware alone: the app waits for a body that never comes; the client gets a 408 problem."""
    sent: list[dict[str, Any]] = []
    app = FastAPI()

    @app.post("/upload")
    async def upload(body: dict[str, Any]) -> dict[str, Any]:
        return body

    async def stalled() -> dict[str, Any]:
        await asyncio.sleep(3600)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/upload",
        "raw_path": b"/upload",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
        "server": ("test", 80),
        "client": ("127.0.0.1", 1),
    }
    started = time.monotonic()
    asyncio.run(BodyReadTimeout(app, timeout_s=0.2)(scope, stalled, send))
    assert time.monotonic() - started < 5
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 408 and (b"connection", b"close") in start["headers"]
    body = json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))
    assert body["status"] == 408 and "did not arrive within 0.2 s" in body["detail"]
    assert sum(m["type"] == "http.response.start" for m in sent) == 1  # nothing after the 408


def _read_until_closed(sock: socket.socket, timeout_s: float) -> bytes:
    sock.settimeout(timeout_s)
    data = b""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
    return data


def test_a_slow_client_is_cut_off_while_the_server_answers_others(tmp_path: Path) -> None:
    timeout_s = 2.0
    env = {"DISPATCH_BODY_READ_TIMEOUT_S": str(timeout_s)}
    with Server(tmp_path / "api.sqlite", tmp_path / "server.log", env=env) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as slow:
            head = (
                f"POST /v1/sites HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {HEADERS['X-API-Key']}\r\n"
                "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
            )
            slow.sendall(head.encode() + b'{"name": "slo')  # then nothing
            started = time.monotonic()
            for _ in range(3):  # meanwhile the server answers everyone else at once
                assert httpx.get(f"{server.url}/healthz", timeout=timeout_s / 2).status_code == 200
            answer = _read_until_closed(slow, timeout_s + 10)
            elapsed = time.monotonic() - started
        assert elapsed < timeout_s + 5, elapsed
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:300]
        assert b"application/problem+json" in answer and b"did not arrive within 2 s" in answer
        assert httpx.get(f"{server.url}/v1/sites", headers=HEADERS, timeout=10).status_code == 200


def test_dispatch_serve_runs_uvicorn_with_its_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from scenarios.cli import app

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda target, **options: calls.append({"target": target, **options}))
    done = CliRunner().invoke(app, ["serve", "--port", "8123"])
    assert done.exit_code == 0, done.output
    assert calls == [{"target": "api.app:app", "host": "127.0.0.1", "port": 8123, "reload": False, **UVICORN_LIMITS}]
    assert UVICORN_LIMITS["timeout_keep_alive"] <= 10 and UVICORN_LIMITS["limit_concurrency"] >= 10
    assert UVICORN_LIMITS["h11_max_incomplete_event_size"] <= 64 * 1024 and UVICORN_LIMITS["http"] == "h11"
