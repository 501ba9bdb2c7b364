"""``/v1/sites/{id}/weather``: weather forecasts (Open-Meteo JSON or CSV) with their issue time."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api import repository
from api import weather as service
from api.deps import ServiceTime, SessionDep, SettingsDep
from api.models import WeatherForecastRecord
from api.pagination import PAGED_RESPONSE, PageCursor, page
from api.schemas import error_responses
from api.tenancy import TenantSiteId

router = APIRouter(prefix="/v1/sites", tags=["weather"], responses=error_responses(404, 422))

UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "description": "Open-Meteo /v1/forecast response (hourly or minutely_15)."}
            },
            "text/csv": {
                "schema": {"type": "string"},
                "example": "time,ghi_w_m2,temp_air_c\n2026-07-15T00:00:00+08:00,0,22.5\n",
            },
        },
    }
}


class WeatherOut(BaseModel):
    weather_id: int
    site_id: int
    issued_at: dt.datetime
    valid_from: dt.datetime
    valid_until: dt.datetime
    source: str


def _out(record: WeatherForecastRecord) -> WeatherOut:
    return WeatherOut(
        weather_id=record.id,
        site_id=record.site_id,
        issued_at=record.issued_at,
        valid_from=record.valid_from,
        valid_until=record.valid_until,
        source=record.source,
    )


@router.post(
    "/{site_id}/weather",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=UPLOAD_DOC,
    responses=error_responses(413),
)
async def upload_weather(
    site_id: TenantSiteId,
    request: Request,
    session: SessionDep,
    issued_at: Annotated[ServiceTime | None, Query(description="When the forecast was issued; default now.")] = None,
) -> WeatherOut:
    """Stores a forecast. Plans use the latest one issued before they are made that covers their day."""
    body = await request.body()
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    record = await run_in_threadpool(service.store_upload, session, site_id, body, content_type, issued_at)
    return _out(record)


@router.post(
    "/{site_id}/weather/fetch",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        409, 422, 502, descriptions={422: "Not a valid site id, or the site has no latitude/longitude."}
    ),
)
async def fetch_weather(site_id: TenantSiteId, session: SessionDep, settings: SettingsDep) -> WeatherOut:
    """Reads the site's forecast now from the configured URL (``DISPATCH_WEATHER_URL``)."""
    if not settings.weather_url:
        raise HTTPException(status.HTTP_409_CONFLICT, "no weather URL is configured (DISPATCH_WEATHER_URL)")
    try:
        record = await run_in_threadpool(service.fetch, session, site_id, settings.weather_url)
    except service.WeatherSourceError as error:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, str(error)) from error
    return _out(record)


@router.get("/{site_id}/weather", responses=PAGED_RESPONSE)
def list_weather(
    site_id: TenantSiteId,
    request: Request,
    response: Response,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500, description="Forecasts per page (at most 500).")] = 20,
    cursor: PageCursor = None,
) -> list[WeatherOut]:
    """Stored forecasts, newest issue first, a page at a time (the next page's URL in the ``Link`` header)."""
    rows = repository.list_weather(session, site_id, cursor, limit + 1)
    return [_out(r) for r in page(rows, limit, request, response, lambda r: r.id)]
