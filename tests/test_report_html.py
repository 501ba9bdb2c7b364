"""HTML reports: schedules (scenario runs, single solves, stored API schedules), comparisons, sweeps."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from optimizer import (
    BatterySpec,
    CompressorSpec,
    DispatchProblem,
    GridSpec,
    Horizon,
    LoadSpec,
    PvSpec,
    solve,
)
from optimizer.assets.air import AirDemandSpec
from optimizer.tariff import liaoning_tou
from scenarios.loader import load_scenario
from scenarios.parallel import run_cases
from scenarios.pipeline import run_from_result
from scenarios.report_figures import detail_window
from scenarios.report_html import (
    bus_figure,
    daily_figure,
    gantt_figure,
    render_comparison_html,
    render_schedule_html,
    render_stored_schedule_html,
    render_sweep_html,
    schedule_metadata,
    storage_figure,
)

TINY = Path(__file__).with_name("test_scenarios.py")


@pytest.fixture(scope="module")
def solved() -> tuple[DispatchProblem, object]:
    horizon = Horizon.day("2026-07-15", "Asia/Shanghai")
    hours = horizon.index.hour + horizon.index.minute / 60
    problem = DispatchProblem(
        horizon=horizon,
        assets=[
            GridSpec(name="grid", import_limit_kw=1000, tariff=liaoning_tou(0.62)),
            PvSpec(name="pv", available_kw=300 * np.clip(np.sin(np.pi * (hours - 5) / 14), 0, None)),
            LoadSpec(name="load", power_kw=np.where((hours >= 8) & (hours < 20), 250.0, 80.0)),
            BatterySpec(name="battery", capacity_kwh=400, charge_power_kw=200, discharge_power_kw=200),
            CompressorSpec(name="compressor", rated_flow_m3_per_min=10),
            AirDemandSpec(name="air", flow_m3_per_min=np.where((hours >= 8) & (hours < 20), 8.0, 0.0)),
        ],
    )
    return problem, solve(problem)


def test_single_solve_report_has_dispatch_bands_storage_and_gantt(solved: tuple) -> None:
    problem, result = solved
    run = run_from_result(result, problem)
    window = run.schedule.index
    electricity = bus_figure(run, "electricity", window)
    assert electricity is not None
    names = {trace.name for trace in electricity.data}
    assert {"grid import", "pv output", "load power", "battery charge", "battery discharge"} <= names
    # supplies stack above zero, draws below: the stacked traces balance at every step
    stacked = sum(np.asarray(t.y) for t in electricity.data if t.stackgroup)
    assert np.abs(stacked).max() < 1e-5
    # Liaoning bands on a July day, shaded (flat is not): valley 00-05, peak 07:30-10:30, valley 11:30-12:30,
    # peak 16-17, sharp 17-19, peak 19-21, valley 22-24
    colour_band = {"44,160,44": "valley", "255,127,14": "peak", "214,39,40": "sharp"}
    shapes = electricity.layout.shapes
    bands = [next(b for c, b in colour_band.items() if c in shape.fillcolor) for shape in shapes]
    assert bands == ["valley", "peak", "valley", "peak", "sharp", "peak", "valley"]
    spans = [(str(s.x0)[11:16], str(s.x1)[11:16]) for s in shapes]
    assert spans[0] == ("00:00", "05:00") and spans[4] == ("17:00", "19:00") and spans[6] == ("22:00", "00:00")
    storage = storage_figure(run, window)
    assert storage is not None and max(max(t.y) for t in storage.data) <= 100 + 1e-6
    gantt = gantt_figure(run, window)
    assert gantt is not None and gantt.data[0].name == "compressor"
    html = render_schedule_html(result, problem)
    assert "Compressed air" in html and "Units on" in html and "<h2>KPIs</h2>" in html


def test_multi_day_run_comparison_and_sweep_pages(tmp_path: Path) -> None:
    from test_scenarios import TINY as TEXT

    path = tmp_path / "tiny.yaml"
    path.write_text(TEXT.replace("end_soc_frac: 0.8", "end_soc_frac: 0.2"))
    document = load_scenario(path)
    runs = run_cases(document.variants(), jobs=1, show_progress=False)
    page = render_schedule_html(runs[0])
    assert "Per day: energy cost" in page and "2026-07-16" in page
    # per day: a bar per day centred on it (days as categories, not instants at midnight), optimised and rule-based
    # side by side; the shares on a secondary axis that shows all of 0-100 % with room for the line's width
    daily = daily_figure(runs[0])
    assert daily is not None and daily.layout.xaxis.type == "category"
    assert list(daily.layout.xaxis.categoryarray) == ["2026-07-15", "2026-07-16"] and daily.layout.barmode == "group"
    assert [list(t.x) for t in daily.data if t.type == "bar"] == [["2026-07-15", "2026-07-16"]] * 2
    low, high = daily.layout.yaxis2.range
    assert low < 0 and high > 100 and list(daily.layout.yaxis2.tickvals) == [0, 25, 50, 75, 100]
    # the time series span the window, from the first step's start to the last step's end, on every chart
    window = detail_window(runs[0], 7, None)
    end = window[-1] + (window[1] - window[0])
    for figure in (bus_figure(runs[0], "electricity", window), storage_figure(runs[0], window)):
        assert figure is not None
        assert [pd.Timestamp(x) for x in figure.layout.xaxis.range] == [window[0], end]
    storage = storage_figure(runs[0], window)
    assert storage is not None and storage.layout.yaxis.range[0] < 0 and storage.layout.yaxis.range[1] > 100
    comparison = render_comparison_html(runs, links={"base": "base/report.html"})
    assert "twice the battery" in comparison and "vs base" in comparison and "base/report.html" in comparison
    sweep = run_cases(document.sweep("size")[:3], jobs=1, show_progress=False)
    page = render_sweep_html([runs[0], *sweep])  # the base case (no swept parameters) and the points
    assert "site.battery.capacity_kwh" in page and "energy cost" in page
    assert "<th>battery.capacity_kwh = 25</th>" in page and "<th>base case (as written)</th>" in page


def test_stored_api_schedule_with_and_without_metadata(solved: tuple) -> None:
    problem, result = solved
    records = [
        {"interval_start": t.isoformat(), **row}
        for t, row in zip(result.schedule.index, result.schedule.to_dict("records"), strict=True)
    ]
    payload = {
        "schedule_id": 7,
        "site_id": 2,
        "status": "optimal",
        "message": "optimal schedule",
        "violations": [],
        "kpis": result.kpis.model_dump(),
        "baseline_kpis": result.baseline_kpis.model_dump(),
        "saving_cny": result.saving_cny,
        "solver": result.report.model_dump(),
        "columns": list(result.schedule.columns),
        "schedule": records,
    }
    guessed = render_stored_schedule_html(json.loads(json.dumps(payload)))
    assert "Schedule 7 of site 2" in guessed and "stored without report metadata" in guessed
    assert "Electricity dispatch" in guessed
    payload["report_metadata"] = json.loads(json.dumps(schedule_metadata(result, problem.currency)))
    full = render_stored_schedule_html(payload)
    assert "stored without report metadata" not in full and "Compressed air" in full
    # the API's page stays one self-contained file: plotly.js inline once, the page itself small
    assert "<script src=" not in full and full.count(get_plotlyjs()[:60]) == 1
    assert len(full.encode("utf-8")) < len(get_plotlyjs().encode("utf-8")) + 300_000
    beside = render_stored_schedule_html(payload, plotly_js="file")
    assert '<script type="text/javascript" src="plotly.min.js"' in beside and len(beside) < 300_000


def test_gantt_gives_a_group_one_lane_per_unit(solved: tuple) -> None:
    problem, result = solved
    run = run_from_result(result, problem)
    schedule = run.schedule.copy()
    schedule["compressor.on"] = [0.0, 1.0, 2.0, 2.0, 1.0, 0.0] * 16  # as if a group of two
    run = dataclasses.replace(run, schedule=schedule)
    gantt = gantt_figure(run, schedule.index)
    assert gantt is not None
    assert [t.name for t in gantt.data] == ["compressor #1", "compressor #2"]
    step = pd.Timedelta(minutes=15)
    first = list(gantt.data[0].x[:2])  # lane 1: steps 1-4 (at least one unit on)
    second = list(gantt.data[1].x[:2])  # lane 2: steps 2-3
    assert [pd.Timestamp(x) for x in first] == [schedule.index[1], schedule.index[4] + step]
    assert [pd.Timestamp(x) for x in second] == [schedule.index[2], schedule.index[3] + step]


def test_labels_descriptions_and_links_are_escaped_in_schedule_and_comparison_pages(solved: tuple) -> None:
    from scenarios.report_html import comparison_table_html, kpi_table_html

    problem, result = solved
    evil = "<script>alert('x')</script>"
    run = run_from_result(result, problem)
    base = dataclasses.replace(run, label="base", description="")
    other = dataclasses.replace(
        run, scenario=f"site {evil}", label=f"variant {evil}", description=f"described {evil}", parameters={"p": evil}
    )
    escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
    page = render_schedule_html(other)
    assert evil not in page and "<script>alert" not in page
    assert (
        f"<title>site {escaped}: variant {escaped}</title>" in page
        and f"<h1>site {escaped}: variant {escaped}</h1>" in page
    )
    assert f"described {escaped}" in page and f"p = {escaped}" in page
    page = render_schedule_html(other, title=f"title {evil}")
    assert "<script>alert" not in page and f"<h1>title {escaped}</h1>" in page
    comparison = render_comparison_html(
        [base, other], title=f"compare {evil}", links={f"variant {evil}": "x' onclick='alert(1).html"}
    )
    assert "<script>alert" not in comparison and "onclick='alert" not in comparison
    assert f"<h1>compare {escaped}</h1>" in comparison and f"<th>variant {escaped}</th>" in comparison
    assert f"<b>variant {escaped}</b>: described {escaped}" in comparison
    assert f'<a href="x&#39; onclick=&#39;alert(1).html">variant {escaped}</a>' in comparison
    # the figures stay HTML (plotly.js inline once, one plotly div per figure); the tables too
    assert comparison.count('class="plotly-graph-div"') == 1 and "<script src=" not in comparison
    table = comparison_table_html([base, other])
    assert table.startswith("<table>") and f"variant {escaped}" in table and "vs base" in table
    assert kpi_table_html(run.kpis, run.baseline_kpis, "<b>CNY</b>").count("[&lt;b&gt;CNY&lt;/b&gt;]") >= 1
