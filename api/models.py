"""Tables: sites, schedules with their rows and provenance, idempotency keys."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SiteRow(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)


class ScheduleRecord(Base):
    """A stored schedule: status, KPIs, solver report and provenance; its rows are in ``schedule_rows``."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    horizon_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    local_date: Mapped[str] = mapped_column(String(10), index=True)
    n_steps: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    gap: Mapped[float | None] = mapped_column(Float, nullable=True)
    input_hash: Mapped[str] = mapped_column(String(64))
    product_version: Mapped[str] = mapped_column(String(40))
    solver_version: Mapped[str] = mapped_column(String(40))
    response: Mapped[dict] = mapped_column(JSON)
    violations: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
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


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


__all__ = ["IdempotencyRecord", "ScheduleRecord", "ScheduleRowRecord", "SiteRow", "Text"]
