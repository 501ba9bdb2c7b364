"""The database schema's history as Alembic revisions (``versions/``), run from Python.

The scripts live inside the ``api`` package and ship as its package data, so an installed service migrates its
database at start-up (:func:`api.db.init_db`) with no ``alembic.ini`` and no working copy. ``python -m
api.migrations`` is Alembic's command line on the same scripts (``current``, ``history``, ``heads``, ``revision
--autogenerate``, ``upgrade``), on the database of ``DATABASE_URL``.

Revision ids are four digits in order (``0001`` is the baseline, the schema of release 0.1.0); a new revision gets
the next number unless ``--rev-id`` says otherwise.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

SCRIPT_LOCATION = Path(__file__).resolve().parent
BASELINE = "0001"
"""The revision of the schema that releases up to 0.1.0 created without Alembic."""


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """Alembic's configuration for these scripts: with ``connection``, ``env.py`` runs on it (inside its transaction
    and lock, see :func:`api.db.migration_connection`); without, on ``url`` (else the service's ``DATABASE_URL``)."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if importlib.util.find_spec("ruff") is not None:  # a new revision leaves ``revision`` linted and formatted
        config.set_section_option("post_write_hooks", "hooks", "lint, format")
        for hook, options in (("lint", "check --fix --quiet"), ("format", "format --quiet")):
            config.set_section_option("post_write_hooks", f"{hook}.type", "module")
            config.set_section_option("post_write_hooks", f"{hook}.module", "ruff")
            config.set_section_option("post_write_hooks", f"{hook}.options", f"{options} REVISION_SCRIPT_FILENAME")
    config.attributes["connection"] = connection
    return config


def script_directory() -> ScriptDirectory:
    """The revisions, read from ``versions/``."""
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision: what :func:`api.db.init_db` brings every database to."""
    revision = script_directory().get_current_head()
    assert revision is not None, "no revisions in api/migrations/versions"
    return revision


def baseline_metadata() -> MetaData:
    """The baseline revision's tables (frozen; not the live models): what a database written before Alembic is
    completed to before it is stamped with :data:`BASELINE`."""
    revision = script_directory().get_revision(BASELINE)
    assert revision is not None and revision.module is not None
    metadata = revision.module.metadata
    assert isinstance(metadata, MetaData)
    return metadata


def next_revision_id(script: ScriptDirectory) -> str:
    """The four-digit number after the highest numeric revision id (``0002`` after ``0001``)."""
    numbers = [int(r.revision) for r in script.walk_revisions() if r.revision.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"
