"""``POST /v1/scenarios/run``: what-if runs of a scenario, KPIs per variant (nothing is stored)."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from api.auth import ApiKey
from api.deps import SettingsDep, SlotsDep
from api.errors import ProblemInputError, solver_busy
from api.schemas import error_responses
from api.solver_process import SolverBusyError, call_off_loop, run_in_child
from api.what_if import ScenarioRequestError, check_scenario, run_scenario_text

log = logging.getLogger("api")
router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"])

VariantName = Annotated[str, Field(min_length=1, max_length=100)]


class ScenarioRunBody(BaseModel):
    """A scenario file's content and the variants to run."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "scenario": "name: demo\nsite: {name: Demo, latitude: 41.8, longitude: 123.4, assets: [...]}\n"
                    "horizon: {start: 2026-07-15, days: 1}\ninputs: {load: {values: [200, 300]}}\n"
                    "variants: {bigger_battery: {set: {site.battery.capacity_kwh: 800}}}",
                    "variants": ["base", "bigger_battery"],
                }
            ]
        },
    )

    scenario: str | dict[str, Any] = Field(
        description="The scenario, as YAML text or as a JSON object with the same fields as a scenario file "
        "(name, site, horizon, inputs, initial_state, solver, variants). Inputs must be inline "
        "(values or sum): the server reads no files for a request. Sweeps are not run here."
    )
    variants: list[VariantName] | None = Field(
        None,
        min_length=1,
        max_length=50,
        description="Variants to run ('base' is the scenario as written); default: the base and every variant.",
    )


class VariantRunOut(BaseModel):
    """One variant's run (the CLI's kpis.json for it)."""

    run: str
    variant: str | None
    description: str
    currency: str
    periods: int
    first_period: str
    last_period: str
    steps: int
    fallback_periods: list[str] = Field(description="Periods answered with the rule-based fallback schedule.")
    saving_cny: float | None = Field(description="Rule-based energy cost minus the optimised one, over the run.")
    kpis: dict[str, Any]
    baseline_kpis: dict[str, Any]
    run_seconds: float
    days: list[dict[str, Any]] = Field(description="Per period: status, costs, saving, gap, solve time.")


class ScenarioRunOut(BaseModel):
    scenario: str
    runs: list[VariantRunOut]


@router.post("/run", responses=error_responses(413, 422, 500, 503, 504))
async def run_scenario(body: ScenarioRunBody, settings: SettingsDep, slots: SlotsDep, _: ApiKey) -> ScenarioRunOut:
    """Runs the scenario's variants day by day (as ``dispatch run``/``compare`` do) and returns KPIs per variant.

    The run is bounded by the server (steps, solver limits) and killed after ``max_scenario_seconds`` (504)."""
    text = body.scenario if isinstance(body.scenario, str) else json.dumps(body.scenario, indent=1)
    try:
        await run_in_threadpool(
            check_scenario,
            text,
            body.variants,
            with_lines=isinstance(body.scenario, str),
            max_steps=settings.max_scenario_steps,
            max_time_limit_s=settings.max_time_limit_s,
            min_mip_rel_gap=settings.min_mip_rel_gap,
        )
    except ScenarioRequestError as error:
        raise ProblemInputError(error.details) from error
    try:
        outcome = await call_off_loop(
            slots, run_in_child, run_scenario_text, (text, body.variants), settings.max_scenario_seconds
        )
    except SolverBusyError as error:
        raise solver_busy(settings.retry_after_s) from error
    if outcome.kind == "timeout":
        raise HTTPException(
            status.HTTP_504_GATEWAY_TIMEOUT,
            f"the run did not finish within {settings.max_scenario_seconds:g} s; run fewer days or variants",
        )
    if outcome.kind != "ok":
        log.error("scenario run failed: %s %s (exit code %s)", outcome.kind, outcome.payload, outcome.exitcode)
        raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, "the scenario run failed on the server")
    result = outcome.payload
    if "issues" in result:
        raise ProblemInputError(result["issues"])
    return ScenarioRunOut(scenario=result["name"], runs=[VariantRunOut.model_validate(r) for r in result["ok"]])
