"""The plotly figures of the HTML reports (rendered into the pages by :mod:`scenarios.report_html`).

- schedules (all of them, in page order: :func:`schedule_figures`): stacked dispatch per bus
  (:func:`bus_figure`; TOU bands shaded on electricity, with the import price), storage levels
  (:func:`storage_figure`), on/off of switched units (:func:`gantt_figure`), daily costs and shares of
  runs of several days (:func:`daily_figure`);
- comparisons: KPI bars per variant (:func:`comparison_figure`);
- sweeps: KPIs against one swept parameter, or heat maps over two (:func:`sweep_figures`).

:func:`figure_html` turns a figure into the HTML fragment a template inserts as is (plotly.js itself is
inlined once per page by the base template).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup
from plotly.subplots import make_subplots

from scenarios.pipeline import FlowInfo, ScenarioRun

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


# --- helpers -----------------------------------------------------------------------------------


def _colour(column: str, info: FlowInfo | None, used: dict[str, str]) -> str:
    if column in used:
        return used[column]
    colour = ROLE_COLOURS.get(info.role or "") if info is not None else None
    if colour is None or colour in used.values():
        colour = PALETTE[len(used) % len(PALETTE)]
    used[column] = colour
    return colour


def detail_window(run: ScenarioRun, detail_days: int, detail_start: dt.date | None) -> pd.DatetimeIndex:
    """The steps of the ``detail_days`` days from ``detail_start`` (default: the first day) that the figures show."""
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


def figure_html(fig: go.Figure) -> Markup:
    """The figure as an HTML fragment (a div and its script, without plotly.js), safe to insert unescaped."""
    return Markup(fig.to_html(full_html=False, include_plotlyjs=False, config=FIGURE_CONFIG))


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


def schedule_figures(run: ScenarioRun, window: pd.DatetimeIndex) -> list[go.Figure]:
    """The figures of a schedule report in page order: one per bus, storage, on/off, per day (empty ones left out)."""
    buses = list(dict.fromkeys(info.bus for info in run.flows.values() if info.bus is not None))
    buses.sort(key=lambda b: list(BUS_TITLES).index(b) if b in BUS_TITLES else len(BUS_TITLES))
    figures = [bus_figure(run, bus, window) for bus in buses]
    figures += [storage_figure(run, window), gantt_figure(run, window), daily_figure(run)]
    return [f for f in figures if f is not None]


# --- comparisons and sweeps --------------------------------------------------------------------


def comparison_figure(runs: Sequence[ScenarioRun]) -> go.Figure:
    """Cost, emissions, PV self-consumption and green share per variant, optimised next to rule-based."""
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
        for kpis_of, name, colour, group in (
            (lambda r: r.kpis, "optimised", "#1f77b4", "opt"),
            (lambda r: r.baseline_kpis, "rule-based", "#bbbbbb", "rules"),
        ):
            values = [getattr(kpis_of(r), key) for r in runs]
            fig.add_trace(
                go.Bar(
                    x=labels,
                    y=[None if v is None else v * factor for v in values],
                    name=name,
                    marker_color=colour,
                    showlegend=k == 0,
                    legendgroup=group,
                ),
                row=row,
                col=col,
            )
    fig.update_layout(barmode="group", height=640, margin={"t": 60, "l": 60, "r": 30, "b": 40})
    return fig


def sweep_figures(runs: Sequence[ScenarioRun]) -> list[go.Figure]:
    """KPIs against one swept parameter (lines, optimised and rule-based) or two (heat maps of cost and emissions)."""
    names = list(runs[0].parameters)
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
    return figures
