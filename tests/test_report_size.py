"""Light reports: one plotly.min.js per output folder (not 4.8 MB inline in every page), sweeps drawn by value, and a
report drawn in headless Chromium from the library beside it.

The browser check needs Debian's ``chromium`` package (``.ci/run`` installs it); as every browser test
(``tests/browser.py``), it skips without it on a developer's machine and fails without it in CI.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from plotly.offline import get_plotlyjs
from typer.testing import CliRunner

from scenarios.cli import app
from scenarios.loader import load_scenario
from scenarios.parallel import run_cases
from scenarios.pipeline import ScenarioRun
from scenarios.report_figures import sweep_figures, sweep_shape
from scenarios.report_html import (
    PLOTLY_JS_FILE,
    plotly_js_file,
    render_schedule_html,
    render_sweep_html,
    write_plotly_js,
)
from tests.browser import headless_command, missing, require_chromium

MAX_REPORT_BYTES = 300_000  # a report without the library: about 60 kB for the two days of the tiny scenario
LIBRARY_BYTES = len(get_plotlyjs().encode("utf-8"))  # about 4.8 MB
WINDOW = (1200, 2400)  # the KPIs and the saving split above the charts take about 900 px
CHART_TOP = 300  # below the title lines
MIN_CHART_PIXELS = 15_000  # strongly coloured pixels of the drawn dispatch chart


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny two-day scenario of ``tests/test_scenarios.py`` (variant ``bigger``, sweep ``size``)."""
    from test_scenarios import TINY

    path = tmp_path_factory.mktemp("size") / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(scenario: Path) -> list[ScenarioRun]:
    """The base (two days) and the first three points of its sweep (capacity 25, 50, 100 kWh)."""
    document = load_scenario(scenario)
    return run_cases([document.base(), *document.sweep("size")[:3]], jobs=1, show_progress=False)


def _invoke(*args: str) -> None:
    done = CliRunner().invoke(app, [*args, "--no-progress", "-j", "1"])
    assert done.exit_code == 0, done.output


def _scripts(html: str) -> list[str]:
    """The ``src`` of every script of a page."""
    return re.findall(r'<script[^>]*\ssrc="([^"]+)"', html)


def _figures(html: str) -> list[dict[str, Any]]:
    """The traces of every plotly figure of a page (the JSON arguments of ``Plotly.newPlot``)."""
    decoder = json.JSONDecoder()
    figures = []
    for match in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', html):
        traces, _ = decoder.raw_decode(html, match.end())
        figures.append({"data": traces})
    return figures


def test_run_writes_one_library_and_a_light_report_that_loads_it(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    _invoke("run", str(scenario), "--out", str(out))
    assert [p.name for p in out.rglob("*.js")] == [PLOTLY_JS_FILE]
    assert (out / PLOTLY_JS_FILE).read_text(encoding="utf-8") == get_plotlyjs()
    report = out / "report.html"
    size = report.stat().st_size
    assert size < MAX_REPORT_BYTES, f"report.html is {size:,} bytes"
    html = report.read_text(encoding="utf-8")
    assert _scripts(html) == [PLOTLY_JS_FILE]
    assert "Electricity dispatch" in html and html.count('class="plotly-graph-div"') >= 2

    # a second run into the folder keeps the one copy (not rewritten when unchanged)
    before = (out / PLOTLY_JS_FILE).stat().st_mtime_ns
    _invoke("run", str(scenario), "--out", str(out), "--days", "1")
    assert [p.name for p in out.rglob("*.js")] == [PLOTLY_JS_FILE]
    assert (out / PLOTLY_JS_FILE).stat().st_mtime_ns == before


def test_compare_of_two_variants_shares_one_library(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "compare"
    _invoke("compare", str(scenario), "--variants", "bigger", "--out", str(out), "--days", "1")
    assert [p.relative_to(out).as_posix() for p in out.rglob("*.js")] == [PLOTLY_JS_FILE]
    assert _scripts((out / "comparison.html").read_text(encoding="utf-8")) == [PLOTLY_JS_FILE]
    for variant in ("base", "bigger"):
        page = (out / variant / "report.html").read_text(encoding="utf-8")
        assert _scripts(page) == [f"../{PLOTLY_JS_FILE}"]
        assert len(page.encode("utf-8")) < MAX_REPORT_BYTES
    pages = sum(p.stat().st_size for p in out.rglob("*.html"))
    assert pages < 3 * MAX_REPORT_BYTES, f"the three pages are {pages:,} bytes"
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert total < LIBRARY_BYTES + 1_000_000, f"the folder is {total:,} bytes (before: one library per page)"


def test_sweep_with_schedules_shares_the_library_of_its_folder(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    _invoke("sweep", str(scenario), "--out", str(out), "--days", "1", "--schedules")
    assert [p.relative_to(out).as_posix() for p in out.rglob("*.js")] == [PLOTLY_JS_FILE]
    assert _scripts((out / "sweep.html").read_text(encoding="utf-8")) == [PLOTLY_JS_FILE]
    points = sorted(out.glob("*/report.html"))  # the five points (and the base case, when it is run too)
    assert len(points) >= 5 and all(_scripts(p.read_text()) == [f"../{PLOTLY_JS_FILE}"] for p in points)


def test_inline_and_file_modes_of_the_renderer(runs: list[ScenarioRun], tmp_path: Path) -> None:
    inline = render_schedule_html(runs[0])
    assert _scripts(inline) == [] and len(inline.encode("utf-8")) > LIBRARY_BYTES  # self-contained, as the API's
    beside = render_schedule_html(runs[0], plotly_js="file")
    assert _scripts(beside) == [PLOTLY_JS_FILE] and len(beside.encode("utf-8")) < MAX_REPORT_BYTES
    assert _scripts(render_schedule_html(runs[0], plotly_js="../lib/plotly.min.js")) == ["../lib/plotly.min.js"]
    # the src of a page in a subfolder, the library written once in the top folder
    assert plotly_js_file(tmp_path / "a" / "b", tmp_path) == f"../../{PLOTLY_JS_FILE}"
    assert plotly_js_file(tmp_path) == PLOTLY_JS_FILE
    assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.js")] == [PLOTLY_JS_FILE]
    # a stale or cut copy is replaced
    (tmp_path / PLOTLY_JS_FILE).write_text("/* old */", encoding="utf-8")
    assert write_plotly_js(tmp_path).stat().st_size == LIBRARY_BYTES
    with pytest.raises(ValueError, match="plotly_js"):
        render_schedule_html(runs[0], plotly_js="")


def _points(run: ScenarioRun, points: list[dict[str, Any]]) -> list[ScenarioRun]:
    """Copies of ``run`` as the points of a sweep with these values (the KPIs are the run's: the charts' shape is
    what is tested)."""
    return [dataclasses.replace(run, label=f"s[{i}]", sweep="s", parameters=p) for i, p in enumerate(points)]


def test_one_dimensional_sweep_is_a_line_chart_against_the_values(runs: list[ScenarioRun]) -> None:
    base, points = runs[0], runs[1:]
    assert sweep_shape(points).dimensions == 1
    (figure,) = sweep_figures(points)
    lines = [t for t in figure.data if t.type == "scatter" and "lines" in t.mode and t.name == "optimised"]
    assert len(lines) == 3  # one panel per KPI the site has (no PV: no PV self-consumption)
    assert list(lines[0].x) == [25, 50, 100]
    assert lines[0].y[0] == pytest.approx(points[0].kpis.energy_cost_cny)
    assert not [t for t in figure.data if t.type == "heatmap"]

    page = render_sweep_html([base, *points], plotly_js="file")  # the base case among the runs: the reference
    traces = [t for f in _figures(page) for t in f["data"]]
    drawn = [t for t in traces if t.get("type") == "scatter" and t.get("name") == "optimised"]
    assert drawn and drawn[0]["x"] == [25, 50, 100] and "lines" in drawn[0]["mode"]
    assert any(t.get("name", "").startswith("base case") for t in traces)
    assert not [t for t in traces if t.get("type") == "heatmap"]
    header = re.search(r"<thead>.*?</thead>", page, re.S)
    assert header is not None
    columns = re.findall(r"<th>(.*?)</th>", header.group(0))
    assert columns == [
        "KPI",
        "base case (as written)",
        "battery.capacity_kwh = 25",
        "battery.capacity_kwh = 50",
        "battery.capacity_kwh = 100",
    ]
    assert "vs base" in page and "vs first point" not in page and "size[0]" not in page

    alone = render_sweep_html(points, plotly_js="file")  # without the base case: against the first point, said
    assert "vs first point" in alone and "was not run with this sweep" in alone


def test_zip_sweep_of_two_parameters_is_one_dimensional(runs: list[ScenarioRun]) -> None:
    values = [(500, 250), (1000, 500), (2000, 1000)]
    zipped = _points(runs[1], [{"site.battery.capacity_kwh": c, "site.battery.charge_power_kw": p} for c, p in values])
    shape = sweep_shape(zipped)
    assert shape.dimensions == 1 and shape.x == "site.battery.capacity_kwh"
    assert shape.along == ("site.battery.charge_power_kw",)
    (figure,) = sweep_figures(zipped)
    assert list(figure.data[0].x) == [500, 1000, 2000] and figure.data[0].mode == "lines+markers"
    assert "battery.charge_power_kw = 500" in figure.data[0].text[1]
    assert "with site.battery.charge_power_kw" in figure.layout.xaxis.title.text


def test_two_dimensional_sweep_is_a_heat_map(runs: list[ScenarioRun]) -> None:
    grid = [{"site.battery.capacity_kwh": c, "site.grid.import_limit_kw": g} for c in (50, 100) for g in (500, 1000)]
    points = _points(runs[1], grid)
    assert sweep_shape(points).dimensions == 2
    figures = sweep_figures(points)
    assert figures and all(f.data[0].type == "heatmap" for f in figures)
    assert list(figures[0].data[0].x) == ["50", "100"] and list(figures[0].data[0].y) == ["500", "1000"]
    page = render_sweep_html(points, plotly_js="file")
    kinds = {t.get("type") for f in _figures(page) for t in f["data"]}
    assert kinds == {"heatmap"}
    assert "<th>battery.capacity_kwh = 50\ngrid.import_limit_kw = 1000</th>" in page  # a line per parameter


def _chromium(chromium: str, page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = headless_command(chromium, profile, WINDOW, *extra, page.as_uri())
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _coloured_pixels(png: Path) -> int:
    """Strongly coloured pixels below the title: many where a chart was drawn, few (KPI deltas) where not."""
    try:
        from PIL import Image
    except ImportError:
        missing("Pillow checks the screenshot's pixels: pip install -e '.[dev]'")
    with Image.open(png) as image:
        raw = image.convert("RGB").crop((0, CHART_TOP, WINDOW[0], WINDOW[1])).tobytes()
    return sum(1 for r, g, b in zip(raw[0::3], raw[1::3], raw[2::3], strict=True) if max(r, g, b) - min(r, g, b) > 100)


def test_report_with_the_library_beside_it_draws_its_charts_in_headless_chromium(
    runs: list[ScenarioRun], tmp_path: Path
) -> None:
    chromium = require_chromium()
    folder = tmp_path / "out" / "base"
    folder.mkdir(parents=True)
    page = folder / "report.html"
    page.write_text(render_schedule_html(runs[0], plotly_js=plotly_js_file(folder, tmp_path / "out")), "utf-8")
    assert _scripts(page.read_text(encoding="utf-8")) == [f"../{PLOTLY_JS_FILE}"]

    dom = _chromium(chromium, page, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    # plotly ran: each figure's div holds the SVG it drew, and the notice of a missing library stays hidden
    assert dom.stdout.count('class="main-svg"') >= 2, "the charts were not drawn"
    assert re.search(r'<p id="plotly-missing"[^>]*\shidden', dom.stdout)

    png = tmp_path / "report.png"
    shot = _chromium(chromium, page, tmp_path / "profile-shot", f"--screenshot={png}")
    assert png.exists(), f"chromium wrote no screenshot (exit {shot.returncode}): {shot.stderr[-2000:]}"
    coloured = _coloured_pixels(png)
    assert coloured > MIN_CHART_PIXELS, f"only {coloured} strongly coloured pixels: the chart was not drawn"

    # the page moved away from its library: no chart, and the page says what is missing
    alone = tmp_path / "alone.html"
    alone.write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    dom = _chromium(chromium, alone, tmp_path / "profile-alone", "--dump-dom")
    assert 'class="main-svg"' not in dom.stdout
    assert not re.search(r'<p id="plotly-missing"[^>]*\shidden', dom.stdout)
