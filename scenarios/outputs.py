"""Files a run writes: schedules (CSV or Parquet), KPIs (JSON), per-period table, HTML reports.

Layout of ``dispatch run --out DIR``::

    DIR/schedule.csv            optimised schedule, one row per step (index: interval_start, tz-aware)
    DIR/baseline_schedule.csv   the rule-based baseline on the same steps
    DIR/days.csv                one row per period: status, costs, saving, solve time
    DIR/kpis.json               KPIs (optimised and rule-based), saving, per-period records
    DIR/report.html             the report (self-contained)

``dispatch compare`` writes one such folder per variant plus
``comparison.csv``, ``comparison.json`` and ``comparison.html``; ``dispatch
sweep`` writes ``sweep.csv``, ``sweep.json`` and ``sweep.html`` (and, with
``--schedules``, a folder per point).
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

from scenarios.compare import comparison_table
from scenarios.pipeline import ScenarioRun
from scenarios.report_html import render_comparison_html, render_schedule_html, render_sweep_html

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


def run_payload(run: ScenarioRun) -> dict[str, Any]:
    """What ``kpis.json`` holds for one run."""
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
        "saving_cny": run.saving_cny,
        "kpis": run.kpis.model_dump(),
        "baseline_kpis": run.baseline_kpis.model_dump(),
        "run_seconds": run.seconds,
        "days": [dataclasses.asdict(d) | {"saving_cny": d.saving_cny} for d in run.days],
    }


def write_run(
    run: ScenarioRun,
    out: Path,
    *,
    fmt: TableFormat = "csv",
    report: bool = True,
    detail_days: int = 7,
) -> dict[str, Path]:
    """Writes one run's files into ``out``; returns them by kind."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "schedule": write_table(run.schedule, out / "schedule", fmt, index_label="interval_start"),
        "baseline_schedule": write_table(
            run.baseline_schedule, out / "baseline_schedule", fmt, index_label="interval_start"
        ),
        "days": write_table(daily_table(run), out / "days", "csv"),
    }
    files["kpis"] = out / "kpis.json"
    write_json(files["kpis"], run_payload(run))
    if report:
        files["report"] = out / "report.html"
        files["report"].write_text(render_schedule_html(run, detail_days=detail_days), encoding="utf-8")
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
            write_run(run, out / folder, fmt=fmt, detail_days=detail_days)
            links[run.label] = f"{folder}/report.html"
    table = comparison_table(runs)
    files = {"table": write_table(table, out / "comparison", "csv"), "json": out / "comparison.json"}
    write_json(
        files["json"], {"runs": [run_payload(r) | {"days": None} for r in runs], "table": table.to_dict("records")}
    )
    files["report"] = out / "comparison.html"
    files["report"].write_text(render_comparison_html(runs, links=links), encoding="utf-8")
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
            write_run(run, out / folder_name(run.label), fmt=fmt, detail_days=detail_days)
    table = comparison_table(runs, runs[0].label)
    files = {"table": write_table(table, out / "sweep", "csv"), "json": out / "sweep.json"}
    write_json(
        files["json"], {"runs": [run_payload(r) | {"days": None} for r in runs], "table": table.to_dict("records")}
    )
    files["report"] = out / "sweep.html"
    files["report"].write_text(render_sweep_html(runs), encoding="utf-8")
    return files


def daily_table(run: ScenarioRun) -> pd.DataFrame:
    """One row per period: status, costs (optimised and rule-based), saving, solve time."""
    rows = []
    for record, kpis, base in zip(run.days, run.daily_kpis, run.daily_baseline_kpis, strict=True):
        rows.append(
            {
                "period": record.period,
                "status": record.status,
                "schedule_source": record.schedule_source,
                "energy_cost": kpis.energy_cost_cny,
                "baseline_energy_cost": base.energy_cost_cny,
                "saving": base.energy_cost_cny - kpis.energy_cost_cny,
                "emissions_market_kgco2": kpis.emissions_market_kgco2,
                "pv_self_consumption_frac": kpis.pv_self_consumption_frac,
                "green_share_frac": kpis.green_share_frac,
                "peak_import_kw": kpis.peak_import_kw,
                "mip_gap": record.mip_gap,
                "solve_seconds": record.solve_seconds,
            }
        )
    return pd.DataFrame(rows)
