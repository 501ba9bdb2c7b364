"""``/v1/sites/{id}/readings``: meter readings in bulk (JSON or CSV), read back by range (JSON or CSV)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, TypeAdapter, ValidationError

from api import readings as service
from api import repository
from api.deps import RangeEnd, RangeStart, SessionDep, check_range
from api.errors import ProblemInputError
from api.schemas import error_responses, inline_json_schema
from api.tenancy import TenantSiteId

router = APIRouter(prefix="/v1/sites", tags=["readings"], responses=error_responses(404, 422))
READINGS_JSON = TypeAdapter(list[service.ReadingOut])

MAX_RANGE_DAYS = 400
"""Longest range one read returns (a year of 15-minute readings of one series is 35,040 rows)."""

UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": inline_json_schema(service.ReadingsUpload)},
            "text/csv": {
                "schema": {"type": "string"},
                "example": "series,time,value,kind\nprocess_load,2026-07-14T10:00:00+08:00,812.5,power\n",
            },
        },
    }
}


class SeriesSummary(BaseModel):
    series: str
    kind: str
    unit: str
    readings: int
    first: dt.datetime | None
    last: dt.datetime | None


@router.post(
    "/{site_id}/readings",
    status_code=status.HTTP_200_OK,
    openapi_extra=UPLOAD_DOC,
    responses=error_responses(
        413, 422, descriptions={422: "Bad rows, each named (row and field); nothing was written."}
    ),
)
async def upload_readings(site_id: TenantSiteId, request: Request, session: SessionDep) -> service.ReadingsStored:
    """Stores a batch of readings, all or nothing, committed before the answer (JSON body, or ``text/csv`` with
    columns ``series,time,value[,kind]``). Sending the same batch again changes nothing."""
    body = await request.body()
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if content_type in ("text/csv", "application/csv"):
        upload = await run_in_threadpool(service.parse_csv, _text(body))
        where: Literal["json", "csv"] = "csv"
    else:
        try:
            upload = service.ReadingsUpload.model_validate_json(body)
        except ValidationError as error:
            raise ProblemInputError.from_exception(error) from error
        where = "json"
    return await run_in_threadpool(service.store_batch, session, site_id, upload, where)


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        detail = {"field": "body", "message": "the CSV is not UTF-8", "type": "csv", "input": None}
        raise ProblemInputError([detail]) from error


@router.get(
    "/{site_id}/readings",
    response_model=list[service.ReadingOut],
    responses={200: {"content": {"text/csv": {}}}},
)
def read_readings(
    site_id: TenantSiteId,
    session: SessionDep,
    start: RangeStart,
    end: RangeEnd,
    series: Annotated[list[str] | None, Query(description="Series names; all when not given.")] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    """Readings as sent (times in UTC), by series then time."""
    check_range(start, end, MAX_RANGE_DAYS)
    rows = service.read_range(session, site_id, series, start, end)
    if format == "json":  # serialised by pydantic at once (FastAPI's generic encoder is 10x slower on a year)
        return Response(READINGS_JSON.dump_json(rows), media_type="application/json")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["series", "time", "value"])
    writer.writerows((r.series, r.time.isoformat(), repr(r.value)) for r in rows)
    return Response(out.getvalue(), media_type="text/csv")


@router.get("/{site_id}/readings/series")
def list_series(site_id: TenantSiteId, session: SessionDep) -> list[SeriesSummary]:
    """The site's reading series: kind, unit, how many readings, first and last."""
    repository.get_site(session, site_id)
    return [
        SeriesSummary(series=n, kind=k, unit=u, readings=c, first=f, last=la)
        for n, k, u, c, f, la in repository.reading_counts(session, site_id)
    ]
