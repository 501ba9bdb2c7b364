"""What-if scenarios: scenario files, the one pipeline (scenario -> inputs -> problem -> optimiser -> results),
variants, sweeps, comparisons and reports, and the ``dispatch`` command line.

Typical use::

    from scenarios import load_scenario, run_cases, render_comparison_html

    document = load_scenario("scenarios/examples/lingyun.yaml")
    runs = run_cases(document.variants())          # base + every variant, in parallel processes
    html = render_comparison_html(runs)

Names are imported on first use, so ``import scenarios.factory`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Case": "scenarios.loader",
    "ScenarioDocument": "scenarios.loader",
    "load_scenario": "scenarios.loader",
    "ScenarioError": "scenarios.errors",
    "Issue": "scenarios.errors",
    "ScenarioFile": "scenarios.spec",
    "json_schema": "scenarios.spec",
    "ScenarioRun": "scenarios.pipeline",
    "build_problem": "scenarios.pipeline",
    "check_case": "scenarios.pipeline",
    "run_case": "scenarios.pipeline",
    "run_cases": "scenarios.parallel",
    "run_from_result": "scenarios.pipeline",
    "comparison_table": "scenarios.compare",
    "render_schedule_html": "scenarios.report_html",
    "render_comparison_html": "scenarios.report_html",
    "render_sweep_html": "scenarios.report_html",
    "render_stored_schedule_html": "scenarios.report_html",
    "schedule_metadata": "scenarios.report_html",
    "write_run": "scenarios.outputs",
    "write_comparison": "scenarios.outputs",
    "write_sweep": "scenarios.outputs",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'scenarios' has no attribute {name!r}")
