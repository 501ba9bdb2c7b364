"""Files a run writes: schedules (CSV or Parquet), KPIs (JSON), per-period table, HTML reports.

Layout of ``dispatch run --out DIR``::

    DIR/schedule.csv            optimised schedule, one row per step (index: interval_start, tz-aware)
    DIR/baseline_schedule.csv   the rule-based baseline on the same steps
    DIR/days.csv                one row per period: status, costs, saving (blank with saving_label
                                "baseline infeasible: ..." against a baseline that leaves demand unmet)
                                and its split by cost group, solve time, how the model came (re-used...)
    DIR/kpis.json               KPIs (optimised and rule-based), saving with its split by cost group,
                                the carbon cost apart and the annualised estimate (``savings``), the
                                baseline's shortfalls, per-period records, the targets and contract
                                volumes over their periods (``period_figures``, ``period_notes``) and,
                                given the site, the carbon ledger's totals and zero-carbon status
                                (``carbon``)
    DIR/account.csv             each day's planned and achieved share of each target or contract volume
                                over its period (when the site has one over a month, year or date range)
    DIR/ledger.csv              the carbon ledger's entries, one per local day (given the site)
    DIR/report.html             the report (its charts drawn by plotly.min.js, beside it)
    DIR/plotly.min.js           the charting library, one copy per output folder

``dispatch annual`` (and ``dispatch run --annual``) adds ``annual.html`` and ``annual.xlsx``
(:mod:`scenarios.annual_report`).

``dispatch compare`` writes one such folder per variant plus
``comparison.csv``, ``comparison.json`` and ``comparison.html``; ``dispatch
sweep`` writes ``sweep.csv``, ``sweep.json`` and ``sweep.html`` (and, with
``--schedules``, a folder per point). Their reports share one ``plotly.min.js``
in the top folder.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from optimizer.kpis import CARBON, MONEY_GROUPS, savings, with_shortfalls
from scenarios.compare import comparison_table
from scenarios.kpis import written_kpis, written_savings, written_shortfall
from scenarios.ledger_entries import KG_PER_T
from scenarios.pipeline import DayRecord, ScenarioRun
from scenarios.report_html import (
    PLOTLY_JS_FILE,
    plotly_js_file,
    render_comparison_html,
    render_schedule_html,
    render_sweep_html,
)
from scenarios.report_tables import RunCarbon
from scenarios.rounding import (
    AMOUNT,
    KPI_FRACTION,
    MONEY,
    Precision,
    round_number,
    round_schedule,
    round_table,
    rounded_record,
)
from scenarios.site import Site
from scenarios.zero_carbon import ZeroCarbonStatus

TableFormat = Literal["csv", "parquet"]


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(_clean(payload), indent=2, allow_nan=False, default=str) + "\n", encoding="utf-8")


def folder_name(label: str) -> str:
    """A run label as a folder name: ``size[2]`` -> ``size_2``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_") or "run"


def write_table(frame: pd.DataFrame, path: Path, fmt: TableFormat, *, index_label: str | None = None) -> Path:
    """A schedule or table as CSV or Parquet; returns the path written (with the format's suffix)."""
    path = path.with_suffix(".parquet" if fmt == "parquet" else ".csv")
    if fmt == "parquet":
        out = frame.copy()
        if index_label is not None:
            out.index.name = index_label
        out.to_parquet(path)
    else:
        frame.to_csv(path, index_label=index_label, index=index_label is not None)
    return path


SAVING_COLUMNS = tuple(f"saving_{group}" for group in (*MONEY_GROUPS, CARBON))
"""The split of ``days.csv``'s saving: one column per group of money paid (they add up to ``saving``), then the
internal carbon cost saved (not money paid)."""
DAYS_UNITS = {
    "energy_cost": MONEY,
    "baseline_energy_cost": MONEY,
    "saving": MONEY,
    "mip_gap": KPI_FRACTION,
    **dict.fromkeys(SAVING_COLUMNS, MONEY),
}
"""Precision of the columns of ``days.csv`` whose names carry no unit."""


def _day_record(day: DayRecord) -> dict[str, Any]:
    """One period of ``kpis.json``: its record with the saving (None, with ``saving_label``, against a baseline that
    leaves demand unmet); money to 0.01, seconds to 0.001, gap to 1e-6."""
    record = dataclasses.asdict(day) | {
        "saving_cny": day.saving_cny,
        "baseline_feasible": day.baseline_feasible,
        "saving_label": day.saving_label,
        "baseline_shortfalls": [written_shortfall(s) for s in day.baseline_shortfalls],
    }
    for key in ("energy_cost_cny", "baseline_energy_cost_cny", "objective_cny", "saving_cny"):
        record[key] = round_number(record[key], MONEY, tiny_to_zero=True)
    for key in ("build_seconds", "solve_seconds"):
        record[key] = round_number(record[key], AMOUNT)
    record["mip_gap"] = round_number(record["mip_gap"], KPI_FRACTION)
    return record


def run_payload(run: ScenarioRun, carbon: RunCarbon | None = None) -> dict[str, Any]:
    """What ``kpis.json`` holds for one run (KPIs at their precision, :func:`scenarios.kpis.written_kpis`).

    ``saving_cny`` is None against a baseline that leaves demand unmet (``baseline_feasible`` false,
    ``saving_label`` and ``baseline_shortfalls`` say what); ``savings`` splits it by cost group, with the carbon cost
    apart, the part per day, the demand charge per month billed and the annualised estimate
    (:class:`optimizer.kpis.Savings`). ``period_figures`` (:func:`period_payload`) and ``period_notes``: the
    targets and contract volumes over their periods. ``carbon`` (:func:`carbon_payload`; None without ``carbon``):
    the ledger's totals and the zero-carbon status.
    """
    saving = run.savings
    return {
        "scenario": run.scenario,
        "run": run.label,
        "description": run.description,
        "variant": run.variant,
        "sweep": run.sweep,
        "parameters": run.parameters,
        "currency": run.currency,
        "periods": len(run.days),
        "first_period": run.days[0].period,
        "last_period": run.days[-1].period,
        "steps": len(run.schedule),
        "fallback_periods": run.fallback_days,
        "saving_cny": round_number(run.saving_cny, MONEY, tiny_to_zero=True),
        "baseline_feasible": run.baseline_feasible,
        "saving_label": saving.label,
        "baseline_shortfalls": [written_shortfall(s) for s in run.baseline_shortfalls],
        "savings": written_savings(saving),
        "kpis": written_kpis(run.kpis),
        "baseline_kpis": written_kpis(run.baseline_kpis),
        "period_figures": period_payload(run),
        "period_notes": list(run.account_notes),
        "carbon": None if carbon is None else carbon_payload(carbon),
        "run_seconds": round_number(run.seconds, AMOUNT),
        "days": [_day_record(d) for d in run.days],
    }


FIGURE_UNITS: dict[str, Precision] = {"share": KPI_FRACTION, "kWh": AMOUNT, "kgCO2": AMOUNT}
"""Precision of a period figure's amounts by its unit."""


def period_payload(run: ScenarioRun) -> list[dict[str, Any]]:
    """Each target or contract volume over its period as ``kpis.json`` writes it: the
    :class:`~scenarios.period_account.PeriodFigure` (required, maximum, achieved, met, days run and in the period,
    days above and below their planned share, what the rest of the period must do), amounts at their unit's
    precision, and how many of its days were held to the plan's share or paced (``days_planned``,
    ``days_paced``)."""
    out = []
    for figure in run.period_figures:
        precision = FIGURE_UNITS.get(figure.unit, AMOUNT)
        record = figure.model_dump()
        for key in ("required", "maximum", "achieved"):
            record[key] = round_number(record[key], precision, tiny_to_zero=True)
        days = [d for d in run.account_days if d.item == figure.item and d.period == figure.period]
        record["days_planned"] = sum(d.source == "plan" for d in days)
        record["days_paced"] = sum(d.source == "pacing" for d in days)
        out.append(record)
    return out


def account_table(run: ScenarioRun) -> pd.DataFrame:
    """One row per day and target or contract volume over its period (``account.csv``): the period, the unit
    (``share`` 0-1, ``kWh``, ``kgCO2``), the day's planned share (blank when the day paced: no plan), what it
    achieved, the difference and whether it did its share (at least, or at most for a cap); rounded at the
    unit's precision. Empty (no rows) when the run has no such item."""
    units = {f.item: f.unit for f in run.period_figures}
    rows = []
    for day in run.account_days:
        unit = units.get(day.item, "")
        precision = FIGURE_UNITS.get(unit, AMOUNT)
        planned, achieved = day.allocated, day.achieved
        difference = None if planned is None or achieved is None else achieved - planned
        did = day.did_its_share
        rows.append(
            {
                "date": day.date.isoformat(),
                "item": day.item,
                "period": day.period,
                "unit": unit,
                "planned": round_number(planned, precision, tiny_to_zero=True),
                "achieved": round_number(achieved, precision, tiny_to_zero=True),
                "difference": round_number(difference, precision, tiny_to_zero=True),
                "did_its_share": did,
                "source": day.source,
            }
        )
    columns = ["date", "item", "period", "unit", "planned", "achieved", "difference", "did_its_share", "source"]
    return pd.DataFrame(rows, columns=columns)


def carbon_payload(carbon: RunCarbon) -> dict[str, Any]:
    """The ``carbon`` of ``kpis.json``: whether the site has its own account, the factor sets used (id, source,
    year, values), the ledger's totals over the run (scope 1 by fuel; scope 2 location-based and market-based, both
    always, by source; green contracts kWh, PV used on site, certificates MWh and the emissions they avoid,
    offsets tCO2, net kgCO2 and tCO2) and, with an account, each calendar year's zero-carbon status (met, reasons,
    notes, the least-cost closing purchase and its cost, the lots to retire). Numbers at the precision of their
    names (:func:`scenarios.rounding.rounded_record`); factor values as published."""
    totals = carbon.totals()
    sets: dict[str, Any] = {}
    for entry in carbon.ledger.entries:
        sets.setdefault(entry.factor_set.id, entry.factor_set.model_dump())
    return {
        "account": carbon.account,
        "standard": carbon.ledger.account.standard.name if carbon.account else None,
        "factor_sets": list(sets.values()),
        "totals": rounded_record(totals.model_dump(exclude={"period"}) | {"net_tco2": totals.net_kgco2 / KG_PER_T}),
        "statuses": [_written_status(status) for status in carbon.statuses],
        "note": None
        if carbon.account
        else "no carbon account on the site (site.carbon): totals with the default factor set; no zero-carbon status",
    }


def write_run(
    run: ScenarioRun,
    out: Path,
    *,
    fmt: TableFormat = "csv",
    report: bool = True,
    detail_days: int = 7,
    library: Path | None = None,
    site: Site | None = None,
    carbon: RunCarbon | None = None,
) -> dict[str, Path]:
    """Writes one run's files into ``out``; returns them by kind.

    The report loads plotly.js from ``library`` (a folder above ``out``, e.g. a comparison's), written there
    once; by default from ``out`` itself. With the run's ``site`` (or its ``carbon``, if already built), the carbon
    ledger is written (``ledger.csv``), in ``kpis.json`` and in the report; ``account.csv`` when the run has
    targets or contract volumes over their periods.
    """
    out.mkdir(parents=True, exist_ok=True)
    if carbon is None and site is not None:
        carbon = RunCarbon.of(run, site)
    files = {
        "schedule": write_table(
            round_schedule(run.schedule, run.flows), out / "schedule", fmt, index_label="interval_start"
        ),
        "baseline_schedule": write_table(
            round_schedule(run.baseline_schedule, run.flows),
            out / "baseline_schedule",
            fmt,
            index_label="interval_start",
        ),
        "days": write_table(round_table(daily_table(run), DAYS_UNITS), out / "days", "csv"),
    }
    files["kpis"] = out / "kpis.json"
    write_json(files["kpis"], run_payload(run, carbon))
    if run.account_days:
        files["account"] = write_table(account_table(run), out / "account", "csv")
    if carbon is not None:
        files["ledger"] = write_table(round_table(carbon.ledger.to_frame()), out / "ledger", "csv")
    if report:
        files["report"] = out / "report.html"
        plotly_js = plotly_js_file(out, library)
        files["report"].write_text(
            render_schedule_html(run, detail_days=detail_days, plotly_js=plotly_js, carbon=carbon), encoding="utf-8"
        )
        if library is None:
            files["plotly_js"] = out / PLOTLY_JS_FILE
    return files


def write_comparison(
    runs: Sequence[ScenarioRun],
    out: Path,
    *,
    fmt: TableFormat = "csv",
    schedules: bool = True,
    detail_days: int = 7,
    sites: Sequence[Site] | None = None,
) -> dict[str, Path]:
    """Writes each run's folder (with ``schedules``) and the comparison table, JSON and HTML; ``sites`` (one per
    run, in order: a variant may change the site) adds each run's carbon ledger (see :func:`write_run`)."""
    out.mkdir(parents=True, exist_ok=True)
    carbons = _carbons(runs, sites)
    links: dict[str, str] = {}
    if schedules:
        for run, carbon in zip(runs, carbons, strict=True):
            folder = folder_name(run.label)
            write_run(run, out / folder, fmt=fmt, detail_days=detail_days, library=out, carbon=carbon)
            links[run.label] = f"{folder}/report.html"
    table = round_table(comparison_table(runs))
    files = {"table": write_table(table, out / "comparison", "csv"), "json": out / "comparison.json"}
    payloads = [run_payload(r, c) | {"days": None} for r, c in zip(runs, carbons, strict=True)]
    write_json(files["json"], {"runs": payloads, "table": table.to_dict("records")})
    files["report"] = out / "comparison.html"
    files["report"].write_text(
        render_comparison_html(runs, links=links, plotly_js=plotly_js_file(out)), encoding="utf-8"
    )
    files["plotly_js"] = out / PLOTLY_JS_FILE
    return files


def write_sweep(
    runs: Sequence[ScenarioRun],
    out: Path,
    *,
    fmt: TableFormat = "csv",
    schedules: bool = False,
    detail_days: int = 7,
    sites: Sequence[Site] | None = None,
) -> dict[str, Path]:
    """Writes a sweep's table, JSON and HTML (and each point's folder with ``schedules``); ``sites`` as in
    :func:`write_comparison`."""
    out.mkdir(parents=True, exist_ok=True)
    carbons = _carbons(runs, sites)
    if schedules:
        for run, carbon in zip(runs, carbons, strict=True):
            write_run(run, out / folder_name(run.label), fmt=fmt, detail_days=detail_days, library=out, carbon=carbon)
    table = round_table(comparison_table(runs, runs[0].label))
    files = {"table": write_table(table, out / "sweep", "csv"), "json": out / "sweep.json"}
    payloads = [run_payload(r, c) | {"days": None} for r, c in zip(runs, carbons, strict=True)]
    write_json(files["json"], {"runs": payloads, "table": table.to_dict("records")})
    files["report"] = out / "sweep.html"
    files["report"].write_text(render_sweep_html(runs, plotly_js=plotly_js_file(out)), encoding="utf-8")
    files["plotly_js"] = out / PLOTLY_JS_FILE
    return files


def _written_status(status: ZeroCarbonStatus) -> dict[str, Any]:
    """A zero-carbon status as written: amounts by their names' units, and the quantities of the purchase and the
    retirements (MWh or tCO2, named by their ``unit`` field) at 0.001."""
    record = rounded_record(status)
    for item in (*record["purchase"]["items"], *record["retirements"]):
        item["quantity"] = round_number(item["quantity"], AMOUNT, tiny_to_zero=True)
    return record


def _carbons(runs: Sequence[ScenarioRun], sites: Sequence[Site] | None) -> list[RunCarbon | None]:
    """Each run's carbon (:class:`RunCarbon`) from its site, or None for every run without ``sites``."""
    if sites is None:
        return [None] * len(runs)
    if len(sites) != len(runs):
        raise ValueError(f"{len(sites)} site(s) for {len(runs)} run(s): give one per run")
    return [RunCarbon.of(run, site) for run, site in zip(runs, sites, strict=True)]


def daily_table(run: ScenarioRun) -> pd.DataFrame:
    """One row per period: status, costs (optimised and rule-based), saving with its split (:data:`SAVING_COLUMNS`;
    blank, with ``saving_label``, against a baseline that leaves demand unmet), solve time, how the model came
    (``model``: ``re-used``, ``built``, ``not re-usable: <why>``, :mod:`optimizer.reuse`), starts of each unit
    with a start count (``starts_<asset>``: boilers, heat pumps, compressors...); not rounded (``days.csv`` is, with
    :data:`DAYS_UNITS`)."""
    rows = []
    for record, kpis, base in zip(run.days, run.daily_kpis, run.daily_baseline_kpis, strict=True):
        saving = savings(kpis, with_shortfalls(base, record.baseline_shortfalls))
        split = {**(saving.by_group_cny or {}), CARBON: saving.carbon_cny}
        if not saving.baseline_feasible:
            split = dict.fromkeys(split)
        rows.append(
            {
                "period": record.period,
                "status": record.status,
                "schedule_source": record.schedule_source,
                "energy_cost": kpis.energy_cost_cny,
                "baseline_energy_cost": base.energy_cost_cny,
                "saving": saving.total_cny,
                "saving_label": saving.label or "",
                **{f"saving_{group}": split.get(group) for group in (*MONEY_GROUPS, CARBON)},
                "emissions_market_kgco2": kpis.emissions_market_kgco2,
                "pv_self_consumption_frac": kpis.pv_self_consumption_frac,
                "green_share_frac": kpis.green_share_frac,
                "peak_import_kw": kpis.peak_import_kw,
                "mip_gap": record.mip_gap,
                "solve_seconds": record.solve_seconds,
                "model": record.model_reuse,
                **{f"starts_{asset}": n for asset, n in (kpis.unit_starts_by_asset or {}).items()},
            }
        )
    return pd.DataFrame(rows)
