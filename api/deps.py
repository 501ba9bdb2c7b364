"""Short dependency aliases for routes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from pydantic import AfterValidator, AwareDatetime
from sqlalchemy.orm import Session

from api.errors import ProblemInputError
from api.settings import Settings
from api.solver_process import SolveSlots


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_slots(request: Request) -> SolveSlots:
    return request.app.state.slots


MAX_ID = 2**31 - 1
"""Largest id an ``Integer`` column holds on both databases (PostgreSQL's is 4 bytes, SQLite's 8): larger ids are
refused with 422, not passed to the driver (PostgreSQL would fail the query: "integer out of range", a 500)."""

EARLIEST_TIME = dt.datetime(1900, 1, 2, tzinfo=dt.UTC)
LATEST_TIME = dt.datetime(2199, 12, 31, tzinfo=dt.UTC)


def in_service_range(value: dt.datetime) -> dt.datetime:
    """A time the database and the time axis hold safely in every zone (1900-2199)."""
    if not EARLIEST_TIME <= value <= LATEST_TIME:
        raise ValueError(f"must be between {EARLIEST_TIME.date()} and {LATEST_TIME.date()}")
    return value


ServiceTime = Annotated[AwareDatetime, AfterValidator(in_service_range)]
"""A tz-aware time between 1900 and 2199 (query parameters: ranges, issue times)."""

RangeStart = Annotated[ServiceTime, Query(description="From (inclusive), with a UTC offset.")]
RangeEnd = Annotated[ServiceTime, Query(description="Until (exclusive), with a UTC offset.")]

SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SlotsDep = Annotated[SolveSlots, Depends(get_slots)]
SiteId = Annotated[int, Path(ge=1, le=MAX_ID, description="Site id.")]
ScheduleId = Annotated[int, Path(ge=1, le=MAX_ID, description="Schedule id.")]


def check_range(start: dt.datetime, end: dt.datetime, max_days: int) -> None:
    """422 on an empty or too long query range."""
    if end <= start:
        raise ProblemInputError([{"field": "query.end", "message": "must be after start", "type": "value_error"}])
    if (end - start).total_seconds() > max_days * 86400:
        message = f"at most {max_days} days per call"
        raise ProblemInputError([{"field": "query.end", "message": message, "type": "value_error"}])
