"""Benchmark group ``forecast``: runs ``python -m benchmarks.forecast_validation`` when that module exists."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from typing import Any

from benchmarks.measure import root


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
    done = subprocess.run(command, cwd=root(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    print(done.stdout)
    if done.returncode:
        print(done.stderr[-4000:], file=sys.stderr)
    status = "ok" if done.returncode == 0 else f"failed ({done.returncode})"
    md = f"# Forecast validation\n\n`{' '.join(command[1:])}`: {status} in {elapsed:.1f} s\n\n```\n{done.stdout}\n```"
    return {"status": status, "seconds": elapsed, "stdout": done.stdout, "returncode": done.returncode}, md


def _module_help(module: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=root(), capture_output=True, text=True, check=False, timeout=60
    )
    return done.stdout + done.stderr
