"""Self-contained HTML reports with plotly figures (plotly.js inline: no network needed to view them).

- :func:`render_schedule_html`: one schedule (a :class:`~scenarios.pipeline.ScenarioRun`,
  or a :class:`~optimizer.DispatchResult` with its problem, or a bare schedule):
  KPIs against the rule-based baseline, stacked dispatch per bus (electricity
  with the TOU bands shaded and the import price; heat, cooling, compressed
  air), storage levels, an on/off Gantt of switched units, and for runs of
  several days the daily costs and shares. The API serves the same page.
- :func:`render_comparison_html`: variants side by side: bar charts of cost,
  emissions, PV self-consumption and green share (optimised and rule-based)
  and the KPI table with deltas against the base and the rules.
- :func:`render_sweep_html`: KPIs against the swept parameter(s).

Long runs show the time series of ``detail_days`` days (default 7) and daily
summaries of the whole run.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from optimizer import DispatchProblem, DispatchResult, Kpis
from scenarios.compare import KPI_ROWS, comparison_table
from scenarios.pipeline import FlowInfo, ScenarioRun, run_from_result

BAND_COLOURS = {"sharp": "rgba(214,39,40,0.16)", "peak": "rgba(255,127,14,0.13)", "valley": "rgba(44,160,44,0.11)"}
BUS_TITLES = {
    "electricity": ("Electricity dispatch", "kW"),
    "heat": ("Heat supply", "kW_th"),
    "cooling": ("Cooling supply", "kW_th"),
    "ice": ("Ice making and storage", "kW_th"),
    "compressed_air": ("Compressed air", "m3/min"),
}
ROLE_COLOURS = {
    "pv_output": "#f2b701",
    "grid_import": "#7f7f7f",
    "grid_export": "#9467bd",
    "storage_discharge": "#2ca02c",
    "storage_charge": "#98df8a",
    "electric_load": "#1f3b73",
}
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#aec7e8",
    "#ffbb78",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#9edae5",
    "#dbdb8d",
)
FIGURE_CONFIG = {"displaylogo": False, "responsive": True}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1280px;padding:1rem 2rem;
color:#222}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
.meta{color:#555;font-size:.9rem}.warn{color:#b00020;font-weight:600}
table{border-collapse:collapse;font-size:.88rem;margin:.5rem 0}th,td{padding:.25rem .6rem;border-bottom:1px solid #eee;
text-align:right}th:first-child,td:first-child{text-align:left}thead th{background:#f5f5f5}
.better{color:#1a7f37}.worse{color:#b00020}.note{color:#666;font-size:.85rem}
"""


# --- helpers -----------------------------------------------------------------------------------


def _esc(text: Any) -> str:
    return html.escape(str(text))


def _label(text: str) -> str:
    """A KPI label; leading spaces (a sub-item) become an indent."""
    stripped = text.lstrip(" ")
    return "&emsp;" * ((len(text) - len(stripped)) // 2) + _esc(stripped)


def _colour(column: str, info: FlowInfo | None, used: dict[str, str]) -> str:
    if column in used:
        return used[column]
    colour = ROLE_COLOURS.get(info.role or "") if info is not None else None
    if colour is None or colour in used.values():
        colour = PALETTE[len(used) % len(PALETTE)]
    used[column] = colour
    return colour


def _fmt(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    if unit == "%":
        return f"{100 * value:.1f} %"
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


def _fmt_delta(value: float | None, unit: str, lower_is_better: bool) -> str:
    if value is None or abs(value) < 1e-9:
        return "-" if value is None else "0"
    good = (value < 0) == lower_is_better
    text = f"{100 * value:+.1f} pt" if unit == "%" else f"{value:+,.0f}"
    return f'<span class="{"better" if good else "worse"}">{text}</span>'


def _figure_html(fig: go.Figure) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, config=FIGURE_CONFIG)


def _page(title: str, body: list[str]) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_esc(title)}</title><style>{CSS}</style>"
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>\n"
        + "\n".join(body)
        + f"\n<p class='note'>Generated {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} by factory-dispatch.</p>"
        "</body></html>\n"
    )


def _window(run: ScenarioRun, detail_days: int, detail_start: dt.date | None) -> pd.DatetimeIndex:
    index = run.schedule.index
    if len(index) == 0:
        return index
    local = index.tz_localize(None) if index.tz is not None else index
    first = pd.Timestamp(detail_start) if detail_start is not None else local[0].normalize()
    mask = (local >= first) & (local < first + pd.Timedelta(days=detail_days))
    return index[mask] if mask.any() else index[: min(len(index), 96 * detail_days)]


def _shade_bands(fig: go.Figure, bands: pd.Series | None, window: pd.DatetimeIndex, step: pd.Timedelta) -> None:
    if bands is None or len(window) == 0:
        return
    b = bands.reindex(window)
    runs_start = 0
    values = b.to_numpy()
    for k in range(1, len(values) + 1):
        if k == len(values) or values[k] != values[runs_start]:
            colour = BAND_COLOURS.get(str(values[runs_start]))
            if colour is not None:
                fig.add_vrect(
                    x0=window[runs_start], x1=window[k - 1] + step, fillcolor=colour, line_width=0, layer="below"
                )
            runs_start = k


def _step(index: pd.DatetimeIndex) -> pd.Timedelta:
    return index[1] - index[0] if len(index) > 1 else pd.Timedelta(minutes=15)


def _pretty(column: str) -> str:
    return column.replace(".", " ").replace("_kw", "").replace("_m3_per_min", "").replace("_", " ")


# --- schedule figures --------------------------------------------------------------------------


def bus_figure(run: ScenarioRun, bus: str, window: pd.DatetimeIndex) -> go.Figure | None:
    """Stacked supplies (above zero) and draws (below zero) on one bus; TOU bands shaded on electricity."""
    columns = [c for c, info in run.flows.items() if info.bus == bus and c in run.schedule.columns]
    if not columns or len(window) == 0:
        return None
    data = run.schedule.loc[window, columns]
    title, unit = BUS_TITLES.get(bus, (bus.replace("_", " ").capitalize(), ""))
    price_column = next((c for c in run.schedule.columns if c.endswith(".import_price_cny_per_kwh")), None)
    with_price = bus == "electricity" and price_column is not None
    fig = make_subplots(specs=[[{"secondary_y": with_price}]])
    used: dict[str, str] = {}
    for column in columns:
        info = run.flows[column]
        values = data[column].to_numpy() * info.sign
        if np.all(np.abs(values) < 1e-6):
            continue
        group = "supply" if info.sign > 0 else "draw"
        colour = _colour(column, info, used)
        fig.add_trace(
            go.Scatter(
                x=window,
                y=values,
                name=_pretty(column),
                stackgroup=group,
                line={"shape": "hv", "width": 0.5, "color": colour},
                fillcolor=colour,
                hovertemplate=f"{column}: %{{y:,.1f}} {unit}<extra></extra>",
            ),
            secondary_y=False,
        )
    if with_price:
        fig.add_trace(
            go.Scatter(
                x=window,
                y=run.schedule.loc[window, price_column],
                name=f"import price [{run.currency}/kWh]",
                line={"shape": "hv", "dash": "dot", "color": "#444", "width": 1.2},
            ),
            secondary_y=True,
        )
        fig.update_yaxes(title_text=f"{run.currency}/kWh", secondary_y=True, rangemode="tozero", showgrid=False)
        _shade_bands(fig, run.bands, window, _step(window))
    subtitle = " (supplies above zero, draws below; shaded: sharp red, peak orange, valley green)" if with_price else ""
    fig.update_layout(
        title=f"{title} [{unit}]{subtitle}",
        hovermode="x unified",
        height=460,
        margin={"t": 60, "l": 60, "r": 40, "b": 40},
        legend={"orientation": "h", "y": -0.15},
    )
    fig.update_yaxes(title_text=unit, secondary_y=False, zeroline=True, zerolinecolor="#333")
    return fig


def storage_figure(run: ScenarioRun, window: pd.DatetimeIndex) -> go.Figure | None:
    """Levels of stores (battery SOC, tanks, air receivers) as % of capacity, at interval ends."""
    columns = [c for c in run.capacities if c in run.schedule.columns]
    if not columns or len(window) == 0:
        return None
    fig = go.Figure()
    ends = window + _step(window)
    for column in columns:
        values = run.schedule.loc[window, column].to_numpy() / run.capacities[column] * 100
        fig.add_trace(go.Scatter(x=ends, y=values, name=column, mode="lines"))
    _shade_bands(fig, run.bands, window, _step(window))
    fig.update_layout(
        title="Storage levels [% of capacity] (battery SOC, tanks, air receivers; at interval ends)",
        yaxis={"title": "%", "range": [0, 100]},
        hovermode="x unified",
        height=340,
        margin={"t": 60, "l": 60, "r": 40, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def gantt_figure(run: ScenarioRun, window: pd.DatetimeIndex) -> go.Figure | None:
    """On/off of switched units (compressors, chillers, boilers, batch loads) as bars over time."""
    columns = [c for c in run.schedule.columns if c.endswith((".on", ".ice_mode"))]
    if not columns or len(window) == 0:
        return None
    step = _step(window)
    fig = go.Figure()

    def label_of(column: str) -> str:
        return column.removesuffix(".on").replace(".ice_mode", " (ice mode)")

    # A group of identical units (its on column counts the units running) gets one lane per unit: lane k is
    # on while at least k units run.
    lanes = []
    for column in columns:
        units = max(1, round(float(run.schedule[column].max())))
        for k in range(1, units + 1):
            label = label_of(column) if units == 1 else f"{label_of(column)} #{k}"
            lanes.append((label, run.schedule.loc[window, column].to_numpy() > k - 0.5))

    for k, (label, on) in enumerate(lanes):
        xs: list[Any] = []
        start = None
        for t in range(len(on) + 1):
            if t < len(on) and on[t] and start is None:
                start = t
            elif (t == len(on) or not on[t]) and start is not None:
                xs += [window[start], window[t - 1] + step, None]
                start = None
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[label if x is not None else None for x in xs],
                mode="lines",
                line={"width": 14, "color": PALETTE[k % len(PALETTE)]},
                name=label,
                showlegend=False,
                hovertemplate=f"{label} on<extra></extra>",
            )
        )
    _shade_bands(fig, run.bands, window, step)
    fig.update_layout(
        title="Units on/off (compressors, chillers, switched loads)",
        height=max(220, 60 + 32 * len(lanes)),
        margin={"t": 60, "l": 160, "r": 40, "b": 40},
        yaxis={"categoryorder": "array", "categoryarray": list(reversed([label for label, _ in lanes]))},
    )
    return fig


def daily_figure(run: ScenarioRun) -> go.Figure | None:
    """Daily energy cost (optimised and rule-based) and daily shares, for runs of several periods."""
    if len(run.days) < 2:
        return None
    x = [d.period for d in run.days]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=x, y=[k.energy_cost_cny for k in run.daily_kpis], name="energy cost, optimised"))
    fig.add_trace(
        go.Bar(x=x, y=[k.energy_cost_cny for k in run.daily_baseline_kpis], name="energy cost, rule-based", opacity=0.5)
    )
    for key, label in (("pv_self_consumption_frac", "PV self-consumption"), ("green_share_frac", "green share")):
        values = [getattr(k, key) for k in run.daily_kpis]
        if any(v is not None for v in values):
            fig.add_trace(
                go.Scatter(x=x, y=[None if v is None else 100 * v for v in values], name=f"{label} [%]", mode="lines"),
                secondary_y=True,
            )
    fig.update_layout(
        title=f"Per day: energy cost [{run.currency}] and shares [%]",
        barmode="overlay",
        height=380,
        margin={"t": 60, "l": 60, "r": 60, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    fig.update_yaxes(title_text=run.currency, secondary_y=False)
    fig.update_yaxes(title_text="%", range=[0, 100], secondary_y=True, showgrid=False)
    return fig


def kpi_table_html(kpis: Kpis, baseline: Kpis, currency: str) -> str:
    """Optimised vs rule-based KPIs, with the difference."""
    rows = []
    for row in KPI_ROWS:
        unit = row.unit.format(currency=currency)
        a, b = row.value(kpis), row.value(baseline)
        if a is None and b is None:
            continue
        delta = None if a is None or b is None else a - b
        rows.append(
            f"<tr><td>{_label(row.label)} [{_esc(unit)}]</td><td>{_fmt(a, unit)}</td><td>{_fmt(b, unit)}</td>"
            f"<td>{_fmt_delta(delta, unit, row.lower_is_better)}</td></tr>"
        )
    for shortfall in kpis.target_shortfalls:
        state = "met" if shortfall.shortfall <= 1e-6 else f"short by {shortfall.shortfall:,.1f} {shortfall.unit}"
        rows.append(
            f"<tr><td>target {_esc(shortfall.target)}</td><td colspan='3'>required {shortfall.required:,.0f} "
            f"{_esc(shortfall.unit)}, achieved {shortfall.achieved:,.0f}: {_esc(state)}</td></tr>"
        )
    return (
        "<table><thead><tr><th>KPI</th><th>optimised</th><th>rule-based</th><th>difference</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _days_table_html(run: ScenarioRun, limit: int = 62) -> str:
    if len(run.days) < 2:
        return ""
    records = run.days
    if len(records) > limit:
        frame = pd.DataFrame(
            {
                "month": [r.period[:7] for r in records],
                "cost": [k.energy_cost_cny for k in run.daily_kpis],
                "rules": [k.energy_cost_cny for k in run.daily_baseline_kpis],
                "fallback": [r.schedule_source != "optimizer" for r in records],
                "solve": [r.solve_seconds for r in records],
            }
        ).groupby("month", sort=False)
        body = "".join(
            f"<tr><td>{_esc(m)}</td><td>{g.cost.sum():,.0f}</td><td>{g.rules.sum():,.0f}</td>"
            f"<td>{g.rules.sum() - g.cost.sum():,.0f}</td><td>{int(g.fallback.sum())}</td>"
            f"<td>{g.solve.sum():.1f}</td></tr>"
            for m, g in frame
        )
        head = "<th>month</th>"
    else:
        body = "".join(
            f"<tr><td>{_esc(r.period)}</td><td>{k.energy_cost_cny:,.0f}</td><td>{b.energy_cost_cny:,.0f}</td>"
            f"<td>{b.energy_cost_cny - k.energy_cost_cny:,.0f}</td>"
            f"<td>{'' if r.schedule_source == 'optimizer' else 'FALLBACK ' + _esc(r.status)}</td>"
            f"<td>{r.solve_seconds:.1f}</td></tr>"
            for r, k, b in zip(records, run.daily_kpis, run.daily_baseline_kpis, strict=True)
        )
        head = "<th>day</th>"
    return (
        f"<h2>Per {'month' if len(records) > limit else 'day'}</h2><table><thead><tr>{head}"
        f"<th>energy cost [{_esc(run.currency)}]</th><th>rule-based</th><th>saving</th><th>fallback</th>"
        f"<th>solve [s]</th></tr></thead><tbody>{body}</tbody></table>"
    )


def _as_run(source: ScenarioRun | DispatchResult | pd.DataFrame, problem: DispatchProblem | None) -> ScenarioRun:
    if isinstance(source, ScenarioRun):
        return source
    if isinstance(source, DispatchResult):
        if problem is None:
            raise ValueError("rendering a DispatchResult needs the DispatchProblem it was solved from")
        return run_from_result(source, problem)
    if problem is not None:
        raise ValueError("pass a DispatchResult with its problem, or a ScenarioRun")
    raise TypeError(f"cannot render {type(source).__name__}; pass a ScenarioRun or a DispatchResult and its problem")


def render_schedule_html(
    source: ScenarioRun | DispatchResult,
    problem: DispatchProblem | None = None,
    *,
    title: str | None = None,
    detail_days: int = 7,
    detail_start: dt.date | None = None,
) -> str:
    """The HTML report of one schedule: KPIs, dispatch per bus, storage, on/off, per-day summary.

    ``source``: a :class:`ScenarioRun`, or a :class:`~optimizer.DispatchResult`
    together with the ``problem`` it solved. Time series show ``detail_days``
    days from ``detail_start`` (default: the first day).
    """
    run = _as_run(source, problem)
    title = title or f"{run.scenario}: {run.label}"
    window = _window(run, detail_days, detail_start)
    first, last = run.days[0].period, run.days[-1].period
    fallback = run.fallback_days
    body = [
        f"<h1>{_esc(title)}</h1>",
        f"<p class='meta'>{_esc(run.description)}</p>" if run.description else "",
        f"<p class='meta'>{_esc(first)}{' to ' + _esc(last) if last != first else ''}: {len(run.days)} period(s), "
        f"{len(run.schedule):,} steps; saving against the rule-based baseline "
        f"<b>{run.saving_cny:,.0f} {_esc(run.currency)}</b>; run time {run.seconds:.1f} s.</p>",
    ]
    if run.parameters:
        body.append(
            "<p class='meta'>" + ", ".join(f"{_esc(k)} = {_esc(v)}" for k, v in run.parameters.items()) + "</p>"
        )
    if fallback:
        body.append(
            f"<p class='warn'>{len(fallback)} period(s) fell back to the rule-based schedule "
            f"(infeasible or no solution): {_esc(', '.join(fallback[:10]))}</p>"
        )
    body += ["<h2>KPIs</h2>", kpi_table_html(run.kpis, run.baseline_kpis, run.currency)]
    if len(window) < len(run.schedule):
        body.append(
            f"<p class='note'>Time series below: {window[0]:%Y-%m-%d} to {window[-1]:%Y-%m-%d} "
            f"({len(window):,} of {len(run.schedule):,} steps).</p>"
        )
    buses = list(dict.fromkeys(info.bus for info in run.flows.values() if info.bus is not None))
    buses.sort(key=lambda b: list(BUS_TITLES).index(b) if b in BUS_TITLES else len(BUS_TITLES))
    figures = [bus_figure(run, bus, window) for bus in buses]
    figures += [storage_figure(run, window), gantt_figure(run, window), daily_figure(run)]
    body += ["<h2>Schedule</h2>"] + [_figure_html(f) for f in figures if f is not None]
    body.append(_days_table_html(run))
    return _page(title, body)


# --- comparisons and sweeps --------------------------------------------------------------------


def _comparison_bars(runs: Sequence[ScenarioRun]) -> go.Figure:
    labels = [r.label for r in runs]
    panels = (
        ("energy_cost_cny", f"Energy cost [{runs[0].currency}]", 1.0),
        ("emissions_market_kgco2", "Emissions, market-based [tCO2]", 1e-3),
        ("pv_self_consumption_frac", "PV self-consumption [%]", 100.0),
        ("green_share_frac", "Green share [%]", 100.0),
    )
    fig = make_subplots(rows=2, cols=2, subplot_titles=[p[1] for p in panels], vertical_spacing=0.14)
    for k, (key, _, factor) in enumerate(panels):
        row, col = k // 2 + 1, k % 2 + 1
        opt = [getattr(r.kpis, key) for r in runs]
        base = [getattr(r.baseline_kpis, key) for r in runs]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[None if v is None else v * factor for v in opt],
                name="optimised",
                marker_color="#1f77b4",
                showlegend=k == 0,
                legendgroup="opt",
            ),
            row=row,
            col=col,
        )
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[None if v is None else v * factor for v in base],
                name="rule-based",
                marker_color="#bbbbbb",
                showlegend=k == 0,
                legendgroup="rules",
            ),
            row=row,
            col=col,
        )
    fig.update_layout(barmode="group", height=640, margin={"t": 60, "l": 60, "r": 30, "b": 40})
    return fig


def comparison_table_html(runs: Sequence[ScenarioRun], base: str = "base") -> str:
    """KPIs per run with deltas against the base run and against each run's rule-based baseline."""
    table = comparison_table(runs, base)
    currency = runs[0].currency
    head = "".join(f"<th>{_esc(r)}</th>" for r in table["run"])
    rows = []
    for row in KPI_ROWS:
        if table[row.key].isna().all():
            continue
        unit = row.unit.format(currency=currency)
        cells = []
        for _, r in table.iterrows():
            vs_base = (
                ""
                if r["run"] == base
                else f"<br>{_fmt_delta(r[f'{row.key}_vs_base'], unit, row.lower_is_better)} vs base"
            )
            vs_rules = f"<br>{_fmt_delta(r[f'{row.key}_vs_rules'], unit, row.lower_is_better)} vs rules"
            cells.append(f"<td>{_fmt(r[row.key], unit)}<span class='note'>{vs_base}{vs_rules}</span></td>")
        rows.append(f"<tr><td>{_label(row.label)} [{_esc(unit)}]</td>{''.join(cells)}</tr>")
    saving = "".join(f"<td>{v:,.0f}</td>" for v in table["saving_vs_rules_cny"])
    fallback = "".join(f"<td>{int(v)}</td>" for v in table["fallback_days"])
    rows.append(f"<tr><td>saving vs rule-based [{_esc(currency)}]</td>{saving}</tr>")
    rows.append(f"<tr><td>fallback periods</td>{fallback}</tr>")
    return f"<table><thead><tr><th>KPI</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_comparison_html(
    runs: Sequence[ScenarioRun],
    *,
    title: str | None = None,
    base: str = "base",
    links: dict[str, str] | None = None,
) -> str:
    """The HTML comparison of variants: bar charts per KPI and the table of deltas.

    ``links`` maps a run label to the URL of its own report (e.g. ``base/report.html``).
    """
    if not runs:
        raise ValueError("nothing to compare")
    first = runs[0]
    title = title or f"{first.scenario}: comparison of {len(runs)} variants"
    body = [
        f"<h1>{_esc(title)}</h1>",
        f"<p class='meta'>{_esc(first.days[0].period)} to {_esc(first.days[-1].period)}, {len(first.days)} period(s) "
        f"per variant. Deltas: against the base run and against each variant's own rule-based baseline.</p>",
    ]
    descriptions = [f"<li><b>{_esc(r.label)}</b>: {_esc(r.description)}</li>" for r in runs if r.description]
    if descriptions:
        body.append("<ul>" + "".join(descriptions) + "</ul>")
    body += ["<h2>KPIs</h2>", comparison_table_html(runs, base), _figure_html(_comparison_bars(runs))]
    if links:
        items = "".join(f"<li><a href='{_esc(url)}'>{_esc(label)}</a></li>" for label, url in links.items())
        body.append(f"<h2>Schedules</h2><ul>{items}</ul>")
    return _page(title, body)


def render_sweep_html(runs: Sequence[ScenarioRun], *, title: str | None = None) -> str:
    """KPIs against one swept parameter (lines) or two (heat maps), and the table."""
    if not runs:
        raise ValueError("nothing to show")
    names = list(runs[0].parameters)
    title = title or f"{runs[0].scenario}: sweep {runs[0].sweep or ''} over {', '.join(names)}"
    keys = (
        ("energy_cost_cny", f"energy cost [{runs[0].currency}]", 1.0),
        ("emissions_market_kgco2", "emissions, market-based [tCO2]", 1e-3),
        ("pv_self_consumption_frac", "PV self-consumption [%]", 100.0),
        ("green_share_frac", "green share [%]", 100.0),
    )
    figures: list[go.Figure] = []
    if len(names) == 1:
        x = [r.parameters[names[0]] for r in runs]
        fig = make_subplots(rows=2, cols=2, subplot_titles=[k[1] for k in keys], vertical_spacing=0.14)
        for k, (key, _, factor) in enumerate(keys):
            y = [None if (v := getattr(r.kpis, key)) is None else v * factor for r in runs]
            yb = [None if (v := getattr(r.baseline_kpis, key)) is None else v * factor for r in runs]
            fig.add_trace(
                go.Scatter(x=x, y=y, mode="lines+markers", name="optimised", showlegend=k == 0, line_color="#1f77b4"),
                row=k // 2 + 1,
                col=k % 2 + 1,
            )
            fig.add_trace(
                go.Scatter(x=x, y=yb, mode="lines", name="rule-based", showlegend=k == 0, line_color="#aaa"),
                row=k // 2 + 1,
                col=k % 2 + 1,
            )
        fig.update_xaxes(title_text=names[0])
        fig.update_layout(height=640, margin={"t": 60, "l": 60, "r": 30, "b": 50})
        figures.append(fig)
    else:
        xs = list(dict.fromkeys(str(r.parameters[names[0]]) for r in runs))
        ys = list(dict.fromkeys(str(r.parameters[names[1]]) for r in runs))
        for key, label, factor in keys[:2]:
            z = np.full((len(ys), len(xs)), np.nan)
            for r in runs:
                value = getattr(r.kpis, key)
                if value is not None:
                    z[ys.index(str(r.parameters[names[1]])), xs.index(str(r.parameters[names[0]]))] = value * factor
            fig = go.Figure(go.Heatmap(x=xs, y=ys, z=z, colorscale="Viridis", colorbar={"title": label}))
            fig.update_layout(title=label, xaxis_title=names[0], yaxis_title=names[1], height=420)
            figures.append(fig)
    body = [f"<h1>{_esc(title)}</h1>", comparison_table_html(runs, runs[0].label)]
    body += [_figure_html(f) for f in figures]
    return _page(title, body)


# --- the API's stored schedules ----------------------------------------------------------------


def schedule_metadata(problem: DispatchProblem) -> dict[str, Any]:
    """JSON-able facts the report needs beyond the schedule: per column bus/sign/role, store capacities, TOU bands.

    Store it with a schedule (e.g. under ``"report_metadata"``) so that
    :func:`render_stored_schedule_html` can draw the full report later.
    """
    from scenarios.pipeline import flow_info, storage_capacities, tariff_bands

    bands = tariff_bands(problem)
    return {
        "flows": {c: {"bus": f.bus, "sign": f.sign, "role": f.role} for c, f in flow_info(problem).items()},
        "capacities": storage_capacities(problem),
        "bands": None if bands is None else bands.tolist(),
        "currency": problem.currency,
    }


def _guess_flows(columns: list[str]) -> dict[str, FlowInfo]:
    """Electricity flows recognisable by name alone (used when no metadata came with a stored schedule).

    Only unambiguous columns are placed: grid import/export, PV output, battery-like stores (with a
    ``.soc_kwh``), and ``.power_kw``/``.electricity_kw`` draws of assets that are not contracts.
    """
    assets: dict[str, set[str]] = {}
    for column in columns:
        asset, _, field = column.rpartition(".")
        assets.setdefault(asset, set()).add(field)
    flows: dict[str, FlowInfo] = {}
    for asset, fields in assets.items():
        contract = "price_cny_per_kwh" in fields
        for field in fields:
            column = f"{asset}.{field}"
            if field == "import_kw":
                flows[column] = FlowInfo("electricity", 1.0, "grid_import")
            elif field == "export_kw":
                flows[column] = FlowInfo("electricity", -1.0, "grid_export")
            elif field == "output_kw" and "available_kw" in fields:
                flows[column] = FlowInfo("electricity", 1.0, "pv_output")
            elif field in ("charge_kw", "discharge_kw") and "soc_kwh" in fields:
                flows[column] = FlowInfo("electricity", 1.0 if field == "discharge_kw" else -1.0, None)
            elif field in ("power_kw", "electricity_kw") and not contract:
                flows[column] = FlowInfo("electricity", -1.0, None)
    return flows


def _guess_bands(prices: pd.Series) -> pd.Series | None:
    """TOU bands from the levels of an import price (lowest valley, then flat, peak, sharp)."""
    levels = sorted(set(np.round(prices.to_numpy(dtype=float), 6)))
    if not 2 <= len(levels) <= 4:
        return None
    names = ["valley", "flat", "peak", "sharp"][: len(levels)]
    lookup = dict(zip(levels, names, strict=True))
    return pd.Series([lookup[v] for v in np.round(prices.to_numpy(dtype=float), 6)], index=prices.index, name="band")


def render_stored_schedule_html(payload: dict[str, Any], problem: DispatchProblem | None = None) -> str:
    """The report of a stored schedule (the API's ``ScheduleOut`` as JSON).

    Uses ``problem`` or ``payload["report_metadata"]`` (see :func:`schedule_metadata`) to place every
    column on its bus; without either, only electricity flows recognisable by name are stacked and
    the TOU bands are read off the import price's levels (the page says so).
    """
    records = payload.get("schedule") or []
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        raise ValueError("the stored schedule has no steps")
    index = pd.DatetimeIndex(pd.to_datetime(frame.pop("interval_start"), format="ISO8601"))
    if index.tz is None:
        index = index.tz_localize("UTC")
    schedule = frame.astype(float).set_axis(index)
    metadata = payload.get("report_metadata") or (schedule_metadata(problem) if problem is not None else None)
    guessed = metadata is None
    if metadata is not None:
        flows = {
            c: FlowInfo(v.get("bus"), float(v.get("sign", 1.0)), v.get("role")) for c, v in metadata["flows"].items()
        }
        capacities = {c: float(v) for c, v in (metadata.get("capacities") or {}).items()}
        bands_list = metadata.get("bands")
        bands = pd.Series(bands_list, index=index, name="band") if bands_list else None
        currency = str(metadata.get("currency") or "CNY")
    else:
        flows = _guess_flows(list(schedule.columns))
        capacities = {}
        price = next((c for c in schedule.columns if c.endswith(".import_price_cny_per_kwh")), None)
        bands = _guess_bands(schedule[price]) if price is not None else None
        currency = "CNY"
    try:
        kpis = Kpis.model_validate(payload["kpis"])
        baseline = Kpis.model_validate(payload["baseline_kpis"])
    except (KeyError, ValueError) as error:
        raise ValueError(f"the stored schedule's KPIs cannot be read: {error}") from error
    from scenarios.pipeline import DayRecord

    solver = payload.get("solver") or {}
    record = DayRecord(
        period=f"{index[0]:%Y-%m-%d}",
        start=index[0].isoformat(),
        status=str(payload.get("status", "")),
        schedule_source="fallback" if payload.get("status") == "fallback" else "optimizer",
        energy_cost_cny=kpis.energy_cost_cny,
        baseline_energy_cost_cny=baseline.energy_cost_cny,
        objective_cny=solver.get("objective"),
        mip_gap=solver.get("mip_gap"),
        build_seconds=float(solver.get("build_seconds") or 0.0),
        solve_seconds=float(solver.get("solve_seconds") or 0.0),
    )
    run = ScenarioRun(
        scenario=f"site {payload.get('site_id', '')}".strip(),
        label=f"schedule {payload.get('schedule_id', '')}".strip(),
        description=str(payload.get("message", "")),
        currency=currency,
        schedule=schedule,
        baseline_schedule=schedule.iloc[0:0],
        kpis=kpis,
        baseline_kpis=baseline,
        days=[record],
        daily_kpis=[kpis],
        daily_baseline_kpis=[baseline],
        flows=flows,
        capacities=capacities,
        bands=bands,
        seconds=record.build_seconds + record.solve_seconds,
    )
    page = render_schedule_html(
        run, title=f"Schedule {payload.get('schedule_id', '')} of site {payload.get('site_id', '')}"
    )
    notes = []
    violations = payload.get("violations") or []
    if violations:
        items = "".join(
            f"<li>{_esc(v.get('kind'))}: {_esc(v.get('name'))} {float(v.get('amount') or 0):,.2f} "
            f"{_esc(v.get('unit') or '')}"
            f"{' at ' + _esc(v.get('timestamp')) if v.get('timestamp') else ''}</li>"
            for v in violations
        )
        notes.append(f"<h2>Violations</h2><ul>{items}</ul>")
    if guessed:
        notes.append(
            "<p class='note'>Only electricity flows recognisable by their names are stacked, and the tariff "
            "bands are read off the import price levels: this schedule was stored without report metadata.</p>"
        )
    return page.replace("<h2>KPIs</h2>", "".join(notes) + "<h2>KPIs</h2>", 1)
