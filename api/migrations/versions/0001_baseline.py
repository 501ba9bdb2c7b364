"""Baseline: the schema of release 0.1.0 (``api/models.py`` at commit d04bcff), written out, not read from the models.

Frozen: the models move on, this revision does not. A database the service created before it used Alembic (no
``alembic_version`` table) is brought to these tables by :func:`api.db.migrate` (missing tables created, missing
nullable columns and indexes added, as releases up to 0.1.0 did at start-up) and stamped with this revision.

Timestamps are ``DateTime(timezone=True)`` (the models' ``UtcDateTime`` is that type in the database: SQLite stores
naive UTC, PostgreSQL ``timestamptz``). ``readings`` is ``WITHOUT ROWID`` on SQLite.

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


metadata = sa.MetaData()

sa.Table(
    "sites",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("created_at", _timestamp(), nullable=False),
    sa.Column("updated_at", _timestamp(), nullable=False),
)

sa.Table(
    "schedules",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    sa.Column("horizon_start", _timestamp(), nullable=False),
    sa.Column("local_date", sa.String(10), nullable=False),
    sa.Column("n_steps", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("gap", sa.Float, nullable=True),
    sa.Column("input_hash", sa.String(64), nullable=False),
    sa.Column("product_version", sa.String(40), nullable=False),
    sa.Column("solver_version", sa.String(40), nullable=False),
    sa.Column("response", sa.JSON, nullable=False),
    sa.Column("violations", sa.JSON, nullable=False),
    sa.Column("horizon_end", _timestamp(), nullable=True),
    sa.Column("plan_kind", sa.String(20), nullable=True),
    sa.Column("problem", sa.JSON, nullable=True),
    sa.Column("created_at", _timestamp(), nullable=False),
    sa.Index("ix_schedules_site_id", "site_id"),
    sa.Index("ix_schedules_horizon_start", "horizon_start"),
    sa.Index("ix_schedules_local_date", "local_date"),
)

sa.Table(
    "schedule_rows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("schedule_id", sa.Integer, sa.ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("interval_start", sa.String(40), nullable=False),
    sa.Column("values", sa.JSON, nullable=False),
    sa.UniqueConstraint("schedule_id", "step"),
    sa.Index("ix_schedule_rows_schedule_id", "schedule_id"),
)

sa.Table(
    "meter_series",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("unit", sa.String(20), nullable=False),
    sa.UniqueConstraint("site_id", "name"),
    sa.Index("ix_meter_series_site_id", "site_id"),
)

sa.Table(
    "readings",
    metadata,
    sa.Column(
        "series_id", sa.Integer, sa.ForeignKey("meter_series.id", ondelete="CASCADE"), primary_key=True, nullable=False
    ),
    sa.Column("time", _timestamp(), primary_key=True, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sqlite_with_rowid=False,
)

sa.Table(
    "reading_uploads",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    sa.Column("received_at", _timestamp(), nullable=False),
    sa.Column("n_readings", sa.Integer, nullable=False),
    sa.Column("ranges", sa.JSON, nullable=False),
    sa.Index("ix_reading_uploads_site_id", "site_id"),
)

sa.Table(
    "account_days",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("pv_available_kwh", sa.Float, nullable=False),
    sa.Column("pv_output_kwh", sa.Float, nullable=False),
    sa.Column("import_kwh", sa.Float, nullable=False),
    sa.Column("export_kwh", sa.Float, nullable=False),
    sa.Column("green_kwh", sa.Float, nullable=False),
    sa.Column("contracts_kwh", sa.JSON, nullable=False),
    sa.Column("emissions_location_kgco2", sa.Float, nullable=False),
    sa.Column("emissions_market_kgco2", sa.Float, nullable=False),
    sa.Column("source", sa.String(10), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("uploads_seen", sa.Integer, nullable=False),
    sa.Column("recorded_at", _timestamp(), nullable=False),
    sa.Column("gas_nm3", sa.Float, nullable=True),
    sa.Column("purchased_heat_gj", sa.Float, nullable=True),
    sa.Column("fuel_source", sa.String(10), nullable=True),
    sa.Index("ix_account_days_site_day", "site_id", "day"),
)

sa.Table(
    "weather_forecasts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    sa.Column("issued_at", _timestamp(), nullable=False),
    sa.Column("valid_from", _timestamp(), nullable=False),
    sa.Column("valid_until", _timestamp(), nullable=False),
    sa.Column("source", sa.String(400), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("created_at", _timestamp(), nullable=False),
    sa.Index("ix_weather_forecasts_site_id", "site_id"),
    sa.Index("ix_weather_forecasts_issued_at", "issued_at"),
)

sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("schedule_id", sa.Integer, sa.ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", _timestamp(), nullable=False),
)


def upgrade() -> None:
    """Creates the release's tables with their indexes (offline ``--sql`` too: DDL through Alembic's impl)."""
    for table in metadata.sorted_tables:
        op.get_context().impl.create_table(table)


def downgrade() -> None:
    """Drops every table of the baseline, and with it all data."""
    for table in reversed(metadata.sorted_tables):
        op.get_context().impl.drop_table(table)
