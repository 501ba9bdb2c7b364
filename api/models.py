"""Tables: tenants and their API keys (stored hashed), sites (each a tenant's), schedules with their rows and
provenance, idempotency keys (per tenant), meter series and readings with the record of their uploads, weather
forecasts, and the daily account of targets over longer periods.

Everything below a site (schedules, readings, weather, account days) is the site's tenant's through the site."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
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


class TenantRecord(Base):
    """A customer of the service: its sites, their data and its idempotency keys are invisible to other tenants."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_now)


class ApiKeyRecord(Base):
    """An API key of a tenant. Only the SHA-256 of the key is stored (keys are long random tokens, so a fast hash
    is enough), with a short prefix to recognise it by; a revoked key is kept, with the time it was revoked."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), doc="The key's first characters, shown in lists.")
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True, doc="SHA-256 of the whole key, hex.")
    label: Mapped[str] = mapped_column(String(200), default="")
    origin: Mapped[str] = mapped_column(
        String(20), doc="settings (DISPATCH_API_KEYS: revoked when no longer configured) | api | cli"
    )
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(
        UtcDateTime(), nullable=True, doc="Last accepted request, to the minute (not written on every request)."
    )


class SiteRow(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
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


class ReadingUploadRecord(Base):
    """One batch of readings as it arrived: when, and per series the first and last reading time in it.

    Readings are upserted on (series, time) and keep no arrival time of their own (a year of 15-minute rows stays
    small); the daily account (:class:`AccountDayRecord`) reads this log to find days whose readings arrived after
    the day was closed. Append-only; one row per accepted batch."""

    __tablename__ = "reading_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_now)
    n_readings: Mapped[int] = mapped_column(Integer)
    ranges: Mapped[dict] = mapped_column(
        JSON, doc="Series name -> [first, last] reading time in the batch (ISO 8601, UTC), both inclusive."
    )


class AccountDayRecord(Base):
    """One local day of a site's account: what the day counted towards targets and contract volumes that hold over
    a month, a year or a date range (see :class:`scenarios.ems_data.AccountDay`).

    Append-only: a day closed again (its readings arrived after it was closed) gets a new row; the row with the
    highest id of a day counts. Rows go only with their site."""

    __tablename__ = "account_days"
    __table_args__ = (Index("ix_account_days_site_day", "site_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date, doc="The site's local date.")
    pv_available_kwh: Mapped[float] = mapped_column(Float)
    pv_output_kwh: Mapped[float] = mapped_column(Float)
    import_kwh: Mapped[float] = mapped_column(Float)
    export_kwh: Mapped[float] = mapped_column(Float)
    green_kwh: Mapped[float] = mapped_column(Float, doc="Green-contract purchases, as the plan in force had them.")
    contracts_kwh: Mapped[dict] = mapped_column(JSON, doc="Contract asset name -> kWh taken (the plan in force).")
    emissions_location_kgco2: Mapped[float] = mapped_column(Float)
    emissions_market_kgco2: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(10), doc="readings | plan | mixed: where PV, import, export came from")
    detail: Mapped[str] = mapped_column(Text, default="")
    uploads_seen: Mapped[int] = mapped_column(
        Integer, doc="The newest reading upload (reading_uploads.id) of the site when the day's data was read."
    )
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_now)
    gas_nm3: Mapped[float | None] = mapped_column(
        Float, nullable=True, doc="Natural gas burnt [Nm3] (readings, the plan in force where none); null: not kept."
    )
    purchased_heat_gj: Mapped[float | None] = mapped_column(
        Float, nullable=True, doc="Purchased heat [GJ] (readings, the plan in force where none); null: not kept."
    )
    fuel_source: Mapped[str | None] = mapped_column(
        String(10), nullable=True, doc="readings | plan | mixed: where gas and heat came from; null: no fuel."
    )


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
    """An Idempotency-Key of a tenant and the schedule its first request stored: the same key string sent by
    another tenant is another key."""

    __tablename__ = "idempotency_keys"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_now)


__all__ = [
    "AccountDayRecord",
    "ApiKeyRecord",
    "IdempotencyRecord",
    "MeterSeriesRecord",
    "ReadingRecord",
    "ReadingUploadRecord",
    "ScheduleRecord",
    "ScheduleRowRecord",
    "SiteRow",
    "TenantRecord",
    "Text",
    "WeatherForecastRecord",
]
