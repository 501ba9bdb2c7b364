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
- :func:`render_stored_schedule_html`: a schedule stored by the API.

Long runs show the time series of ``detail_days`` days (default 7) and daily
summaries of the whole run.

Each page is a Jinja2 template in ``scenarios/templates/`` (extending ``base.html.j2``) with
autoescaping on: this module only prepares the values (strings, table rows from
:mod:`scenarios.report_tables`) and the figures (:mod:`scenarios.report_figures`), which are the only
HTML inserted as is.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

import jinja2
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from optimizer import DispatchProblem, DispatchResult, Kpis
from scenarios.pipeline import ScenarioRun, run_from_result
from scenarios.report_figures import (
    BAND_COLOURS,
    BUS_TITLES,
    FIGURE_CONFIG,
    PALETTE,
    ROLE_COLOURS,
    bus_figure,
    comparison_figure,
    daily_figure,
    detail_window,
    figure_html,
    gantt_figure,
    schedule_figures,
    storage_figure,
    sweep_figures,
)
from scenarios.report_stored import schedule_metadata, stored_schedule
from scenarios.report_tables import comparison_table_rows, days_table, kpi_table

__all__ = [
    "BAND_COLOURS",
    "BUS_TITLES",
    "FIGURE_CONFIG",
    "PALETTE",
    "ROLE_COLOURS",
    "bus_figure",
    "comparison_figure",
    "comparison_table_html",
    "daily_figure",
    "gantt_figure",
    "kpi_table_html",
    "render_comparison_html",
    "render_schedule_html",
    "render_stored_schedule_html",
    "render_sweep_html",
    "schedule_figures",
    "schedule_metadata",
    "storage_figure",
    "sweep_figures",
]


@functools.cache
def environment() -> jinja2.Environment:
    """The templates of ``scenarios/templates``, escaping every value that is not :class:`~markupsafe.Markup`."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("scenarios", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _render(template: str, title: str, **context: Any) -> str:
    """A page: ``template`` (extending ``base.html.j2``) with plotly.js inline and the time it was generated."""
    return (
        environment()
        .get_template(template)
        .render(
            title=title,
            plotly_js=Markup(get_plotlyjs()),
            generated=f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
            **context,
        )
    )


def _tables() -> Any:
    """The macros of ``tables.html.j2``, callable from Python."""
    return environment().get_template("tables.html.j2").module


def kpi_table_html(kpis: Kpis, baseline: Kpis, currency: str) -> str:
    """Optimised vs rule-based KPIs, with the difference."""
    return Markup(_tables().kpi_table(kpi_table(kpis, baseline, currency)))


def comparison_table_html(runs: Sequence[ScenarioRun], base: str = "base") -> str:
    """KPIs per run with deltas against the base run and against each run's rule-based baseline."""
    return Markup(_tables().comparison_table(comparison_table_rows(runs, base)))


# --- schedules ---------------------------------------------------------------------------------


def _as_run(source: ScenarioRun | DispatchResult | Any, problem: DispatchProblem | None) -> ScenarioRun:
    if isinstance(source, ScenarioRun):
        return source
    if isinstance(source, DispatchResult):
        if problem is None:
            raise ValueError("rendering a DispatchResult needs the DispatchProblem it was solved from")
        return run_from_result(source, problem)
    if problem is not None:
        raise ValueError("pass a DispatchResult with its problem, or a ScenarioRun")
    raise TypeError(f"cannot render {type(source).__name__}; pass a ScenarioRun or a DispatchResult and its problem")


def _schedule_context(run: ScenarioRun, detail_days: int, detail_start: dt.date | None) -> dict[str, Any]:
    """The values of ``schedule.html.j2`` (and of ``stored_schedule.html.j2``, which extends it)."""
    window = detail_window(run, detail_days, detail_start)
    shown = None
    if len(window) < len(run.schedule):
        shown = {"first": f"{window[0]:%Y-%m-%d}", "last": f"{window[-1]:%Y-%m-%d}", "steps": f"{len(window):,}"}
    return {
        "description": str(run.description or ""),
        "first_period": str(run.days[0].period),
        "last_period": str(run.days[-1].period),
        "periods": len(run.days),
        "steps": f"{len(run.schedule):,}",
        "saving": f"{run.saving_cny:,.0f}",
        "currency": str(run.currency),
        "seconds": f"{run.seconds:.1f}",
        "parameters": [(str(k), str(v)) for k, v in run.parameters.items()],
        "fallback": [str(p) for p in run.fallback_days],
        "kpis": kpi_table(run.kpis, run.baseline_kpis, run.currency),
        "window": shown,
        "figures": [figure_html(f) for f in schedule_figures(run, window)],
        "days": days_table(run),
    }


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
    return _render("schedule.html.j2", title, **_schedule_context(run, detail_days, detail_start))


def render_stored_schedule_html(payload: dict[str, Any], actual: dict[str, Any] | None = None) -> str:
    """The report of a stored schedule (the API's ``ScheduleOut`` as JSON), and beside the plan what the meters
    measured when ``actual`` (:func:`scenarios.performance.compare` of the schedule) is given.

    Uses ``payload["report_metadata"]`` (see :func:`schedule_metadata`) to place every
    column on its bus; without it, only electricity flows recognisable by name are stacked and
    the TOU bands are read off the import price's levels (the page says so). Violations are listed
    above the KPIs.
    """
    stored = stored_schedule(payload)
    return _render(
        "stored_schedule.html.j2",
        stored.title,
        violations=stored.violations,
        guessed=stored.guessed,
        actual=actual,
        sources=payload.get("sources") or {},
        **_schedule_context(stored.run, 7, None),
    )


# --- comparisons and sweeps --------------------------------------------------------------------


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
    return _render(
        "comparison.html.j2",
        title,
        first_period=str(first.days[0].period),
        last_period=str(first.days[-1].period),
        periods=len(first.days),
        descriptions=[(str(r.label), str(r.description)) for r in runs if r.description],
        table=comparison_table_rows(runs, base),
        figure=figure_html(comparison_figure(runs)),
        links=[(str(label), str(url)) for label, url in (links or {}).items()],
    )


def render_sweep_html(runs: Sequence[ScenarioRun], *, title: str | None = None) -> str:
    """KPIs against one swept parameter (lines) or two (heat maps), and the table."""
    if not runs:
        raise ValueError("nothing to show")
    names = list(runs[0].parameters)
    title = title or f"{runs[0].scenario}: sweep {runs[0].sweep or ''} over {', '.join(names)}"
    return _render(
        "sweep.html.j2",
        title,
        table=comparison_table_rows(runs, runs[0].label),
        figures=[figure_html(f) for f in sweep_figures(runs)],
    )
