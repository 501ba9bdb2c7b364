"""Tables: sites, schedules with their rows and provenance, idempotency keys."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A tz-aware timestamp stored in UTC and read back tz-aware (SQLite keeps no offset; PostgreSQL does)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive timestamp {value!r} cannot be stored; give a time zone")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class SiteRow(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_now, onupdate=_now)


class ScheduleRecord(Base):
    """A stored schedule: status, KPIs, solver report and provenance; its rows are in ``schedule_rows``."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    horizon_start: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
    local_date: Mapped[str] = mapped_column(String(10), index=True)
    n_steps: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    gap: Mapped[float | None] = mapped_column(Float, nullable=True)
    input_hash: Mapped[str] = mapped_column(String(64))
    product_version: Mapped[str] = mapped_column(String(40))
    solver_version: Mapped[str] = mapped_column(String(40))
    response: Mapped[dict] = mapped_column(JSON)
    violations: Mapped[list] = mapped_column(JSON)
    horizon_end: Mapped[dt.datetime | None] = mapped_column(
        UtcDateTime(),
        nullable=True,
        doc="End of the last step: the plan is in force on [horizon_start, horizon_end) "
        "until a newer plan of the site starts.",
    )
    plan_kind: Mapped[str | None] = mapped_column(String(20), nullable=True, doc="day-ahead | intraday | horizon")
    problem: Mapped[dict | None] = mapped_column(
        JSON, nullable=True, doc="The DispatchProblem solved (JSON): the input behind input_hash, for the report."
    )
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_now)
    rows: Mapped[list[ScheduleRowRecord]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan", order_by="ScheduleRowRecord.step"
    )


class ScheduleRowRecord(Base):
    """One step of a schedule: every setpoint of that interval, keyed by column name."""

    __tablename__ = "schedule_rows"
    __table_args__ = (UniqueConstraint("schedule_id", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    interval_start: Mapped[str] = mapped_column(String(40))
    values: Mapped[dict] = mapped_column(JSON)
    schedule: Mapped[ScheduleRecord] = relationship(back_populates="rows")


class MeterSeriesRecord(Base):
    """A site's reading series: its name (see :mod:`scenarios.meters`) and what its values are, fixed at the first
    upload."""

    __tablename__ = "meter_series"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), doc="power | energy | register | state")
    unit: Mapped[str] = mapped_column(String(20))


class ReadingRecord(Base):
    """One reading as sent. The primary key (series, time) is the index of every range read: a series belongs to one
    site, so it is the (site, series, time) index; no surrogate id keeps a year of 15-minute rows small."""

    __tablename__ = "readings"
    __table_args__ = ({"sqlite_with_rowid": False},)  # SQLite: the rows are the primary-key B-tree, no 2nd index

    series_id: Mapped[int] = mapped_column(ForeignKey("meter_series.id", ondelete="CASCADE"), primary_key=True)
    time: Mapped[dt.datetime] = mapped_column(UtcDateTime(), primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class WeatherForecastRecord(Base):
    """A weather forecast for a site, in Open-Meteo's JSON shape, with the time it was issued."""

    __tablename__ = "weather_forecasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
    valid_from: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    valid_until: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    source: Mapped[str] = mapped_column(String(400), doc="upload:json, upload:csv or the URL it was read from")
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_now)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_now)


__all__ = [
    "IdempotencyRecord",
    "MeterSeriesRecord",
    "ReadingRecord",
    "ScheduleRecord",
    "ScheduleRowRecord",
    "SiteRow",
    "Text",
    "WeatherForecastRecord",
]
