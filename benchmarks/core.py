"""Core LP benchmark: PV + load + battery + TOU grid at 96, 672 and 35,040 quarter-hours.

Reports, per size: model build, solve call and HiGHS's own seconds, the
overhead (end-to-end over HiGHS), objective, gap and model size. The 96-step
case runs several times in one process; the first run is "cold", the median of
the rest "warm". Times are measured, never asserted: compare ratios within a run.

    python -m benchmarks.core            # 96, 672, 35,040 steps
    python -m benchmarks.core --quick    # 96 and 672 steps (CI)
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo
from rich.console import Console
from rich.table import Table

from optimizer import BatterySpec, DispatchProblem, GridSpec, Horizon, LoadSpec, PvSpec, SolveOptions, liaoning_tou
from optimizer.model import build_model
from optimizer.solve import solve_model

RESULTS = Path(__file__).with_name("results")
SEED = 20260715
PV_KWP = 1200.0


def reference_problem(n_steps: int, seed: int = SEED) -> DispatchProblem:
    """Seeded synthetic PV (1,200 kWp) and load with the reference battery and Liaoning TOU import."""
    horizon = Horizon(
        start=pd.Timestamp("2026-01-01", tz="Asia/Shanghai").to_pydatetime(), step_minutes=15, n_steps=n_steps
    )
    rng = np.random.default_rng(seed)
    index = horizon.index
    hour = index.hour + index.minute / 60.0
    day_of_year = index.day_of_year.to_numpy()
    daylight = np.clip(np.sin(np.pi * (hour - 5.0) / 14.0), 0.0, None)
    season = 0.75 + 0.25 * np.sin(2 * np.pi * (day_of_year - 80) / 365.0)
    clouds = np.repeat(rng.uniform(0.3, 1.0, size=len(index) // 96 + 1), 96)[: len(index)]
    pv_kw = PV_KWP * 0.8 * daylight * season * clouds
    working = ((hour >= 7.5) & (hour < 20.0)).astype(float)
    load_kw = 250.0 + 450.0 * working + rng.normal(0.0, 30.0, len(index)).clip(-80.0, 80.0)
    return DispatchProblem(
        name=f"reference-{n_steps}",
        horizon=horizon,
        assets=[
            GridSpec(name="grid", import_limit_kw=3000.0, tariff=liaoning_tou(0.6)),
            PvSpec(name="pv", available_kw=pv_kw.round(3)),
            LoadSpec(name="load", power_kw=load_kw.round(3)),
            BatterySpec(
                name="battery",
                capacity_kwh=500.0,
                charge_power_kw=250.0,
                discharge_power_kw=250.0,
                charge_efficiency=0.95,
                discharge_efficiency=0.95,
                soc_min_frac=0.1,
                soc_max_frac=0.9,
                initial_soc_frac=0.5,
            ),
        ],
    )


def run_case(problem: DispatchProblem) -> dict[str, float | int | str | None]:
    """Build and solve once; the times and figures of that run."""
    started = time.perf_counter()
    built = build_model(problem)
    report = solve_model(built.model, SolveOptions(time_limit_s=600, mip_rel_gap=1e-6))
    total = time.perf_counter() - started
    assert report.size is not None
    return {
        "steps": problem.horizon.n_steps,
        "status": report.status,
        "build_s": built.build_seconds,
        "solve_s": report.solve_seconds,
        "highs_s": report.highs_seconds,
        "end_to_end_s": total,
        "overhead_ratio": total / report.highs_seconds if report.highs_seconds else None,
        "objective_cny": report.objective,
        "gap": report.mip_gap,
        "variables": report.size.variables,
        "binaries": report.size.binaries,
        "constraints": report.size.constraints,
    }


def machine_info() -> dict[str, object]:
    """What the timings were measured on."""
    return {
        "python": platform.python_version(),
        "pyomo": pyomo.version.version,
        "highs": importlib.metadata.version("highspy"),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="96 and 672 steps only")
    parser.add_argument("--repeats", type=int, default=5, help="warm repeats of the 96-step case")
    args = parser.parse_args()

    rows = []
    warm = [run_case(reference_problem(96)) for _ in range(args.repeats + 1)]
    cold, warm_runs = warm[0], warm[1:]
    rows.append({**cold, "case": "96 (cold)"})
    median = {k: statistics.median(r[k] for r in warm_runs) for k in ("build_s", "solve_s", "highs_s", "end_to_end_s")}
    rows.append(
        {
            **warm_runs[-1],
            **median,
            "overhead_ratio": median["end_to_end_s"] / median["highs_s"],
            "case": "96 (warm median)",
        }
    )
    sizes = [672] if args.quick else [672, 35040]
    rows += [{**run_case(reference_problem(n)), "case": str(n)} for n in sizes]

    table = Table(title="Core LP benchmark (PV + load + battery + TOU grid)")
    for column in (
        "case",
        "status",
        "build_s",
        "solve_s",
        "highs_s",
        "end_to_end_s",
        "overhead_ratio",
        "objective_cny",
        "gap",
        "variables",
        "binaries",
        "constraints",
    ):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            *(
                cell(row[c])
                for c in (
                    "case",
                    "status",
                    "build_s",
                    "solve_s",
                    "highs_s",
                    "end_to_end_s",
                    "overhead_ratio",
                    "objective_cny",
                    "gap",
                    "variables",
                    "binaries",
                    "constraints",
                )
            )
        )
    Console(width=200).print(table)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("core_quick.json" if args.quick else "core.json")
    out.write_text(json.dumps({"machine": machine_info(), "rows": rows}, indent=2, default=str))
    print(f"wrote {out}")


def cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 100 else f"{value:,.1f}"
    return "-" if value is None else str(value)


if __name__ == "__main__":
    main()
