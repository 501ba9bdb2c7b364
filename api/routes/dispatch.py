"""``POST /v1/sites/{id}/dispatch``: a day-ahead or intraday schedule, always a plan, never lost."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth import ApiKey
from api.deps import SessionDep, SettingsDep, SiteId, SlotsDep
from api.errors import ProblemInputError
from api.models import IdempotencyRecord, ScheduleRecord, ScheduleRowRecord
from api.presenters import api_status, message, schedule_records, violations
from api.routes.sites import load_site
from api.schemas import DispatchBody, Provenance, ScheduleOut
from api.settings import Settings
from api.solver_process import PlanInputError, ProblemBuildError, SolverBusyError, plan_off_loop
from api.what_if import finite_json
from optimizer import DispatchProblem, DispatchResult, SolveOptions
from scenarios.ems import DispatchRequest, request_field
from scenarios.report_stored import schedule_metadata
from scenarios.site import Site

router = APIRouter(prefix="/v1/sites", tags=["dispatch"])


def product_version() -> str:
    try:
        return importlib.metadata.version("factory-dispatch")
    except importlib.metadata.PackageNotFoundError:
        return "dev"


def _solve_options(body: DispatchBody, settings: Settings) -> SolveOptions:
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


def _request_hash(site_id: int, body: DispatchBody) -> str:
    canonical = json.dumps({"site_id": site_id, "body": body.model_dump(mode="json")}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(session: Session, key: str, request_hash: str) -> ScheduleOut | None:
    record = session.get(IdempotencyRecord, key)
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise ProblemInputError(
            [
                {
                    "field": "header.Idempotency-Key",
                    "message": "this Idempotency-Key was already used with a different request body",
                    "type": "idempotency_conflict",
                    "input": key,
                }
            ]
        )
    stored = session.get(ScheduleRecord, record.schedule_id)
    assert stored is not None
    return ScheduleOut.model_validate(stored.response)


def _store(
    session: Session,
    site_id: int,
    problem: DispatchProblem,
    result: DispatchResult,
    key: str | None,
    request_hash: str,
) -> ScheduleOut:
    """Writes the schedule, all its rows, its provenance (with the problem itself) and the idempotency key
    in one transaction."""
    status_label = api_status(result)
    columns, records = schedule_records(result)
    problem_json = problem.model_dump_json()
    horizon = problem.horizon
    record = ScheduleRecord(
        site_id=site_id,
        horizon_start=horizon.index[0].to_pydatetime(),
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
    session.add(record)
    session.flush()
    session.add_all(
        ScheduleRowRecord(schedule_id=record.id, step=i, interval_start=r["interval_start"], values=r)
        for i, r in enumerate(records)
    )
    out = ScheduleOut(
        schedule_id=record.id,
        site_id=site_id,
        status=status_label,
        message=message(result, status_label),
        violations=violations(result),
        kpis=result.kpis.model_dump(),
        baseline_kpis=result.baseline_kpis.model_dump(),
        saving_cny=result.saving_cny,
        solver=result.report.model_dump(),
        provenance=Provenance(
            input_hash=record.input_hash,
            product_version=record.product_version,
            solver_version=record.solver_version,
            created_at=record.created_at,
        ),
        columns=columns,
        report_metadata=finite_json(schedule_metadata(result, problem.currency)),
        schedule=records,
    )
    record.response = json.loads(out.model_dump_json())
    if key is not None:
        session.add(IdempotencyRecord(key=key, request_hash=request_hash, schedule_id=record.id))
    session.commit()
    return out


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


@router.post("/{site_id}/dispatch", status_code=status.HTTP_201_CREATED)
async def dispatch(
    site_id: SiteId,
    body: DispatchBody,
    session: SessionDep,
    settings: SettingsDep,
    slots: SlotsDep,
    response: Response,
    _: ApiKey,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)] = None,
) -> ScheduleOut:
    """Plans the site for a day or horizon. Always answers with a plan whose ``status`` says what it is."""
    site_spec = (await run_in_threadpool(load_site, session, site_id)).spec
    request_hash = _request_hash(site_id, body)
    if idempotency_key is not None:
        replay = await run_in_threadpool(_replay, session, idempotency_key, request_hash)
        if replay is not None:
            response.status_code = status.HTTP_200_OK
            response.headers["Idempotent-Replayed"] = "true"
            return replay
    # No database connection is held while solving (up to time limit + margin).
    await run_in_threadpool(session.close)
    options = _solve_options(body, settings)
    try:
        deadline_s = options.time_limit_s + settings.deadline_margin_s
        request_json = body.model_dump_json(exclude={"solver"})
        plan = await plan_off_loop(json.dumps(site_spec), request_json, options, deadline_s, slots)
    except SolverBusyError as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "all solver slots are busy; retry later",
            headers={"Retry-After": str(settings.retry_after_s)},
        ) from error
    except PlanInputError as error:
        # validating the stored site may import forecasting (pv_arrays): not on the event loop
        raise ProblemInputError(await run_in_threadpool(_details, site_spec, body, error)) from error
    except ProblemBuildError as error:
        detail = {"field": "site.assets", "message": f"no model can be built: {error}", "type": "value_error"}
        raise ProblemInputError([{**detail, "input": None}]) from error
    problem, result = plan.problem, plan.result
    try:
        return await run_in_threadpool(_store, session, site_id, problem, result, idempotency_key, request_hash)
    except IntegrityError:
        await run_in_threadpool(session.rollback)
        # A concurrent request with the same key stored its schedule first: answer with that one.
        replay = None
        if idempotency_key is not None:
            replay = await run_in_threadpool(_replay, session, idempotency_key, request_hash)
        if replay is None:
            await run_in_threadpool(load_site, session, site_id)  # 404 if the site was deleted during the solve
            raise
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
        return replay
