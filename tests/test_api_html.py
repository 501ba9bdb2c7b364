"""The schedule's HTML view (``Accept: text/html``) rendered in headless Chromium: the dispatch chart is drawn.

The page is loaded over HTTP from a live server, as a browser gets it: plotly.js from the server's cached static
file, the page's own scripts by nonce under its Content-Security-Policy (``api/report.py``).

Needs Debian's ``chromium`` package (``.ci/run`` installs it: ``apt-get install -y chromium``); skipped without
it on a developer's machine, failed without it in CI (``CI`` set, as ``.ci/run`` does): see ``tests/browser.py``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.report import RendererMissingError, html_renderer
from api.static import plotly_js_url
from tests.api_fixtures import DAY, HEADERS, create_site, make_settings, small_site
from tests.browser import headless_command, in_ci, missing, require_chromium
from tests.live_app import WithHeaders, serve_in_thread

WINDOW = (1200, 2000)  # tall enough for the KPI table and the first charts
CHART_TOP = 300  # below the title lines
MIN_CHART_PIXELS = 15_000  # strongly coloured pixels of a drawn dispatch chart (about 40,000 here; 0 without it)
MAX_PAGE_BYTES = 300_000  # the page without plotly.js (4.8 MB inline before)


def _screenshot(chromium: str, url: str, png: Path, profile: Path) -> str:
    """Writes the screenshot of ``url``; returns Chromium's log (the page's console: CSP violations are there)."""
    logging = ("--enable-logging=stderr", "--v=0")
    command = headless_command(chromium, profile, WINDOW, *logging, f"--screenshot={png}", url)
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert png.exists(), f"chromium wrote no screenshot (exit {completed.returncode}): {completed.stderr[-2000:]}"
    return completed.stderr


def _chart_pixels(png: Path) -> tuple[int, int]:
    """(distinct colours, strongly coloured pixels) below the title: a drawn chart has many of both, a page
    whose chart failed to draw has text and table lines only (a few coloured KPI deltas)."""
    try:
        from PIL import Image
    except ImportError:
        missing("Pillow checks the screenshot's pixels: pip install -e '.[dev]'")
    with Image.open(png) as image:
        region = image.convert("RGB").crop((0, CHART_TOP, WINDOW[0], WINDOW[1]))
        raw = region.tobytes()  # RGB triples
    pixels = list(zip(raw[0::3], raw[1::3], raw[2::3], strict=True))
    coloured = sum(1 for r, g, b in pixels if max(r, g, b) - min(r, g, b) > 100)
    return len(set(pixels)), coloured


def test_html_schedule_renders_its_chart_in_headless_chromium(tmp_path: Path) -> None:
    chromium = require_chromium()
    try:
        html_renderer()
    except RendererMissingError as error:
        missing(f"the HTML renderer is missing: {error}")
    app = create_app(make_settings(tmp_path))
    with serve_in_thread(WithHeaders(app, HEADERS)) as url, httpx.Client(base_url=url, timeout=120) as client:
        site_id = create_site(client, small_site())
        out = client.post(f"/v1/sites/{site_id}/dispatch", json={"date": DAY}, headers=HEADERS)
        assert out.status_code == 201, out.text
        schedule = f"{url}/v1/schedules/{out.json()['schedule_id']}"
        response = client.get(schedule, headers={**HEADERS, "Accept": "text/html"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        page = response.text
        assert "Electricity dispatch" in page and "Storage levels" in page
        assert "recognisable by their names" not in page  # drawn from the stored problem, not guessed
        assert f'src="{plotly_js_url()}"' in page and len(response.content) < MAX_PAGE_BYTES  # the library: a file
        assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]

        png = tmp_path / "schedule.png"
        log = _screenshot(chromium, schedule, png, tmp_path / "chromium-profile")  # the page as the browser gets it
    colours, coloured = _chart_pixels(png)
    assert colours > 200, f"only {colours} distinct colours in the chart area"
    assert coloured > MIN_CHART_PIXELS, f"only {coloured} strongly coloured pixels: the chart was not drawn"
    blocked = [line for line in log.splitlines() if "Content Security Policy" in line and "script-src" in line]
    assert not blocked, blocked  # every script of the page ran under its policy

    # The same page without its scripts (plotly never runs) fails the same check: the check sees the chart.
    bare = tmp_path / "bare.html"
    bare.write_text(page.replace("<script", "<noscript").replace("</script>", "</noscript>"), encoding="utf-8")
    _screenshot(chromium, bare.as_uri(), tmp_path / "bare.png", tmp_path / "chromium-profile-bare")
    assert _chart_pixels(tmp_path / "bare.png")[1] < MIN_CHART_PIXELS // 10


@pytest.mark.parametrize(("ci", "outcome"), [("true", "fail"), ("1", "fail"), ("", "skip"), ("false", "skip")])
def test_a_missing_chromium_fails_in_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: str
) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr("tests.browser.shutil.which", lambda _name: None)
    assert in_ci() is (outcome == "fail")
    expected = pytest.fail.Exception if outcome == "fail" else pytest.skip.Exception
    with pytest.raises(expected, match="apt-get install -y chromium"):
        require_chromium()
