"""Benchmark group ``scaleout``: a sweep on a 2-worker Dask LocalCluster against serial, and whole-process start-up.

- **Sweep** (issue 14, point 4): the reference site (``benchmarks/core.py``: PV, load, battery, TOU grid) as a
  scenario file with its inputs in a CSV file, 30 days day-ahead (``--days``; quick: 7), and a sweep of 16 points
  (battery capacity x charge power, a 4 x 4 grid), run by :func:`scenarios.parallel.run_cases` in this process
  (``--jobs 1``), then on a ``LocalCluster`` of 2 single-threaded workers made for the run (``--cluster local
  --jobs 2``; its start-up included), then on 2 local processes (``--jobs 2``), then on a 2-worker LocalCluster
  started before the clock and reached by its address, as ``--cluster tcp://host:8786`` reaches a running cluster.
  Each way's cost per point must equal the serial one. Goal: the cluster at least 1.7x faster than serial.
- **Start-up** (issue 14, point 3): whole processes (interpreter, imports, work, exit), best of several:
  ``dispatch --help``, ``dispatch run`` on the reference site's one day (96 steps; the run's files and HTML report
  included), and the reference LP at 96 steps built and solved in a fresh process by ours and by linopy
  (``benchmarks.peers``, the same harness for both). ``group_peers`` times each tool's imports and first solve
  apart (numpy and pandas loaded before); this is the whole process. Goal: linopy / ours >= 1.6x.

Wall times on a shared machine wait for the CPU; CPU seconds (user + system of the process) are shown beside
them and are the steadier figure of the two. Compare ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.core import INITIAL_SOC_FRAC, reference_inputs, reference_site
from benchmarks.measure import Row, root, safe_ratio
from benchmarks.tables import markdown_table, print_table

SWEEP_DAYS, SWEEP_DAYS_QUICK = 30, 7
WORKERS = 2
CAPACITIES_KWH = (250.0, 500.0, 1000.0, 2000.0)
CHARGE_POWERS_KW = (125.0, 250.0, 500.0, 1000.0)
STARTUP_RUNS, STARTUP_RUNS_QUICK = 5, 3
CLUSTER_WAY = f"Dask LocalCluster, {WORKERS} workers (--cluster local --jobs {WORKERS})"
RUNNING_CLUSTER = "running"
RUNNING_WAY = f"a running Dask LocalCluster, {WORKERS} workers (--cluster tcp://...), as the CLI runs it"

SWEEP_COLUMNS = [
    ("way", "way"),
    ("points", "points"),
    ("days", "days each"),
    ("seconds_s", "wall"),
    ("speedup_vs_serial", "serial / this"),
    ("rel_diff_cost_max", "max cost rel. diff vs serial"),
    ("notes", "notes"),
]
STARTUP_COLUMNS = [
    ("what", "whole process"),
    ("wall_s", "wall (best)"),
    ("wall_median_s", "wall (median)"),
    ("cpu_s", "CPU (best)"),
    ("runs", "runs"),
]
GOAL_COLUMNS = [("goal", "goal"), ("target", "target"), ("measured", "measured"), ("unit", "unit"), ("met", "met")]


# --- the scenario ------------------------------------------------------------------------------------------------


def write_reference_scenario(folder: Path, days: int, *, sweep: bool = True) -> Path:
    """The reference site as a scenario file in ``folder`` (``reference.yaml``, inputs in ``inputs.csv``): ``days``
    days day-ahead from the reference start, the battery at 50 % on the first morning; with ``sweep`` a sweep
    ``battery`` of 16 points (capacity x charge power). Returns the file's path."""
    import yaml

    inputs = reference_inputs(days * 96)
    folder.mkdir(parents=True, exist_ok=True)
    index = inputs.index
    lines = ["time,pv,load"] + [
        f"{t.isoformat()},{pv:.3f},{load:.3f}" for t, pv, load in zip(index, inputs.pv_kw, inputs.load_kw, strict=True)
    ]
    (folder / "inputs.csv").write_text("\n".join(lines) + "\n")
    site = json.loads(reference_site().model_dump_json(exclude_none=True, exclude_defaults=True))
    document: dict[str, Any] = {
        "name": "reference",
        "description": "The benchmark's reference site: PV, load, a 500 kWh battery, TOU import and export.",
        "site": site,
        "horizon": {"start": index[0].date().isoformat(), "days": days, "step_minutes": inputs.step_minutes},
        "inputs": {
            "pv": {"csv": "inputs.csv", "column": "pv"},
            "load": {"csv": "inputs.csv", "column": "load"},
        },
        "initial_state": {"battery": {"initial_soc_frac": INITIAL_SOC_FRAC}},
    }
    if sweep:
        document["sweeps"] = {
            "battery": {
                "description": "battery capacity x charge power",
                "mode": "grid",
                "parameters": {
                    "site.battery.capacity_kwh": list(CAPACITIES_KWH),
                    "site.battery.charge_power_kw": list(CHARGE_POWERS_KW),
                },
            }
        }
    path = folder / "reference.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


# --- the sweep ---------------------------------------------------------------------------------------------------


def _costs(runs: list[Any]) -> list[float]:
    return [run.kpis.energy_cost_cny for run in runs]


def _max_rel_diff(costs: list[float], reference: list[float]) -> float:
    return max(abs(a - b) / max(abs(b), 1e-9) for a, b in zip(costs, reference, strict=True))


def measure_sweep(days: int, progress: Any = print) -> list[Row]:
    """The 16-point sweep over ``days`` days: serial, a 2-worker LocalCluster, 2 local processes."""
    from scenarios.loader import load_scenario
    from scenarios.parallel import run_cases

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-scaleout-") as tmp:
        document = load_scenario(write_reference_scenario(Path(tmp), days))
        cases = document.sweep("battery")
        ways: list[tuple[str, dict[str, Any]]] = [
            ("serial (--jobs 1)", {"jobs": 1}),
            (f"{CLUSTER_WAY}, every task sent at once", {"cluster": "local", "auto_serial": False}),
            (f"{CLUSTER_WAY}, as the CLI runs it: here first", {"cluster": "local"}),
            (f"{WORKERS} local processes (--jobs {WORKERS}) as the CLI runs it", {}),
            (RUNNING_WAY, {"cluster": RUNNING_CLUSTER}),
        ]
        serial: list[float] | None = None
        serial_s: float | None = None
        for way, options in ways:
            progress(f"  sweep of {len(cases)} points x {days} days: {way}")
            notes: list[str] = []
            jobs = options.pop("jobs", WORKERS)
            running = None
            if options.get("cluster") == RUNNING_CLUSTER:  # started before the clock: a cluster that is up already
                from scenarios.executors import local_cluster

                running = local_cluster(WORKERS)
                options["cluster"] = running.scheduler_address
            started = time.perf_counter()
            try:
                runs = run_cases(cases, jobs=jobs, show_progress=False, notes=notes.append, **options)
            finally:
                seconds = time.perf_counter() - started
                if running is not None:
                    running.close()
            costs = _costs(runs)
            if serial is None:
                serial, serial_s = costs, seconds
            rows.append(
                {
                    "way": way,
                    "points": len(cases),
                    "days": days,
                    "seconds_s": seconds,
                    "speedup_vs_serial": safe_ratio(serial_s, seconds),
                    "rel_diff_cost_max": _max_rel_diff(costs, serial),
                    "notes": "; ".join(notes),
                }
            )
    return rows


# --- start-up ----------------------------------------------------------------------------------------------------

_PEER_SCRIPT = """
from pathlib import Path
from benchmarks.core import ReferenceInputs
from benchmarks.peers import import_tool, run_tool
inputs = ReferenceInputs.load(Path({path!r}))
import_tool({tool!r})
result = run_tool({tool!r}, inputs)
assert result["status"] == "optimal", result
"""


def whole_process(command: list[str], runs: int, cwd: Path) -> Row:
    """Best and median wall time, and best CPU time (user + system), of ``runs`` runs of ``command``."""
    walls: list[float] = []
    cpus: list[float] = []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root()), os.environ.get("PYTHONPATH")]))}
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {"wall_s": min(walls), "wall_median_s": statistics.median(walls), "cpu_s": min(cpus), "runs": runs}


def measure_startup(runs: int, progress: Any = print) -> list[Row]:
    """Whole-process times of ``dispatch --help``, ``dispatch run`` on one day, ours and linopy on the 96-step LP."""
    from benchmarks.peers import missing

    dispatch = shutil.which("dispatch")
    cli = [dispatch] if dispatch else [sys.executable, "-m", "scenarios.cli"]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        folder = Path(tmp)
        scenario = write_reference_scenario(folder, 1, sweep=False)
        npz = folder / "reference-96.npz"
        reference_inputs(96).save(npz)
        commands: list[tuple[str, list[str]]] = [
            ("dispatch --help", [*cli, "--help"]),
            (
                "dispatch run, reference site, one day (96 steps), files and report written",
                [*cli, "run", str(scenario), "--no-progress", "--out", str(folder / "out")],
            ),
            ("reference LP, 96 steps: ours", [sys.executable, "-c", _PEER_SCRIPT.format(path=str(npz), tool="ours")]),
        ]
        if missing("linopy") is None:
            script = _PEER_SCRIPT.format(path=str(npz), tool="linopy")
            commands.append(("reference LP, 96 steps: linopy", [sys.executable, "-W", "ignore", "-c", script]))
        # interleaved, so that a busy moment of a shared machine hits every command alike
        samples: dict[str, list[Row]] = {what: [] for what, _ in commands}
        for _ in range(runs):
            for what, command in commands:
                samples[what].append(whole_process(command, 1, folder))
        for what, _ in commands:
            progress(f"  whole process: {what}")
            measured = samples[what]
            rows.append(
                {
                    "what": what,
                    "wall_s": min(m["wall_s"] for m in measured),
                    "wall_median_s": statistics.median(m["wall_s"] for m in measured),
                    "cpu_s": min(m["cpu_s"] for m in measured),
                    "runs": runs,
                }
            )
    return rows


def goals(sweep: list[Row], startup: list[Row]) -> list[Row]:
    """The issue's goals on the measured rows."""
    out: list[Row] = []

    def goal(name: str, target: str, value: float | None, met: bool | None, unit: str = "x") -> None:
        out.append({"goal": name, "target": target, "measured": value, "unit": unit, "met": met})

    for row in sweep:
        if row["way"].startswith(CLUSTER_WAY) or row["way"] == RUNNING_WAY:
            speedup = row["speedup_vs_serial"]
            how = "already running" if row["way"] == RUNNING_WAY else row["way"].removeprefix(CLUSTER_WAY + ", ")
            goal(
                f"sweep 16 points on a 2-worker LocalCluster ({how}): serial / cluster",
                ">= 1.7x",
                speedup,
                speedup >= 1.7,
            )
    worst = max(row["rel_diff_cost_max"] for row in sweep)
    goal("  same results as serial (largest cost rel. diff, every way)", "<= 1e-9", worst, worst <= 1e-9, "")
    by_what = {r["what"]: r for r in startup}
    ours = by_what.get("reference LP, 96 steps: ours")
    linopy = by_what.get("reference LP, 96 steps: linopy")
    run = next((r for w, r in by_what.items() if w.startswith("dispatch run")), None)
    if ours and linopy:
        for key, label in (("wall_s", "wall"), ("cpu_s", "CPU")):
            ratio = safe_ratio(linopy[key], ours[key])
            goal(
                f"96 steps, whole process ({label}): linopy / ours",
                ">= 1.6x",
                ratio,
                ratio is not None and ratio >= 1.6,
            )
    if run and linopy:
        ratio = safe_ratio(linopy["cpu_s"], run["cpu_s"])
        goal("  linopy (build and solve) / dispatch run (files and report too), CPU", "(info)", ratio, None)
    return out


def group_scaleout(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """Runs the group: the sweep (``--days``, default 30; quick 7) and the start-up figures."""
    days = args.days or (SWEEP_DAYS_QUICK if args.quick else SWEEP_DAYS)
    runs = args.repeats or (STARTUP_RUNS_QUICK if args.quick else STARTUP_RUNS)
    startup = measure_startup(runs)
    sweep = measure_sweep(days)
    met = goals(sweep, startup)
    print_table(f"Sweep of 16 points x {days} days", sweep, SWEEP_COLUMNS)
    print_table("Whole-process start-up", startup, STARTUP_COLUMNS)
    print_table("Goals", met, GOAL_COLUMNS)
    md = "\n\n".join(
        [
            "# Scale-out and start-up",
            (__doc__ or "").split("\n\n", 1)[1].strip(),
            f"## Sweep of 16 points x {days} days",
            markdown_table(sweep, SWEEP_COLUMNS),
            "## Whole-process start-up",
            markdown_table(startup, STARTUP_COLUMNS),
            "## Goals",
            markdown_table(met, GOAL_COLUMNS),
        ]
    )
    return {"sweep": sweep, "startup": startup, "goals": met, "days": days, "workers": WORKERS}, md
