"""Benchmark group ``peers``: the reference LP in our model, plain linopy and PyPSA (``benchmarks/peers.py``),
side by side: build, solve, HiGHS seconds, peak memory, objective, our time over each peer's, and the
issues' goals (which also read the last ``rolling`` result). A second table shows where our time goes:
build, hand-over to HiGHS (the model compiled to arrays and passed), HiGHS, extraction (the solution into
the model, then the schedule), each case's end-to-end over linopy's and over HiGHS's own time; with
``--ab`` also ours through Pyomo's persistent interface (the former path). :func:`measure_peers` is also
what ``benchmarks.gate`` measures.
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
OURS = ("ours", "ours-persistent")

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
        goal("96 steps, fresh process: linopy / ours", ">= 8x", speedup, speedup >= 8, "x")
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
    for case, label in (("8760", "8,760 hourly steps"), ("35040", "35,040 steps")):
        ours, linopy = find(case, "ours"), find(case, "linopy")
        if ours and linopy:
            ratio = ours["end_to_end_s"] / linopy["end_to_end_s"]
            goal(f"{label} as one LP, fresh process: ours / linopy", "<= 1", ratio, ratio <= 1)
            if ours.get("peak_rss_mb") and linopy.get("peak_rss_mb"):
                ratio = ours["peak_rss_mb"] / linopy["peak_rss_mb"]
                goal("  same, peak memory: ours / linopy", "<= 1", ratio, ratio <= 1)
    for row in rolling or []:
        if row.get("tool") != "ours":
            continue
        if row.get("variant", "").startswith("kept model"):
            name = f"{row['days']} rolling day-ahead solves, {row['variant']}"
            goal(name, "< 3 s (365 days)", row["total_s"], row["total_s"] < 3 * row["days"] / 365, "s")
            ratio = row.get("overhead_ratio")
            goal("  same, total / HiGHS's own time", "< 2", ratio, None if ratio is None else ratio < 2, "x")
        elif row.get("variant") == "rebuild per day":
            goal(f"{row['days']} rolling day-ahead solves, rebuilt per day", "(info)", row["total_s"], None, "s")
    return goals


OURS_COLUMNS = [
    ("case", "case"),
    ("tool", "tool"),
    ("build_s", "build"),
    ("handover_s", "hand-over"),
    ("highs_s", "HiGHS"),
    ("extract_s", "extract"),
    ("end_to_end_s", "end-to-end"),
    ("overhead_ratio", "end-to-end / HiGHS"),
    ("ours_over_linopy_cold", "end-to-end / linopy's"),
    ("highs_over_linopy_highs", "HiGHS / linopy's HiGHS"),
    ("peak_rss_mb", "peak MB"),
    ("peak_over_linopy", "peak / linopy's"),
]


def ours_rows(rows: list[Row]) -> list[Row]:
    """Our rows (and ours-persistent's) with the case's linopy figures as ratios: where our time goes."""
    out = []
    for row in rows:
        if row["tool"] not in OURS:
            continue
        linopy = next((r for r in rows if r["case_key"] == row["case_key"] and r["tool"] == "linopy"), None)
        out.append(
            {
                **row,
                "ours_over_linopy_cold": safe_ratio(row["end_to_end_s"], linopy and linopy["end_to_end_s"]),
                "highs_over_linopy_highs": safe_ratio(row["highs_s"], linopy and linopy["highs_s"]),
                "peak_over_linopy": safe_ratio(row["peak_rss_mb"], linopy and linopy["peak_rss_mb"]),
            }
        )
    return out


GOAL_COLUMNS = [("goal", "goal"), ("target", "target"), ("measured", "measured"), ("unit", "unit"), ("met", "met")]


def group_peers(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from benchmarks.peers import AB_TOOLS, TOOLS

    cases = ["96", "672"] if args.quick else list(CASES)
    if args.cases:
        cases = args.cases
    plan = PEER_PLAN_QUICK if args.quick else PEER_PLAN
    tools = [*TOOLS, *(AB_TOOLS if getattr(args, "ab", False) else ())]
    rows, skipped = measure_peers(cases, tools, plan, args.processes, args.repeats)
    rolling = load_rows("rolling", args.quick)
    goals = peer_goals(rows, rolling)
    ours = ours_rows(rows)
    for tool, reason in skipped.items():
        print(f"  {tool} skipped: {reason}")
    print_table("Reference LP: ours vs linopy vs PyPSA (HiGHS)", rows, PEER_COLUMNS)
    print_table("Where our time goes (cold medians)", ours, OURS_COLUMNS)
    print_table("Goals", goals, GOAL_COLUMNS)
    md = "\n\n".join(
        [
            "# Reference LP side by side: ours (Pyomo) vs plain linopy vs PyPSA, all with HiGHS",
            PEER_NOTES,
            markdown_table(rows, PEER_COLUMNS),
            "## Where our time goes",
            OURS_NOTES,
            markdown_table(ours, OURS_COLUMNS),
            "## Goals",
            markdown_table(goals, GOAL_COLUMNS),
            *(f"- {tool} skipped: {reason}" for tool, reason in skipped.items()),
        ]
    )
    payload = {"rows": rows, "ours": ours, "goals": goals, "skipped": skipped, "plan": {c: plan.get(c) for c in cases}}
    return payload, md


PEER_NOTES = """\
Times are medians: *cold* = the first build and solve in a fresh process (after the tool's own
imports, shown apart as *import*; numpy and pandas are loaded before), over several processes;
*warm* = repeated build and solve in one process. *build* = from numpy arrays to a model ready to
solve (ours includes validating the `DispatchProblem`), *solve* = the solve call (hand-over to
HiGHS, HiGHS, solution read back; ours also extracts the schedule DataFrame), *HiGHS* = HiGHS's own
run time, *overhead* = end-to-end / HiGHS.
*ours/tool* < 1 means ours is faster. Peak MB = the process's peak RSS (interpreter, imports and one
build and solve). All three solve the same LP (ours with `exclusive_import_export="never"`): the
objectives must agree to 1e-6; the flows may differ in the valley, where import and export both cost
0.30 CNY/kWh (degenerate). Peers use `io_api="direct"` and HiGHS's log off."""

OURS_NOTES = """\
Cold medians of ours: *build* = problem validated and Pyomo model built; *hand-over* = the Pyomo model
compiled to arrays (`optimizer.linear_form`) and passed to HiGHS in one call (for `ours-persistent`,
Pyomo's persistent interface: the solve call less HiGHS's own time); *HiGHS* = HiGHS's own run time;
*extract* = the solution into the Pyomo variables and the schedule DataFrame. Ratios against linopy's
figures of the same case, measured in the same run."""
