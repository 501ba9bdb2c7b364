"""Benchmark runner: one command per group, JSON and Markdown results, the table on the console.

    python -m benchmarks.run --group peers            # ours vs linopy vs PyPSA: 96, 672, 8,760 h, 35,040 steps
    python -m benchmarks.run --group peers --quick    # 96 and 672 steps
    python -m benchmarks.run --group peers --ab       # and ours through Pyomo's persistent interface (A/B)
    python -m benchmarks.run --group all              # core, factory, rolling, peers, forecast

Groups:

- ``core``: our reference LP, model sizes and overhead (``benchmarks/core.py``);
- ``peers``: the reference LP in our model, plain linopy and PyPSA (``benchmarks/peers.py``),
  side by side: build, solve, HiGHS seconds, peak memory, objective, our time over each peer's;
- ``factory``: the full factory day and week (``benchmarks/factory.py``), cost and emissions vs the baseline;
- ``rolling``: a year of day-ahead runs: the reference LP (365 x 96 steps, rebuilt per day, and a
  model kept and re-used, `optimizer.reuse`, cold and warm-started), and the shipped
  factory scenario (cost and emissions against the rule-based baseline);
- ``forecast``: ``python -m benchmarks.forecast_validation`` when that module exists;
- ``scaleout``: a sweep of 16 points x 30 days (``--days``) serial, on a 2-worker Dask LocalCluster and on 2 local
  processes; whole-process start-up of ``dispatch`` and of ours and linopy on the 96-step LP.

Every case that is timed cold runs in fresh processes (``python -m benchmarks.run --one JOB``): the
first build and solve in a new interpreter, after the tool's imports (reported apart as ``import_s``);
the median over ``--processes`` such processes is the cold figure. The first process then repeats the
case ``--repeats`` times: the median of those is the warm figure. Peak memory is the process's peak
resident set size (VmHWM). Results: ``benchmarks/results/<group>.json`` and ``<group>.md``
(``<group>_quick.*`` with ``--quick``), each with the machine (cores, CPU, Python, HiGHS, Pyomo,
linopy, PyPSA versions).

This module is the command line and the dispatch to the groups; the child processes, medians and
memory figures are in ``benchmarks/measure.py``, the tables and result files in
``benchmarks/tables.py``, each group in ``benchmarks/group_<name>.py``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.core import CASES, machine_info
from benchmarks.group_core import group_core
from benchmarks.group_factory import group_factory
from benchmarks.group_forecast import group_forecast
from benchmarks.group_peers import group_peers
from benchmarks.group_peers import measure_peers as measure_peers  # re-exported: benchmarks.gate imports it here
from benchmarks.group_rolling import group_rolling
from benchmarks.group_scaleout import group_scaleout
from benchmarks.measure import child_main, quiet, root
from benchmarks.tables import machine_markdown, write_results

GROUPS = ("core", "peers", "factory", "rolling", "forecast", "scaleout")
ALL_ORDER = (
    "core",
    "factory",
    "rolling",
    "peers",
    "forecast",
    "scaleout",
)  # peers last but one: its goals read rolling

_quiet = quiet  # the name benchmarks.gate imports

RUNNERS: dict[str, Callable[[argparse.Namespace], tuple[dict[str, Any], str]]] = {
    "core": group_core,
    "peers": group_peers,
    "factory": group_factory,
    "rolling": group_rolling,
    "forecast": group_forecast,
    "scaleout": group_scaleout,
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
    print(f"wrote {json_path.relative_to(root())} and {md_path.relative_to(root())} ({elapsed:.0f} s)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--group", choices=[*GROUPS, "all"], default="peers")
    parser.add_argument("--quick", action="store_true", help="small sizes only (96 and 672 steps, a factory day)")
    parser.add_argument("--cases", nargs="+", choices=list(CASES), help="peers: these sizes only")
    parser.add_argument("--processes", type=int, help="fresh processes per case (cold median); default per case")
    parser.add_argument(
        "--repeats", type=int, help="warm repeats in one process; default per case; scaleout: start-up runs"
    )
    parser.add_argument(
        "--days", type=int, help="rolling: days of the reference LP (default 365, quick 7); scaleout: of the sweep"
    )
    parser.add_argument("--factory-days", type=int, help="rolling: days of the factory scenario (default: --days)")
    parser.add_argument("--all-tools", action="store_true", help="rolling: PyPSA too (slow)")
    parser.add_argument(
        "--ab", action="store_true", help="peers: ours through Pyomo's persistent interface too (the former path)"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: a JSON job for a fresh process
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        child_main(json.loads(args.one), args.out)
        return
    quiet()
    for group in ALL_ORDER if args.group == "all" else [args.group]:
        run_group(group, args)


if __name__ == "__main__":
    main()
