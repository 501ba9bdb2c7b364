"""The dispatch service: a request on a stored site becomes a stored plan.

The route validates and presents; this module checks the solver limits, plans in
the solver child process (compile and solve, :mod:`api.solver_process`), turns
typed issues into 422 details, and stores the plan through :mod:`api.repository`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib.metadata
import json
from typing import Any

import pandas as pd
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from api import repository
from api.errors import ProblemInputError, solver_busy
from api.models import ScheduleRecord
from api.plans import DatabaseData
from api.presenters import api_status, message, schedule_records, violations
from api.schemas import DispatchBody, PeriodAccountOut, Provenance, ScheduleOut, SourceOut
from api.settings import Settings
from api.solver_process import Plan, PlanInputError, ProblemBuildError, SolverBusyError, SolveSlots, plan_off_loop
from api.what_if import finite_json
from optimizer import SolveOptions
from optimizer.errors import ProblemError
from scenarios.ems import DispatchRequest, request_field, request_period
from scenarios.ems_data import FillRules, Source
from scenarios.ems_inputs import fill_request
from scenarios.ems_state import period_standings
from scenarios.report_stored import schedule_metadata
from scenarios.rounding import MONEY, round_number, rounded_kpis
from scenarios.site import Site


def product_version() -> str:
    try:
        return importlib.metadata.version("factory-dispatch")
    except importlib.metadata.PackageNotFoundError:
        return "dev"


def solve_options(body: DispatchBody, settings: Settings) -> SolveOptions:
    time_limit = body.solver.time_limit_s or settings.default_time_limit_s
    gap = settings.default_mip_rel_gap if body.solver.mip_rel_gap is None else body.solver.mip_rel_gap
    problems = []
    if time_limit > settings.max_time_limit_s:
        problems.append(("time_limit_s", time_limit, f"must be at most {settings.max_time_limit_s} s on this server"))
    if gap < settings.min_mip_rel_gap:
        problems.append(("mip_rel_gap", gap, f"must be at least {settings.min_mip_rel_gap} on this server"))
    if problems:
        raise ProblemInputError(
            [{"field": f"body.solver.{f}", "message": m, "type": "value_error", "input": v} for f, v, m in problems]
        )
    return SolveOptions(time_limit_s=time_limit, mip_rel_gap=gap)


def request_hash(site_id: int, body: DispatchBody) -> str:
    canonical = json.dumps({"site_id": site_id, "body": body.model_dump(mode="json")}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(session: Session, tenant_id: int, key: str, request_hash: str) -> ScheduleOut | None:
    """The schedule stored under the tenant's idempotency key (None for a new key; 422 when the key came with
    another body)."""
    try:
        stored = repository.stored_response(session, tenant_id, key, request_hash)
    except repository.IdempotencyConflictError as error:
        detail = {
            "field": "header.Idempotency-Key",
            "message": "this Idempotency-Key was already used with a different request body",
            "type": "idempotency_conflict",
            "input": key,
        }
        raise ProblemInputError([detail]) from error
    return None if stored is None else ScheduleOut.model_validate(stored)


def fill(
    session: Session, site_id: int, site_spec: dict[str, Any], body: DispatchBody, settings: Settings
) -> tuple[DispatchBody, dict[str, Source]]:
    """The request with what it leaves open filled from the service's readings, weather and plans (forecasts by
    pvlib and the load model), and where each input and state came from; 422 listing everything missing."""
    site = Site.model_validate(site_spec)
    rules = FillRules(
        max_state_age=dt.timedelta(minutes=settings.max_state_age_minutes),
        require_measured_state=settings.require_measured_state,
        history_days=settings.history_days,
    )
    try:
        period = request_period(site, body)
    except ValueError as error:
        field = "body.from" if body.from_ is not None else "body.horizon" if body.horizon else "body.date"
        raise ProblemInputError(
            [{"field": field, "message": str(error), "type": "value_error", "input": None}]
        ) from error
    # a plan is made now, or for a past period (a backtest) before it starts: no forecast issued later is used
    now = pd.Timestamp(dt.datetime.now(dt.UTC))
    plan_time = pd.Timestamp(body.from_) if body.from_ is not None else min(now, pd.Timestamp(period.horizon.index[0]))
    try:
        filled, sources = fill_request(site, body, period, plan_time, DatabaseData(session, site_id), rules)
    except ProblemError as error:
        raise ProblemInputError(_details(site_spec, body, PlanInputError(error.issues))) from error
    return DispatchBody.model_validate(filled.model_dump(by_alias=True)), sources


async def plan(site_spec: dict[str, Any], body: DispatchBody, settings: Settings, slots: SolveSlots) -> Plan:
    """Compiles and solves in a child process (with the server's deadline and memory limit); 503 when no solver slot
    came free within the queue's wait, 422 naming the fields at fault."""
    options = solve_options(body, settings)
    try:
        deadline_s = options.time_limit_s + settings.deadline_margin_s
        request_json = body.model_dump_json(exclude={"solver"})
        site_json = json.dumps(site_spec)
        return await plan_off_loop(site_json, request_json, options, deadline_s, slots, settings.solver_memory_mb)
    except SolverBusyError as error:
        raise solver_busy(error.retry_after_s) from error
    except PlanInputError as error:
        # validating the stored site may import forecasting (pv_arrays): not on the event loop
        raise ProblemInputError(await run_in_threadpool(_details, site_spec, body, error)) from error
    except ProblemBuildError as error:
        detail = {"field": "site.assets", "message": f"no model can be built: {error}", "type": "value_error"}
        raise ProblemInputError([{**detail, "input": None}]) from error


def _details(site_spec: dict, request: DispatchRequest, error: PlanInputError) -> list[dict]:
    """A 422's details: each issue at the request field (or stored site field) it concerns."""
    site = Site.model_validate(site_spec)
    details = []
    for issue in error.issues:
        field = request_field(site, request, issue)
        message = issue.message
        if issue.asset is not None and issue.code != "series_length" and field.startswith("body."):
            message = f"{issue.asset}: {message}"
        if field.startswith("site.assets."):
            message = f"the site's {issue.asset}.{issue.field} {message}"
            if issue.code == "series_length":
                message += f": send body.series.{issue.asset}.{issue.field} with one value per step of the horizon"
        detail = {"field": field, "message": message, "type": issue.code, "input": _scalar(issue.value)}
        details.append(detail | ({"step": issue.step} if issue.step is not None else {}))
    return details


def _scalar(value: object) -> object:
    return value if isinstance(value, (int, float, str, bool)) else None


def store(
    session: Session,
    site_id: int,
    planned: Plan,
    tenant_id: int,
    key: str | None,
    request_hash: str,
    plan_kind: str,
    sources: dict[str, Source],
) -> ScheduleOut:
    """Stores the plan: the schedule, its rows, its provenance (with the problem itself and where each input came
    from) and the tenant's idempotency key in one transaction. It is in force from its start until a newer plan
    starts."""
    problem, result = planned.problem, planned.result
    status_label = api_status(result)
    columns, rows = schedule_records(result)
    problem_json = problem.model_dump_json()
    horizon = problem.horizon
    record = ScheduleRecord(
        site_id=site_id,
        horizon_start=horizon.index[0].to_pydatetime(),
        horizon_end=(horizon.index[-1] + pd.Timedelta(minutes=horizon.step_minutes)).to_pydatetime(),
        plan_kind=plan_kind,
        local_date=horizon.index[0].date().isoformat(),
        n_steps=horizon.n_steps,
        status=status_label,
        gap=result.report.mip_gap,
        input_hash=hashlib.sha256(problem_json.encode()).hexdigest(),
        product_version=product_version(),
        solver_version=f"{result.report.solver} {result.report.solver_version}",
        response={},
        violations=[v.model_dump() for v in violations(result)],
        problem=json.loads(problem_json),
    )

    def respond(stored: ScheduleRecord) -> dict[str, Any]:
        out = ScheduleOut(
            schedule_id=stored.id,
            site_id=site_id,
            status=status_label,
            message=message(result, status_label),
            violations=violations(result),
            kpis=rounded_kpis(result.kpis),
            baseline_kpis=rounded_kpis(result.baseline_kpis),
            saving_cny=round_number(result.saving_cny, MONEY, tiny_to_zero=True),
            solver=result.report.model_dump(),
            provenance=Provenance(
                input_hash=stored.input_hash,
                product_version=stored.product_version,
                solver_version=stored.solver_version,
                created_at=stored.created_at,
            ),
            plan_kind=plan_kind,
            sources={
                name: SourceOut(
                    origin=s.origin, as_of=s.as_of, detail=s.detail, quantiles=getattr(s, "quantiles", None)
                )
                for name, s in sources.items()
            },
            period_account=period_account(planned, sources),
            columns=columns,
            report_metadata=finite_json(schedule_metadata(result, problem.currency)),
            schedule=rows,
        )
        return json.loads(out.model_dump_json())

    return ScheduleOut.model_validate(
        repository.add_schedule(session, record, rows, respond, tenant_id, key, request_hash)
    )


_FIGURES = (
    "required_to_date",
    "achieved_to_date",
    "maximum_to_date",
    "plan_required",
    "plan_maximum",
    "plan_achieved",
)


def period_account(planned: Plan, sources: dict[str, Source]) -> list[PeriodAccountOut]:
    """The response's ``period_account``: each item over a longer period at the plan's start and in the plan
    (:func:`scenarios.ems_state.period_standings`), shares to 0.0001, kWh and kgCO2 to 0.001."""
    result = planned.result
    standings = period_standings(planned.problem, result.schedule, result.columns, sources)
    out = []
    for standing in standings:
        digits = 4 if standing.unit == "share" else 3
        values = dataclasses.asdict(standing)
        for name in _FIGURES:
            values[name] = None if values[name] is None else round(values[name], digits)
        out.append(PeriodAccountOut.model_validate(values))
    return out
