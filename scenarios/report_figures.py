"""The plotly figures of the HTML reports (rendered into the pages by :mod:`scenarios.report_html`).

- schedules (all of them, in page order: :func:`schedule_figures`): stacked dispatch per bus
  (:func:`bus_figure`; TOU bands shaded on electricity, with the import price), storage levels
  (:func:`storage_figure`), on/off of switched units (:func:`gantt_figure`), daily costs and shares of
  runs of several days (:func:`daily_figure`);
- the annual report: money and energy per month, emissions per month (:func:`monthly_figures`);
- comparisons: KPI bars per variant (:func:`comparison_figure`);
- sweeps: KPIs against the swept value (line charts of a one-dimensional sweep: one parameter, or two changed
  together), or heat maps over a grid of two (:func:`sweep_figures`; :func:`sweep_shape` tells which), each point
  labelled by its values (:func:`point_label`).

Time series span their window from the first step's start to the last step's end on every chart, shares are drawn
on a 0-100 % axis with room for the line, and per-day charts place a day's bars in its middle.

:func:`figure_html` turns a figure into the HTML fragment a template inserts as is (plotly.js itself is loaded
once per page by the base template, inline or from a file).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup, escape
from plotly.subplots import make_subplots

from optimizer import Kpis
from optimizer.buses import bus_quantity, is_heat_bus
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
_SCRIPT_TAG = re.compile(r"<script(?=[\s>])")


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


def _time_x(window: pd.DatetimeIndex, points: int, *, shift: pd.Timedelta | None = None) -> dict[str, Any]:
    """The x of a trace with ``points`` values on the window's steps (shifted by ``shift``).

    ``x0``/``dx`` when the steps are evenly spaced in wall-clock time (no array of timestamps in the page: the
    figures of a 7-day window are a third of the size), else the timestamps, extended by whole steps.
    """
    step = _step(window)
    offset = shift if shift is not None else pd.Timedelta(0)
    local = window.tz_localize(None) if window.tz is not None else window
    if len(local) < 2 or bool(((local[1:] - local[:-1]) == step).all()):
        return {"x0": window[0] + offset, "dx": step.total_seconds() * 1000}
    stamps = window.append(pd.DatetimeIndex([window[-1] + step]))  # one past the last step: the end of a held line
    return {"x": stamps[:points] + offset}


def _held(values: Any) -> np.ndarray:
    """Step values with the last one repeated: an ``hv`` line drawn to the end of the last step."""
    array = np.asarray(values, dtype=float)
    return np.append(array, array[-1:]) if len(array) else array


def _time_axis(fig: go.Figure, window: pd.DatetimeIndex) -> None:
    """The x axis from the window's first step to the end of its last: the same span on every time-series chart."""
    fig.update_xaxes(range=[window[0], window[-1] + _step(window)])


_PERCENT_AXIS: dict[str, Any] = {
    "range": [-4, 104],  # 0-100 % with room for the width of a line at 0 or 100 %
    "tickvals": [0, 25, 50, 75, 100],
    "ticktext": ["0 %", "25 %", "50 %", "75 %", "100 %"],
    "zeroline": False,
}


@functools.cache
def _lean_template() -> go.layout.Template:
    """plotly's default look, with the defaults of only the trace types the reports draw (the full template
    repeats about 4 kB of defaults for every trace type in every figure)."""
    plotly = pio.templates["plotly"]
    return go.layout.Template(
        layout=plotly.layout,
        data={"scatter": plotly.data.scatter, "bar": plotly.data.bar, "heatmap": plotly.data.heatmap},
    )


def figure_html(fig: go.Figure, nonce: str = "") -> Markup:
    """The figure as an HTML fragment (a div and its script, without plotly.js), safe to insert unescaped; with
    ``nonce``, its scripts carry it (a page served under a Content-Security-Policy that names the nonce).

    plotly writes the figure's data with ``<`` escaped, so the only ``<script`` tags in the fragment are its own."""
    shown = go.Figure(fig)
    shown.update_layout(template=_lean_template())
    html = shown.to_html(full_html=False, include_plotlyjs=False, config=FIGURE_CONFIG)
    if nonce:
        html = _SCRIPT_TAG.sub(f'<script nonce="{escape(nonce)}"', html)
    return Markup(html)


# --- schedule figures --------------------------------------------------------------------------


def bus_figure(run: ScenarioRun, bus: str, window: pd.DatetimeIndex) -> go.Figure | None:
    """Stacked supplies (above zero) and draws (below zero) on one bus; TOU bands shaded on electricity."""
    columns = [c for c, info in run.flows.items() if info.bus == bus and c in run.schedule.columns]
    if not columns or len(window) == 0:
        return None
    data = run.schedule.loc[window, columns]
    title, unit = BUS_TITLES.get(bus, (bus_quantity(bus).capitalize(), "kW_th" if is_heat_bus(bus) else ""))
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
                **_time_x(window, len(window) + 1),
                y=_held(values),
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
                **_time_x(window, len(window) + 1),
                y=_held(run.schedule.loc[window, price_column].to_numpy(dtype=float)),
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
    _time_axis(fig, window)
    return fig


def storage_figure(run: ScenarioRun, window: pd.DatetimeIndex) -> go.Figure | None:
    """Levels of stores (battery SOC, tanks, air receivers) as % of capacity, at interval ends."""
    columns = [c for c in run.capacities if c in run.schedule.columns]
    if not columns or len(window) == 0:
        return None
    fig = go.Figure()
    step = _step(window)
    for column in columns:
        values = run.schedule.loc[window, column].to_numpy(dtype=float) / run.capacities[column] * 100
        fig.add_trace(
            go.Scatter(
                **_time_x(window, len(window), shift=step),
                y=values,
                name=column,
                mode="lines",
                hovertemplate=f"{column}: %{{y:.1f}} %<extra></extra>",
            )
        )
    _shade_bands(fig, run.bands, window, step)
    fig.update_layout(
        title="Storage levels [% of capacity] (battery SOC, tanks, air receivers; at interval ends)",
        yaxis={"title": "level", **_PERCENT_AXIS},
        hovermode="x unified",
        height=340,
        margin={"t": 60, "l": 60, "r": 40, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    _time_axis(fig, window)
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
    _time_axis(fig, window)
    return fig


def daily_figure(run: ScenarioRun) -> go.Figure | None:
    """Energy cost per period (optimised and rule-based bars side by side, centred on their day) and the daily
    shares on a 0-100 % axis, for runs of several periods."""
    if len(run.days) < 2:
        return None
    x = [d.period for d in run.days]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for kpis, name, colour in (
        (run.daily_kpis, "energy cost, optimised", "#1f77b4"),
        (run.daily_baseline_kpis, "energy cost, rule-based", "#bbbbbb"),
    ):
        fig.add_trace(
            go.Bar(
                x=x,
                y=[k.energy_cost_cny for k in kpis],
                name=name,
                marker_color=colour,
                hovertemplate=f"%{{x}}: %{{y:,.0f}} {run.currency}<extra>{name}</extra>",
            ),
            secondary_y=False,
        )
    for key, label, colour in (
        ("pv_self_consumption_frac", "PV self-consumption", "#f2b701"),
        ("green_share_frac", "green share", "#2ca02c"),
    ):
        values = [getattr(k, key) for k in run.daily_kpis]
        if any(v is not None for v in values):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[None if v is None else 100 * v for v in values],
                    name=f"{label} [%]",
                    mode="lines+markers",
                    line={"color": colour, "width": 2},
                    hovertemplate=f"%{{x}}: %{{y:.1f}} %<extra>{label}</extra>",
                ),
                secondary_y=True,
            )
    fig.update_layout(
        title=f"Per day: energy cost [{run.currency}] and shares [%]",
        barmode="group",
        height=380,
        margin={"t": 60, "l": 60, "r": 70, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    # periods as categories: a bar and the points of the lines sit in the middle of their day, not on midnight
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=x)
    fig.update_yaxes(title_text=run.currency, rangemode="tozero", secondary_y=False)
    fig.update_yaxes(title_text="share", showgrid=False, secondary_y=True, **_PERCENT_AXIS)
    return fig


def schedule_figures(run: ScenarioRun, window: pd.DatetimeIndex) -> list[go.Figure]:
    """The figures of a schedule report in page order: one per bus, storage, on/off, per day (empty ones left out)."""
    buses = list(dict.fromkeys(info.bus for info in run.flows.values() if info.bus is not None))
    buses.sort(key=lambda b: list(BUS_TITLES).index(b) if b in BUS_TITLES else len(BUS_TITLES))
    figures = [bus_figure(run, bus, window) for bus in buses]
    figures += [storage_figure(run, window), gantt_figure(run, window), daily_figure(run)]
    return [f for f in figures if f is not None]


# --- the annual report ------------------------------------------------------------------------


def monthly_figures(months: pd.DataFrame, currency: str) -> list[go.Figure]:
    """Two charts of a year, one bar per month: energy cost optimised and rule-based with the saving (a line), and
    emissions (scope 2 location- and market-based, net) [tCO2] with the green share [%] on its own axis.

    ``months``: one row per month with ``month``, ``energy_cost_cny``, ``baseline_energy_cost_cny``, ``saving_cny``
    (None where not stated), ``scope2_location_kgco2``, ``scope2_market_after_certificates_kgco2``, ``net_kgco2``
    and ``green_share_frac`` (:func:`scenarios.annual_report.monthly_rows`)."""
    x = [str(m) for m in months["month"]]
    money = make_subplots(specs=[[{"secondary_y": False}]])
    for column, name, colour in (
        ("energy_cost_cny", "energy cost, optimised", "#1f77b4"),
        ("baseline_energy_cost_cny", "energy cost, rule-based", "#bbbbbb"),
    ):
        money.add_trace(
            go.Bar(
                x=x,
                y=months[column].tolist(),
                name=name,
                marker_color=colour,
                hovertemplate=f"%{{x}}: %{{y:,.0f}} {currency}<extra>{name}</extra>",
            )
        )
    saving = [None if v is None or v != v else v for v in months["saving_cny"].tolist()]
    money.add_trace(
        go.Scatter(
            x=x,
            y=saving,
            name="saving",
            mode="lines+markers",
            line={"color": "#2ca02c", "width": 2},
            hovertemplate=f"%{{x}}: %{{y:,.0f}} {currency}<extra>saving</extra>",
        )
    )
    money.update_layout(
        title=f"Per month: money paid and saving against the rule-based baseline [{currency}]",
        barmode="group",
        height=380,
        margin={"t": 60, "l": 70, "r": 30, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    money.update_xaxes(type="category", categoryorder="array", categoryarray=x)
    money.update_yaxes(title_text=currency)

    carbon = make_subplots(specs=[[{"secondary_y": True}]])
    for column, name, colour in (
        ("scope2_location_kgco2", "scope 2, location-based", "#8c564b"),
        ("scope2_market_after_certificates_kgco2", "scope 2, market-based", "#d62728"),
        ("net_kgco2", "net emissions", "#444444"),
    ):
        carbon.add_trace(
            go.Bar(
                x=x,
                y=[v / 1000.0 for v in months[column].tolist()],
                name=name,
                marker_color=colour,
                hovertemplate=f"%{{x}}: %{{y:,.3f}} tCO2<extra>{name}</extra>",
            ),
            secondary_y=False,
        )
    shares = [None if v is None or v != v else 100 * v for v in months["green_share_frac"].tolist()]
    carbon.add_trace(
        go.Scatter(
            x=x,
            y=shares,
            name="green share [%]",
            mode="lines+markers",
            line={"color": "#2ca02c", "width": 2},
            hovertemplate="%{x}: %{y:.1f} %<extra>green share</extra>",
        ),
        secondary_y=True,
    )
    carbon.update_layout(
        title="Per month: emissions [tCO2] and green share [%]",
        barmode="group",
        height=380,
        margin={"t": 60, "l": 70, "r": 70, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    carbon.update_xaxes(type="category", categoryorder="array", categoryarray=x)
    carbon.update_yaxes(title_text="tCO2", secondary_y=False)
    carbon.update_yaxes(title_text="share", showgrid=False, secondary_y=True, **_PERCENT_AXIS)
    return [money, carbon]


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


SWEEP_KPIS = (
    ("energy_cost_cny", "energy cost [{currency}]", 1.0),
    ("emissions_market_kgco2", "emissions, market-based [tCO2]", 1e-3),
    ("pv_self_consumption_frac", "PV self-consumption [%]", 100.0),
    ("green_share_frac", "green share [%]", 100.0),
)


def value_text(value: Any) -> str:
    """A swept value as written in a scenario file: ``500`` (not ``500.0``), ``0.45``, ``true``; a change
    ``{add: 100}`` as ``+= 100`` and ``{scale: 1.2}`` as ``*= 1.2``; a long list by its first value and length."""
    if isinstance(value, dict) and len(value) == 1:
        ((op, amount),) = value.items()
        if op in ("add", "scale"):
            return f"{'+' if op == 'add' else '*'}= {value_text(amount)}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"
    if isinstance(value, list) and len(value) > 3:
        return f"[{value_text(value[0])}, ... {len(value)} values]"
    return str(value)


def point_label(parameters: Mapping[str, Any], separator: str = ", ") -> str:
    """A sweep point by its values, site paths without their ``site.`` (the page's title and axes name the full
    paths), joined by ``separator``: ``battery.capacity_kwh = 500, battery.charge_power_kw = 250``;
    ``battery.capacity_kwh += 100``."""
    parts = []
    for name, value in parameters.items():
        text = value_text(value)
        joiner = " " if text[:2] in ("+=", "*=") else " = "
        parts.append(f"{name.removeprefix('site.')}{joiner}{text}")
    return separator.join(parts)


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in values)


@dataclass(frozen=True)
class SweepShape:
    """How the points of a sweep lie: along one axis (``y`` None) or on a grid of two parameters.

    ``x`` is the parameter along the x axis; ``along`` the parameters that change together with it (the other
    list of a ``zip`` sweep), named in the axis title and in each point's label.
    """

    x: str
    y: str | None
    along: tuple[str, ...] = ()

    @property
    def dimensions(self) -> int:
        return 1 if self.y is None else 2


def sweep_shape(points: Sequence[ScenarioRun]) -> SweepShape:
    """One-dimensional (one parameter, or two changed together as in a ``zip`` sweep, or a grid with a single
    value of one of them) or a two-dimensional grid, read off the points' values."""
    names = list(points[0].parameters)
    distinct = {n: list(dict.fromkeys(value_text(r.parameters.get(n)) for r in points)) for n in names}
    varying = [n for n in names if len(distinct[n]) > 1] or names[:1]
    if len(varying) == 1:
        return SweepShape(varying[0], None, tuple(n for n in names if n != varying[0] and len(distinct[n]) > 1))
    first, second = varying[:2]
    pairs = {(value_text(r.parameters.get(first)), value_text(r.parameters.get(second))) for r in points}
    if len(pairs) == len(distinct[first]) == len(distinct[second]):  # one value of each with one of the other
        return SweepShape(first, None, (second,))
    return SweepShape(first, second)


def _kpi(kpis: Kpis, key: str, factor: float) -> float | None:
    value = getattr(kpis, key)
    return None if value is None else value * factor


def _sweep_lines(points: Sequence[ScenarioRun], shape: SweepShape, base: ScenarioRun | None) -> go.Figure:
    """Each KPI against the swept value: optimised (line and markers), rule-based (dashed) and the base case as
    written in the file (a dotted level), one panel per KPI."""
    x_values = [r.parameters.get(shape.x) for r in points]
    order = sorted(range(len(points)), key=lambda k: x_values[k]) if _numeric(x_values) else list(range(len(points)))
    ordered = [points[k] for k in order]
    x = [x_values[k] if _numeric(x_values) else value_text(x_values[k]) for k in order]
    labels = [point_label(r.parameters) for r in ordered]
    currency = points[0].currency
    # the KPIs some point has (no PV self-consumption panel for a site without PV)
    panels = [p for p in SWEEP_KPIS if any(_kpi(r.kpis, p[0], 1.0) is not None for r in points)] or [SWEEP_KPIS[0]]
    rows = (len(panels) + 1) // 2
    fig = make_subplots(
        rows=rows,
        cols=2,
        subplot_titles=[label.format(currency=currency) for _, label, _ in panels],
        vertical_spacing=0.32 / rows,
        horizontal_spacing=0.1,
    )
    for k, (key, _, factor) in enumerate(panels):
        row, col = k // 2 + 1, k % 2 + 1
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[_kpi(r.kpis, key, factor) for r in ordered],
                text=labels,
                mode="lines+markers",
                name="optimised",
                legendgroup="optimised",
                showlegend=k == 0,
                line={"color": "#1f77b4", "width": 2},
                hovertemplate="%{text}: %{y:,.4~g}<extra>optimised</extra>",
            ),
            row=row,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[_kpi(r.baseline_kpis, key, factor) for r in ordered],
                text=labels,
                mode="lines",
                name="rule-based",
                legendgroup="rules",
                showlegend=k == 0,
                line={"color": "#999999", "dash": "dash"},
                hovertemplate="%{text}: %{y:,.4~g}<extra>rule-based</extra>",
            ),
            row=row,
            col=col,
        )
        level = _kpi(base.kpis, key, factor) if base is not None else None
        if level is not None:
            fig.add_trace(
                go.Scatter(
                    x=[x[0], x[-1]],
                    y=[level, level],
                    mode="lines",
                    name="base case (as written), optimised",
                    legendgroup="base",
                    showlegend=k == 0,
                    line={"color": "#d62728", "dash": "dot", "width": 1.5},
                    hovertemplate=f"base case: {level:,.4g}<extra></extra>",
                ),
                row=row,
                col=col,
            )
        if factor == 100.0:
            fig.update_yaxes(row=row, col=col, **_PERCENT_AXIS)
    title = shape.x + (f" (with {', '.join(shape.along)})" if shape.along else "")
    fig.update_xaxes(title_text=title, type=None if _numeric(x_values) else "category")
    fig.update_layout(
        height=120 + 270 * rows,
        margin={"t": 60, "l": 60, "r": 30, "b": 60},
        legend={"orientation": "h", "y": -0.28 / rows},
        hovermode="closest",
    )
    return fig


def _sweep_heatmaps(points: Sequence[ScenarioRun], shape: SweepShape, base: ScenarioRun | None) -> list[go.Figure]:
    """Energy cost and emissions over the grid of the two swept parameters (one cell per point)."""
    assert shape.y is not None

    def axis(name: str) -> list[Any]:
        values = list({value_text(r.parameters.get(name)): r.parameters.get(name) for r in points}.items())
        if _numeric([v for _, v in values]):
            values.sort(key=lambda item: item[1])
        return [text for text, _ in values]

    xs, ys = axis(shape.x), axis(shape.y)
    figures = []
    for key, label, factor in SWEEP_KPIS[:2]:  # energy cost and emissions
        label = label.format(currency=points[0].currency)
        z = np.full((len(ys), len(xs)), np.nan)
        for r in points:
            value = _kpi(r.kpis, key, factor)
            if value is not None:
                z[ys.index(value_text(r.parameters.get(shape.y))), xs.index(value_text(r.parameters.get(shape.x)))] = (
                    value
                )
        level = _kpi(base.kpis, key, factor) if base is not None else None
        fig = go.Figure(
            go.Heatmap(
                x=xs,
                y=ys,
                z=z,
                colorscale="Viridis",
                colorbar={"title": {"text": label, "side": "right"}},
                texttemplate="%{z:,.4~g}",
                hovertemplate=f"{shape.x} = %{{x}}, {shape.y} = %{{y}}: %{{z:,.4~g}}<extra></extra>",
            )
        )
        base_text = "" if level is None else f" (base case as written: {level:,.4g})"
        fig.update_layout(title=f"{label}{base_text}", height=440, margin={"t": 60, "l": 80, "r": 30, "b": 60})
        fig.update_xaxes(title_text=shape.x, type="category")
        fig.update_yaxes(title_text=shape.y, type="category")
        figures.append(fig)
    return figures


def sweep_figures(runs: Sequence[ScenarioRun], base: ScenarioRun | None = None) -> list[go.Figure]:
    """KPIs against the swept value (lines, one-dimensional sweeps) or over the grid of two parameters (heat maps),
    with the base case as written in the file (``base``, when it was run) for reference."""
    if not runs:
        return []
    shape = sweep_shape(runs)
    if shape.dimensions == 1:
        return [_sweep_lines(runs, shape, base)]
    return _sweep_heatmaps(runs, shape, base)
