"""Every database access of the service: sites, schedules with their rows, idempotency keys, meter readings (and the
log of their uploads), weather forecasts, the daily account of targets over longer periods.

Functions take a SQLAlchemy session and return rows; a missing row raises
:class:`NotFoundError` (the app answers 404). Nothing here knows HTTP or the optimiser.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.models import (
    AccountDayRecord,
    IdempotencyRecord,
    MeterSeriesRecord,
    ReadingRecord,
    ReadingUploadRecord,
    ScheduleRecord,
    ScheduleRowRecord,
    SiteRow,
    WeatherForecastRecord,
)


class NotFoundError(LookupError):
    """No ``what`` with this id."""

    def __init__(self, what: str, row_id: int | str) -> None:
        super().__init__(f"{what} {row_id} not found")


class IdempotencyConflictError(ValueError):
    """The key was already used with another request body."""


def ping(session: Session) -> None:
    """Raises when the database does not answer."""
    session.execute(text("SELECT 1"))


# --- sites -------------------------------------------------------------------------------------------------------


def get_site(session: Session, site_id: int) -> SiteRow:
    """Any tenant's site: for the services behind a route that checked the caller's tenant (:func:`tenant_site`,
    :mod:`api.tenancy`), and for jobs of the service itself."""
    row = session.get(SiteRow, site_id)
    if row is None:
        raise NotFoundError("site", site_id)
    return row


def tenant_site(session: Session, tenant_id: int, site_id: int) -> SiteRow:
    """The tenant's site; :class:`NotFoundError` when there is none or it is another tenant's (the same answer)."""
    row = session.get(SiteRow, site_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFoundError("site", site_id)
    return row


def list_sites(session: Session, tenant_id: int, after_id: int, limit: int) -> list[SiteRow]:
    """The tenant's sites by id, from the first id above ``after_id``, at most ``limit``."""
    query = (
        select(SiteRow).where(SiteRow.tenant_id == tenant_id, SiteRow.id > after_id).order_by(SiteRow.id).limit(limit)
    )
    return list(session.scalars(query))


def all_site_ids(session: Session) -> list[int]:
    """Every tenant's site ids: for jobs of the service itself (the morning weather fetch)."""
    return list(session.scalars(select(SiteRow.id).order_by(SiteRow.id)))


def add_site(session: Session, tenant_id: int, name: str, spec: dict[str, Any]) -> SiteRow:
    row = SiteRow(tenant_id=tenant_id, name=name, spec=spec)
    session.add(row)
    session.commit()
    return row


def replace_site(session: Session, tenant_id: int, site_id: int, name: str, spec: dict[str, Any]) -> SiteRow:
    row = tenant_site(session, tenant_id, site_id)
    row.name, row.spec = name, spec
    session.commit()
    return row


def delete_site(session: Session, tenant_id: int, site_id: int) -> None:
    session.delete(tenant_site(session, tenant_id, site_id))
    session.commit()


# --- schedules ---------------------------------------------------------------------------------------------------


def stored_response(session: Session, tenant_id: int, key: str, request_hash: str) -> dict[str, Any] | None:
    """The response stored under the tenant's idempotency key, None for a new key; :class:`IdempotencyConflictError`
    when the key came with another request."""
    record = session.get(IdempotencyRecord, (tenant_id, key))
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
    tenant_id: int,
    key: str | None,
    request_hash: str,
) -> dict[str, Any]:
    """Stores a schedule, all its rows, its response (``respond(record)``, once it has its id) and the tenant's
    idempotency key in one transaction; returns the response."""
    session.add(record)
    session.flush()
    session.add_all(
        ScheduleRowRecord(schedule_id=record.id, step=i, interval_start=r["interval_start"], values=r)
        for i, r in enumerate(rows)
    )
    record.response = respond(record)
    if key is not None:
        session.add(IdempotencyRecord(tenant_id=tenant_id, key=key, request_hash=request_hash, schedule_id=record.id))
    session.commit()
    return record.response


def plans_in_force(session: Session, site_id: int, start: dt.datetime, end: dt.datetime) -> list[ScheduleRecord]:
    """The site's plans that cover part of ``[start, end)``, oldest first: at each step the newest one that covers it
    is in force (a new plan supersedes the old from its start; earlier versions are kept)."""
    query = (
        select(ScheduleRecord)
        .where(
            ScheduleRecord.site_id == site_id,
            ScheduleRecord.horizon_end.is_not(None),
            ScheduleRecord.horizon_start < end,
            ScheduleRecord.horizon_end > start,
        )
        .order_by(ScheduleRecord.id)
    )
    return list(session.scalars(query))


def get_schedule(session: Session, tenant_id: int, schedule_id: int) -> ScheduleRecord:
    """A schedule of one of the tenant's sites; :class:`NotFoundError` for none and for another tenant's."""
    query = (
        select(ScheduleRecord)
        .join(SiteRow, SiteRow.id == ScheduleRecord.site_id)
        .where(ScheduleRecord.id == schedule_id, SiteRow.tenant_id == tenant_id)
    )
    record = session.scalars(query).first()
    if record is None:
        raise NotFoundError("schedule", schedule_id)
    return record


def list_schedules(
    session: Session, tenant_id: int, site_id: int | None, date: dt.date | None, before_id: int | None, limit: int
) -> list[ScheduleRecord]:
    """The tenant's schedules, newest first (ids below ``before_id`` when given), optionally one site's and one
    local day's."""
    query = (
        select(ScheduleRecord)
        .join(SiteRow, SiteRow.id == ScheduleRecord.site_id)
        .where(SiteRow.tenant_id == tenant_id)
        .order_by(ScheduleRecord.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(ScheduleRecord.id < before_id)
    if site_id is not None:
        query = query.where(ScheduleRecord.site_id == site_id)
    if date is not None:
        query = query.where(ScheduleRecord.local_date == date.isoformat())
    return list(session.scalars(query))


# --- meter readings ----------------------------------------------------------------------------------------------


def meter_series(session: Session, site_id: int) -> list[MeterSeriesRecord]:
    return list(session.scalars(select(MeterSeriesRecord).where(MeterSeriesRecord.site_id == site_id)))


def upsert_readings(
    session: Session,
    site_id: int,
    declare: dict[str, tuple[str, str]],
    rows: list[tuple[str, dt.datetime, float]],
) -> int:
    """Writes ``rows`` (series, UTC time, value) in one transaction: series named in ``declare`` (kind, unit) are
    created when new; an existing (series, time) gets the new value; the batch is logged (when it arrived, the
    time range of each series) so that days closed in the account before it are closed again. Committed before
    returning."""
    try:
        ids = {s.name: s.id for s in meter_series(session, site_id)}
        for name, (kind, unit) in declare.items():
            if name not in ids:
                record = MeterSeriesRecord(site_id=site_id, name=name, kind=kind, unit=unit)
                session.add(record)
                session.flush()
                ids[name] = record.id
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(ReadingRecord)
        statement = statement.on_conflict_do_update(
            index_elements=[ReadingRecord.series_id, ReadingRecord.time], set_={"value": statement.excluded.value}
        )
        values = [{"series_id": ids[name], "time": time, "value": value} for name, time, value in rows]
        if values:
            session.execute(statement, values)  # one prepared statement, executemany
            session.add(ReadingUploadRecord(site_id=site_id, n_readings=len(rows), ranges=_series_ranges(rows)))
        session.commit()
    except Exception:
        session.rollback()
        raise
    return len(rows)


def _series_ranges(rows: list[tuple[str, dt.datetime, float]]) -> dict[str, list[str]]:
    """Series name -> [first, last] time of its rows (ISO 8601, UTC)."""
    ranges: dict[str, list[dt.datetime]] = {}
    for name, time, _ in rows:
        seen = ranges.setdefault(name, [time, time])
        seen[0], seen[1] = min(seen[0], time), max(seen[1], time)
    return {name: [t.astimezone(dt.UTC).isoformat() for t in times] for name, times in ranges.items()}


def last_upload_id(session: Session, site_id: int) -> int:
    """The id of the site's newest reading upload (0 without any): the account's mark of what it has seen."""
    query = select(func.max(ReadingUploadRecord.id)).where(ReadingUploadRecord.site_id == site_id)
    return int(session.execute(query).scalar() or 0)


def uploads_after(session: Session, site_id: int, after_id: int) -> list[ReadingUploadRecord]:
    """The site's reading uploads with an id above ``after_id``, oldest first."""
    query = (
        select(ReadingUploadRecord)
        .where(ReadingUploadRecord.site_id == site_id, ReadingUploadRecord.id > after_id)
        .order_by(ReadingUploadRecord.id)
    )
    return list(session.scalars(query))


def readings(
    session: Session, site_id: int, names: list[str] | None, start: dt.datetime, end: dt.datetime
) -> list[tuple[str, dt.datetime, float]]:
    """(series, time, value) of a site's readings in ``[start, end)``, by series then time (the primary key)."""
    query = (
        select(MeterSeriesRecord.name, ReadingRecord.time, ReadingRecord.value)
        .join(ReadingRecord, ReadingRecord.series_id == MeterSeriesRecord.id)
        .where(MeterSeriesRecord.site_id == site_id, ReadingRecord.time >= start, ReadingRecord.time < end)
        .order_by(MeterSeriesRecord.name, ReadingRecord.time)
    )
    if names is not None:
        query = query.where(MeterSeriesRecord.name.in_(names))
    return [(name, time, value) for name, time, value in session.execute(query)]


def latest_reading_before(
    session: Session, site_id: int, name: str, at: dt.datetime
) -> tuple[dt.datetime, float] | None:
    """The last reading of one series at or before ``at`` (time, value)."""
    query = (
        select(ReadingRecord.time, ReadingRecord.value)
        .join(MeterSeriesRecord, ReadingRecord.series_id == MeterSeriesRecord.id)
        .where(MeterSeriesRecord.site_id == site_id, MeterSeriesRecord.name == name, ReadingRecord.time <= at)
        .order_by(ReadingRecord.time.desc())
        .limit(1)
    )
    row = session.execute(query).first()
    return None if row is None else (row[0], row[1])


def reading_counts(
    session: Session, site_id: int
) -> list[tuple[str, str, str, int, dt.datetime | None, dt.datetime | None]]:
    """Per series of a site: name, kind, unit, number of readings, first and last time."""
    query = (
        select(
            MeterSeriesRecord.name,
            MeterSeriesRecord.kind,
            MeterSeriesRecord.unit,
            func.count(ReadingRecord.time),
            func.min(ReadingRecord.time),
            func.max(ReadingRecord.time),
        )
        .outerjoin(ReadingRecord, ReadingRecord.series_id == MeterSeriesRecord.id)
        .where(MeterSeriesRecord.site_id == site_id)
        .group_by(MeterSeriesRecord.id)
        .order_by(MeterSeriesRecord.name)
    )
    return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]


# --- weather forecasts -------------------------------------------------------------------------------------------


def add_weather(session: Session, record: WeatherForecastRecord) -> WeatherForecastRecord:
    session.add(record)
    session.commit()
    return record


def latest_weather(
    session: Session, site_id: int, issued_by: dt.datetime, covering: tuple[dt.datetime, dt.datetime]
) -> WeatherForecastRecord | None:
    """The most recently issued forecast of a site issued at or before ``issued_by`` that covers the period."""
    start, end = covering
    query = (
        select(WeatherForecastRecord)
        .where(
            WeatherForecastRecord.site_id == site_id,
            WeatherForecastRecord.issued_at <= issued_by,
            WeatherForecastRecord.valid_from <= start,
            WeatherForecastRecord.valid_until >= end,
        )
        .order_by(WeatherForecastRecord.issued_at.desc(), WeatherForecastRecord.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def list_weather(session: Session, site_id: int, after_id: int | None, limit: int) -> list[WeatherForecastRecord]:
    """The site's forecasts, newest issue first; with ``after_id`` (a forecast of the site), those after it in that
    order."""
    query = (
        select(WeatherForecastRecord)
        .where(WeatherForecastRecord.site_id == site_id)
        .order_by(WeatherForecastRecord.issued_at.desc(), WeatherForecastRecord.id.desc())
        .limit(limit)
    )
    if after_id is not None:
        seen = session.get(WeatherForecastRecord, after_id)
        if seen is None or seen.site_id != site_id:
            return []
        query = query.where(
            or_(
                WeatherForecastRecord.issued_at < seen.issued_at,
                and_(WeatherForecastRecord.issued_at == seen.issued_at, WeatherForecastRecord.id < seen.id),
            )
        )
    return list(session.scalars(query))


# --- the daily account -------------------------------------------------------------------------------------------


def account_days(session: Session, site_id: int, first: dt.date, last: dt.date) -> list[AccountDayRecord]:
    """The latest row of each of the site's local days ``first``..``last`` (inclusive), by day: the account is
    append-only, a day closed again has several rows and the one with the highest id counts."""
    query = (
        select(AccountDayRecord)
        .where(AccountDayRecord.site_id == site_id, AccountDayRecord.day >= first, AccountDayRecord.day <= last)
        .order_by(AccountDayRecord.day, AccountDayRecord.id)
    )
    latest: dict[dt.date, AccountDayRecord] = {}
    for record in session.scalars(query):
        latest[record.day] = record
    return list(latest.values())


def add_account_days(session: Session, records: list[AccountDayRecord]) -> None:
    """Appends closed days to the account in one transaction (rows are never updated)."""
    try:
        session.add_all(records)
        session.commit()
    except Exception:
        session.rollback()
        raise
