"""``POST /v1/sites/{id}/dispatch``: a day-ahead or intraday schedule, always a plan, never lost."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError

from api import dispatch_service, repository
from api.auth import ExpensiveCall
from api.deps import SessionDep, SettingsDep, SlotsDep
from api.schemas import DispatchBody, ScheduleOut, error_responses
from api.tenancy import TenantSiteId

router = APIRouter(prefix="/v1/sites", tags=["dispatch"])

REPLAYED = {
    "model": ScheduleOut,
    "description": "The schedule stored earlier under this Idempotency-Key (nothing was solved).",
    "headers": {"Idempotent-Replayed": {"description": "true", "schema": {"type": "string"}}},
}


@router.post(
    "/{site_id}/dispatch",
    status_code=status.HTTP_201_CREATED,
    response_description="The new plan, stored.",
    responses={200: REPLAYED, **error_responses(404, 413, 422, 503)},
)
async def dispatch(
    site_id: TenantSiteId,
    caller: ExpensiveCall,
    body: DispatchBody,
    session: SessionDep,
    settings: SettingsDep,
    slots: SlotsDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)] = None,
) -> ScheduleOut:
    """Plans the site for a day (``date``), the rest of a day (``from``: an intraday re-plan) or a horizon. What the
    request leaves open comes from the service's data: PV by pvlib from the latest weather forecast, loads by the
    load model from the readings, initial states from the latest readings or the plan in force (``sources`` says
    which). Always answers with a plan whose ``status`` says what it is.

    An Idempotency-Key is the tenant's: the same key string from another tenant is another key."""
    site_spec = (await run_in_threadpool(repository.get_site, session, site_id)).spec
    request_hash = dispatch_service.request_hash(site_id, body)
    if idempotency_key is not None:
        replay = await run_in_threadpool(
            dispatch_service.replay, session, caller.tenant_id, idempotency_key, request_hash
        )
        if replay is not None:
            return _replayed(response, replay)
    filled, sources = await run_in_threadpool(dispatch_service.fill, session, site_id, site_spec, body, settings)
    # No database connection is held while solving (up to time limit + margin).
    await run_in_threadpool(session.close)
    planned = await dispatch_service.plan(site_spec, filled, settings, slots)
    store = (session, site_id, planned, caller.tenant_id, idempotency_key, request_hash, body.plan_kind, sources)
    try:
        return await run_in_threadpool(dispatch_service.store, *store)
    except IntegrityError:
        await run_in_threadpool(session.rollback)
        # A concurrent request with the same key stored its schedule first: answer with that one.
        replay = None
        if idempotency_key is not None:
            replay = await run_in_threadpool(
                dispatch_service.replay, session, caller.tenant_id, idempotency_key, request_hash
            )
        if replay is None:
            await run_in_threadpool(repository.get_site, session, site_id)  # 404 if the site went during the solve
            raise
        return _replayed(response, replay)


def _replayed(response: Response, replay: ScheduleOut) -> ScheduleOut:
    response.status_code = status.HTTP_200_OK
    response.headers["Idempotent-Replayed"] = "true"
    return replay
