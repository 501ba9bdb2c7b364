"""Database engine, session factory and schema creation (SQLAlchemy 2).

SQLite runs in WAL mode with ``synchronous=FULL`` so an acknowledged commit
survives a crash or power loss; PostgreSQL is used as configured.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.schema import CreateColumn


class Base(DeclarativeBase):
    pass


def make_engine(url: str) -> Engine:
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
    return create_engine(url, pool_pre_ping=True)


def init_db(engine: Engine) -> None:
    """Creates missing tables, and adds nullable columns that newer versions define to existing tables."""
    from api import models  # noqa: F401  (registers the tables)

    Base.metadata.create_all(engine)
    add_missing_nullable_columns(engine)


def add_missing_nullable_columns(engine: Engine) -> list[str]:
    """``ALTER TABLE ... ADD COLUMN`` for each nullable column of the models that a table lacks (additive
    changes only; anything else needs a real migration). Returns ``table.column`` of what it added."""
    existing = inspect(engine)
    added = []
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            have = {column["name"] for column in existing.get_columns(table.name)}
            for column in table.columns:
                if column.name in have or not column.nullable:
                    continue
                definition = CreateColumn(column).compile(dialect=engine.dialect)
                connection.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {definition}")
                added.append(f"{table.name}.{column.name}")
    return added


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def sessions(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session
