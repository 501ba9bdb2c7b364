"""What-if runs for ``POST /v1/scenarios/run``: a scenario (the YAML file's content) through the scenario pipeline.

The API only checks and bounds: the scenario is validated by :mod:`scenarios.loader`
(errors become 422s naming ``body.scenario.<path>``), inputs must be inline (``values``/``sum``) or files
shipped with the package (``bundled:<file>``: a request never makes the server read another file), and the run
size and solver limits must fit the server's settings. The check and the run
(:func:`check_and_run`: the YAML parse, the validation, then :func:`scenarios.pipeline.run_case` per variant)
execute in a solver child process with a deadline and a memory limit, like a dispatch solve: nothing a caller
sends is parsed in the service's own process.
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


@dataclass(frozen=True)
class ScenarioLimits:
    """The server's bounds on a scenario run (from its settings), sent to the child process."""

    max_steps: int
    max_time_limit_s: float
    min_mip_rel_gap: float
    with_lines: bool = True


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


def _estimated_steps(case: Any) -> int:
    """Steps of a case's run from its horizon alone (a day of 1440 / step_minutes; DST days are a few steps off),
    so that a run far too long is refused before its periods are made."""
    horizon = case.scenario.horizon
    if horizon.is_explicit:
        return int(horizon.n_steps or 0)
    return len(horizon.dates()) * (1440 // horizon.step_minutes)


def _check(cases: list[Any], limits: ScenarioLimits) -> None:
    """Bounds a loaded scenario's cases by the server's limits; raises :class:`ScenarioRequestError`."""
    from scenarios.pipeline import case_periods

    found: dict[tuple[str, str], str] = {}  # (field within the scenario, message) -> where it was found first
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
        if solver.time_limit_s > limits.max_time_limit_s:
            problems.append(("solver.time_limit_s", f"must be at most {limits.max_time_limit_s} s on this server"))
        if solver.mip_rel_gap < limits.min_mip_rel_gap:
            problems.append(("solver.mip_rel_gap", f"must be at least {limits.min_mip_rel_gap} on this server"))
        if solver.threads is not None and solver.threads > (os.cpu_count() or 1):
            problems.append(("solver.threads", f"must be at most {os.cpu_count() or 1} (this server's cores)"))
        for problem in problems:  # a base problem that every variant inherits is reported once
            found.setdefault(problem, f"{where}.{problem[0]}")
    details = [{"field": field, "message": message, "type": "value_error"} for (_, message), field in found.items()]
    steps = sum(_estimated_steps(case) for case in cases)
    if steps <= limits.max_steps:  # near the limit: the exact count, DST days included
        steps = sum(p.horizon.n_steps for case in cases for p in case_periods(case))
    if steps > limits.max_steps:
        message = (
            f"{len(cases)} run(s) of {steps} steps in all; this server runs at most {limits.max_steps} steps per "
            "request (fewer days or variants)"
        )
        details.append({"field": "body.scenario.horizon", "message": message, "type": "value_error"})
    if details:
        raise ScenarioRequestError([{**d, "input": None} for d in details])


def check_and_run(text: str, variants: list[str] | None, limits: ScenarioLimits) -> dict[str, Any]:
    """Checks the scenario against the server's limits, then runs its variants (in the child process):
    ``{"issues": [...]}`` (details in the API's 422 shape) for a scenario the server will not run or one the
    pipeline finds a problem with only while running it (a carbon account whose factor choice fits no year of the
    run: ``body.scenario.site.carbon.factors``; a site without an account in such a year runs with ``carbon``
    null), else ``{"name": ..., "ok": [payload per variant]}``.

    Each payload is the run's ``kpis.json`` record (:func:`scenarios.outputs.run_payload`: savings split, baseline
    feasibility) with ``period_figures``/``period_notes`` (targets and contract volumes over their periods) and
    ``carbon``: the run's carbon ledger (:func:`api.carbon.run_carbon`, over the case's site after the variant's
    changes), its totals and each year's zero-carbon status."""
    try:
        document, cases = _load(text, variants)
        _check(cases, limits)
    except ScenarioError as error:
        return {"issues": _issues(error, limits.with_lines)}
    except ScenarioRequestError as error:
        return {"issues": error.details}
    return _run(document, cases)


def _run(document: Any, cases: list[Any]) -> dict[str, Any]:
    """Runs loaded cases (:func:`check_and_run`)."""
    from api.carbon import run_carbon
    from scenarios.outputs import run_payload
    from scenarios.pipeline import run_case

    try:
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
