"""Stored schedules as JSON, CSV or the HTML report, and a list by site and date."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from api import repository
from api.auth import ApiKey
from api.deps import MAX_ID, ScheduleId, SessionDep
from api.plans import schedule_performance
from api.report import RendererMissingError, render_html
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
def read_schedule(schedule_id: ScheduleId, request: Request, session: SessionDep, _: ApiKey) -> Response:
    """The schedule as JSON (default), CSV (``Accept: text/csv``) or the HTML report (``Accept: text/html``)."""
    record = repository.get_schedule(session, schedule_id)
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
            return HTMLResponse(render_html(out.model_dump(mode="json"), actual))
        except RendererMissingError as error:
            raise HTTPException(
                status.HTTP_406_NOT_ACCEPTABLE,
                f"the HTML report is not available on this server ({error}); ask for application/json or text/csv",
            ) from error
    return JSONResponse(out.model_dump(mode="json"))


@router.get("", responses=error_responses(422))
def list_schedules(
    session: SessionDep,
    _: ApiKey,
    site_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this site's schedules.")] = None,
    date: Annotated[dt.date | None, Query(description="Only schedules of this local day (YYYY-MM-DD).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many, newest first.")] = 100,
) -> list[ScheduleSummary]:
    """Stored schedules, newest first, optionally for one site and one local date (YYYY-MM-DD)."""
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
        for r in repository.list_schedules(session, site_id, date, limit)
    ]
