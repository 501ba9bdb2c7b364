"""Stored schedules (of the caller's tenant's sites) as JSON, CSV or the HTML report, and a list by site and date."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from api import repository
from api.auth import ApiKey
from api.deps import MAX_ID, ScheduleId, SessionDep
from api.pagination import PAGED_RESPONSE, PageCursor, PageLimit, page
from api.plans import schedule_performance
from api.report import RendererMissingError, report_response
from api.schemas import ScheduleOut, ScheduleSummary, error_responses

router = APIRouter(prefix="/v1/schedules", tags=["schedules"])


def _csv(out: ScheduleOut) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["interval_start", *out.columns], lineterminator="\n")
    writer.writeheader()
    writer.writerows(out.schedule)
    return buffer.getvalue()


@router.get(
    "/{schedule_id}",
    response_model=ScheduleOut,
    responses={
        200: {"content": {"text/csv": {}, "text/html": {}}},
        **error_responses(404, 406, 422),
    },
)
def read_schedule(schedule_id: ScheduleId, request: Request, session: SessionDep, caller: ApiKey) -> Response:
    """The schedule as JSON (default), CSV (``Accept: text/csv``) or the HTML report (``Accept: text/html``)."""
    record = repository.get_schedule(session, caller.tenant_id, schedule_id)
    out = ScheduleOut.model_validate(record.response)
    accept = request.headers.get("accept", "application/json")
    if "text/csv" in accept:
        return PlainTextResponse(
            _csv(out),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="schedule-{schedule_id}.csv"'},
        )
    if "text/html" in accept:
        try:
            actual = schedule_performance(session, record) if record.horizon_end is not None else None
            return report_response(request, out.model_dump(mode="json"), actual)
        except RendererMissingError as error:
            raise HTTPException(
                status.HTTP_406_NOT_ACCEPTABLE,
                f"the HTML report is not available on this server ({error}); ask for application/json or text/csv",
            ) from error
    return JSONResponse(out.model_dump(mode="json"))


@router.get("", responses={**PAGED_RESPONSE, **error_responses(422)})
def list_schedules(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: ApiKey,
    site_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this site's schedules.")] = None,
    date: Annotated[dt.date | None, Query(description="Only schedules of this local day (YYYY-MM-DD).")] = None,
    limit: PageLimit = 100,
    cursor: PageCursor = None,
) -> list[ScheduleSummary]:
    """The tenant's stored schedules, newest first, optionally for one site and one local date (YYYY-MM-DD), a page
    at a time (the next page's URL in the ``Link`` header). Another tenant's site has no schedules here."""
    rows = repository.list_schedules(session, caller.tenant_id, site_id, date, cursor, limit + 1)
    return [
        ScheduleSummary(
            schedule_id=r.id,
            site_id=r.site_id,
            local_date=r.local_date,
            horizon_start=r.horizon_start,
            n_steps=r.n_steps,
            status=r.status,  # type: ignore[arg-type]
            created_at=r.created_at,
        )
        for r in page(rows, limit, request, response, lambda r: r.id)
    ]
