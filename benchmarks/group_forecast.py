"""Benchmark group ``forecast``: the forecast validations on real data, each in its own process.

* ``python -m benchmarks.forecast_validation``: PV point forecasts (typical year, the State Grid plant) and the
  steel plant's load, rolling origin;
* ``python -m benchmarks.forecast_quantile_validation``: quantiles (P10/P50/P90 ...) of PV and load, out of
  sample: coverage, pinball, CRPS, and the figures.

A module missing from the tree is reported, not an error.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from typing import Any

from benchmarks.measure import root

MODULES = ("benchmarks.forecast_validation", "benchmarks.forecast_quantile_validation")


def group_forecast(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    results: dict[str, Any] = {}
    sections = ["# Forecast validation"]
    for module in MODULES:
        result, section = _run(module, args.quick)
        results[module] = result
        sections.append(section)
    failed = [m for m, r in results.items() if r["status"] not in ("ok", "missing")]
    status = "ok" if not failed else f"failed: {', '.join(failed)}"
    return {"status": status, "modules": results}, "\n\n".join(sections)


def _run(module: str, quick: bool) -> tuple[dict[str, Any], str]:
    if importlib.util.find_spec(module) is None:
        message = f"{module} is missing: this forecast benchmark is not in this tree yet"
        print(message)
        return {"status": "missing", "message": message}, f"## {module}\n\n{message}"
    command = [sys.executable, "-m", module]
    if quick and "--quick" in _module_help(module):
        command.append("--quick")
    started = time.perf_counter()
    done = subprocess.run(command, cwd=root(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    print(done.stdout)
    if done.returncode:
        print(done.stderr[-4000:], file=sys.stderr)
    status = "ok" if done.returncode == 0 else f"failed ({done.returncode})"
    md = f"## {module}\n\n`{' '.join(command[1:])}`: {status} in {elapsed:.1f} s\n\n```\n{done.stdout}\n```"
    return {"status": status, "seconds": elapsed, "stdout": done.stdout, "returncode": done.returncode}, md


def _module_help(module: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=root(), capture_output=True, text=True, check=False, timeout=60
    )
    return done.stdout + done.stderr
