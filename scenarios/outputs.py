"""Files a run writes: schedules (CSV or Parquet), KPIs (JSON), per-period table, HTML reports.

Layout of ``dispatch run --out DIR``::

    DIR/schedule.csv            optimised schedule, one row per step (index: interval_start, tz-aware)
    DIR/baseline_schedule.csv   the rule-based baseline on the same steps
    DIR/days.csv                one row per period: status, costs, saving (blank with saving_label
                                "baseline infeasible: ..." against a baseline that leaves demand unmet)
                                and its split by cost group, solve time
    DIR/kpis.json               KPIs (optimised and rule-based), saving with its split by cost group,
                                the carbon cost apart and the annualised estimate (``savings``), the
                                baseline's shortfalls, per-period records
    DIR/report.html             the report (its charts drawn by plotly.min.js, beside it)
    DIR/plotly.min.js           the charting library, one copy per output folder

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
from scenarios.pipeline import DayRecord, ScenarioRun
from scenarios.report_html import (
    PLOTLY_JS_FILE,
    plotly_js_file,
    render_comparison_html,
    render_schedule_html,
    render_sweep_html,
)
from scenarios.rounding import AMOUNT, KPI_FRACTION, MONEY, round_number, round_schedule, round_table

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


def run_payload(run: ScenarioRun) -> dict[str, Any]:
    """What ``kpis.json`` holds for one run (KPIs at their precision, :func:`scenarios.kpis.written_kpis`).

    ``saving_cny`` is None against a baseline that leaves demand unmet (``baseline_feasible`` false,
    ``saving_label`` and ``baseline_shortfalls`` say what); ``savings`` splits it by cost group, with the carbon cost
    apart, the part per day, the demand charge per month billed and the annualised estimate
    (:class:`optimizer.kpis.Savings`).
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
        "run_seconds": round_number(run.seconds, AMOUNT),
        "days": [_day_record(d) for d in run.days],
    }


def write_run(
    run: ScenarioRun,
    out: Path,
    *,
    fmt: TableFormat = "csv",
    report: bool = True,
    detail_days: int = 7,
    library: Path | None = None,
) -> dict[str, Path]:
    """Writes one run's files into ``out``; returns them by kind.

    The report loads plotly.js from ``library`` (a folder above ``out``, e.g. a comparison's), written there
    once; by default from ``out`` itself.
    """
    out.mkdir(parents=True, exist_ok=True)
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
    write_json(files["kpis"], run_payload(run))
    if report:
        files["report"] = out / "report.html"
        plotly_js = plotly_js_file(out, library)
        files["report"].write_text(
            render_schedule_html(run, detail_days=detail_days, plotly_js=plotly_js), encoding="utf-8"
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
) -> dict[str, Path]:
    """Writes each run's folder (with ``schedules``) and the comparison table, JSON and HTML."""
    out.mkdir(parents=True, exist_ok=True)
    links: dict[str, str] = {}
    if schedules:
        for run in runs:
            folder = folder_name(run.label)
            write_run(run, out / folder, fmt=fmt, detail_days=detail_days, library=out)
            links[run.label] = f"{folder}/report.html"
    table = round_table(comparison_table(runs))
    files = {"table": write_table(table, out / "comparison", "csv"), "json": out / "comparison.json"}
    write_json(
        files["json"], {"runs": [run_payload(r) | {"days": None} for r in runs], "table": table.to_dict("records")}
    )
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
) -> dict[str, Path]:
    """Writes a sweep's table, JSON and HTML (and each point's folder with ``schedules``)."""
    out.mkdir(parents=True, exist_ok=True)
    if schedules:
        for run in runs:
            write_run(run, out / folder_name(run.label), fmt=fmt, detail_days=detail_days, library=out)
    table = round_table(comparison_table(runs, runs[0].label))
    files = {"table": write_table(table, out / "sweep", "csv"), "json": out / "sweep.json"}
    write_json(
        files["json"], {"runs": [run_payload(r) | {"days": None} for r in runs], "table": table.to_dict("records")}
    )
    files["report"] = out / "sweep.html"
    files["report"].write_text(render_sweep_html(runs, plotly_js=plotly_js_file(out)), encoding="utf-8")
    files["plotly_js"] = out / PLOTLY_JS_FILE
    return files


def daily_table(run: ScenarioRun) -> pd.DataFrame:
    """One row per period: status, costs (optimised and rule-based), saving with its split (:data:`SAVING_COLUMNS`;
    blank, with ``saving_label``, against a baseline that leaves demand unmet), solve time; not rounded
    (``days.csv`` is, with :data:`DAYS_UNITS`)."""
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
            }
        )
    return pd.DataFrame(rows)
