"""Every database access of the service: sites, schedules with their rows, idempotency keys.

Functions take a SQLAlchemy session and return rows; a missing row raises
:class:`NotFoundError` (the app answers 404). Nothing here knows HTTP or the optimiser.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.models import IdempotencyRecord, ScheduleRecord, ScheduleRowRecord, SiteRow


class NotFoundError(LookupError):
    """No ``what`` with this id."""

    def __init__(self, what: str, row_id: int) -> None:
        super().__init__(f"{what} {row_id} not found")


class IdempotencyConflictError(ValueError):
    """The key was already used with another request body."""


def ping(session: Session) -> None:
    """Raises when the database does not answer."""
    session.execute(text("SELECT 1"))


# --- sites -------------------------------------------------------------------------------------------------------


def get_site(session: Session, site_id: int) -> SiteRow:
    row = session.get(SiteRow, site_id)
    if row is None:
        raise NotFoundError("site", site_id)
    return row


def list_sites(session: Session) -> list[SiteRow]:
    return list(session.scalars(select(SiteRow).order_by(SiteRow.id)))


def add_site(session: Session, name: str, spec: dict[str, Any]) -> SiteRow:
    row = SiteRow(name=name, spec=spec)
    session.add(row)
    session.commit()
    return row


def replace_site(session: Session, site_id: int, name: str, spec: dict[str, Any]) -> SiteRow:
    row = get_site(session, site_id)
    row.name, row.spec = name, spec
    session.commit()
    return row


def delete_site(session: Session, site_id: int) -> None:
    session.delete(get_site(session, site_id))
    session.commit()


# --- schedules ---------------------------------------------------------------------------------------------------


def stored_response(session: Session, key: str, request_hash: str) -> dict[str, Any] | None:
    """The response stored under an idempotency key, None for a new key; :class:`IdempotencyConflictError` when the
    key came with another request."""
    record = session.get(IdempotencyRecord, key)
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise IdempotencyConflictError(key)
    schedule = session.get(ScheduleRecord, record.schedule_id)
    assert schedule is not None
    return schedule.response


def add_schedule(
    session: Session,
    record: ScheduleRecord,
    rows: list[dict[str, Any]],
    respond: Callable[[ScheduleRecord], dict[str, Any]],
    key: str | None,
    request_hash: str,
) -> dict[str, Any]:
    """Stores a schedule, all its rows, its response (``respond(record)``, once it has its id) and the idempotency
    key in one transaction; returns the response."""
    session.add(record)
    session.flush()
    session.add_all(
        ScheduleRowRecord(schedule_id=record.id, step=i, interval_start=r["interval_start"], values=r)
        for i, r in enumerate(rows)
    )
    record.response = respond(record)
    if key is not None:
        session.add(IdempotencyRecord(key=key, request_hash=request_hash, schedule_id=record.id))
    session.commit()
    return record.response


def get_schedule(session: Session, schedule_id: int) -> ScheduleRecord:
    record = session.get(ScheduleRecord, schedule_id)
    if record is None:
        raise NotFoundError("schedule", schedule_id)
    return record


def list_schedules(session: Session, site_id: int | None, date: dt.date | None, limit: int) -> list[ScheduleRecord]:
    """Newest first, optionally one site's and one local day's."""
    query = select(ScheduleRecord).order_by(ScheduleRecord.id.desc()).limit(limit)
    if site_id is not None:
        query = query.where(ScheduleRecord.site_id == site_id)
    if date is not None:
        query = query.where(ScheduleRecord.local_date == date.isoformat())
    return list(session.scalars(query))
