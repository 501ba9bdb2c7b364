"""API docs that work offline and an OpenAPI document that lists every answer a route can give.

* The document: every /v1 operation lists 401, 404 (with an id in its path), 422 (with any input) and 413 (with a
  body), each with the schema the error handlers really write (checked against real answers); no dangling ``$ref``.
* ``/docs`` and ``/redoc`` load their JavaScript, CSS and icon from the app itself (the fastapi-offline package),
  never from a CDN; ``protect_docs`` keeps the pages and the document behind the key.
* Swagger UI and ReDoc actually draw the API in headless Chromium against a live uvicorn server with every name
  but 127.0.0.1 unresolvable (a plant network): needs Debian's ``chromium`` package (``.ci/run`` installs it:
  ``apt-get install -y chromium``); skipped without it on a developer's machine, failed without it in CI, as
  tests/test_api_html.py is (``tests/browser.py``).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.testclient import TestClient

from api.report import RendererMissingError
from tests.api_fixtures import DAY, HEADERS, Server, api_client, create_site, free_port, small_site
from tests.browser import headless_command, missing, require_chromium

# On SQLite only: the docs and the OpenAPI document do not touch the database.
pytestmark = pytest.mark.sqlite_only

WINDOW = (1200, 1600)
OFFLINE = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
"""Chromium's host resolver rule for a network without internet: every name but the test server's fails."""
ERROR = "#/components/schemas/ErrorOut"
VALIDATION_ERROR = "#/components/schemas/ValidationErrorOut"
PROBLEM = "application/problem+json"
POST_GREEN = (73, 204, 144)  # Swagger UI's POST badge (#49cc90)
GET_BLUE = (97, 175, 254)  # Swagger UI's GET badge (#61affe)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with api_client(tmp_path) as test_client:
        yield test_client


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in spec["paths"].items() for method, op in item.items()]


def _schema_ref(op: dict[str, Any], code: int) -> str:
    return op["responses"][str(code)]["content"][PROBLEM]["schema"]["$ref"]


# --- the document ----------------------------------------------------------------------------------------------


def test_every_v1_operation_documents_its_errors_with_their_schemas(spec: dict[str, Any]) -> None:
    v1 = [(m, p, op) for m, p, op in _operations(spec) if p.startswith("/v1/")]
    assert len(v1) >= 17
    for method, path, op in v1:
        where = f"{method} {path}"
        codes = set(op["responses"])
        assert _schema_ref(op, 401) == ERROR, where
        assert "WWW-Authenticate" in op["responses"]["401"]["headers"], where
        if "{" in path:
            assert _schema_ref(op, 404) == ERROR, where
        if op.get("parameters") or op.get("requestBody"):
            assert _schema_ref(op, 422) == VALIDATION_ERROR, where
        if op.get("requestBody"):
            assert _schema_ref(op, 413) == ERROR, where
        for code in codes - {"200", "201", "204"}:  # every error answer is a problem, with its schema
            assert set(op["responses"][code]["content"]) == {PROBLEM}, (where, code)
            assert op["responses"][code]["content"][PROBLEM]["schema"]["$ref"], (where, code)
    by_operation = {(m, p): op for m, p, op in v1}
    dispatch = by_operation[("POST", "/v1/sites/{site_id}/dispatch")]
    assert _schema_ref(dispatch, 503) == ERROR and "Retry-After" in dispatch["responses"]["503"]["headers"]
    assert dispatch["responses"]["200"]["headers"]["Idempotent-Replayed"]  # a replay: 200, not 201
    run = by_operation[("POST", "/v1/scenarios/run")]
    assert {"500", "503", "504"} <= set(run["responses"]) and "Retry-After" in run["responses"]["503"]["headers"]
    assert _schema_ref(by_operation[("GET", "/v1/schedules/{schedule_id}")], 406) == ERROR
    fetch = by_operation[("POST", "/v1/sites/{site_id}/weather/fetch")]
    assert _schema_ref(fetch, 409) == ERROR and _schema_ref(fetch, 502) == ERROR
    readyz = spec["paths"]["/readyz"]["get"]["responses"]["503"]["content"]["application/json"]["schema"]
    assert readyz == {"$ref": "#/components/schemas/ProbeOut"}


def test_fastapis_own_422_schema_is_replaced(spec: dict[str, Any]) -> None:
    """The handler answers a problem whose ``errors`` are ``{"loc", "field", "msg", "type", "input"}``, not FastAPI's
    ``{"detail": [...]}``."""
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert "ValidationError" not in spec["components"]["schemas"]
    problem = spec["components"]["schemas"]["ErrorOut"]
    assert set(problem["required"]) == {"title", "status", "detail"}
    assert {"type", "title", "status", "detail", "instance"} <= set(problem["properties"])
    detail = spec["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == {"loc", "field", "msg", "type"}
    assert {"loc", "field", "msg", "type", "input"} <= set(detail["properties"])


def test_every_ref_in_the_document_resolves(spec: dict[str, Any]) -> None:
    """A dangling ``$ref`` stops ReDoc from drawing anything ("Invalid reference token")."""
    refs = set(re.findall(r'"\$ref":\s*"([^"]+)"', httpx.Response(200, json=spec).text))
    assert refs
    for ref in refs:
        node: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(node, dict) and part in node, ref
            node = node[part]


def _conforms(spec: dict[str, Any], method: str, path: str, response: httpx.Response) -> None:
    """The answer's status is documented for the operation and its body matches the documented schema."""
    jsonschema = pytest.importorskip("jsonschema_rs", reason="jsonschema_rs comes with schemathesis (dev dependency)")
    responses = spec["paths"][path][method.lower()]["responses"]
    code = str(response.status_code)
    assert code in responses, f"{method} {path} answered {code}, which the document does not list: {response.text}"
    media_type = PROBLEM if response.status_code >= 400 else "application/json"  # every error is a problem
    assert response.headers["content-type"] == media_type, (method, path, code)
    schema = responses[code]["content"][media_type]["schema"]
    validator = jsonschema.Draft202012Validator({**schema, "components": spec["components"]})
    errors = [error.message for error in validator.iter_errors(response.json())]
    assert not errors, (method, path, code, response.text, errors)


def test_error_answers_match_their_documented_schemas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weather_url = f"http://127.0.0.1:{free_port()}/forecast?lat={{latitude}}"  # nothing listens: 502
    with api_client(
        tmp_path, max_body_bytes=20_000, weather_url=weather_url, max_concurrent_solves=1, max_queue=0
    ) as client:
        spec = client.get("/openapi.json").json()
        site_id = create_site(client)
        site = f"/v1/sites/{site_id}"

        def check(method: str, path: str, url: str, expected: int, **kwargs: Any) -> httpx.Response:
            response = client.request(method, url, **{"headers": HEADERS, **kwargs})
            assert response.status_code == expected, (method, url, response.text)
            _conforms(spec, method, path, response)
            return response

        for headers in ({}, {"X-API-Key": "wrong"}):
            assert check("GET", "/v1/sites", "/v1/sites", 401, headers=headers).headers["WWW-Authenticate"]
        check("GET", "/v1/sites/{site_id}", "/v1/sites/999", 404)
        check("GET", "/v1/schedules/{schedule_id}", "/v1/schedules/999", 404)
        check("GET", "/v1/sites/{site_id}", "/v1/sites/0", 422)  # a path parameter
        check("POST", "/v1/sites", "/v1/sites", 422, json={"name": 1, "assets": "none"})  # the body
        check(
            "POST",
            "/v1/sites",
            "/v1/sites",
            422,
            content=b"\xff",
            headers={**HEADERS, "content-type": "application/json"},
        )
        start, end = "2026-07-15T00:00:00+08:00", "2026-07-14T00:00:00+08:00"  # a range check: no "input"
        check("GET", "/v1/sites/{site_id}/plan", f"{site}/plan", 422, params={"start": start, "end": end})
        batch = {"readings": [{"series": "nonsense", "time": "2026-07-15T00:00:00+08:00", "value": 1.0}]}
        bad_rows = check("POST", "/v1/sites/{site_id}/readings", f"{site}/readings", 422, json=batch)
        assert bad_rows.json()["errors"][0]["row"] == 0
        plain_text = {**HEADERS, "content-type": "text/plain"}
        check("POST", "/v1/sites", "/v1/sites", 415, content=b'{"name": "x"}', headers=plain_text)
        big = small_site(load_kw=[200.0] * 5000)
        check("POST", "/v1/sites", "/v1/sites", 413, json=big)
        check("POST", "/v1/sites/{site_id}/weather/fetch", f"{site}/weather/fetch", 502)
        check("POST", "/v1/sites/{site_id}/dispatch", f"{site}/dispatch", 422, json={"date": "not a date"})

        dispatched = check("POST", "/v1/sites/{site_id}/dispatch", f"{site}/dispatch", 201, json={"date": DAY})
        schedule_id = dispatched.json()["schedule_id"]
        slots = client.app.state.slots  # type: ignore[attr-defined]
        slots.acquire()  # a solve in progress
        try:
            busy = check("POST", "/v1/sites/{site_id}/dispatch", f"{site}/dispatch", 503, json={"date": DAY})
            assert busy.headers["Retry-After"]
        finally:
            slots.release()

        def renderer_missing(*_: Any) -> str:
            raise RendererMissingError("jinja2 is not installed")

        monkeypatch.setattr("api.report.html_renderer", renderer_missing)
        html = {**HEADERS, "Accept": "text/html"}
        check("GET", "/v1/schedules/{schedule_id}", f"/v1/schedules/{schedule_id}", 406, headers=html)

    (tmp_path / "no-url").mkdir()
    with api_client(tmp_path / "no-url") as client:  # no weather URL configured: 409
        spec = client.get("/openapi.json").json()
        url = f"/v1/sites/{create_site(client)}/weather/fetch"
        response = client.post(url, headers=HEADERS)
        assert response.status_code == 409
        _conforms(spec, "POST", "/v1/sites/{site_id}/weather/fetch", response)


# --- the pages and their assets ----------------------------------------------------------------------------------

ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png", ".json": "application/json"}


def _page_urls(page: str) -> list[str]:
    """Every URL a docs page loads: scripts, styles, icons, the OpenAPI document (Swagger UI ``url:``, ReDoc
    ``spec-url``)."""
    urls = re.findall(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']""", page)
    urls += re.findall(r"""\burl\s*:\s*["']([^"']+)["']""", page)
    return urls


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_same_origin_assets(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert not re.search(r"(https?:)?//[\w.-]+\.\w+/", response.text), "the page names another host"
    urls = _page_urls(response.text)
    assert any(u.endswith(".js") for u in urls) and "/openapi.json" in urls, urls
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert ASSET_TYPES[Path(url).suffix] in asset.headers["content-type"], (url, asset.headers["content-type"])
        assert len(asset.content) > 1000, url


def test_protected_docs_keep_pages_and_document_behind_the_key(tmp_path: Path) -> None:
    with api_client(tmp_path, protect_docs=True) as client:
        for page in ("/docs", "/redoc", "/openapi.json"):
            assert client.get(page).status_code == 401, page
            assert client.get(page, headers=HEADERS).status_code == 200, page
        # The assets are the public Swagger UI/ReDoc files, the same on every server: served without the key.
        for url in _page_urls(client.get("/docs", headers=HEADERS).text):
            if url != "/openapi.json":
                assert client.get(url).status_code == 200, url


# --- in a browser, offline ----------------------------------------------------------------------------------------


def _chromium(chromium: str, url: str, profile: Path, *, screenshot: Path | None = None) -> str:
    """Loads ``url`` in headless Chromium with no name resolvable but 127.0.0.1; the DOM after the scripts ran (or,
    with ``screenshot``, writes the PNG and returns Chromium's output)."""
    shot = [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
    # 15 s of virtual time: Swagger UI/ReDoc fetch the document, then draw
    command = headless_command(
        chromium, profile, WINDOW, f"--host-resolver-rules={OFFLINE}", *shot, url, budget_ms=15_000
    )
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if screenshot is not None:
        assert screenshot.exists(), f"chromium wrote no screenshot (exit {completed.returncode}): {completed.stderr}"
        return completed.stderr
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def _badge_pixels(png: Path, colour: tuple[int, int, int]) -> int:
    try:
        from PIL import Image
    except ImportError:
        missing("Pillow checks the screenshot's pixels: pip install -e '.[dev]'")
    with Image.open(png) as image:
        raw = image.convert("RGB").tobytes()
    pixels = zip(raw[0::3], raw[1::3], raw[2::3], strict=True)
    return sum(1 for pixel in pixels if all(abs(a - b) <= 8 for a, b in zip(pixel, colour, strict=True)))


def test_docs_render_offline_in_headless_chromium(tmp_path: Path) -> None:
    chromium = require_chromium()
    with Server(tmp_path / "api.sqlite", tmp_path / "server.log") as server:
        spec = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
        operations = _operations(spec)

        dom = _chromium(chromium, f"{server.url}/docs", tmp_path / "profile-docs")
        assert "Failed to load API definition" not in dom
        assert 'data-path="/v1/sites/{site_id}/dispatch"' in dom  # the operation Swagger UI drew
        assert re.search(r'class="opblock opblock-post[^"]*" id="operations-dispatch-', dom)
        drawn = re.findall(r'class="opblock opblock-(get|post|put|delete)', dom)
        assert len(drawn) == len(operations), (len(drawn), len(operations))

        png = tmp_path / "docs.png"
        _chromium(chromium, f"{server.url}/docs", tmp_path / "profile-shot", screenshot=png)
        post, get = _badge_pixels(png, POST_GREEN), _badge_pixels(png, GET_BLUE)
        assert post > 2000 and get > 2000, f"Swagger UI's method badges not drawn: {post} green, {get} blue pixels"

        redoc = _chromium(chromium, f"{server.url}/redoc", tmp_path / "profile-redoc")
        assert "Something went wrong" not in redoc, redoc[-3000:]
        assert re.search(r"<h1[^>]*>Factory microgrid dispatch", redoc)  # drawn from the document
        assert "/v1/sites/{site_id}/dispatch" in redoc

        # The control: FastAPI's default page (assets from a CDN) draws nothing here, so the page above was drawn
        # from the server's own files and the browser really had no internet.
        cdn_page = tmp_path / "cdn-docs.html"
        default = get_swagger_ui_html(openapi_url=f"{server.url}/openapi.json", title="cdn")
        cdn_page.write_bytes(bytes(default.body))
        assert "opblock-summary" not in _chromium(chromium, cdn_page.as_uri(), tmp_path / "profile-cdn")
