"""What-if runs for ``POST /v1/scenarios/run``: a scenario (the YAML file's content) through the scenario pipeline.

The API only checks and bounds: the scenario is validated by :mod:`scenarios.loader`
(errors become 422s naming ``body.scenario.<path>``), inputs must be inline (``values``/``sum``) or files
shipped with the package (``bundled:<file>``: a request never makes the server read another file), and the run
size and solver limits must fit the server's settings. The run itself
(:func:`run_scenario_text`) is :func:`scenarios.pipeline.run_case` per variant,
executed in a child process with a deadline, like a dispatch solve.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenarios.errors import ScenarioError
from scenarios.inputs import BUNDLED

INLINE_INPUTS = ("InlineInput", "SumInput")
FILE_FIELDS = ("csv", "weather", "history")
"""Input fields that name a file: over HTTP only files shipped with the package (``bundled:<file>``) are read."""


def _reads_outside_package(source: object) -> bool:
    """Whether an input names a file that is not shipped with the package."""
    if type(source).__name__ in INLINE_INPUTS:
        return False
    paths = [getattr(source, f) for f in FILE_FIELDS if isinstance(getattr(source, f, None), str)]
    return not paths or any(not p.startswith(BUNDLED) for p in paths)


@dataclass
class CheckedScenario:
    name: str
    variants: list[str]
    steps: int
    periods: int


class ScenarioRequestError(Exception):
    """A scenario the server will not run: details in the API's 422 shape."""

    def __init__(self, details: list[dict[str, Any]]) -> None:
        super().__init__(details)
        self.details = details


def _load(text: str, variants: list[str] | None) -> tuple[Any, list[Any]]:
    """The scenario document and its cases; :class:`ScenarioError` for anything wrong with the text."""
    import yaml

    from scenarios.errors import Issue
    from scenarios.loader import load_scenario

    with tempfile.TemporaryDirectory(prefix="scenario-") as folder:
        path = Path(folder) / "scenario.yaml"
        path.write_text(text, encoding="utf-8", errors="replace")
        try:
            document = load_scenario(path)
        except yaml.YAMLError as error:  # e.g. a control character: the loader lets the reader's error through
            raise ScenarioError([Issue(path.name, None, "", f"not valid YAML: {error}")]) from error
        return document, document.variants(variants)


def _issues(error: ScenarioError, with_lines: bool) -> list[dict[str, Any]]:
    return [
        {
            "field": _issue_field(issue.field, issue.line),
            "message": (f"line {issue.line}: " if with_lines and issue.line else "") + issue.message,
            "type": "scenario",
            "input": None,
        }
        for issue in error.issues
    ]


def _issue_field(field: str, line: int | None) -> str:
    if field == "variants" and line is None:  # "no variant named ...": the request's list, not the file
        return "body.variants"
    return "body.scenario" + (f".{field}" if field else "")


def check_scenario(
    text: str,
    variants: list[str] | None,
    *,
    with_lines: bool,
    max_steps: int,
    max_time_limit_s: float,
    min_mip_rel_gap: float,
) -> CheckedScenario:
    """Validates and bounds a scenario; raises :class:`ScenarioRequestError`."""
    from scenarios.pipeline import case_periods

    try:
        document, cases = _load(text, variants)
    except ScenarioError as error:
        raise ScenarioRequestError(_issues(error, with_lines)) from error
    found: dict[tuple[str, str], str] = {}  # (field within the scenario, message) -> where it was found first
    steps = periods = 0
    for case in cases:
        where = "body.scenario" if case.variant is None else f"body.scenario.variants.{case.variant}"
        problems: list[tuple[str, str]] = []
        for name, source in case.scenario.inputs.items():
            if _reads_outside_package(source):
                message = (
                    "inputs over HTTP are inline (values or sum) or files shipped with the package (bundled:<file>)"
                )
                problems.append((f"inputs.{name}", message))
        solver = case.scenario.solver
        if solver.time_limit_s > max_time_limit_s:
            problems.append(("solver.time_limit_s", f"must be at most {max_time_limit_s} s on this server"))
        if solver.mip_rel_gap < min_mip_rel_gap:
            problems.append(("solver.mip_rel_gap", f"must be at least {min_mip_rel_gap} on this server"))
        if solver.threads is not None and solver.threads > (os.cpu_count() or 1):
            problems.append(("solver.threads", f"must be at most {os.cpu_count() or 1} (this server's cores)"))
        for problem in problems:  # a base problem that every variant inherits is reported once
            found.setdefault(problem, f"{where}.{problem[0]}")
        case_steps = case_periods(case)
        periods += len(case_steps)
        steps += sum(p.horizon.n_steps for p in case_steps)
    details = [{"field": field, "message": message, "type": "value_error"} for (_, message), field in found.items()]
    if steps > max_steps:
        message = (
            f"{len(cases)} run(s) of {steps} steps in all; this server runs at most {max_steps} steps per request "
            "(fewer days or variants)"
        )
        details.append({"field": "body.scenario.horizon", "message": message, "type": "value_error"})
    if details:
        raise ScenarioRequestError([{**d, "input": None} for d in details])
    labels = [case.label for case in cases]
    return CheckedScenario(document.scenario.name, labels, steps, periods)


def run_scenario_text(text: str, variants: list[str] | None) -> dict[str, Any]:
    """Runs the scenario's variants (in the child process): ``{"ok": [payload per variant]}`` or
    ``{"issues": [...]}`` when the pipeline finds a problem with the scenario only while running it (a carbon
    account whose factor choice fits no year of the run: ``body.scenario.site.carbon.factors``; a site without an
    account in such a year runs with ``carbon`` null).

    Each payload is the run's ``kpis.json`` record (:func:`scenarios.outputs.run_payload`: savings split, baseline
    feasibility) with ``period_figures``/``period_notes`` (targets and contract volumes over their periods) and
    ``carbon``: the run's carbon ledger (:func:`api.carbon.run_carbon`, over the case's site after the variant's
    changes), its totals and each year's zero-carbon status."""
    from api.carbon import run_carbon
    from scenarios.outputs import run_payload
    from scenarios.pipeline import run_case

    try:
        document, cases = _load(text, variants)
        runs = [run_case(case) for case in cases]
    except ScenarioError as error:
        return {"issues": _issues(error, with_lines=True)}
    payloads = []
    for case, run in zip(cases, runs, strict=True):
        site = case.scenario.site
        try:
            carbon = run_carbon(run, site).model_dump(mode="json")
        except LookupError as error:  # no factor set for the run's years
            if site.carbon is not None:  # the account asks for a ledger: its factor choice is at fault
                field = "body.scenario.site.carbon.factors"
                return {"issues": [{"field": field, "message": str(error), "type": "scenario", "input": None}]}
            carbon = None  # no account asked for one: the run stands without its ledger
        payload = run_payload(run)  # with period_figures and period_notes
        payload["carbon"] = carbon
        payloads.append(finite_json(payload))
    return {"name": document.scenario.name, "ok": payloads}


def finite_json(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null; numpy scalars plain numbers; tuples lists."""
    if isinstance(value, dict):
        return {str(k): finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
