"""Full-factory benchmark: one day (96 steps) and one week (7 x 96) of the embedded factory.

PV, battery, green certificates, cold storage with two chillers and an ice
tank, four compressors (two load/unload, two VSD) with heat recovery, gas
boiler, heat pump and hot-water tank, two flexible loads, a forklift fleet,
demand charge and a hard 70 % self-consumption target
(:func:`scenarios.factory.factory_problem`). Solved to a relative gap of
0.01 %; reports build, solve and HiGHS seconds, model size and the cost
against the rule-based baseline. Measured, never asserted.

The formulation study solves the day in four formulations, each with several
HiGHS random seeds (a MIP's time varies with the seed, so one run is one
sample): identical compressors as groups (``units=2``, the shipped default) or
listed one by one, with or without the implied cuts (the cover cuts of
:mod:`optimizer.cover_cuts` and the grid's flow-through rows). All four reach
the same optimum.

    python -m benchmarks.factory                 # day and week
    python -m benchmarks.factory --quick         # day only (CI)
    python -m benchmarks.factory --formulations  # the study (about 2 min)
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from rich.console import Console
from rich.table import Table

from benchmarks.core import RESULTS, cell, machine_info
from optimizer import CompressorSpec, DispatchProblem, SolveOptions, solve
from optimizer.model import build_model
from optimizer.solve import solve_model
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
    "integers",
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
        "integers": report.size.integers,
        "constraints": report.size.constraints,
        "energy_cost_cny": result.kpis.energy_cost_cny,
        "baseline_cost_cny": result.baseline_kpis.energy_cost_cny,
        "saving_cny": result.saving_cny,
        "emissions_market_kgco2": result.kpis.emissions_market_kgco2,
        "baseline_emissions_market_kgco2": result.baseline_kpis.emissions_market_kgco2,
    }


STUDY_COLUMNS = (
    "formulation",
    "seeds",
    "highs_median_s",
    "highs_min_s",
    "highs_max_s",
    "solve_median_s",
    "build_s",
    "objective_cny",
    "objective_spread_cny",
    "binaries",
    "integers",
    "constraints",
)


def listed_one_by_one(problem: DispatchProblem) -> DispatchProblem:
    """The same problem with every compressor group written as its units, one entry each."""
    assets: list = []
    for asset in problem.assets:
        if isinstance(asset, CompressorSpec) and asset.units > 1:
            running = asset.units_on_at_start
            assets += [
                asset.model_copy(
                    update={
                        "name": f"{asset.name}_{i + 1}",
                        "units": 1,
                        "initial_on": i < running,
                        "initial_units_on": None,
                    }
                )
                for i in range(asset.units)
            ]
        else:
            assets.append(asset)
    return problem.model_copy(update={"assets": assets})


def formulation_study(seeds: int = 8) -> list[dict[str, object]]:
    """The day in four formulations, each solved with HiGHS random seeds 0..seeds-1."""
    grouped = factory_problem()
    variants = {
        "groups + implied cuts (default)": (grouped, True),
        "groups, no implied cuts": (grouped, False),
        "units listed + implied cuts": (listed_one_by_one(grouped), True),
        "units listed, no implied cuts (before)": (listed_one_by_one(grouped), False),
    }
    rows = []
    for label, (problem, cuts) in variants.items():
        highs, walls, objectives, builds = [], [], [], []
        for seed in range(seeds):
            built = build_model(problem, implied_cuts=cuts)
            report = solve_model(built.model, SolveOptions(time_limit_s=600, mip_rel_gap=GAP, random_seed=seed))
            assert report.status == "optimal" and report.highs_seconds is not None and report.size is not None
            highs.append(report.highs_seconds)
            walls.append(report.solve_seconds)
            objectives.append(report.objective)
            builds.append(built.build_seconds)
        print(f"  {label}: HiGHS median {statistics.median(highs):.2f} s")
        rows.append(
            {
                "formulation": label,
                "seeds": seeds,
                "highs_median_s": statistics.median(highs),
                "highs_min_s": min(highs),
                "highs_max_s": max(highs),
                "solve_median_s": statistics.median(walls),
                "build_s": statistics.median(builds),
                "objective_cny": statistics.median(objectives),
                "objective_spread_cny": max(objectives) - min(objectives),  # within the 0.01 % gap
                "binaries": report.size.binaries,
                "integers": report.size.integers,
                "constraints": report.size.constraints,
            }
        )
    return rows


def _print(title: str, rows: list[dict[str, object]], columns: tuple[str, ...]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(*(cell(row[c]) for c in columns))
    Console(width=250).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one day only")
    parser.add_argument("--formulations", action="store_true", help="the formulation study of the day only")
    parser.add_argument("--seeds", type=int, default=8, help="HiGHS seeds per formulation in the study")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    if args.formulations:
        rows = formulation_study(args.seeds)
        _print(f"Full-factory day: formulations (gap <= {GAP:.2%}, {args.seeds} HiGHS seeds)", rows, STUDY_COLUMNS)
        out = RESULTS / "factory_formulations.json"
        out.write_text(json.dumps({"machine": machine_info(), "rows": rows}, indent=2, default=str))
        print(f"wrote {out}")
        return
    rows = [run_days(1)] + ([] if args.quick else [run_days(7)])
    _print(f"Full-factory benchmark (gap <= {GAP:.2%})", rows, COLUMNS)
    out = RESULTS / ("factory_quick.json" if args.quick else "factory.json")
    out.write_text(json.dumps({"machine": machine_info(), "rows": rows}, indent=2, default=str))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
