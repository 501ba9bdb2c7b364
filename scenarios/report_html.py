"""HTML reports with plotly figures, viewable offline (no network: plotly.js is inline or in a file beside them).

- :func:`render_schedule_html`: one schedule (a :class:`~scenarios.pipeline.ScenarioRun`,
  or a :class:`~optimizer.DispatchResult` with its problem, or a bare schedule):
  KPIs against the rule-based baseline, the saving split by cost group (or, against a baseline
  that leaves demand unmet, what it leaves unmet instead), stacked dispatch per bus (electricity
  with the TOU bands shaded and the import price; heat, cooling, compressed
  air), storage levels, an on/off Gantt of switched units, and for runs of
  several days the daily costs and shares; the targets and contract volumes over their periods and, given the
  run's carbon (:class:`~scenarios.report_tables.RunCarbon`), the carbon account. The API serves the same page.
- :func:`render_comparison_html`: variants side by side: bar charts of cost,
  emissions, PV self-consumption and green share (optimised and rule-based)
  and the KPI table with deltas against the base and the rules.
- :func:`render_sweep_html`: each point labelled by its values, KPIs against the swept value (lines) or over
  a grid of two parameters (heat maps), deltas against the base case as written in the file.
- :func:`render_stored_schedule_html`: a schedule stored by the API.

Long runs show the time series of ``detail_days`` days (default 7) and daily
summaries of the whole run.

Where plotly.js comes from (``plotly_js`` of every renderer): ``"inline"`` (the default) puts the library
(about 4.8 MB) into the page, a self-contained file, as the API serves it; ``"file"`` loads
``plotly.min.js`` from the page's folder, and any other value is the ``src`` of the script (e.g.
``"../plotly.min.js"``). :func:`plotly_js_file` writes the library once into an output folder and gives
the ``src`` of a page in it or below it: the CLI's folders hold one copy however many pages they have.

Each page is a Jinja2 template in ``scenarios/templates/`` (extending ``base.html.j2``) with
autoescaping on: this module only prepares the values (strings, table rows from
:mod:`scenarios.report_tables`) and the figures (:mod:`scenarios.report_figures`), which are the only
HTML inserted as is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from optimizer import DispatchProblem, DispatchResult, Kpis
from optimizer.baseline_state import BaselineShortfall
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
    point_label,
    schedule_figures,
    storage_figure,
    sweep_figures,
    sweep_shape,
)
from scenarios.report_stored import schedule_metadata, stored_schedule
from scenarios.report_tables import (
    RunCarbon,
    carbon_table,
    comparison_table_rows,
    days_table,
    kpi_table,
    period_table,
    savings_table,
)

__all__ = [
    "BAND_COLOURS",
    "BUS_TITLES",
    "FIGURE_CONFIG",
    "PALETTE",
    "PLOTLY_JS_FILE",
    "ROLE_COLOURS",
    "bus_figure",
    "comparison_figure",
    "comparison_table_html",
    "daily_figure",
    "gantt_figure",
    "kpi_table_html",
    "plotly_js_file",
    "render_comparison_html",
    "render_page",
    "render_schedule_html",
    "render_stored_schedule_html",
    "render_sweep_html",
    "schedule_figures",
    "schedule_metadata",
    "storage_figure",
    "sweep_figures",
    "write_plotly_js",
]

PLOTLY_JS_FILE = "plotly.min.js"
INLINE = "inline"


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


@functools.cache
def _plotly_js_text() -> str:
    """plotly.js as the installed plotly package ships it (minified)."""
    return get_plotlyjs()


def write_plotly_js(folder: Path) -> Path:
    """Writes ``plotly.min.js`` into ``folder`` unless the same file is already there; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PLOTLY_JS_FILE
    data = _plotly_js_text().encode("utf-8")
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return path
    partial = path.with_name(f".{PLOTLY_JS_FILE}.{os.getpid()}.tmp")
    partial.write_bytes(data)
    partial.replace(path)
    return path


def plotly_js_file(page_folder: Path, library_folder: Path | None = None) -> str:
    """The ``plotly_js`` of a page written into ``page_folder`` that loads the library from ``library_folder``
    (default: the page's own folder, which must be it or one of its parents), written there once.

    ``plotly_js_file(out / "base", out)`` is ``"../plotly.min.js"``.
    """
    library = write_plotly_js(library_folder if library_folder is not None else page_folder)
    return Path(os.path.relpath(library.resolve(), page_folder.resolve())).as_posix()


def _script(plotly_js: str) -> dict[str, Any]:
    """The base template's ``plotly_inline`` (the library, as is) or ``plotly_src`` (where to load it from)."""
    if plotly_js == INLINE:
        return {"plotly_inline": Markup(_plotly_js_text()), "plotly_src": None}
    if not plotly_js:
        raise ValueError('plotly_js: "inline", "file" or the src of plotly.js (e.g. "../plotly.min.js")')
    return {"plotly_inline": None, "plotly_src": PLOTLY_JS_FILE if plotly_js == "file" else plotly_js}


def _render(template: str, title: str, plotly_js: str = INLINE, nonce: str = "", **context: Any) -> str:
    """A page: ``template`` (extending ``base.html.j2``) with plotly.js (see ``plotly_js`` in the module's
    notes) and the time it was generated; with ``nonce``, the page's own ``<script>`` and ``<style>`` carry it."""
    return (
        environment()
        .get_template(template)
        .render(
            title=title,
            generated=f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
            nonce=nonce,
            **_script(plotly_js),
            **context,
        )
    )


def render_page(template: str, title: str, plotly_js: str = INLINE, **context: Any) -> str:
    """A page of another module (the annual report) from ``template`` in ``scenarios/templates`` with the same
    base, escaping and plotly.js handling as the reports here (``plotly_js``: see the module's notes)."""
    return _render(template, title, plotly_js, **context)


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


def _schedule_context(
    run: ScenarioRun, detail_days: int, detail_start: dt.date | None, carbon: RunCarbon | None = None, nonce: str = ""
) -> dict[str, Any]:
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
        "saving": "" if run.saving_cny is None else f"{run.saving_cny:,.0f}",
        "saving_label": run.savings.label or "",
        "savings": savings_table(run),
        "currency": str(run.currency),
        "seconds": f"{run.seconds:.1f}",
        "parameters": [(str(k), str(v)) for k, v in run.parameters.items()],
        "fallback": [str(p) for p in run.fallback_days],
        "kpis": kpi_table(run.kpis, run.baseline_kpis, run.currency, run.baseline_feasible),
        "window": shown,
        "figures": [figure_html(f, nonce) for f in schedule_figures(run, window)],
        "days": days_table(run),
        "periods_table": period_table(run),
        "carbon": None if carbon is None else carbon_table(carbon, run.currency),
    }


def render_schedule_html(
    source: ScenarioRun | DispatchResult,
    problem: DispatchProblem | None = None,
    *,
    title: str | None = None,
    detail_days: int = 7,
    detail_start: dt.date | None = None,
    plotly_js: str = INLINE,
    carbon: RunCarbon | None = None,
) -> str:
    """The HTML report of one schedule: KPIs, dispatch per bus, storage, on/off, per-day summary, targets over
    their periods and (with ``carbon``) the carbon account.

    ``source``: a :class:`ScenarioRun`, or a :class:`~optimizer.DispatchResult`
    together with the ``problem`` it solved. Time series show ``detail_days``
    days from ``detail_start`` (default: the first day). ``plotly_js``: ``"inline"``,
    ``"file"`` or the library's ``src`` (see :func:`plotly_js_file`). ``carbon``: the run's ledger and status
    (:meth:`RunCarbon.of`).
    """
    run = _as_run(source, problem)
    title = title or f"{run.scenario}: {run.label}"
    context = _schedule_context(run, detail_days, detail_start, carbon)
    return _render("schedule.html.j2", title, plotly_js, **context)


def render_stored_schedule_html(
    payload: dict[str, Any], actual: dict[str, Any] | None = None, *, plotly_js: str = INLINE, nonce: str = ""
) -> str:
    """The report of a stored schedule (the API's ``ScheduleOut`` as JSON), and beside the plan what the meters
    measured when ``actual`` (:func:`scenarios.performance.compare` of the schedule) is given.

    Uses ``payload["report_metadata"]`` (see :func:`schedule_metadata`) to place every
    column on its bus; without it, only electricity flows recognisable by name are stacked and
    the TOU bands are read off the import price's levels (the page says so). Violations are listed
    above the KPIs. The page is self-contained (plotly.js inline) unless ``plotly_js`` says where to load it from.
    ``nonce``: the Content-Security-Policy nonce its inline scripts and styles carry (the API makes one per answer).
    """
    stored = stored_schedule(payload)
    shortfalls = _stored_shortfalls(payload)
    if shortfalls:
        days = [dataclasses.replace(d, baseline_shortfalls=shortfalls) for d in stored.run.days]
        stored = dataclasses.replace(stored, run=dataclasses.replace(stored.run, days=days))
    return _render(
        "stored_schedule.html.j2",
        stored.title,
        plotly_js,
        nonce,
        violations=stored.violations,
        guessed=stored.guessed,
        actual=actual,
        sources=payload.get("sources") or {},
        **_schedule_context(stored.run, 7, None, nonce=nonce),
    )


def _stored_shortfalls(payload: dict[str, Any]) -> list[BaselineShortfall]:
    """What a stored schedule's rule-based baseline leaves unmet (its ``baseline_kpis.shortfalls``)."""
    baseline = payload.get("baseline_kpis") or {}
    return [BaselineShortfall.model_validate(s) for s in baseline.get("shortfalls") or []]


# --- comparisons and sweeps --------------------------------------------------------------------


def _reference_name(runs: Sequence[ScenarioRun], base: str) -> str:
    """What the deltas are against, as the table says it: ``base`` when a run has that label, else the first run's
    label (the reference :func:`scenarios.compare.comparison_table` falls back to)."""
    return base if any(r.label == base for r in runs) else str(runs[0].label)


def render_comparison_html(
    runs: Sequence[ScenarioRun],
    *,
    title: str | None = None,
    base: str = "base",
    links: dict[str, str] | None = None,
    plotly_js: str = INLINE,
) -> str:
    """The HTML comparison of variants: bar charts per KPI and the table of deltas against the base (the file as
    written).

    ``links`` maps a run label to the URL of its own report (e.g. ``base/report.html``); ``plotly_js``:
    ``"inline"``, ``"file"`` or the library's ``src`` (see :func:`plotly_js_file`).
    """
    if not runs:
        raise ValueError("nothing to compare")
    first = runs[0]
    title = title or f"{first.scenario}: comparison of {len(runs)} variants"
    return _render(
        "comparison.html.j2",
        title,
        plotly_js,
        first_period=str(first.days[0].period),
        last_period=str(first.days[-1].period),
        periods=len(first.days),
        descriptions=[(str(r.label), str(r.description)) for r in runs if r.description],
        table=comparison_table_rows(runs, base),
        reference=_reference_name(runs, base),
        figure=figure_html(comparison_figure(runs)),
        links=[(str(label), str(url)) for label, url in (links or {}).items()],
    )


BASE_CASE = "base case (as written)"


def _sweep_points(
    runs: Sequence[ScenarioRun], base: ScenarioRun | None
) -> tuple[ScenarioRun | None, list[ScenarioRun]]:
    """The base case as written in the file (``base``, or the run among ``runs`` without swept parameters) and
    the sweep's points."""
    points = [r for r in runs if r.parameters]
    others = [r for r in runs if not r.parameters and r is not base]
    if base is None and len(others) == 1 and points:
        base = others[0]
    elif others and points:
        raise ValueError(f"runs without swept parameters: {', '.join(r.label for r in others)}; pass one as base")
    if not points:
        raise ValueError("a sweep report needs runs with swept parameters")
    return base, points


def render_sweep_html(
    runs: Sequence[ScenarioRun],
    *,
    title: str | None = None,
    base: ScenarioRun | None = None,
    plotly_js: str = INLINE,
) -> str:
    """KPIs against the swept value (line charts of a one-dimensional sweep, heat maps of a two-dimensional grid)
    and the table, each point labelled by its values (``battery.capacity_kwh = 500``).

    Deltas are against the base case as written in the file: ``base``, or the run in ``runs`` without swept
    parameters (``parameters`` empty). Without one, against the first point, and the page says so.
    ``plotly_js``: ``"inline"``, ``"file"`` or the library's ``src`` (see :func:`plotly_js_file`).
    """
    if not runs:
        raise ValueError("nothing to show")
    base_run, points = _sweep_points(runs, base)
    first = points[0]
    shape = sweep_shape(points)
    names = list(first.parameters)
    title = title or f"{first.scenario}: sweep {first.sweep or ''} over {', '.join(names)}".replace("  ", " ")
    shown = ([base_run] if base_run is not None else []) + points
    reference = base_run if base_run is not None else first
    table = comparison_table_rows(shown, reference.label)
    headers = ([BASE_CASE] if base_run is not None else []) + [point_label(r.parameters, "\n") for r in points]
    if shape.dimensions == 1:
        layout = f"one-dimensional: KPIs against {shape.x}" + (
            f" (changed together with {', '.join(shape.along)})" if shape.along else ""
        )
    else:
        layout = f"a grid of {shape.x} and {shape.y}"
    return _render(
        "sweep.html.j2",
        title,
        plotly_js,
        first_period=str(first.days[0].period),
        last_period=str(first.days[-1].period),
        periods=len(first.days),
        points=len(points),
        layout=layout,
        variant=str(first.variant or ""),
        reference="base" if base_run is not None else "first point",
        reference_label=point_label(first.parameters),
        has_base=base_run is not None,
        table=dataclasses.replace(table, runs=headers),
        figures=[figure_html(f) for f in sweep_figures(points, base_run)],
    )
