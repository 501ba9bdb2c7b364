"""``POST /v1/scenarios/run``: what-if runs of a scenario, KPIs per variant (nothing is stored)."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from api.auth import ExpensiveCall
from api.deps import SettingsDep, SlotsDep
from api.errors import ProblemInputError, solver_busy
from api.schemas import RunCarbonOut, error_responses
from api.solver_process import SolverBusyError, call_off_loop, run_in_child
from api.what_if import ScenarioLimits, check_and_run
from optimizer.baseline_state import BaselineShortfall
from optimizer.kpis import Savings
from scenarios.period_account import PeriodFigure

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


class PeriodFigureOut(PeriodFigure):
    """A target or contract volume over one period of the run against its requirement."""

    days_planned: int | None = Field(None, description="Days of the period held to the period plan's share.")
    days_paced: int | None = Field(None, description="Days that paced the period (no period plan).")


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
    saving_cny: float | None = Field(
        description="Rule-based energy cost minus the optimised one, over the run; null when the baseline leaves "
        "demand unmet (see saving_label)."
    )
    baseline_feasible: bool = Field(
        True, description="False when the rule-based baseline leaves demand unmet: no saving is stated against it."
    )
    saving_label: str | None = Field(
        None, description="'baseline infeasible: <what is unmet>' when no saving is stated, else null."
    )
    baseline_shortfalls: list[BaselineShortfall] = Field(
        default_factory=list, description="What the rule-based baseline leaves unmet over the run, per bus."
    )
    savings: Savings | None = Field(
        None,
        description="The saving split by cost group (energy, demand_charge, gas, heat, certificates, other: they "
        "add up to saving_cny), the carbon cost apart, per day, the demand charge per month billed and the "
        "annualised estimate.",
    )
    kpis: dict[str, Any]
    baseline_kpis: dict[str, Any]
    period_figures: list[PeriodFigureOut] = Field(
        default_factory=list,
        description="Targets and contract volumes over a day, month, year or date range: each period's figure "
        "against its requirement, the days above and below their share, what the rest of the period must do.",
    )
    period_notes: list[str] = Field(default_factory=list, description="How the run planned those periods.")
    carbon: RunCarbonOut | None = Field(
        None,
        description="The run's carbon ledger over the site's carbon account (an empty ISO 14068-1 account if none): "
        "totals (scope 1 by fuel, scope 2 both ways, green contracts, certificates, offsets, net) and each year's "
        "zero-carbon status with the least-cost closing purchase.",
    )
    run_seconds: float
    days: list[dict[str, Any]] = Field(description="Per period: status, costs, saving, gap, solve time.")


class ScenarioRunOut(BaseModel):
    scenario: str
    runs: list[VariantRunOut]


@router.post("/run", responses=error_responses(413, 422, 500, 503, 504))
async def run_scenario(
    body: ScenarioRunBody, settings: SettingsDep, slots: SlotsDep, _: ExpensiveCall
) -> ScenarioRunOut:
    """Runs the scenario's variants day by day (as ``dispatch run``/``compare`` do) and returns per variant the KPIs,
    the saving split by cost group (none against a baseline that leaves demand unmet), the targets and contract
    volumes over their periods, and the carbon ledger's totals and zero-carbon status.

    The scenario is parsed, checked and run in a solver process, bounded by the server (document size, steps,
    solver limits, memory) and killed after ``max_scenario_seconds`` (504)."""
    text = body.scenario if isinstance(body.scenario, str) else json.dumps(body.scenario)
    limits = ScenarioLimits(
        max_steps=settings.max_scenario_steps,
        max_time_limit_s=settings.max_time_limit_s,
        min_mip_rel_gap=settings.min_mip_rel_gap,
        with_lines=isinstance(body.scenario, str),
    )
    args = (check_and_run, (text, body.variants, limits), settings.max_scenario_seconds, settings.solver_memory_mb)
    try:
        outcome = await call_off_loop(slots, run_in_child, *args)
    except SolverBusyError as error:
        raise solver_busy(error.retry_after_s) from error
    if outcome.kind == "timeout":
        raise HTTPException(
            status.HTTP_504_GATEWAY_TIMEOUT,
            f"the run did not finish within {settings.max_scenario_seconds:g} s; run fewer days or variants",
        )
    if outcome.kind == "memory":
        log.warning("scenario run out of memory: %s", outcome.payload)
        message = (
            f"the run needs more memory than this server gives one run ({settings.max_solver_memory_mb} MB); run "
            "fewer days or variants"
        )
        raise ProblemInputError([{"field": "body.scenario", "message": message, "type": "memory", "input": None}])
    if outcome.kind != "ok":
        log.error("scenario run failed: %s %s (exit code %s)", outcome.kind, outcome.payload, outcome.exitcode)
        raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, "the scenario run failed on the server")
    result = outcome.payload
    if "issues" in result:
        raise ProblemInputError(result["issues"])
    return ScenarioRunOut(scenario=result["name"], runs=[VariantRunOut.model_validate(r) for r in result["ok"]])
