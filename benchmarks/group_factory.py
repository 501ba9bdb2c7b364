"""Benchmark group ``factory``: the full factory day and week (``benchmarks/factory.py``, MILP) in fresh
processes, cost and emissions against the rule-based baseline, and (not with ``--quick``) the day in
four formulations over HiGHS seeds.
"""

from __future__ import annotations

import argparse
from typing import Any

from benchmarks.measure import Row, measure
from benchmarks.tables import markdown_table, print_table

# Per horizon in days: (fresh processes for the cold median, warm repeats in the first process).
FACTORY_PLAN: dict[int, tuple[int, int]] = {1: (2, 2), 7: (1, 1)}
FACTORY_PLAN_QUICK: dict[int, tuple[int, int]] = {1: (1, 1)}

FACTORY_COLUMNS = [
    ("case", "case"),
    ("status", "status"),
    ("import_s", "import"),
    ("build_s", "build"),
    ("solve_s", "solve"),
    ("highs_s", "HiGHS"),
    ("end_to_end_s", "end-to-end cold"),
    ("overhead_ratio", "overhead"),
    ("warm_end_to_end_s", "end-to-end warm"),
    ("peak_rss_mb", "peak MB"),
    ("gap", "gap"),
    ("variables", "vars"),
    ("binaries", "binaries"),
    ("integers", "integers"),
    ("constraints", "cons"),
    ("energy_cost_cny", "cost CNY"),
    ("baseline_cost_cny", "baseline CNY"),
    ("saving_cny", "saving CNY"),
    ("emissions_market_kgco2", "kgCO2 (market)"),
    ("baseline_emissions_market_kgco2", "baseline kgCO2"),
]


def group_factory(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    plan = FACTORY_PLAN_QUICK if args.quick else FACTORY_PLAN
    rows = []
    for days, (n_proc, n_rep) in plan.items():
        n_proc = args.processes or n_proc
        n_rep = n_rep if args.repeats is None else args.repeats
        print(f"  factory {days} day(s) ({n_proc} processes, {n_rep} warm repeats)")
        rows.append(measure({"kind": "factory", "days": days}, n_proc, n_rep))
    print_table("Full factory (MILP, gap <= 0.01 %)", rows, FACTORY_COLUMNS)
    parts = [
        "# Full factory day and week (MILP, relative gap <= 0.01 %)",
        "Cold = first run in a fresh process (median over processes); warm = repeated in one process. "
        "Cost and emissions are the optimised schedule's and the rule-based baseline's over the horizon.",
        markdown_table(rows, FACTORY_COLUMNS),
    ]
    study: list[Row] = []
    if not args.quick:
        from benchmarks.factory import STUDY_COLUMNS, formulation_study

        print("  formulation study (day, 10 HiGHS seeds each)")
        study = formulation_study(seeds=10)
        columns = [(c, c) for c in STUDY_COLUMNS]
        print_table("Full-factory day: formulations", study, columns)
        parts += [
            "## The day in four formulations (10 HiGHS random seeds each, in one process)",
            "A MIP's solve time varies with HiGHS's random seed, so one run is one sample. Groups: identical "
            "compressors as one entry with `units: 2`; implied cuts: the cover cuts and the grid's flow-through "
            "rows (`build_model(implied_cuts=...)`). All reach the same optimum.",
            markdown_table(study, columns),
        ]
    return {"rows": rows, "formulations": study}, "\n\n".join(parts)
