"""Test-wide fixtures: the API tests run on SQLite and on a real PostgreSQL 15 (``tests/postgres.py``).

Every test in a ``test_api*`` module is parametrized over ``database_backend``, the backends named in
``DISPATCH_TEST_DATABASES`` (``tests.databases.BACKENDS``: ``sqlite`` by default, the README's quick loop; ``.ci/run``
runs the API suite again on ``postgresql``; ``sqlite,postgresql`` runs both at once, ids ``[sqlite]`` and
``[postgresql]``); ``tests.databases.database_url`` then gives the apps and servers of the test their database on
that backend. A test marked ``sqlite_only`` (it checks SQLite itself, or answers before the database) runs on SQLite
alone, unparametrized. Other tests keep SQLite and no parameter.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import databases
from tests.postgres import Server, postgres_server


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: the test checks SQLite itself; an API test not run on PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Both backends for the API tests (modules ``test_api*``), unless marked ``sqlite_only``."""
    if "database_backend" not in metafunc.fixturenames:
        return
    module = metafunc.module.__name__.rpartition(".")[2]
    if module.startswith("test_api") and metafunc.definition.get_closest_marker("sqlite_only") is None:
        metafunc.parametrize("database_backend", databases.BACKENDS, indirect=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Server]:
    """The PostgreSQL server of the run, started on first use (skips, or fails in CI, without PostgreSQL 15)."""
    with postgres_server() as server:
        yield server
        databases.drop_template(server)


@pytest.fixture(autouse=True)
def database_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """The backend of the test's databases: SQLite files, or fresh PostgreSQL databases dropped after the test."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield backend
        return
    with databases.on_postgres(request.getfixturevalue("postgres")):
        yield backend
