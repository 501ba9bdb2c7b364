"""Full-factory benchmark: one day (96 steps) and one week (7 x 96) of the embedded factory.

PV, battery, green certificates, cold storage with two chillers and an ice
tank, four compressors (two load/unload, two VSD) with heat recovery, gas
boiler, heat pump and hot-water tank, two flexible loads, a forklift fleet,
demand charge and a hard 70 % self-consumption target
(:func:`scenarios.factory.factory_problem`). Solved to a relative gap of
0.01 %; reports build, solve and HiGHS seconds, model size and the cost
against the rule-based baseline. Measured, never asserted.

    python -m benchmarks.factory           # day and week
    python -m benchmarks.factory --quick   # day only (CI)
"""

from __future__ import annotations

import argparse
import json
import time

from rich.console import Console
from rich.table import Table

from benchmarks.core import RESULTS, cell, machine_info
from optimizer import SolveOptions, solve
from scenarios.factory import factory_problem

GAP = 1e-4
COLUMNS = (
    "case",
    "status",
    "build_s",
    "solve_s",
    "highs_s",
    "end_to_end_s",
    "gap",
    "variables",
    "binaries",
    "constraints",
    "energy_cost_cny",
    "baseline_cost_cny",
    "saving_cny",
    "emissions_market_kgco2",
    "baseline_emissions_market_kgco2",
)


def run_days(days: int) -> dict[str, object]:
    problem = factory_problem(days=days)
    started = time.perf_counter()
    result = solve(problem, SolveOptions(time_limit_s=600, mip_rel_gap=GAP))
    total = time.perf_counter() - started
    report = result.report
    assert report.size is not None
    return {
        "case": f"{days} day ({problem.horizon.n_steps} steps)",
        "status": result.status,
        "build_s": report.build_seconds,
        "solve_s": report.solve_seconds,
        "highs_s": report.highs_seconds,
        "end_to_end_s": total,
        "gap": report.mip_gap,
        "variables": report.size.variables,
        "binaries": report.size.binaries,
        "constraints": report.size.constraints,
        "energy_cost_cny": result.kpis.energy_cost_cny,
        "baseline_cost_cny": result.baseline_kpis.energy_cost_cny,
        "saving_cny": result.saving_cny,
        "emissions_market_kgco2": result.kpis.emissions_market_kgco2,
        "baseline_emissions_market_kgco2": result.baseline_kpis.emissions_market_kgco2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one day only")
    args = parser.parse_args()
    rows = [run_days(1)] + ([] if args.quick else [run_days(7)])
    table = Table(title=f"Full-factory benchmark (gap <= {GAP:.2%})")
    for column in COLUMNS:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(*(cell(row[c]) for c in COLUMNS))
    Console(width=250).print(table)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("factory_quick.json" if args.quick else "factory.json")
    out.write_text(json.dumps({"machine": machine_info(), "rows": rows}, indent=2, default=str))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
