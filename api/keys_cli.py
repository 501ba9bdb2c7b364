"""``dispatch keys``: tenants' API keys on the service's database (``DATABASE_URL``), without the HTTP API.

- ``dispatch keys create --tenant NAME [--label L]``: a new key of the tenant (made when missing); the key is printed
  once on stdout (alone, for scripts), what it is on stderr;
- ``dispatch keys list [--tenant NAME]``: id, tenant, prefix, label, origin, created, revoked, last used (never a key);
- ``dispatch keys revoke ID``: the key's next request gets 401.

Exit codes: 0 done; 1 no such tenant or key. The database is brought to the service's schema first (as at the
service's start-up). Only typer is imported until a command runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Tenants' API keys (on DATABASE_URL).")

TenantOpt = Annotated[str, typer.Option("--tenant", help="Tenant name.")]
TABLE_WIDTH = 160
"""Columns of the key list (its timestamps and labels fit unwrapped)."""


@contextlib.contextmanager
def _session() -> Iterator[Session]:
    """A session on the service's database (``DATABASE_URL``), migrated to the service's schema."""
    from api.db import init_db, make_engine, session_factory
    from api.settings import Settings

    engine = make_engine(Settings().database_url)
    try:
        init_db(engine)
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _when(value: dt.datetime | None) -> str:
    return "-" if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@app.command()
def create(tenant: TenantOpt, label: Annotated[str, typer.Option(help="What the key is for.")] = "") -> None:
    """A new API key of the tenant (the tenant is made when missing): printed once, stored only as its hash."""
    from api import key_store

    with _session() as session:
        found = key_store.tenant_named(session, tenant)
        if found is None:
            found = key_store.ensure_tenant(session, tenant)
            typer.echo(f"tenant {tenant!r} created (id {found.id})", err=True)
        record, key = key_store.add_key(session, found.id, label, origin="cli")
    typer.echo(f"key {record.id} of tenant {tenant!r} (prefix {record.prefix}); it is not shown again:", err=True)
    typer.echo(key)


@app.command("list")
def list_keys(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant's keys.")] = None,
) -> None:
    """Every key (revoked ones too), or one tenant's: never the key itself."""
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import select

    from api import key_store
    from api.models import TenantRecord

    with _session() as session:
        tenant_id = None
        if tenant is not None:
            found = key_store.tenant_named(session, tenant)
            if found is None:
                typer.echo(f"no tenant named {tenant!r}", err=True)
                raise typer.Exit(code=1)
            tenant_id = found.id
        names = {t.id: t.name for t in session.scalars(select(TenantRecord))}
        keys = key_store.list_keys(session, tenant_id)
    table = Table("id", "tenant", "prefix", "label", "origin", "created", "revoked", "last used")
    for k in keys:
        when = (_when(k.created_at), _when(k.revoked_at), _when(k.last_used_at))
        table.add_row(str(k.id), names[k.tenant_id], k.prefix, k.label, k.origin, *when)
    Console(width=TABLE_WIDTH).print(table)


@app.command()
def revoke(key_id: Annotated[int, typer.Argument(help="The key's id (dispatch keys list).", min=1)]) -> None:
    """Revokes the key at once: its next request gets 401."""
    from api import key_store
    from api.repository import NotFoundError

    with _session() as session:
        try:
            record = key_store.revoke_key(session, key_id)
        except NotFoundError as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(code=1) from error
    typer.echo(f"key {key_id} (prefix {record.prefix}) revoked at {_when(record.revoked_at)}")
