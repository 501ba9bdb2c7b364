"""A throw-away PostgreSQL 15 server for the tests: its own cluster in a temporary directory, or the server of
``DISPATCH_TEST_POSTGRES_URL``; a fresh database per test.

The cluster (``initdb`` + ``pg_ctl`` from ``/usr/lib/postgresql/15/bin``, ``pg_config --bindir`` or ``PATH``)
listens only on a Unix socket in its own directory, so it needs no free TCP port and collides with no other run;
trust authentication, user ``postgres``. ``fsync`` is off: the tests kill the API server, never PostgreSQL, and
a test database is thrown away with the cluster. PostgreSQL refuses to run as root, so as root the cluster runs as
the ``postgres`` user (Debian's package creates it) or ``nobody``. A watchdog process stops the cluster and removes
its directory when the test process dies without doing so (killed).

Without binaries and without the URL the PostgreSQL tests skip, except in CI (``CI`` set, see
:func:`tests.browser.in_ci`), where they fail: CI must not pass with them silently skipped.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import make_url

from tests.browser import in_ci

VERSION = 15
URL_VARIABLE = "DISPATCH_TEST_POSTGRES_URL"
INSTALL = (
    f"apt-get install -y postgresql-{VERSION} (Debian; .ci/run does this when initdb is missing), "
    f"or set {URL_VARIABLE}=postgresql+psycopg://user@host/db of a server where that user may CREATE DATABASE"
)
SETTINGS = {
    "listen_addresses": "",  # the Unix socket only
    "max_connections": "300",  # every test app and server keeps a pool; the SIGKILL test leaves orphans to drop
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
}


def missing(reason: str) -> None:
    """Skips the calling test, or fails it in CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI={os.environ.get('CI')}: PostgreSQL tests must run in CI, not skip)", pytrace=False)
    pytest.skip(reason)


def bin_dir() -> Path | None:
    """The directory of PostgreSQL 15's ``initdb``, ``pg_ctl`` and ``postgres``, if installed."""
    candidates = [Path(f"/usr/lib/postgresql/{VERSION}/bin")]
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            candidates.append(
                Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip())
            )
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            version = subprocess.run([folder / "postgres", "--version"], capture_output=True, text=True).stdout
            if f" {VERSION}." in version:
                return folder
    return None


class Server:
    """A PostgreSQL server the tests may create databases on: ``create(name)`` gives its URL."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url).set(drivername="postgresql+psycopg")
        self._admin = psycopg.connect(self._libpq(self.admin_url.database or "postgres"), autocommit=True)
        self._names = (f"dispatch_test_{os.getpid()}_{i}" for i in itertools.count())

    def _libpq(self, database: str) -> str:
        url = self.admin_url.set(database=database, drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of one database (psycopg 3)."""
        return self.admin_url.set(database=database).render_as_string(hide_password=False)

    def create(self, template: str | None = None) -> tuple[str, str]:
        """A new empty database (a copy of ``template`` if given): its name and URL."""
        name = next(self._names)
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            # FILE_COPY: a small template copies faster as files than through the WAL (PostgreSQL 15's default)
            statement += sql.SQL(" TEMPLATE {} STRATEGY FILE_COPY").format(sql.Identifier(template))
        self._admin.execute(statement)
        return name, self.url(name)

    def drop(self, name: str) -> None:
        """Drops a database, closing whatever connections a killed API server left on it."""
        self._admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def close(self) -> None:
        self._admin.close()


class Cluster:
    """A cluster of its own: ``initdb`` in a temporary directory, ``pg_ctl start``; :meth:`stop` removes it all."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.root = Path(tempfile.mkdtemp(prefix="dispatch-pg-"))  # short: a socket path has at most 107 bytes
        self.data, self.log = self.root / "data", self.root / "server.log"
        self.user = _unprivileged_user() if os.geteuid() == 0 else None
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.port = 5432  # names the socket in our own directory; nothing listens on TCP
        self._reaper: subprocess.Popen[bytes] | None = None

    def _run(self, *command: str | Path) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if self.user is not None else []
        environment = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        result = subprocess.run(
            [*prefix, *map(str, command)], capture_output=True, text=True, env=environment, cwd=self.root, check=False
        )
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(
                f"{command[0]} failed ({result.returncode}): {result.stdout}{result.stderr}{log[-3000:]}"
            )

    def start(self) -> str:
        """Creates and starts the cluster; returns the URL of its ``postgres`` database."""
        initdb = self.binaries / "initdb"
        self._run(initdb, "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
        options = " ".join(f"-c {name}={value or chr(39) * 2}" for name, value in SETTINGS.items())
        options += f" -c unix_socket_directories={self.root} -p {self.port}"
        self._run(self.binaries / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "60", "start")
        self._reaper = subprocess.Popen(  # stops the cluster if this process dies without stopping it (SIGKILL)
            [sys.executable, "-c", REAPER, str(os.getpid()), *self._command("pg_ctl")],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return f"postgresql+psycopg://postgres@/postgres?host={self.root}&port={self.port}"

    def _command(self, program: str) -> list[str]:
        """``runuser -u <user> -- <bin>/<program> -D <data>`` (without ``runuser`` when not root)."""
        prefix = ["runuser", "-u", self.user, "--"] if self.user is not None else []
        return [*prefix, str(self.binaries / program), "-D", str(self.data)]

    def stop(self) -> None:
        """Stops the server at once (its data is thrown away) and removes the directory."""
        if self._reaper is not None:
            self._reaper.kill()
            self._reaper.wait()
        with contextlib.suppress(RuntimeError):
            self._run(self.binaries / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


REAPER = """
import os, shutil, subprocess, sys, time
parent, command = int(sys.argv[1]), sys.argv[2:]
while os.getppid() == parent:
    time.sleep(1)
subprocess.run([*command, "-m", "immediate", "-w", "stop"], capture_output=True)
shutil.rmtree(os.path.dirname(command[-1]), ignore_errors=True)
"""
"""The watchdog of a cluster (``python -c REAPER <pid> <pg_ctl -D data>``): once the test process is gone (it is
no longer the parent), stops the server and removes its directory."""


def _unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")


@contextlib.contextmanager
def postgres_server() -> Iterator[Server]:
    """The server of ``DISPATCH_TEST_POSTGRES_URL``, else a throw-away cluster; skips (fails in CI) without either."""
    url = os.environ.get(URL_VARIABLE)
    cluster = None
    if not url:
        binaries = bin_dir()
        if binaries is None:
            missing(f"PostgreSQL {VERSION} is not installed; to install: {INSTALL}")
        assert binaries is not None
        cluster = Cluster(binaries)
        try:
            url = cluster.start()
        except BaseException:
            cluster.stop()
            raise
    server = Server(url)
    try:
        yield server
    finally:
        server.close()
        if cluster is not None:
            cluster.stop()
