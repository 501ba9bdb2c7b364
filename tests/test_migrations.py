"""Schema migrations (Alembic, ``api/migrations``) on SQLite and PostgreSQL 15.

- The revisions, run from an empty database, build exactly the models' schema (``compare_metadata``: no diffs),
  and so does start-up's shortcut for an empty database (``create_all`` + stamp head).
- A database written by a release from before migrations (0.1.0 = d04bcff, and the older b18b595 whose tables
  lacked columns and whole tables that start-up used to add) is migrated at start-up with every row kept, readable
  through the API, and writable again (PostgreSQL's sequences go on from the stored ids).
- Processes that start at once on a new database migrate it once.

The release databases are the release's own tables (``tests/data/releases/<commit>.<dialect>.sql``: its models'
``create_all``, frozen) holding the rows that release's API wrote (``<commit>.rows.json``, as SQLite stored them;
see ``tests/data/releases/README.md``).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import JSON, Date, DateTime, Engine, MetaData, create_engine, inspect, select, text

from api import migrations
from api.app import create_app
from api.db import Base, SchemaError, init_db, make_engine, migration_connection
from tests.api_fixtures import HEADERS, make_settings
from tests.databases import BACKENDS
from tests.postgres import Server

RELEASES = Path(__file__).parent / "data" / "releases"
CURRENT_RELEASE, OLDER_RELEASE = "d04bcff", "b18b595"


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a new PostgreSQL database (not the tests' template)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db.sqlite'}"
        return
    server: Server = request.getfixturevalue("postgres")
    name, database_url = server.create()
    try:
        yield database_url
    finally:
        server.drop(name)


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def schema_diffs(engine: Engine) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match the models (types compared too)."""
    from api import models  # noqa: F401  (registers the tables)

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


# --- the revisions and the models ---------------------------------------------------------------------------------


def test_the_revisions_build_the_models_schema_and_undo_it(engine: Engine) -> None:
    with migration_connection(engine) as connection:
        command.upgrade(migrations.alembic_config(connection), "head")  # every revision, from the first
    assert schema_diffs(engine) == []
    assert revision(engine) == migrations.head()
    with migration_connection(engine) as connection:
        command.downgrade(migrations.alembic_config(connection), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert init_db(engine) == "upgraded"  # from no revision: the revisions run again
    assert schema_diffs(engine) == []


def test_start_up_creates_an_empty_database_at_head_and_then_leaves_it(engine: Engine) -> None:
    assert init_db(engine) == "created"
    assert revision(engine) == migrations.head()
    assert schema_diffs(engine) == []
    assert init_db(engine) == "current"
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1


def test_the_baseline_is_the_current_release_schema() -> None:
    """The baseline revision (written out, frozen) has the tables, columns and indexes of release 0.1.0's DDL."""
    baseline = migrations.baseline_metadata()
    engine = create_engine("sqlite://")
    with engine.begin() as connection:
        for statement in release_ddl(CURRENT_RELEASE, "sqlite"):
            connection.exec_driver_sql(statement)
    release = MetaData()
    release.reflect(engine)
    assert sorted(release.tables) == sorted(baseline.tables)
    for name, table in baseline.tables.items():
        reflected = release.tables[name]
        columns = [(c.name, str(c.type.compile(engine.dialect)), c.nullable, c.primary_key) for c in table.columns]
        assert columns == [
            (c.name, str(c.type.compile(engine.dialect)), c.nullable, c.primary_key) for c in reflected.columns
        ]
        assert sorted(i.name or "" for i in table.indexes) == sorted(i.name or "" for i in reflected.indexes)
    engine.dispose()


# --- a database written by a release before migrations -----------------------------------------------------------


def release_ddl(release: str, dialect: str) -> list[str]:
    """The release's ``CREATE TABLE``/``CREATE INDEX`` statements for one dialect."""
    lines = (RELEASES / f"{release}.{dialect}.sql").read_text().splitlines()
    script = "\n".join(line for line in lines if not line.startswith("--"))
    return [statement.strip() for statement in script.split(";") if statement.strip()]


def release_rows(release: str) -> dict[str, dict[str, Any]]:
    """Table -> ``{"columns": [...], "rows": [[...], ...]}`` as the release's SQLite stored them."""
    return json.loads((RELEASES / f"{release}.rows.json").read_text())


def _typed(value: Any, column_type: Any) -> Any:
    """A stored SQLite value as Python: naive-UTC timestamps become aware, JSON text is parsed, dates are dates."""
    if value is None:
        return None
    if isinstance(column_type, DateTime):
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    if isinstance(column_type, Date):
        return dt.date.fromisoformat(value)
    if isinstance(column_type, JSON):
        return json.loads(value)
    return value


def _normal(value: Any) -> Any:
    """A timestamp read back in UTC (SQLite's come naive, in UTC; PostgreSQL's in the session's time zone)."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value


def write_release_database(url: str, release: str) -> None:
    """The database as the release left it: its tables, its rows, and on PostgreSQL its sequences past the ids."""
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in release_ddl(release, engine.dialect.name):
            connection.exec_driver_sql(statement)
        tables = MetaData()
        tables.reflect(connection)
        rows_by_table = release_rows(release)
        for name in [t.name for t in tables.sorted_tables if t.name in rows_by_table]:  # parents first
            data = rows_by_table[name]
            if engine.dialect.name == "sqlite":  # the very values the release stored
                marks = ", ".join("?" for _ in data["columns"])
                columns = ", ".join(f'"{c}"' for c in data["columns"])
                connection.exec_driver_sql(
                    f'INSERT INTO "{name}" ({columns}) VALUES ({marks})', [tuple(r) for r in data["rows"]]
                )
                continue
            table = tables.tables[name]
            rows = [
                {c: _typed(v, table.c[c].type) for c, v in zip(data["columns"], row, strict=True)}
                for row in data["rows"]
            ]
            connection.execute(table.insert(), rows)
            if "id" in table.c:
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), max(id)) FROM {name}"))
    engine.dispose()


def stored_rows(engine: Engine, release: str) -> dict[str, list[tuple[Any, ...]]]:
    """The release's columns of the release's tables as they are now, in Python types (timestamps aware, in UTC),
    by primary key."""
    reflected = MetaData()
    reflected.reflect(engine)
    out = {}
    with engine.connect() as connection:
        for name, data in release_rows(release).items():
            table = reflected.tables[name]
            columns = [table.c[c] for c in data["columns"]]
            result = connection.execute(select(*columns).order_by(*table.primary_key.columns))
            out[name] = [tuple(_normal(v) for v in row) for row in result]
    return out


def expected_rows(engine: Engine, release: str) -> dict[str, list[tuple[Any, ...]]]:
    reflected = MetaData()
    reflected.reflect(engine)
    out = {}
    for name, data in release_rows(release).items():
        table = reflected.tables[name]
        key = [data["columns"].index(c.name) for c in table.primary_key.columns if c.name in data["columns"]]
        rows = sorted(data["rows"], key=lambda row: [row[i] for i in key])
        out[name] = [
            tuple(_typed(v, table.c[c].type) for c, v in zip(data["columns"], row, strict=True)) for row in rows
        ]
    return out


@pytest.mark.parametrize("release", [CURRENT_RELEASE, OLDER_RELEASE])
def test_a_release_database_is_migrated_with_every_row_kept(url: str, release: str, tmp_path: Path) -> None:
    write_release_database(url, release)
    engine = make_engine(url)
    try:
        assert init_db(engine) == "adopted"
        assert revision(engine) == migrations.head()
        assert schema_diffs(engine) == []
        assert stored_rows(engine, release) == expected_rows(engine, release)
        assert init_db(engine) == "current"
    finally:
        engine.dispose()

    rows = release_rows(release)
    with TestClient(create_app(make_settings(tmp_path, database_url=url))) as client:
        check_readable_through_the_api(client, rows)
        if release == CURRENT_RELEASE:
            check_idempotency_keys_replay(client, rows)
            check_readings_weather_and_account(client)
        check_writable(client, rows)


def _records(rows: dict[str, dict[str, Any]], table: str) -> list[dict[str, Any]]:
    data = rows[table]
    return [dict(zip(data["columns"], row, strict=True)) for row in data["rows"]]


def check_readable_through_the_api(client: TestClient, rows: dict[str, dict[str, Any]]) -> None:
    """Sites and schedules (JSON and CSV) read back as stored."""
    [site] = _records(rows, "sites")
    response = client.get(f"/v1/sites/{site['id']}", headers=HEADERS)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == site["name"]
    assert [a["name"] for a in response.json()["spec"]["assets"]] == ["grid", "plant", "pv", "battery"]
    for schedule in _records(rows, "schedules"):
        stored = json.loads(schedule["response"])
        response = client.get(f"/v1/schedules/{schedule['id']}", headers=HEADERS)
        assert response.status_code == 200, response.text
        assert response.json()["schedule_id"] == schedule["id"]
        assert response.json()["schedule"] == stored["schedule"]
        assert response.json()["kpis"] == stored["kpis"]
        as_csv = client.get(f"/v1/schedules/{schedule['id']}", headers={**HEADERS, "Accept": "text/csv"})
        assert as_csv.status_code == 200, as_csv.text
        assert len(as_csv.text.strip().splitlines()) == 1 + schedule["n_steps"]


def check_idempotency_keys_replay(client: TestClient, rows: dict[str, dict[str, Any]]) -> None:
    """The release's requests, sent again with their keys: the stored schedules, not new ones. (Release 0.1.0's
    only: b18b595 hashed a request differently, so its keys answer 422 to the same body; nothing is planned twice.)
    """
    [site] = _records(rows, "sites")
    for key in _records(rows, "idempotency_keys"):
        day = next(s["local_date"] for s in _records(rows, "schedules") if s["id"] == key["schedule_id"])
        response = dispatch(client, site["id"], day, rows, key=key["key"])
        assert response.status_code == 200, response.text
        assert response.json()["schedule_id"] == key["schedule_id"]


def check_readings_weather_and_account(client: TestClient) -> None:
    """Release 0.1.0's readings, weather forecast and daily account, read back through the API."""
    series = client.get("/v1/sites/1/readings/series", headers=HEADERS)
    assert series.status_code == 200, series.text
    assert {(s["series"], s["readings"]) for s in series.json()} == {
        ("grid.import_kw", 96),
        ("grid.export_kw", 96),
        ("pv", 96),
    }
    first = {s["series"]: dt.datetime.fromisoformat(s["first"]) for s in series.json()}
    assert set(first.values()) == {dt.datetime(2026, 6, 29, 16, tzinfo=dt.UTC)}  # local midnight, 30 June
    readings = client.get(
        "/v1/sites/1/readings",
        params={"series": "grid.import_kw", "start": "2026-06-30T00:00:00+08:00", "end": "2026-07-01T00:00:00+08:00"},
        headers=HEADERS,
    )
    assert readings.status_code == 200, readings.text
    assert [r["value"] for r in readings.json()] == [80.0] * 96
    weather = client.get("/v1/sites/1/weather", headers=HEADERS)
    assert weather.status_code == 200, weather.text
    [forecast] = weather.json()
    assert dt.datetime.fromisoformat(forecast["issued_at"]) == dt.datetime(2026, 7, 13, 22, tzinfo=dt.UTC)
    ledger = client.get("/v1/sites/1/carbon", params={"year": 2026}, headers=HEADERS)
    assert ledger.status_code == 200, ledger.text
    days = ledger.json()["days"]
    assert (days["count"], days["first"], days["from_readings"]) == (1, "2026-06-30", 1)
    assert (ledger.json()["totals"]["days"], ledger.json()["totals"]["import_kwh"]) == (1, 1920.0)


def dispatch(
    client: TestClient, site_id: int, day: str, rows: dict[str, dict[str, Any]], key: str | None = None
) -> httpx.Response:
    """``POST /v1/sites/{id}/dispatch`` with the body the release's rows were planned with."""
    spec = json.loads(_records(rows, "sites")[0]["spec"])
    pv = next(a for a in spec["assets"] if a["name"] == "pv")
    body: dict[str, Any] = {"date": day}
    if pv["available_kw"] == "$inputs.pv":
        body["inputs"] = {"pv": [20.0] * 96}
    headers = {**HEADERS, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/v1/sites/{site_id}/dispatch", json=body, headers=headers)


def check_writable(client: TestClient, rows: dict[str, dict[str, Any]]) -> None:
    """New rows go on from the release's ids (PostgreSQL's sequences were not reset by the migration)."""
    before = max(s["id"] for s in _records(rows, "schedules"))
    response = dispatch(client, 1, "2026-07-02", rows, key="after-the-migration")
    assert response.status_code == 201, response.text
    assert response.json()["schedule_id"] == before + 1
    created = client.post("/v1/sites", json=json.loads(_records(rows, "sites")[0]["spec"]), headers=HEADERS)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == 2


def test_a_table_missing_a_required_column_is_refused_untouched(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'foreign.sqlite'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE sites (id INTEGER PRIMARY KEY, label TEXT)")
        connection.exec_driver_sql("INSERT INTO sites (label) VALUES ('not ours')")
    with pytest.raises(SchemaError, match="sites has no column name"):
        init_db(engine)
    assert set(inspect(engine).get_table_names()) == {"sites"}  # nothing created, nothing stamped
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT label FROM sites").scalar() == "not ours"
    engine.dispose()


# --- start-up from several processes at once ----------------------------------------------------------------------


def test_processes_starting_at_once_migrate_once(url: str) -> None:
    """Four workers (each its own engine and connection, as uvicorn's processes) start on one new database: one
    creates the schema, the others wait for its lock and find it current."""
    workers = 4
    barrier = threading.Barrier(workers)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def start() -> None:
        engine = make_engine(url)
        try:
            barrier.wait()
            outcomes.append(init_db(engine))
        except BaseException as error:  # noqa: BLE001  (reported below, with the others)
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(outcomes) == ["created"] + ["current"] * (workers - 1)
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
            migrations.head()
        ]
    assert schema_diffs(engine) == []
    engine.dispose()


def test_the_alembic_command_line_runs_on_the_packaged_scripts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    engine = make_engine(url)
    init_db(engine)
    engine.dispose()
    result = subprocess.run(
        [sys.executable, "-m", "api.migrations", "-x", f"url={url}", "current"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[1],
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"{migrations.head()} (head)" in result.stdout
