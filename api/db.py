"""Database engine, session factory and the schema's migrations (SQLAlchemy 2, Alembic).

SQLite runs in WAL mode with ``synchronous=FULL`` so an acknowledged commit survives a crash or power loss;
PostgreSQL is used as configured (``postgresql+psycopg://``; a bare ``postgresql://`` URL means psycopg 3 too).

The schema follows the Alembic revisions in :mod:`api.migrations`; :func:`init_db` brings any database of the
service to the newest one at start-up, in one transaction under a lock, so that two processes starting at once
(uvicorn workers, replicas) migrate it once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any, Literal

from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, create_engine, event, inspect, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateColumn, CreateIndex

log = logging.getLogger(__name__)

MIGRATION_LOCK_KEY = 0x6469_7370_6174_6368 & 0x7FFF_FFFF_FFFF_FFFF
"""PostgreSQL advisory lock (a bigint; "dispatch" in ASCII) held by the transaction that migrates the schema."""

Migration = Literal["created", "adopted", "upgraded", "current"]


class Base(DeclarativeBase):
    pass


class SchemaError(RuntimeError):
    """The database holds tables this service's releases did not write (a required column is missing)."""


def make_engine(url: str) -> Engine:
    """The service's engine: SQLite with its durability pragmas and foreign keys on; PostgreSQL with psycopg 3 and
    connections checked before use (a restarted server does not fail the first request)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True)


def init_db(engine: Engine) -> Migration:
    """Brings the database to the newest schema revision (see :func:`migrate`) under the migration lock; returns
    what it did."""
    with migration_connection(engine) as connection:
        done = migrate(connection)
    log.info("database schema %s (%s)", done, engine.url.render_as_string(hide_password=True))
    return done


def migrate(connection: Connection) -> Migration:
    """Brings the schema on ``connection`` to the head revision, inside the caller's transaction:

    - with ``alembic_version``: upgrade to head (``current`` when it is there already);
    - with some of the baseline's tables but no ``alembic_version`` (written by a release up to 0.1.0, which made
      its tables with ``create_all`` and added new nullable columns at start-up): complete to the baseline
      (:func:`adopt_baseline`), stamp the baseline, upgrade to head (``adopted``);
    - empty: ``create_all`` of the models and stamp head (``created``). One step instead of replaying every
      revision: a fresh database per test and per deployment stays fast, and ``tests/test_migrations.py`` checks
      that the revisions reach the very same schema.
    """
    from api import migrations, models  # noqa: F401  (registers the tables)

    config = migrations.alembic_config(connection)
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" in tables:
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(config, "head")
        return "current" if before == migrations.head() else "upgraded"
    baseline = migrations.baseline_metadata()
    if tables & set(baseline.tables):
        added = adopt_baseline(connection, baseline)
        log.info("database from before migrations completed to the baseline: %s", ", ".join(added) or "nothing")
        command.stamp(config, migrations.BASELINE)
        command.upgrade(config, "head")
        return "adopted"
    Base.metadata.create_all(connection)
    command.stamp(config, "head")
    return "created"


def adopt_baseline(connection: Connection, baseline: MetaData) -> list[str]:
    """Completes a database written before migrations to the baseline's tables: creates missing tables, adds
    missing nullable columns and missing indexes (what releases up to 0.1.0 did at start-up, additive only).
    Returns ``table`` or ``table.column`` of what it added; raises :class:`SchemaError` when a table lacks a
    required column (not a database of this service)."""
    inspector = inspect(connection)
    existing = set(inspector.get_table_names())
    added = []
    for table in baseline.sorted_tables:
        if table.name not in existing:
            table.create(connection)
            added.append(table.name)
            continue
        have = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in have:
                continue
            if not column.nullable:
                raise SchemaError(f"table {table.name} has no column {column.name}: not a database of this service")
            definition = CreateColumn(column).compile(dialect=connection.dialect)
            connection.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {definition}")
            added.append(f"{table.name}.{column.name}")
        indexes = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                connection.execute(CreateIndex(index))
                added.append(f"{table.name}.{index.name}")
    return added


@contextlib.contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction that holds the database's migration lock until it commits: a second process
    starting at the same time waits, then finds the schema migrated. Everything commits together or not at all
    (DDL is transactional on both databases).

    PostgreSQL: ``pg_advisory_xact_lock``. SQLite: ``BEGIN IMMEDIATE`` (the write lock from the start; pysqlite's own
    transaction handling is switched off so that DDL does not run outside the transaction), and foreign keys off, as
    SQLite's ``ALTER TABLE`` procedure asks: a migration that copies a table (batch mode) must not cascade the
    ``DROP TABLE`` of the old copy into its children. ``PRAGMA foreign_key_check`` then vets the result."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            yield connection
        return
    if engine.url.database in (None, "", ":memory:") or "mode=memory" in str(engine.url):
        with engine.begin() as connection:  # one process owns an in-memory database
            yield connection
        return
    sqlite = create_engine(engine.url, poolclass=NullPool, connect_args={"timeout": 30})

    @event.listens_for(sqlite, "connect")
    def _autocommit(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN/COMMIT by the driver
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.close()

    @event.listens_for(sqlite, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with sqlite.begin() as connection:
            yield connection
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise SchemaError(f"the migration left rows whose parent is gone: {broken[:5]}")
    finally:
        sqlite.dispose()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def sessions(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session
