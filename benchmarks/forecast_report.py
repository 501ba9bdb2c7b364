"""Figures of the forecast report (plotly), one function per figure, and the HTML page that holds them.

Written by ``python -m benchmarks.forecast_validation`` into its output folder (``forecast_report.html``
next to ``forecast_validation.json``). PV: forecast against metered power for the best and the worst week,
error by month, error by hour of day. Other figures (e.g. quantile coverage) are added as more
``(title, figure)`` pairs passed to :func:`write_report`.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

Figure = tuple[str, go.Figure]
_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd")


def weekly_nmae(forecast: pd.Series, measured: pd.Series, daylight: pd.Series, capacity_kw: float) -> pd.Series:
    """nMAE [% of capacity] over the daylight steps of each 7-day block starting on Mondays."""
    error = (forecast - measured).abs()[daylight]
    index = pd.DatetimeIndex(error.index)
    monday = (index.normalize() - pd.to_timedelta(index.weekday, unit="D")).normalize()
    weekly = error.groupby(monday).agg(["mean", "size"])
    return 100.0 * weekly["mean"][weekly["size"] >= 7 * 24] / capacity_kw


def week_figure(measured: pd.Series, forecasts: dict[str, pd.Series], start: pd.Timestamp, title: str) -> go.Figure:
    """Metered power and each forecast over the 7 days from ``start`` [MW]."""
    end = start + pd.Timedelta(days=7)
    figure = go.Figure()
    window = measured[(measured.index >= start) & (measured.index < end)]
    figure.add_scatter(x=window.index, y=window / 1000.0, name="metered", line={"color": "black", "width": 1.5})
    for colour, (name, forecast) in zip(_COLOURS, forecasts.items(), strict=False):
        part = forecast[(forecast.index >= start) & (forecast.index < end)]
        figure.add_scatter(x=part.index, y=part / 1000.0, name=name, line={"color": colour, "width": 1})
    figure.update_layout(title=title, yaxis_title="MW", height=360, margin={"t": 50, "b": 30})
    return figure


def error_by_month_figure(
    measured: pd.Series, forecasts: dict[str, pd.Series], daylight: pd.Series, capacity_kw: float
) -> go.Figure:
    """nMAE [% of capacity] (bars) and mean error [% of capacity] (markers) per calendar month."""
    figure = go.Figure()
    months = pd.DatetimeIndex(measured.index).strftime("%Y-%m")
    for colour, (name, forecast) in zip(_COLOURS, forecasts.items(), strict=False):
        error = (forecast - measured)[daylight]
        by_month = error.groupby(months[daylight.to_numpy()])
        figure.add_bar(
            x=list(by_month.groups),
            y=100.0 * by_month.apply(lambda e: e.abs().mean()) / capacity_kw,
            name=f"{name}: nMAE",
            marker_color=colour,
            opacity=0.6,
        )
        figure.add_scatter(
            x=list(by_month.groups),
            y=100.0 * by_month.mean() / capacity_kw,
            mode="markers+lines",
            name=f"{name}: mean error",
            line={"color": colour, "dash": "dot"},
        )
    figure.update_layout(
        title="Error by month (daylight steps)",
        yaxis_title="% of capacity",
        barmode="group",
        height=380,
        margin={"t": 50, "b": 30},
    )
    return figure


def error_by_hour_figure(
    measured: pd.Series, forecasts: dict[str, pd.Series], daylight: pd.Series, capacity_kw: float
) -> go.Figure:
    """nMAE and mean error [% of capacity] per local hour of day."""
    figure = go.Figure()
    hours = pd.DatetimeIndex(measured.index).hour.to_numpy()
    for colour, (name, forecast) in zip(_COLOURS, forecasts.items(), strict=False):
        error = (forecast - measured)[daylight]
        by_hour = error.groupby(hours[daylight.to_numpy()])
        figure.add_scatter(
            x=list(by_hour.groups),
            y=100.0 * by_hour.apply(lambda e: e.abs().mean()) / capacity_kw,
            name=f"{name}: nMAE",
            line={"color": colour},
        )
        figure.add_scatter(
            x=list(by_hour.groups),
            y=100.0 * by_hour.mean() / capacity_kw,
            name=f"{name}: mean error",
            line={"color": colour, "dash": "dot"},
        )
    figure.update_layout(
        title="Error by hour of day (local, daylight steps)",
        xaxis_title="hour",
        yaxis_title="% of capacity",
        height=360,
        margin={"t": 50, "b": 30},
    )
    return figure


def pv_figures(
    measured: pd.Series, forecasts: dict[str, pd.Series], daylight: pd.Series, capacity_kw: float
) -> list[Figure]:
    """The PV figures: the best and the worst week of the first forecast, error by month and by hour.

    Parameters
    ----------
    measured : Series
        Metered power [kW] over the scored period.
    forecasts : dict of name -> Series
        Forecasts on the same index [kW]; the first one picks the weeks.
    daylight : Series of bool
        Steps scored.
    capacity_kw : float
        For nMAE [kW].

    Returns
    -------
    list of (title, Figure)
    """
    first = next(iter(forecasts.values()))
    weekly = weekly_nmae(first, measured, daylight, capacity_kw)
    good, bad = weekly.idxmin(), weekly.idxmax()
    return [
        (
            "A good week",
            week_figure(
                measured,
                forecasts,
                good,
                f"Good week from {good:%Y-%m-%d}: nMAE {weekly[good]:.1f} % ({next(iter(forecasts))})",
            ),
        ),
        (
            "A bad week",
            week_figure(
                measured,
                forecasts,
                bad,
                f"Bad week from {bad:%Y-%m-%d}: nMAE {weekly[bad]:.1f} % ({next(iter(forecasts))})",
            ),
        ),
        ("Error by month", error_by_month_figure(measured, forecasts, daylight, capacity_kw)),
        ("Error by hour", error_by_hour_figure(measured, forecasts, daylight, capacity_kw)),
    ]


def write_report(path: Path, title: str, figures: list[Figure]) -> Path:
    """One self-contained HTML page (plotly.js inlined once, so it opens offline) with each figure under its title."""
    parts = []
    for i, (heading, figure) in enumerate(figures):
        body = figure.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
        parts.append(f"<h2>{html.escape(heading)}</h2>\n{body}")
    page = (
        f"<!doctype html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>\n"
        f"<body style='font-family: sans-serif; max-width: 1200px; margin: auto'>\n<h1>{html.escape(title)}</h1>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
