"""Measurement machinery of the benchmark runner: fresh child processes, memory figures, medians.

Every case that is timed cold runs in fresh processes (``python -m benchmarks.run --one JOB``, whose
child mode is :func:`child_main`): the first build and solve in a new interpreter, after the tool's
imports (reported apart as ``import_s``). :func:`measure` runs a job in ``processes`` such processes
(the median is the cold figure) and repeats it in the first one (the median of the repeats is the
warm figure). Peak memory is the process's peak resident set size (VmHWM).
"""

from __future__ import annotations

import contextlib
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
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from benchmarks.core import ReferenceInputs

Row = dict[str, Any]

CHILD_TIMEOUT_S = 1800
TIMED = ("build_s", "solve_s", "highs_s", "end_to_end_s", "handover_s", "extract_s")
"""Figures taken as medians (cold and warm); ``handover_s`` and ``extract_s`` only ours reports (None elsewhere)."""


# --------------------------------------------------------------------------------------------- child processes


def quiet() -> None:
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


def rss_mb() -> float | None:
    """Current resident set size [MB]."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float | None:
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
    quiet()
    repeats = int(job.get("repeats", 1))
    runs: list[Row] = []
    if job["kind"] == "peer":
        from benchmarks.peers import import_tool, run_tool

        inputs = ReferenceInputs.load(Path(job["inputs"]))
        rss_before = rss_mb()
        import_s = import_tool(job["tool"])
        rss_after = rss_mb()
        for _ in range(repeats):
            runs.append(run_tool(job["tool"], inputs))
    elif job["kind"] == "factory":
        rss_before = rss_mb()
        started = time.perf_counter()
        from benchmarks.factory import run_days

        import_s = time.perf_counter() - started
        rss_after = rss_mb()
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
                "peak_rss_mb": peak_rss_mb(),
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
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root()), os.environ.get("PYTHONPATH")]))}
        done = subprocess.run(
            command, cwd=root(), env=env, capture_output=True, text=True, timeout=timeout_s, check=False
        )
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"benchmark process failed ({done.returncode}) for {job}:\n{done.stderr[-4000:]}")
        return json.loads(out.read_text())


def root() -> Path:
    """The repository's root (the working directory of child processes)."""
    return Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------------- aggregation


def median(values: Iterable[float | None]) -> float | None:
    """The median of the finite values, None when there are none."""
    present = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(present) if present else None


def safe_ratio(a: float | None, b: float | None) -> float | None:
    """``a / b``, None when either is missing or ``b`` is 0."""
    return a / b if a is not None and b else None


def measure(job: dict[str, Any], processes: int, repeats: int) -> Row:
    """Cold (median over ``processes`` fresh processes) and warm (median of ``repeats`` in one) figures of a job."""
    outs = [run_child({**job, "repeats": 1 + repeats if i == 0 else 1}) for i in range(max(1, processes))]
    cold = [o["runs"][0] for o in outs]
    warm = outs[0]["runs"][1:] or cold
    memory_from = outs[1:] or outs  # processes that ran once: their peak is one build and solve
    row: Row = {key: value for key, value in cold[0].items() if key not in TIMED and key != "overhead_ratio"}
    row.update({key: median(r.get(key) for r in cold) for key in TIMED})
    row.update({f"warm_{key}": median(r.get(key) for r in warm) for key in TIMED})
    row["overhead_ratio"] = median(safe_ratio(r["end_to_end_s"], r["highs_s"]) for r in cold)
    row["warm_overhead_ratio"] = median(safe_ratio(r["end_to_end_s"], r["highs_s"]) for r in warm)
    row["import_s"] = median(o["import_s"] for o in outs)
    row["cold_with_import_s"] = median(o["import_s"] + o["runs"][0]["end_to_end_s"] for o in outs)
    row["peak_rss_mb"] = median(o["peak_rss_mb"] for o in memory_from)
    row["rss_after_import_mb"] = median(o["rss_after_import_mb"] for o in memory_from)
    row["cold_samples"], row["warm_samples"] = len(cold), len(warm)
    objectives = [r.get("objective_cny") for r in cold + warm]
    if all(isinstance(v, float) for v in objectives):
        spread = max(objectives) - min(objectives)
        row["objective_spread_rel"] = spread / max(abs(objectives[0]), 1e-9)
    return row
