"""Stored schedules as JSON, CSV or the HTML report, and a list by site and date."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from sqlalchemy import select

from api.auth import ApiKey
from api.deps import SessionDep
from api.models import ScheduleRecord
from api.schemas import ScheduleOut, ScheduleSummary

router = APIRouter(prefix="/v1/schedules", tags=["schedules"])


def _load(session: SessionDep, schedule_id: int) -> ScheduleRecord:
    record = session.get(ScheduleRecord, schedule_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"schedule {schedule_id} not found")
    return record


def _csv(out: ScheduleOut) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["interval_start", *out.columns], lineterminator="\n")
    writer.writeheader()
    writer.writerows(out.schedule)
    return buffer.getvalue()


@router.get(
    "/{schedule_id}",
    response_model=ScheduleOut,
    responses={200: {"content": {"text/csv": {}, "text/html": {}}}},
)
def read_schedule(schedule_id: int, request: Request, session: SessionDep, _: ApiKey) -> Response:
    """The schedule as JSON (default), CSV (``Accept: text/csv``) or the HTML report (``Accept: text/html``)."""
    out = ScheduleOut.model_validate(_load(session, schedule_id).response)
    accept = request.headers.get("accept", "application/json")
    if "text/csv" in accept:
        return PlainTextResponse(_csv(out), media_type="text/csv")
    if "text/html" in accept:
        from scenarios.report_html import render_stored_schedule_html

        return HTMLResponse(render_stored_schedule_html(out.model_dump(mode="json")))
    return JSONResponse(out.model_dump(mode="json"))


@router.get("")
def list_schedules(
    session: SessionDep, _: ApiKey, site_id: int | None = None, date: str | None = None, limit: int = 100
) -> list[ScheduleSummary]:
    """Stored schedules, newest first, optionally for one site and one local date (YYYY-MM-DD)."""
    query = select(ScheduleRecord).order_by(ScheduleRecord.id.desc()).limit(max(1, min(limit, 1000)))
    if site_id is not None:
        query = query.where(ScheduleRecord.site_id == site_id)
    if date is not None:
        query = query.where(ScheduleRecord.local_date == date)
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
        for r in session.scalars(query)
    ]
