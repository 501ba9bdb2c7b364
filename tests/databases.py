"""The database a test's app runs on, named by a path: the SQLite file at that path, or, while a test runs on
PostgreSQL (``tests/conftest.py`` parametrizes the API tests over both), a fresh PostgreSQL database per path.

A test names its database by a path as it always did (``tmp_path / "api.sqlite"``); the same path is the same
database within the test (a server restarted on it finds its data), another path another database. On PostgreSQL
each is created on first use, a copy of a template that already holds the schema (a few tens of milliseconds), and
dropped when the test ends.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import Connection

from api.db import init_db, make_engine
from tests.postgres import Server

KNOWN_BACKENDS = ("sqlite", "postgresql")


def _backends(setting: str) -> tuple[str, ...]:
    """The backends named in ``DISPATCH_TEST_DATABASES`` (comma-separated), checked."""
    names = tuple(name.strip() for name in setting.split(",") if name.strip())
    unknown = [name for name in names if name not in KNOWN_BACKENDS]
    if unknown or not names:
        raise ValueError(f"DISPATCH_TEST_DATABASES={setting!r}: give one or more of {', '.join(KNOWN_BACKENDS)}")
    return names


BACKENDS = _backends(os.environ.get("DISPATCH_TEST_DATABASES", "sqlite"))
"""What the API tests run on: SQLite in the README's quick loop; ``.ci/run`` runs the API suite again with
``DISPATCH_TEST_DATABASES=postgresql`` (or ``sqlite,postgresql`` for both in one run)."""


class PostgresDatabases:
    """One test's PostgreSQL databases, by the path that names each."""

    def __init__(self, server: Server, template: str) -> None:
        self.server, self.template = server, template
        self.by_path: dict[Path, tuple[str, str]] = {}

    def url(self, path: Path) -> str:
        key = Path(path).resolve()
        if key not in self.by_path:
            self.by_path[key] = self.server.create(template=self.template)
        return self.by_path[key][1]

    def drop_all(self) -> None:
        for name, _ in self.by_path.values():
            self.server.drop(name)
        self.by_path.clear()


_current: PostgresDatabases | None = None
_templates: dict[int, str] = {}


def database_url(path: Path) -> str:
    """The SQLAlchemy URL of the database that ``path`` names in the running test."""
    return f"sqlite:///{path}" if _current is None else _current.url(path)


def backend() -> str:
    """``sqlite`` or ``postgresql``: what the running test's databases are."""
    return "sqlite" if _current is None else "postgresql"


def schema_template(server: Server) -> str:
    """A database on ``server`` holding the newest schema (made once per server): the template of the tests'."""
    if id(server) not in _templates:
        name, url = server.create()
        engine = make_engine(url)
        try:
            init_db(engine)
        finally:
            engine.dispose()  # CREATE DATABASE ... TEMPLATE needs it without connections
        _templates[id(server)] = name
    return _templates[id(server)]


def drop_template(server: Server) -> None:
    """Drops the template of :func:`schema_template` (at the end of the run: on a server of
    ``DISPATCH_TEST_POSTGRES_URL`` it would stay)."""
    name = _templates.pop(id(server), None)
    if name is not None:
        server.drop(name)


@contextlib.contextmanager
def on_postgres(server: Server) -> Iterator[PostgresDatabases]:
    """While inside, every :func:`database_url` is a PostgreSQL database of ``server``; they are dropped after."""
    global _current
    databases = PostgresDatabases(server, schema_template(server))
    _current = databases
    try:
        yield databases
    finally:
        _current = None
        databases.drop_all()


def assert_integrity(connection: Connection) -> None:
    """SQLite's ``PRAGMA integrity_check`` of the file (after a killed server). PostgreSQL: nothing to check here,
    the server that was killed is the API's, not PostgreSQL, whose crash safety is its own."""
    if connection.dialect.name == "sqlite":
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
