"""Benchmark runner: one command per group, JSON and Markdown results, the table on the console.

    python -m benchmarks.run --group peers            # ours vs linopy vs PyPSA: 96, 672, 8,760 h, 35,040 steps
    python -m benchmarks.run --group peers --quick    # 96 and 672 steps
    python -m benchmarks.run --group all              # core, factory, rolling, peers, forecast

Groups:

- ``core``: our reference LP, model sizes and overhead (``benchmarks/core.py``);
- ``peers``: the reference LP in our model, plain linopy and PyPSA (``benchmarks/peers.py``),
  side by side: build, solve, HiGHS seconds, peak memory, objective, our time over each peer's;
- ``factory``: the full factory day and week (``benchmarks/factory.py``), cost and emissions vs the baseline;
- ``rolling``: a year of day-ahead runs: the reference LP (365 x 96 steps, rebuilt per day, and a
  prototype that re-uses one model with mutable parameters and a persistent solver), and the shipped
  factory scenario (cost and emissions against the rule-based baseline);
- ``forecast``: ``python -m benchmarks.forecast_validation`` when that module exists.

Every case that is timed cold runs in fresh processes (``python -m benchmarks.run --one JOB``): the
first build and solve in a new interpreter, after the tool's imports (reported apart as ``import_s``);
the median over ``--processes`` such processes is the cold figure. The first process then repeats the
case ``--repeats`` times: the median of those is the warm figure. Peak memory is the process's peak
resident set size (VmHWM). Results: ``benchmarks/results/<group>.json`` and ``<group>.md``
(``<group>_quick.*`` with ``--quick``), each with the machine (cores, CPU, Python, HiGHS, Pyomo,
linopy, PyPSA versions).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from benchmarks.core import CASES, RESULTS, ReferenceInputs, cell, machine_info, reference_inputs

GROUPS = ("core", "peers", "factory", "rolling", "forecast")
ALL_ORDER = ("core", "factory", "rolling", "peers", "forecast")  # peers last but one: its goals read rolling
Row = dict[str, Any]

# Per case: (fresh processes for the cold median, warm repeats in the first process).
PEER_PLAN: dict[str, tuple[int, int]] = {"96": (5, 20), "672": (3, 10), "8760": (3, 3), "35040": (2, 2)}
PEER_PLAN_QUICK: dict[str, tuple[int, int]] = {"96": (3, 10), "672": (2, 5)}
FACTORY_PLAN: dict[int, tuple[int, int]] = {1: (2, 2), 7: (1, 1)}
FACTORY_PLAN_QUICK: dict[int, tuple[int, int]] = {1: (1, 1)}
ROLLING_DAYS, ROLLING_DAYS_QUICK = 365, 7
CHILD_TIMEOUT_S = 1800
TIMED = ("build_s", "solve_s", "highs_s", "end_to_end_s")


# --------------------------------------------------------------------------------------------- child processes


def _quiet() -> None:
    """Peer tools log at INFO and warn about unset carriers; none of it is part of the measurement."""
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")


def _status_mb(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status [MB] (Linux), None elsewhere."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024.0
    return None


def _rss_mb() -> float | None:
    """Current resident set size [MB]."""
    return _status_mb("VmRSS")


def _peak_rss_mb() -> float | None:
    """Peak resident set size of this process [MB].

    VmHWM on Linux: ``ru_maxrss`` survives ``exec`` there, so a child started
    from a big runner would report the runner's peak. Elsewhere ``ru_maxrss``
    (kB, bytes on macOS); None on Windows.
    """
    peak = _status_mb("VmHWM")
    if peak is not None:
        return peak
    try:
        import resource
    except ImportError:  # Windows
        return None
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (1024.0 * 1024.0) if sys.platform == "darwin" else maxrss / 1024.0


def child_main(job: dict[str, Any], out: Path) -> None:
    """Runs one job in this (fresh) process and writes the runs, import time and peak memory to ``out``."""
    _quiet()
    repeats = int(job.get("repeats", 1))
    runs: list[Row] = []
    if job["kind"] == "peer":
        from benchmarks.peers import import_tool, run_tool

        inputs = ReferenceInputs.load(Path(job["inputs"]))
        rss_before = _rss_mb()
        import_s = import_tool(job["tool"])
        rss_after = _rss_mb()
        for _ in range(repeats):
            runs.append(run_tool(job["tool"], inputs))
    elif job["kind"] == "factory":
        rss_before = _rss_mb()
        started = time.perf_counter()
        from benchmarks.factory import run_days

        import_s = time.perf_counter() - started
        rss_after = _rss_mb()
        for _ in range(repeats):
            row = run_days(int(job["days"]))
            row["overhead_ratio"] = row["end_to_end_s"] / row["highs_s"] if row["highs_s"] else None
            runs.append(row)
    else:
        raise ValueError(f"unknown job kind {job['kind']!r}")
    out.write_text(
        json.dumps(
            {
                "job": job,
                "import_s": import_s,
                "rss_before_import_mb": rss_before,
                "rss_after_import_mb": rss_after,
                "peak_rss_mb": _peak_rss_mb(),
                "runs": runs,
            },
            default=str,
        )
    )


def run_child(job: dict[str, Any], timeout_s: float = CHILD_TIMEOUT_S) -> dict[str, Any]:
    """``python -m benchmarks.run --one JOB`` in a fresh interpreter; its result."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        out = Path(tmp) / "result.json"
        command = [sys.executable, "-m", "benchmarks.run", "--one", json.dumps(job), "--out", str(out)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_root()), os.environ.get("PYTHONPATH")]))}
        done = subprocess.run(
            command, cwd=_root(), env=env, capture_output=True, text=True, timeout=timeout_s, check=False
        )
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"benchmark process failed ({done.returncode}) for {job}:\n{done.stderr[-4000:]}")
        return json.loads(out.read_text())


def _root() -> Path:
    return Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------------- aggregation


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(present) if present else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def measure(job: dict[str, Any], processes: int, repeats: int) -> Row:
    """Cold (median over ``processes`` fresh processes) and warm (median of ``repeats`` in one) figures of a job."""
    outs = [run_child({**job, "repeats": 1 + repeats if i == 0 else 1}) for i in range(max(1, processes))]
    cold = [o["runs"][0] for o in outs]
    warm = outs[0]["runs"][1:] or cold
    memory_from = outs[1:] or outs  # processes that ran once: their peak is one build and solve
    row: Row = {key: value for key, value in cold[0].items() if key not in TIMED and key != "overhead_ratio"}
    row.update({key: _median(r[key] for r in cold) for key in TIMED})
    row.update({f"warm_{key}": _median(r[key] for r in warm) for key in TIMED})
    row["overhead_ratio"] = _median(_ratio(r["end_to_end_s"], r["highs_s"]) for r in cold)
    row["warm_overhead_ratio"] = _median(_ratio(r["end_to_end_s"], r["highs_s"]) for r in warm)
    row["import_s"] = _median(o["import_s"] for o in outs)
    row["cold_with_import_s"] = _median(o["import_s"] + o["runs"][0]["end_to_end_s"] for o in outs)
    row["peak_rss_mb"] = _median(o["peak_rss_mb"] for o in memory_from)
    row["rss_after_import_mb"] = _median(o["rss_after_import_mb"] for o in memory_from)
    row["cold_samples"], row["warm_samples"] = len(cold), len(warm)
    objectives = [r.get("objective_cny") for r in cold + warm]
    if all(isinstance(v, float) for v in objectives):
        spread = max(objectives) - min(objectives)
        row["objective_spread_rel"] = spread / max(abs(objectives[0]), 1e-9)
    return row


# --------------------------------------------------------------------------------------------- tables


def markdown_table(rows: list[Row], columns: list[tuple[str, str]]) -> str:
    """A GitHub table of ``rows``; ``columns`` are (key, header)."""
    first = rows[0] if rows else {}
    align = ["---" if isinstance(first.get(k), str) else "---:" for k, _ in columns]
    lines = ["| " + " | ".join(h for _, h in columns) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(fmt(row.get(k), k) for k, _ in columns) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value: Any, key: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    if key.endswith("_rel") or key.startswith("rel_"):
        return f"{value:.1e}"
    if "objective" in key or "cost" in key or "saving" in key or "kgco2" in key:
        return f"{value:,.2f}"
    if key.endswith("_mb"):
        return f"{value:,.0f}"
    if key.endswith("_s") and value < 1:
        return f"{value * 1000:.1f} ms"
    if key.endswith("_s"):
        return f"{value:,.2f} s"
    return cell(value) if abs(value) >= 100 else f"{value:.3g}"


def print_table(title: str, rows: list[Row], columns: list[tuple[str, str]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title)
    for _, header in columns:
        table.add_column(header, justify="right")
    for row in rows:
        table.add_row(*(escape(fmt(row.get(k), k)) for k, _ in columns))
    Console(width=260).print(table)


def machine_markdown(machine: dict[str, Any]) -> str:
    keys = ("cpu", "cores", "python", "highs", "highspy", "pyomo", "linopy", "pypsa", "platform", "commit", "date")
    return "Machine: " + ", ".join(f"{k} {machine.get(k)}" for k in keys if machine.get(k) is not None)


def write_results(group: str, quick: bool, payload: dict[str, Any], markdown: str) -> tuple[Path, Path]:
    RESULTS.mkdir(exist_ok=True)
    stem = f"{group}_quick" if quick else group
    json_path, md_path = RESULTS / f"{stem}.json", RESULTS / f"{stem}.md"
    json_path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    md_path.write_text(markdown + "\n")
    return json_path, md_path


# --------------------------------------------------------------------------------------------- group: peers

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
        row["ours_over_tool_cold"] = _ratio(ours["end_to_end_s"], row["end_to_end_s"])
        row["ours_over_tool_warm"] = _ratio(ours["warm_end_to_end_s"], row["warm_end_to_end_s"])
        row["ours_over_tool_with_import"] = _ratio(ours["cold_with_import_s"], row["cold_with_import_s"])
        row["ours_over_tool_highs"] = _ratio(ours["highs_s"], row["highs_s"])


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
    rolling = _load_rows("rolling", args.quick)
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


# --------------------------------------------------------------------------------------------- group: core


def group_core(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from benchmarks.core import COLUMNS, core_rows, print_rows

    rows = core_rows(args.quick, args.repeats or 5)
    print_rows(rows, "Core LP benchmark (ours): sizes and overhead")
    columns = [(c, c) for c in COLUMNS]
    md = "\n\n".join(["# Core LP benchmark (ours)", markdown_table(rows, columns)])
    return {"rows": rows}, md


# --------------------------------------------------------------------------------------------- group: factory

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


# --------------------------------------------------------------------------------------------- group: rolling

ROLLING_COLUMNS = [
    ("case", "case"),
    ("tool", "tool"),
    ("variant", "variant"),
    ("days", "days"),
    ("total_s", "total"),
    ("per_day_median_s", "per day (median)"),
    ("per_day_max_s", "per day (max)"),
    ("highs_total_s", "HiGHS total"),
    ("overhead_ratio", "overhead"),
    ("objective_cny", "cost CNY"),
    ("one_lp_objective_cny", "one LP CNY"),
    ("foresight_cost_rel", "rolling / one LP - 1"),
    ("max_day_rel_diff", "max day rel. diff"),
    ("not_optimal_days", "not optimal"),
]


class PersistentReference:
    """Prototype (benchmarks only): one Pyomo model for every day, data in mutable Params, a persistent HiGHS.

    The model is built once by ``build_model`` for the first day; the day's data
    that change (load in the electricity balance, import price in the
    objective, initial SOC) are moved into mutable Params, PV availability is the
    PV output's upper bound. Each day then updates numbers only, and
    ``pyomo.contrib.solver``'s persistent HiGHS interface passes the changes on
    and re-solves from the previous basis. It reaches into the model's
    components by name (``electricity_balance``, ``battery.level_balance``,
    ``grid.import_kw``, ``pv.output_kw``): it shows what parametrising the
    optimizer would gain; it is not how the optimizer works.
    """

    def __init__(self, first_day: ReferenceInputs) -> None:
        import pyomo.environ as pyo
        from pyomo.contrib.solver.common.factory import SolverFactory
        from pyomo.repn import generate_standard_repn

        from benchmarks.core import BATTERY, reference_problem_from
        from optimizer.model import build_model

        self.cap = BATTERY["capacity_kwh"]
        built = build_model(reference_problem_from(first_day))
        m = self.model = built.model
        m.p_load = pyo.Param(m.T, mutable=True, initialize=0.0)
        m.p_price = pyo.Param(m.T, mutable=True, initialize=0.0)
        m.p_initial_kwh = pyo.Param(mutable=True, initialize=0.0)

        def linear_part(expr: Any) -> tuple[Any, float]:
            repn = generate_standard_repn(expr, compute_values=True)
            return sum(c * v for c, v in zip(repn.linear_coefs, repn.linear_vars, strict=True)), repn.constant

        for t in m.T:  # load is the balance's only constant: sum(flows) - load == 0
            body, _ = linear_part(m.electricity_balance[t].body)
            m.electricity_balance[t].set_value(body - m.p_load[t] == 0)
        first = m.battery.level_balance[0]
        body, _ = linear_part(first.body - first.upper)
        first.set_value(body == m.p_initial_kwh)
        repn = generate_standard_repn(m.objective.expr, compute_values=True)
        terms = [
            m.p_price[v.index()] * v if v.parent_component() is m.grid.import_kw else c * v
            for c, v in zip(repn.linear_coefs, repn.linear_vars, strict=True)
        ]
        m.objective.set_value(sum(terms))
        self.soc = m.battery.soc_kwh
        self.solver = SolverFactory("highs")
        self.highs_clock = 0.0

    def solve_day(self, day: ReferenceInputs) -> tuple[float | None, float, float]:
        """Objective, HiGHS seconds and end SOC [kWh] of one day."""
        from pyomo.contrib.solver.common.results import SolutionStatus

        m = self.model
        for t in m.T:
            m.p_load[t] = float(day.load_kw[t])
            m.p_price[t] = float(day.import_price[t]) * day.dt_h
            m.pv.output_kw[t].setub(float(day.pv_kw[t]))
        m.p_initial_kwh = day.initial_soc_frac * self.cap
        results = self.solver.solve(m, load_solutions=False, raise_exception_on_nonoptimal_result=False)
        clock = float(results.timing_info.highs_time)  # Highs.getRunTime() runs on across re-solves
        highs_s, self.highs_clock = clock - self.highs_clock, clock
        if results.solution_status != SolutionStatus.optimal:
            return None, highs_s, day.initial_soc_frac * self.cap
        results.solution_loader.load_vars([self.soc[len(m.T) - 1]])
        return results.incumbent_objective, highs_s, float(self.soc[len(m.T) - 1].value)


def rolling_reference(days: int, tools: list[str]) -> list[Row]:
    """``days`` day-ahead solves of the reference LP carrying the SOC; each day ends at 50 % (cyclic)."""
    from benchmarks.core import BATTERY, INITIAL_SOC_FRAC
    from benchmarks.peers import import_tool, missing, run_tool

    cap = BATTERY["capacity_kwh"]
    year = reference_inputs(96 * days)
    one_lp = run_tool("ours", year)["objective_cny"]

    def loop(solve: Callable[[ReferenceInputs], tuple[float | None, float, float]]) -> Row:
        soc = INITIAL_SOC_FRAC
        objectives, highs, per_day = [], [], []
        started = time.perf_counter()
        for d in range(days):
            day_started = time.perf_counter()
            day = year.window(96 * d, 96, initial_soc_frac=min(max(soc, 0.1), 0.9))
            objective, highs_s, end_kwh = solve(day)
            per_day.append(time.perf_counter() - day_started)
            objectives.append(objective)
            highs.append(highs_s)
            soc = end_kwh / cap
        total = time.perf_counter() - started
        solved = [o for o in objectives if o is not None]
        return {
            "case": f"reference LP, {days} x 96 steps",
            "days": days,
            "total_s": total,
            "per_day_median_s": statistics.median(per_day),
            "per_day_max_s": max(per_day),
            "highs_total_s": sum(highs),
            "overhead_ratio": total / sum(highs) if sum(highs) else None,
            "objective_cny": sum(solved),
            "one_lp_objective_cny": one_lp,
            "foresight_cost_rel": sum(solved) / one_lp - 1.0,
            "not_optimal_days": days - len(solved),
            "daily_objectives": objectives,
        }

    def via_tool(tool: str) -> Callable[[ReferenceInputs], tuple[float | None, float, float]]:
        def solve(day: ReferenceInputs) -> tuple[float | None, float, float]:
            result = run_tool(tool, day)
            ok = result["status"] == "optimal"
            return (result["objective_cny"] if ok else None), result["highs_s"] or 0.0, result["end_soc_kwh"]

        return solve

    rows = []
    for tool in tools:
        if missing(tool):
            continue
        import_tool(tool)
        print(f"  rolling reference LP, {days} days, {tool}: rebuilt per day")
        rows.append({**loop(via_tool(tool)), "tool": tool, "variant": "rebuild per day"})
    if not missing("ours"):
        print(f"  rolling reference LP, {days} days, ours: one model re-used (persistent prototype)")
        started = time.perf_counter()
        persistent = PersistentReference(year.window(0, 96))
        setup_s = time.perf_counter() - started
        row = loop(persistent.solve_day)
        row["total_s"] += setup_s
        row["setup_s"] = setup_s
        rows.append({**row, "tool": "ours", "variant": "persistent (prototype)"})
    reference = next((r for r in rows if r["tool"] == "ours" and r["variant"] == "rebuild per day"), None)
    for row in rows:
        if reference is not None:
            pairs = zip(row["daily_objectives"], reference["daily_objectives"], strict=True)
            row["max_day_rel_diff"] = max(
                (abs(a - b) / max(abs(b), 1e-9) for a, b in pairs if a is not None and b is not None), default=None
            )
    for row in rows:
        del row["daily_objectives"]
    return rows


def rolling_factory(days: int) -> Row:
    """``days`` day-ahead runs of the shipped factory scenario from 1 January, carrying SOC and monthly peak.

    Each day is :func:`scenarios.factory.factory_problem` for that date with the
    battery starting at the previous day's end SOC and the grid's month-to-date
    peak carried within each calendar month (0 on the 1st). Other stores start
    from the scenario's levels every day and end at least there. The year's
    cost counts the demand charge once per month on the month's peak, for the
    optimised schedules and for the baseline alike.
    """
    import datetime as dt

    import numpy as np

    from optimizer import SolveOptions, solve
    from scenarios.factory import factory_problem

    options = SolveOptions(time_limit_s=120, mip_rel_gap=1e-4)
    first = dt.date(2026, 1, 1)
    soc_frac: float | None = None
    month_peak = {"optimised": 0.0, "baseline": 0.0}
    peaks: dict[tuple[int, int, str], float] = {}
    totals = dict.fromkeys(
        ("cost_ex_demand", "base_cost_ex_demand", "em_market", "base_em_market", "em_loc", "base_em_loc"), 0.0
    )
    per_day, highs, not_optimal, gaps = [], [], 0, []
    grid, rate = "grid", 0.0
    battery = ("battery.soc_kwh", 1.0)
    started = time.perf_counter()
    for d in range(days):
        date = first + dt.timedelta(days=d)
        if date.day == 1:
            month_peak = {"optimised": 0.0, "baseline": 0.0}
        day_started = time.perf_counter()
        problem = factory_problem(date)
        assets = []
        for asset in problem.assets:
            if asset.kind == "grid":
                grid, rate = asset.name, asset.demand_charge_cny_per_kw_month
                asset = asset.model_copy(update={"month_to_date_peak_kw": month_peak["optimised"]})
            elif asset.kind == "battery":
                battery = (f"{asset.name}.soc_kwh", asset.capacity_kwh)
                if soc_frac is not None:
                    soc_frac = min(max(soc_frac, asset.soc_min_frac), asset.soc_max_frac)
                    asset = asset.model_copy(update={"initial_soc_frac": soc_frac})
            assets.append(asset)
        result = solve(problem.model_copy(update={"assets": assets}), options)
        per_day.append(time.perf_counter() - day_started)
        highs.append(result.report.highs_seconds or 0.0)
        not_optimal += result.status != "optimal"
        if result.report.mip_gap is not None:
            gaps.append(result.report.mip_gap)
        for label, schedule, kpis in (
            ("optimised", result.schedule, result.kpis),
            ("baseline", result.baseline_schedule, result.baseline_kpis),
        ):
            prefix = "" if label == "optimised" else "base_"
            demand = kpis.cost_cny_by_component.get("demand_charge", 0.0)
            totals[f"{prefix}cost_ex_demand"] += kpis.energy_cost_cny - demand
            totals[f"{prefix}em_market"] += kpis.emissions_market_kgco2
            totals[f"{prefix}em_loc"] += kpis.emissions_location_kgco2
            month_peak[label] = max(month_peak[label], float(np.max(schedule[f"{grid}.import_kw"])))
            peaks[(date.year, date.month, label)] = month_peak[label]
        soc_frac = float(result.schedule[battery[0]].iloc[-1]) / battery[1]
        if (d + 1) % 30 == 0:
            print(f"    {d + 1} of {days} days, {time.perf_counter() - started:.0f} s")
    total = time.perf_counter() - started
    demand = {label: rate * sum(v for (_, _, lab), v in peaks.items() if lab == label) for label in month_peak}
    cost = totals["cost_ex_demand"] + demand["optimised"]
    base_cost = totals["base_cost_ex_demand"] + demand["baseline"]
    return {
        "case": f"factory scenario, {days} day-ahead runs from {first}",
        "tool": "ours",
        "variant": "rebuild per day (MILP)",
        "days": days,
        "total_s": total,
        "per_day_median_s": statistics.median(per_day),
        "per_day_max_s": max(per_day),
        "highs_total_s": sum(highs),
        "overhead_ratio": total / sum(highs) if sum(highs) else None,
        "not_optimal_days": not_optimal,
        "max_gap": max(gaps, default=None),
        "energy_cost_cny": cost,
        "baseline_cost_cny": base_cost,
        "saving_cny": base_cost - cost,
        "saving_frac": (base_cost - cost) / base_cost if base_cost else None,
        "demand_charge_cny": demand["optimised"],
        "baseline_demand_charge_cny": demand["baseline"],
        "emissions_market_kgco2": totals["em_market"],
        "baseline_emissions_market_kgco2": totals["base_em_market"],
        "emissions_location_kgco2": totals["em_loc"],
        "baseline_emissions_location_kgco2": totals["base_em_loc"],
    }


FACTORY_YEAR_COLUMNS = [
    ("case", "case"),
    ("days", "days"),
    ("total_s", "total"),
    ("per_day_median_s", "per day (median)"),
    ("per_day_max_s", "per day (max)"),
    ("highs_total_s", "HiGHS total"),
    ("overhead_ratio", "overhead"),
    ("not_optimal_days", "not optimal"),
    ("energy_cost_cny", "cost CNY"),
    ("baseline_cost_cny", "baseline CNY"),
    ("saving_cny", "saving CNY"),
    ("emissions_market_kgco2", "kgCO2 (market)"),
    ("baseline_emissions_market_kgco2", "baseline kgCO2 (market)"),
]


def group_rolling(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from benchmarks.peers import TOOLS

    days = args.days or (ROLLING_DAYS_QUICK if args.quick else ROLLING_DAYS)
    factory_days = args.factory_days or days
    rows = rolling_reference(days, [t for t in TOOLS if t != "pypsa"] if not args.all_tools else list(TOOLS))
    print(f"  rolling factory scenario, {factory_days} days")
    factory = rolling_factory(factory_days)
    print_table("Rolling day-ahead: reference LP", rows, ROLLING_COLUMNS)
    print_table("Rolling day-ahead: factory scenario", [factory], FACTORY_YEAR_COLUMNS)
    md = "\n\n".join(
        [
            "# A year of rolling day-ahead runs",
            ROLLING_NOTES,
            markdown_table(rows, ROLLING_COLUMNS),
            markdown_table([factory], FACTORY_YEAR_COLUMNS),
        ]
    )
    return {"rows": rows, "factory": factory}, md


ROLLING_NOTES = """\
Reference LP: one 96-step day-ahead solve per day, the battery starting at the previous day's end SOC
and ending at 50 %; *one LP* is the same span solved at once (perfect foresight), so *rolling / one
LP - 1* is the price of deciding a day at a time. *rebuild per day* builds and solves a new model each
day; *persistent (prototype)* builds one model, moves the day's data into mutable Params and re-solves
with the persistent HiGHS interface (benchmarks/run.py `PersistentReference`; not yet how the optimizer
works). *max day rel. diff* compares each day's objective with ours rebuilt. Factory scenario: the
shipped factory (MILP) day by day, carrying battery SOC and the month-to-date peak; cost includes the
demand charge on each month's peak, for the baseline too."""


# --------------------------------------------------------------------------------------------- group: forecast


def group_forecast(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    module = "benchmarks.forecast_validation"
    if importlib.util.find_spec(module) is None:
        message = f"{module} is missing: the forecast-validation benchmark is not in this tree yet"
        print(message)
        return {"status": "missing", "message": message}, f"# Forecast validation\n\n{message}"
    command = [sys.executable, "-m", module]
    if args.quick and "--quick" in _module_help(module):
        command.append("--quick")
    started = time.perf_counter()
    done = subprocess.run(command, cwd=_root(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    print(done.stdout)
    if done.returncode:
        print(done.stderr[-4000:], file=sys.stderr)
    status = "ok" if done.returncode == 0 else f"failed ({done.returncode})"
    md = f"# Forecast validation\n\n`{' '.join(command[1:])}`: {status} in {elapsed:.1f} s\n\n```\n{done.stdout}\n```"
    return {"status": status, "seconds": elapsed, "stdout": done.stdout, "returncode": done.returncode}, md


def _module_help(module: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=_root(), capture_output=True, text=True, check=False, timeout=60
    )
    return done.stdout + done.stderr


# --------------------------------------------------------------------------------------------- main


def _load_rows(group: str, quick: bool) -> list[Row] | None:
    path = RESULTS / (f"{group}_quick.json" if quick else f"{group}.json")
    with contextlib.suppress(OSError, ValueError, KeyError):
        return json.loads(path.read_text())["rows"]
    return None


RUNNERS: dict[str, Callable[[argparse.Namespace], tuple[dict[str, Any], str]]] = {
    "core": group_core,
    "peers": group_peers,
    "factory": group_factory,
    "rolling": group_rolling,
    "forecast": group_forecast,
}


def run_group(group: str, args: argparse.Namespace) -> None:
    print(f"== {group}{' (quick)' if args.quick else ''}")
    started = time.perf_counter()
    machine = machine_info()
    payload, md = RUNNERS[group](args)
    elapsed = time.perf_counter() - started
    if payload.get("status") == "missing":
        return
    payload = {"group": group, "quick": args.quick, "seconds": elapsed, "machine": machine, **payload}
    md = f"{md}\n\n{machine_markdown(machine)}. Group run time {elapsed:.0f} s."
    json_path, md_path = write_results(group, args.quick, payload, md)
    print(f"wrote {json_path.relative_to(_root())} and {md_path.relative_to(_root())} ({elapsed:.0f} s)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--group", choices=[*GROUPS, "all"], default="peers")
    parser.add_argument("--quick", action="store_true", help="small sizes only (96 and 672 steps, a factory day)")
    parser.add_argument("--cases", nargs="+", choices=list(CASES), help="peers: these sizes only")
    parser.add_argument("--processes", type=int, help="fresh processes per case (cold median); default per case")
    parser.add_argument("--repeats", type=int, help="warm repeats in one process; default per case")
    parser.add_argument("--days", type=int, help="rolling: days of the reference LP (default 365, quick 7)")
    parser.add_argument("--factory-days", type=int, help="rolling: days of the factory scenario (default: --days)")
    parser.add_argument("--all-tools", action="store_true", help="rolling: PyPSA too (slow)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: a JSON job for a fresh process
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        child_main(json.loads(args.one), args.out)
        return
    _quiet()
    for group in ALL_ORDER if args.group == "all" else [args.group]:
        run_group(group, args)


if __name__ == "__main__":
    main()
