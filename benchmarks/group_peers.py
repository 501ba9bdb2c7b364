"""Benchmark group ``peers``: the reference LP in our model, plain linopy and PyPSA (``benchmarks/peers.py``),
side by side: build, solve, HiGHS seconds, peak memory, objective, our time over each peer's, and the
issue's goals (which also read the last ``rolling`` result). :func:`measure_peers` is also what
``benchmarks.gate`` measures.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.core import CASES, reference_inputs
from benchmarks.measure import Row, measure, safe_ratio
from benchmarks.tables import load_rows, markdown_table, print_table

# Per case: (fresh processes for the cold median, warm repeats in the first process).
PEER_PLAN: dict[str, tuple[int, int]] = {"96": (5, 20), "672": (3, 10), "8760": (3, 3), "35040": (2, 2)}
PEER_PLAN_QUICK: dict[str, tuple[int, int]] = {"96": (3, 10), "672": (2, 5)}

PEER_COLUMNS = [
    ("case", "case"),
    ("tool", "tool"),
    ("import_s", "import"),
    ("build_s", "build"),
    ("solve_s", "solve"),
    ("highs_s", "HiGHS"),
    ("end_to_end_s", "end-to-end cold"),
    ("overhead_ratio", "overhead cold"),
    ("warm_end_to_end_s", "end-to-end warm"),
    ("warm_overhead_ratio", "overhead warm"),
    ("peak_rss_mb", "peak MB"),
    ("objective_cny", "objective CNY"),
    ("rel_diff_vs_ours", "rel. diff vs ours"),
    ("ours_over_tool_cold", "ours/tool cold"),
    ("ours_over_tool_warm", "ours/tool warm"),
    ("ours_over_tool_with_import", "ours/tool incl. import"),
]


def measure_peers(
    cases: list[str],
    tools: list[str],
    plan: dict[str, tuple[int, int]],
    processes: int | None = None,
    repeats: int | None = None,
    progress: Callable[[str], None] = print,
) -> tuple[list[Row], dict[str, str]]:
    """Side-by-side rows for ``cases`` x available ``tools``; also the tools skipped and why."""
    from benchmarks.peers import missing

    skipped = {tool: reason for tool in tools if (reason := missing(tool))}
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-inputs-") as tmp:
        for case in cases:
            steps, minutes = CASES[case]
            path = Path(tmp) / f"reference-{case}.npz"
            reference_inputs(steps, minutes).save(path)
            n_proc, n_rep = plan.get(case, (1, 1))
            n_proc = processes or n_proc
            n_rep = n_rep if repeats is None else repeats
            case_rows: dict[str, Row] = {}
            for tool in tools:
                if tool in skipped:
                    continue
                progress(f"  {case} steps x {minutes} min: {tool} ({n_proc} processes, {n_rep} warm repeats)")
                row = measure({"kind": "peer", "tool": tool, "inputs": str(path)}, n_proc, n_rep)
                case_rows[tool] = {"case": f"{steps} x {minutes} min", "case_key": case, "tool": tool, **row}
            add_peer_ratios(case_rows)
            rows += case_rows.values()
    return rows, skipped


def add_peer_ratios(case_rows: dict[str, Row]) -> None:
    """Objective agreement with ours and our times over each tool's, in place."""
    ours = case_rows.get("ours")
    if ours is None:
        return
    for row in case_rows.values():
        if row.get("objective_cny") is not None and ours.get("objective_cny") is not None:
            row["rel_diff_vs_ours"] = abs(row["objective_cny"] - ours["objective_cny"]) / max(
                abs(ours["objective_cny"]), 1e-9
            )
        row["ours_over_tool_cold"] = safe_ratio(ours["end_to_end_s"], row["end_to_end_s"])
        row["ours_over_tool_warm"] = safe_ratio(ours["warm_end_to_end_s"], row["warm_end_to_end_s"])
        row["ours_over_tool_with_import"] = safe_ratio(ours["cold_with_import_s"], row["cold_with_import_s"])
        row["ours_over_tool_highs"] = safe_ratio(ours["highs_s"], row["highs_s"])


def peer_goals(rows: list[Row], rolling: list[Row] | None = None) -> list[Row]:
    """The issue's goals, evaluated on measured rows (None when a figure was not measured)."""

    def find(case: str, tool: str) -> Row | None:
        return next((r for r in rows if r["case_key"] == case and r["tool"] == tool), None)

    goals: list[Row] = []

    def goal(name: str, target: str, value: float | None, met: bool | None, unit: str = "") -> None:
        goals.append({"goal": name, "target": target, "measured": value, "unit": unit, "met": met})

    ours96, lin96, psa96 = find("96", "ours"), find("96", "linopy"), find("96", "pypsa")
    if ours96 and lin96:
        speedup = lin96["end_to_end_s"] / ours96["end_to_end_s"]
        goal("96 steps, fresh process: linopy / ours", ">= 4x", speedup, speedup >= 4, "x")
        speedup = lin96["cold_with_import_s"] / ours96["cold_with_import_s"]
        goal("  same, imports included", ">= 4x", speedup, speedup >= 4, "x")
    if ours96 and psa96:
        speedup = psa96["end_to_end_s"] / ours96["end_to_end_s"]
        goal("96 steps, fresh process: PyPSA / ours", ">= 10x", speedup, speedup >= 10, "x")
        speedup = psa96["cold_with_import_s"] / ours96["cold_with_import_s"]
        goal("  same, imports included", ">= 10x", speedup, speedup >= 10, "x")
    if ours96:
        warm = ours96["warm_end_to_end_s"]
        goal("96 steps, warm (ours)", "< 30 ms", warm * 1000, warm < 0.030, "ms")
    ours_year, lin_year = find("35040", "ours"), find("35040", "linopy")
    if ours_year and lin_year:
        ratio = ours_year["end_to_end_s"] / lin_year["end_to_end_s"]
        goal("35,040 steps as one LP: ours / linopy", "<= 1", ratio, ratio <= 1)
    for row in rolling or []:
        if row.get("variant", "").startswith("persistent"):
            name = "365 rolling day-ahead solves, one model re-used (benchmark prototype)"
            goal(name, "< 10 s", row["total_s"], row["total_s"] < 10, "s")
        elif row.get("variant") == "rebuild per day" and row.get("tool") == "ours":
            goal("365 rolling day-ahead solves, rebuilt per day", "(info)", row["total_s"], None, "s")
    return goals


GOAL_COLUMNS = [("goal", "goal"), ("target", "target"), ("measured", "measured"), ("unit", "unit"), ("met", "met")]


def group_peers(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from benchmarks.peers import TOOLS

    cases = ["96", "672"] if args.quick else list(CASES)
    if args.cases:
        cases = args.cases
    plan = PEER_PLAN_QUICK if args.quick else PEER_PLAN
    rows, skipped = measure_peers(cases, list(TOOLS), plan, args.processes, args.repeats)
    rolling = load_rows("rolling", args.quick)
    goals = peer_goals(rows, rolling)
    for tool, reason in skipped.items():
        print(f"  {tool} skipped: {reason}")
    print_table("Reference LP: ours vs linopy vs PyPSA (HiGHS)", rows, PEER_COLUMNS)
    print_table("Goals", goals, GOAL_COLUMNS)
    md = "\n\n".join(
        [
            "# Reference LP side by side: ours (Pyomo) vs plain linopy vs PyPSA, all with HiGHS",
            PEER_NOTES,
            markdown_table(rows, PEER_COLUMNS),
            "## Goals",
            markdown_table(goals, GOAL_COLUMNS),
            *(f"- {tool} skipped: {reason}" for tool, reason in skipped.items()),
        ]
    )
    return {"rows": rows, "goals": goals, "skipped": skipped, "plan": {c: plan.get(c) for c in cases}}, md


PEER_NOTES = """\
Times are medians: *cold* = the first build and solve in a fresh process (after the tool's own
imports, shown apart as *import*; numpy and pandas are loaded before), over several processes;
*warm* = repeated build and solve in one process. *build* = from numpy arrays to a model ready to
solve (ours includes validating the `DispatchProblem`), *solve* = the solve call (hand-over to
HiGHS, HiGHS, solution read back), *HiGHS* = HiGHS's own run time, *overhead* = end-to-end / HiGHS.
*ours/tool* < 1 means ours is faster. Peak MB = the process's peak RSS (interpreter, imports and one
build and solve). All three solve the same LP (ours with `exclusive_import_export="never"`): the
objectives must agree to 1e-6; the flows may differ in the valley, where import and export both cost
0.30 CNY/kWh (degenerate). Peers use `io_api="direct"` and HiGHS's log off."""
