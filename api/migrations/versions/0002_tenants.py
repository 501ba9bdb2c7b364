"""Tenants: ``tenants`` and their hashed ``api_keys``; every site a tenant's (``sites.tenant_id``); idempotency keys
per tenant (primary key ``(tenant_id, key)``).

Existing sites and idempotency keys go to the tenant ``default`` (made here when there are any; the service stores
the hashes of ``DISPATCH_API_KEYS`` as its keys at start-up). Plain SQL for the data, so ``--sql`` works too.

``sites`` gains its column in place (on SQLite through a batch copy for NOT NULL: foreign keys are off during
migrations, see :func:`api.db.migration_connection`); ``idempotency_keys`` is rebuilt (its primary key changes), its
rows kept.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_TENANT = "default"
OLD_KEYS = "idempotency_keys_0001"


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _idempotency_keys(*, per_tenant: bool) -> sa.Table:
    """``idempotency_keys`` as after this revision (``per_tenant``) or before it (with the tables it refers to, as
    stubs, for its foreign keys)."""
    metadata = sa.MetaData()
    sa.Table("schedules", metadata, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table("tenants", metadata, sa.Column("id", sa.Integer, primary_key=True))
    tenant = [
        sa.Column(
            "tenant_id", sa.Integer, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    ]
    return sa.Table(
        "idempotency_keys",
        metadata,
        *(tenant if per_tenant else []),
        sa.Column("key", sa.String(200), primary_key=True, nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("schedule_id", sa.Integer, sa.ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
    )


def _sites(*, tenant_required: bool) -> sa.Table:
    """``sites`` with ``tenant_id`` last (as it is added here), for the batch copy on SQLite (no reflection:
    ``--sql`` works too)."""
    metadata = sa.MetaData()
    sa.Table("tenants", metadata, sa.Column("id", sa.Integer, primary_key=True))
    return sa.Table(
        "sites",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=not tenant_required),
    )


def _set_aside_idempotency_keys(constraints: list[str]) -> None:
    """Renames ``idempotency_keys`` to :data:`OLD_KEYS` for its rows to be copied into the new table; on PostgreSQL
    its constraints too (``idempotency_keys_<suffix>``), which keep their names across a table's rename and would
    give the new table's constraints other names than a database made from the models has."""
    op.rename_table("idempotency_keys", OLD_KEYS)
    if op.get_context().dialect.name == "postgresql":
        for suffix in constraints:
            op.execute(f"ALTER TABLE {OLD_KEYS} RENAME CONSTRAINT idempotency_keys_{suffix} TO {OLD_KEYS}_{suffix}")


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", _timestamp(), nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("revoked_at", _timestamp(), nullable=True),
        sa.Column("last_used_at", _timestamp(), nullable=True),
    )
    op.create_index("ix_api_keys_tenant_id", "api_keys", ["tenant_id"])
    op.execute(
        sa.text(
            "INSERT INTO tenants (name, created_at) SELECT :name, CURRENT_TIMESTAMP "
            "WHERE EXISTS (SELECT 1 FROM sites) OR EXISTS (SELECT 1 FROM idempotency_keys)"
        ).bindparams(name=DEFAULT_TENANT)
    )
    default_id = f"(SELECT id FROM tenants WHERE name = '{DEFAULT_TENANT}')"

    op.execute("ALTER TABLE sites ADD COLUMN tenant_id INTEGER REFERENCES tenants (id)")
    op.execute(f"UPDATE sites SET tenant_id = {default_id}")
    with op.batch_alter_table("sites", copy_from=_sites(tenant_required=False)) as sites:
        sites.alter_column("tenant_id", existing_type=sa.Integer(), nullable=False)
    op.create_index("ix_sites_tenant_id", "sites", ["tenant_id"])

    _set_aside_idempotency_keys(["pkey", "schedule_id_fkey"])
    op.get_context().impl.create_table(_idempotency_keys(per_tenant=True))
    op.execute(
        "INSERT INTO idempotency_keys (tenant_id, key, request_hash, schedule_id, created_at) "
        f"SELECT {default_id}, key, request_hash, schedule_id, created_at FROM {OLD_KEYS}"
    )
    op.drop_table(OLD_KEYS)


def downgrade() -> None:
    """Back to one tenant: every site kept, the idempotency key strings kept once (the first tenant's), tenants and
    keys dropped."""
    _set_aside_idempotency_keys(["pkey", "schedule_id_fkey", "tenant_id_fkey"])
    op.get_context().impl.create_table(_idempotency_keys(per_tenant=False))
    op.execute(
        "INSERT INTO idempotency_keys (key, request_hash, schedule_id, created_at) "
        f"SELECT key, request_hash, schedule_id, created_at FROM {OLD_KEYS} AS o "
        f"WHERE o.tenant_id = (SELECT MIN(tenant_id) FROM {OLD_KEYS} AS f WHERE f.key = o.key)"
    )
    op.drop_table(OLD_KEYS)
    op.drop_index("ix_sites_tenant_id", table_name="sites")
    with op.batch_alter_table("sites", copy_from=_sites(tenant_required=True)) as sites:
        sites.drop_column("tenant_id")
    op.drop_index("ix_api_keys_tenant_id", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("tenants")
