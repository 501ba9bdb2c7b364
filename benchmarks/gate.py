"""CI regression gate: the quick side-by-side benchmark, checked against the recorded figures.

    python -m benchmarks.gate            # measure (96 and 672 steps), compare, exit 1 on a regression
    python -m benchmarks.gate --update   # measure and record the figures in benchmarks/reference.json
    python -m benchmarks.gate --allow-skip                 # locally, without the bench extras
    python -m benchmarks.gate --json gate.json --junit gate-junit.xml   # CI: the checks as JSON and JUnit XML

Measures the reference LP at 96 and 672 quarter-hours in our model and, when
installed (``pip install -e ".[bench]"``), in plain linopy and PyPSA, each in
fresh processes (cold) and repeated in one process (warm), as
``python -m benchmarks.run --group peers --quick`` does. Fails when

- a correctness figure drifts: our objective differs from the recorded one by
  more than 1e-6 relative, a peer's objective differs from ours by more than
  1e-6 relative, or our model is not an optimal LP (status, binaries);
- a speed ratio measured *within the run* gets markedly worse: our end-to-end
  time over HiGHS's own time (overhead), and our time over linopy's and over
  PyPSA's, cold and warm; it fails only when a ratio exceeds ``--factor``
  (default 3) times the recorded one. Absolute times are never compared.
  When only ratio checks fail, the cases concerned are measured once more and
  the better of the two runs counts, so one busy moment on a shared CI machine
  does not fail the build (``--no-retry`` turns that off).

linopy and PyPSA are required: without them (``pip install -e ".[bench]"``)
the gate fails, naming what is missing, unless ``--allow-skip`` is given (for a
local run): then it skips their checks and still checks our objective and
overhead. ``--json PATH`` writes every check and the measured rows (default
``benchmarks/results/gate.json``), ``--junit PATH`` the checks as JUnit XML
(one testcase per check) for a CI test report. Update the record (``--update``) after an intended
change of the reference problem or a deliberate speed trade-off, and commit
``benchmarks/reference.json`` with the change that explains it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REFERENCE = Path(__file__).with_name("reference.json")
CASES = ("96", "672")
PLAN = {"96": (3, 10), "672": (2, 5)}  # per case: fresh processes (cold), warm repeats
OBJECTIVE_RTOL = 1e-6
AGREEMENT_RTOL = 1e-6
RATIO_FACTOR = 3.0
PEERS = ("linopy", "pypsa")
INSTALL_PEERS = "pip install -e '.[bench]'"


@dataclass
class Figures:
    """What the gate compares, taken from one run of the quick side-by-side benchmark."""

    objectives: dict[str, float | None] = field(default_factory=dict)  # case -> our objective [CNY]
    agreements: dict[str, float | None] = field(default_factory=dict)  # "tool/case" -> |peer - ours| / |ours|
    ratios: dict[str, float | None] = field(default_factory=dict)  # "name/case" -> ratio (lower is better)
    lp_ok: dict[str, bool] = field(default_factory=dict)  # case -> our status optimal and no binaries
    skipped: dict[str, str] = field(default_factory=dict)  # tool -> why it did not run


@dataclass
class Check:
    name: str
    status: str  # "ok", "FAIL", "skipped"
    measured: float | None = None
    expected: float | None = None
    limit: float | None = None
    note: str = ""


def figures_from_rows(rows: list[dict[str, Any]], skipped: dict[str, str]) -> Figures:
    """The gate's figures from :func:`benchmarks.run.measure_peers` rows."""
    figures = Figures(skipped=dict(skipped))
    for row in rows:
        case, tool = row["case_key"], row["tool"]
        if tool == "ours":
            figures.objectives[case] = row.get("objective_cny")
            figures.lp_ok[case] = row.get("status") == "optimal" and row.get("binaries") == 0
            figures.ratios[f"overhead_cold/{case}"] = row.get("overhead_ratio")
            figures.ratios[f"overhead_warm/{case}"] = row.get("warm_overhead_ratio")
        else:
            figures.agreements[f"{tool}/{case}"] = row.get("rel_diff_vs_ours")
            figures.ratios[f"ours_over_{tool}_cold/{case}"] = row.get("ours_over_tool_cold")
            figures.ratios[f"ours_over_{tool}_warm/{case}"] = row.get("ours_over_tool_warm")
    return figures


def _tool_of(ratio_name: str) -> str | None:
    return next((peer for peer in PEERS if f"_{peer}_" in ratio_name), None)


def compare(
    figures: Figures,
    reference: dict[str, Any],
    *,
    factor: float = RATIO_FACTOR,
    objective_rtol: float = OBJECTIVE_RTOL,
    agreement_rtol: float = AGREEMENT_RTOL,
    allow_skip: bool = False,
) -> list[Check]:
    """Every check of the gate; a run passes when none has status ``FAIL``. Pure: no timing, no I/O.

    A peer that could not run is a failure (``peer/<tool>``, naming what is missing) unless ``allow_skip``;
    either way the checks that need it are skipped, not failed."""
    checks: list[Check] = []
    for case, expected in reference.get("objectives", {}).items():
        measured = figures.objectives.get(case)
        if measured is None:
            checks.append(Check(f"objective/{case}", "FAIL", None, expected, note="not measured"))
            continue
        drift = abs(measured - expected) / max(abs(expected), 1e-9)
        ok = drift <= objective_rtol
        note = "" if ok else f"drifted by {drift:.2e} relative (tolerance {objective_rtol:g})"
        checks.append(Check(f"objective/{case}", "ok" if ok else "FAIL", measured, expected, objective_rtol, note))
    for case, ok in figures.lp_ok.items():
        checks.append(Check(f"lp/{case}", "ok" if ok else "FAIL", note="" if ok else "not an optimal LP"))
    for peer, reason in figures.skipped.items():
        if allow_skip:
            checks.append(Check(f"peer/{peer}", "skipped", note=f"{reason}; allowed by --allow-skip"))
        else:
            note = f"{peer} is required and could not run: {reason}; for a local run without it: --allow-skip"
            checks.append(Check(f"peer/{peer}", "FAIL", note=note))
    for name, diff in figures.agreements.items():
        if diff is None:
            checks.append(Check(f"agreement/{name}", "FAIL", note="no objective"))
            continue
        ok = diff <= agreement_rtol
        note = "" if ok else f"differs from ours by {diff:.2e} relative (tolerance {agreement_rtol:g})"
        checks.append(Check(f"agreement/{name}", "ok" if ok else "FAIL", diff, 0.0, agreement_rtol, note))
    for name, recorded in reference.get("ratios", {}).items():
        measured = figures.ratios.get(name)
        tool = _tool_of(name)
        if measured is None:
            if tool is not None and tool in figures.skipped:
                checks.append(Check(f"ratio/{name}", "skipped", None, recorded, note=f"{tool} not run"))
            else:
                checks.append(Check(f"ratio/{name}", "FAIL", None, recorded, note="not measured"))
            continue
        limit = factor * recorded
        if measured > limit:
            note = f"{measured / recorded:.1f}x the recorded {recorded:.3g} (limit {factor:g}x)"
            checks.append(Check(f"ratio/{name}", "FAIL", measured, recorded, limit, note))
        else:
            note = "much better than recorded: consider --update" if measured * factor < recorded else ""
            checks.append(Check(f"ratio/{name}", "ok", measured, recorded, limit, note))
    for name in sorted(set(figures.ratios) - set(reference.get("ratios", {}))):
        if figures.ratios[name] is not None:
            checks.append(Check(f"ratio/{name}", "skipped", figures.ratios[name], note="not recorded: run --update"))
    return checks


def failures(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status == "FAIL"]


def reference_from(figures: Figures, machine: dict[str, Any], factor: float = RATIO_FACTOR) -> dict[str, Any]:
    """The record written by ``--update``."""
    return {
        "about": "Figures of the CI gate (python -m benchmarks.gate). Update with python -m benchmarks.gate --update "
        "after an intended change, and commit this file with the change that explains it.",
        "recorded": {"date": time.strftime("%Y-%m-%d"), "machine": machine},
        "tolerances": {"objective_rtol": OBJECTIVE_RTOL, "agreement_rtol": AGREEMENT_RTOL, "ratio_factor": factor},
        "objectives": {case: value for case, value in figures.objectives.items() if value is not None},
        "ratios": {name: value for name, value in sorted(figures.ratios.items()) if value is not None},
    }


def best_of(first: Figures, second: Figures) -> Figures:
    """``first`` with each ratio replaced by the lower of the two runs (correctness figures stay the first's)."""
    ratios = dict(first.ratios)
    for name, value in second.ratios.items():
        if value is not None:
            ratios[name] = value if ratios.get(name) is None else min(ratios[name], value)
    return Figures(first.objectives, first.agreements, ratios, first.lp_ok, first.skipped)


def measure(
    processes: int | None = None, repeats: int | None = None, cases: tuple[str, ...] = CASES
) -> tuple[Figures, list[dict[str, Any]]]:
    from benchmarks.peers import TOOLS
    from benchmarks.run import measure_peers

    rows, skipped = measure_peers(list(cases), list(TOOLS), PLAN, processes, repeats)
    return figures_from_rows(rows, skipped), rows


def _print_checks(checks: list[Check]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Benchmark gate")
    for column in ("check", "status", "measured", "recorded", "limit", "note"):
        table.add_column(column, justify="left" if column in ("check", "note") else "right")
    for c in checks:
        table.add_row(c.name, c.status, _num(c.measured), _num(c.expected), _num(c.limit), escape(c.note))
    Console(width=200).print(table)


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.6f}" if abs(value) >= 1000 else f"{value:.4g}"


def report(checks: list[Check], seconds: float, machine: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON document of a gate run: the outcome, the counts, every check, the measured rows."""
    counts = {status: sum(c.status == status for c in checks) for status in ("ok", "FAIL", "skipped")}
    return {
        "passed": counts["FAIL"] == 0,
        "counts": counts,
        "seconds": seconds,
        "machine": machine,
        "checks": [asdict(c) for c in checks],
        "rows": rows,
    }


def junit(checks: list[Check], seconds: float, name: str = "benchmarks.gate") -> ET.ElementTree:
    """The checks as JUnit XML: one testcase per check (``<failure>`` for FAIL, ``<skipped>`` for skipped)."""
    failed = sum(c.status == "FAIL" for c in checks)
    skipped = sum(c.status == "skipped" for c in checks)
    totals = {"tests": str(len(checks)), "failures": str(failed), "errors": "0", "skipped": str(skipped)}
    suites = ET.Element("testsuites", {"name": name, **totals, "time": f"{seconds:.3f}"})
    suite = ET.SubElement(suites, "testsuite", {"name": name, **totals, "time": f"{seconds:.3f}"})
    for c in checks:
        kind = c.name.split("/", 1)[0]
        case = ET.SubElement(suite, "testcase", {"classname": f"{name}.{kind}", "name": c.name, "time": "0"})
        figures = f"measured {_num(c.measured)}, recorded {_num(c.expected)}, limit {_num(c.limit)}"
        if c.status == "FAIL":
            ET.SubElement(case, "failure", {"message": c.note or "failed", "type": kind}).text = figures
        elif c.status == "skipped":
            ET.SubElement(case, "skipped", {"message": c.note})
        if c.status != "FAIL" and (c.measured is not None or c.expected is not None):
            ET.SubElement(case, "system-out").text = figures + (f"; {c.note}" if c.note else "")
    ET.indent(suites)
    return ET.ElementTree(suites)


def write_outputs(
    checks: list[Check],
    seconds: float,
    machine: dict[str, Any],
    rows: list[dict[str, Any]],
    json_path: Path | None,
    junit_path: Path | None,
) -> None:
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        document = report(checks, seconds, machine, rows)
        json_path.write_text(json.dumps(document, indent=2, default=str) + "\n")
        print(f"wrote {json_path}")
    if junit_path is not None:
        junit_path.parent.mkdir(parents=True, exist_ok=True)
        junit(checks, seconds).write(junit_path, encoding="utf-8", xml_declaration=True)
        print(f"wrote {junit_path}")


def main(argv: list[str] | None = None) -> int:
    from benchmarks.core import RESULTS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update", action="store_true", help=f"record the measured figures in {REFERENCE.name}")
    parser.add_argument("--reference", type=Path, default=REFERENCE, help="the recorded figures")
    parser.add_argument(
        "--factor", type=float, help=f"fail when a ratio exceeds this times the record ({RATIO_FACTOR})"
    )
    parser.add_argument("--no-retry", action="store_true", help="fail on the first run's ratios (no re-measure)")
    parser.add_argument("--processes", type=int, help="fresh processes per case (default 3 for 96, 2 for 672)")
    parser.add_argument("--repeats", type=int, help="warm repeats per case (default 10 for 96, 5 for 672)")
    parser.add_argument(
        "--allow-skip",
        action="store_true",
        help="pass without linopy or PyPSA (a local run without the bench extras); CI runs without it",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=RESULTS / "gate.json",
        metavar="PATH",
        help="write the checks and measured rows as JSON here (default: benchmarks/results/gate.json)",
    )
    parser.add_argument("--junit", type=Path, metavar="PATH", help="write the checks as JUnit XML here")
    args = parser.parse_args(argv)

    from benchmarks.core import machine_info
    from benchmarks.run import _quiet

    _quiet()
    machine = machine_info()
    started = time.perf_counter()
    try:
        figures, rows = measure(args.processes, args.repeats)
    except Exception as error:  # a crashed measurement still leaves a report for CI
        checks = [Check("measure", "FAIL", note=f"the benchmark could not run: {type(error).__name__}: {error}")]
        write_outputs(checks, time.perf_counter() - started, machine, [], args.json, args.junit)
        print(f"GATE FAILED: {checks[0].note}")
        raise
    elapsed = time.perf_counter() - started
    for peer, reason in figures.skipped.items():
        if args.allow_skip:
            print(f"{peer}: {reason}; its checks are skipped (--allow-skip), our objective and overhead are checked")
        else:
            print(f"{peer}: {reason}; it is required (--allow-skip for a local run without it)")

    if args.update:
        disagree = {k: v for k, v in figures.agreements.items() if v is None or v > AGREEMENT_RTOL}
        if figures.skipped:
            print(f"not updating: {', '.join(figures.skipped)} did not run, and the record needs every peer's ratios")
            return 1
        if disagree or not all(figures.lp_ok.values()):
            print(f"not updating: the peers disagree with ours {disagree} or ours is not an optimal LP {figures.lp_ok}")
            return 1
        previous = json.loads(args.reference.read_text()) if args.reference.exists() else {}
        record = reference_from(figures, machine, args.factor or RATIO_FACTOR)
        args.reference.write_text(json.dumps(record, indent=2) + "\n")
        for name, value in {**record["objectives"], **record["ratios"]}.items():
            old = previous.get("objectives", {}).get(name, previous.get("ratios", {}).get(name))
            print(f"  {name}: {_num(old)} -> {_num(value)}")
        print(f"recorded {args.reference} ({elapsed:.0f} s of measurement)")
        return 0

    if not args.reference.exists():
        note = f"no recorded figures at {args.reference}; run python -m benchmarks.gate --update"
        write_outputs([Check("reference", "FAIL", note=note)], elapsed, machine, rows, args.json, args.junit)
        print(f"GATE FAILED: {note}")
        return 1
    reference = json.loads(args.reference.read_text())
    factor = args.factor or reference.get("tolerances", {}).get("ratio_factor", RATIO_FACTOR)
    checks = compare(figures, reference, factor=factor, allow_skip=args.allow_skip)
    slow = [c for c in failures(checks) if c.name.startswith("ratio/")]
    if slow and not args.no_retry and len(slow) == len(failures(checks)):
        cases = tuple(sorted({c.name.rsplit("/", 1)[1] for c in slow}, key=int))
        print(f"{len(slow)} ratio checks failed; measuring {', '.join(cases)} steps again (a busy machine?)")
        again, more_rows = measure(args.processes, args.repeats, cases)
        figures, rows = best_of(figures, again), rows + more_rows
        checks = compare(figures, reference, factor=factor, allow_skip=args.allow_skip)
        elapsed = time.perf_counter() - started
    _print_checks(checks)
    write_outputs(checks, elapsed, machine, rows, args.json, args.junit)
    failed = failures(checks)
    if failed:
        print(f"GATE FAILED ({len(failed)} of {len(checks)} checks, {elapsed:.0f} s):")
        for c in failed:
            print(f"  {c.name}: {c.note}")
        if any(not c.name.startswith("peer/") for c in failed):
            print("If the change is intended, record it: python -m benchmarks.gate --update (benchmarks/README.md).")
        if any(c.name.startswith("peer/") for c in failed):
            print(f"Install the peers ({INSTALL_PEERS}), or pass --allow-skip for a local run without them.")
        return 1
    skipped = sum(c.status == "skipped" for c in checks)
    allowed = " (allowed by --allow-skip)" if args.allow_skip and figures.skipped else ""
    print(f"gate passed: {len(checks) - skipped} checks ok, {skipped} skipped{allowed} ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
