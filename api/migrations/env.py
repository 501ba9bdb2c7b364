"""Alembic's environment for the service's database: the models' metadata as the target of ``--autogenerate``.

Run on the connection in ``config.attributes["connection"]`` when :func:`api.db.migrate` passes one (it holds the
transaction and the migration lock); from the command line (``python -m api.migrations``) on ``sqlalchemy.url`` or
the service's ``DATABASE_URL``, through the same lock (:func:`api.db.migration_connection`).
"""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from alembic.operations.ops import MigrationScript
from sqlalchemy import TypeDecorator
from sqlalchemy.engine import Connection

from api import models  # noqa: F401  (registers the tables)
from api.db import Base, make_engine, migration_connection
from api.migrations import next_revision_id

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Writes a column type of our own (``UtcDateTime``) as the SQLAlchemy type it stores as, so a revision never
    imports the live models, which move on after it was written."""
    if type_ == "type" and isinstance(obj, TypeDecorator) and type(obj.impl).__module__.startswith("sqlalchemy."):
        return f"sa.{obj.impl!r}"
    return False


def number_revisions(context_: Any, _revision: Any, directives: list[MigrationScript]) -> None:
    """Gives a new revision the next four-digit id unless ``--rev-id`` named one (alembic's default is random hex)."""
    script = directives[0]
    if not config.cmd_opts or getattr(config.cmd_opts, "rev_id", None) is None:
        script.rev_id = next_revision_id(context_.script)


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters a table by copying it
        render_item=render_item,
        process_revision_directives=number_revisions,
        compare_type=True,
    )
    with context.begin_transaction():  # inside the caller's transaction when it began one
        context.run_migrations()


def run_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, dialect_opts={"paramstyle": "named"}
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from api.settings import Settings

    return Settings().database_url


given = config.attributes.get("connection")
if given is not None:
    run_on(given)
elif context.is_offline_mode():
    run_offline()
else:
    engine = make_engine(_url())
    try:
        with migration_connection(engine) as connection:
            run_on(connection)
    finally:
        engine.dispose()
