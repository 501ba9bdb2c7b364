"""Figures of the quantile-forecast benchmark: coverage (nominal vs observed) and pinball loss by hour.

Drawn from the report of ``benchmarks.forecast_quantile_validation`` (the dictionaries of
``benchmarks.forecast_scoring.summarise_quantiles``), with plotly, into one HTML page that works offline
(plotly.js inline). The PV plots of the forecast report (forecast vs measured, error by month and hour) are in
``benchmarks/forecast_report.py``.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

TOLERANCE_PCT = 5.0
"""The goal of issue 17: observed coverage within 5 points of nominal."""


def _chosen(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The forecasts the figures show: for PV the year-old model and the recalibrated one; load's defaults."""
    pv = report["pv"]["results"]
    chosen = {name: s for name, s in pv.items() if name.endswith(("fit on 2019", "recalibration (60 d)"))}
    load = report["load"]["quantiles"]
    first = next(iter(load))
    chosen[f"load, {first}"] = load[first]["all"]
    return chosen


def coverage_figure(report: dict[str, Any]) -> go.Figure:
    """Observed against nominal coverage of every level (0.01 ... 0.99), with the +-5 point band."""
    figure = go.Figure()
    grid = [0.0, 100.0]
    figure.add_trace(
        go.Scatter(
            x=[0, 100, 100, 0],
            y=[TOLERANCE_PCT, 100 + TOLERANCE_PCT, 100 - TOLERANCE_PCT, -TOLERANCE_PCT],
            fill="toself",
            fillcolor="rgba(120,120,120,0.15)",
            line={"width": 0},
            name=f"within {TOLERANCE_PCT:g} points",
            hoverinfo="skip",
        )
    )
    figure.add_trace(go.Scatter(x=grid, y=grid, mode="lines", line={"color": "grey", "dash": "dot"}, name="ideal"))
    for name, summary in _chosen(report).items():
        nominal = [100.0 * q for q in summary["levels"]]
        figure.add_trace(
            go.Scatter(
                x=nominal,
                y=summary["coverage_pct"],
                mode="lines",
                name=name,
                line={"dash": "dash" if name.endswith("fit on 2019") else "solid"},
            )
        )
    figure.update_layout(
        title="Quantile coverage out of sample: share of actuals below each quantile",
        xaxis_title="nominal level [%]",
        yaxis_title="observed share below [%]",
        xaxis={"range": [0, 100]},
        yaxis={"range": [0, 100]},
        width=900,
        height=700,
        legend={"font": {"size": 10}},
    )
    return figure


def pinball_by_hour_figure(report: dict[str, Any]) -> go.Figure:
    """Pinball loss of P10, P50 and P90 by local hour: PV [% of 50 MW] and load [kW]."""
    chosen = _chosen(report)
    figure = make_subplots(
        rows=1, cols=2, subplot_titles=("PV, 2020 daylight [% of 50 MW]", "load, 2018 rolling origin [kW]")
    )
    for name, summary in chosen.items():
        column = 2 if name.startswith("load") else 1
        if name.endswith("fit on 2019"):
            continue  # the recalibrated model only: one set of lines per forecast
        for level, dash in (("p10", "dot"), ("p50", "solid"), ("p90", "dash")):
            values = summary["by_hour"][f"pinball_{level}"]
            hours = [h for h, v in enumerate(values) if v is not None]
            figure.add_trace(
                go.Scatter(
                    x=hours,
                    y=[values[h] for h in hours],
                    mode="lines+markers",
                    name=f"{name}: {level.upper()}",
                    line={"dash": dash},
                ),
                row=1,
                col=column,
            )
    figure.update_xaxes(title_text="local hour", range=[-0.5, 23.5])
    figure.update_layout(
        title="Pinball loss by hour (out of sample)", width=1300, height=550, legend={"font": {"size": 9}}
    )
    return figure


def coverage_by_hour_figure(report: dict[str, Any]) -> go.Figure:
    """Observed coverage of P10 and P90 by local hour (nominal 10 and 90 %)."""
    figure = go.Figure()
    for name, summary in _chosen(report).items():
        if name.endswith("fit on 2019"):
            continue
        for level in ("p10", "p90"):
            values = summary["by_hour"][f"coverage_{level}_pct"]
            hours = [h for h, v in enumerate(values) if v is not None]
            figure.add_trace(
                go.Scatter(x=hours, y=[values[h] for h in hours], mode="lines+markers", name=f"{name}: {level.upper()}")
            )
    for nominal in (10.0, 90.0):
        figure.add_hrect(y0=nominal - TOLERANCE_PCT, y1=nominal + TOLERANCE_PCT, fillcolor="grey", opacity=0.15)
    figure.update_layout(
        title="Coverage of P10 and P90 by hour (out of sample; bands: nominal +-5 points)",
        xaxis_title="local hour",
        yaxis_title="observed share below [%]",
        width=1100,
        height=550,
        legend={"font": {"size": 9}},
    )
    return figure


def write_quantile_report(report: dict[str, Any], path: Path) -> Path:
    """One offline HTML page with the three figures and the benchmark's headline table; returns ``path``."""
    figures = [coverage_figure(report), pinball_by_hour_figure(report), coverage_by_hour_figure(report)]
    parts = [f.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figures)]
    from benchmarks.forecast_quantile_validation import markdown

    table = html.escape(markdown(report))
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Quantile forecasts, out of sample</title></head>"
        "<body style='font-family:sans-serif'>" + "".join(parts) + f"<pre>{table}</pre></body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
