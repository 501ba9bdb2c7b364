"""Alembic's command line on the service's migration scripts: ``python -m api.migrations <command>``.

The database is ``DATABASE_URL`` (as the service reads it) unless ``-x url=...`` names one. Examples::

    python -m api.migrations current
    python -m api.migrations history
    DATABASE_URL=sqlite:////tmp/dev.sqlite python -m api.migrations upgrade head
    DATABASE_URL=sqlite:////tmp/dev.sqlite python -m api.migrations revision --autogenerate -m "tenants"

A database from before Alembic (tables, no ``alembic_version``) is adopted by the service's start-up
(:func:`api.db.init_db`), not by ``upgrade``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from alembic.config import CommandLine

from api.migrations import alembic_config


def main(argv: Sequence[str] | None = None) -> None:
    """Parses Alembic's arguments and runs the command on :func:`api.migrations.alembic_config`."""
    command_line = CommandLine(prog="python -m api.migrations")
    options = command_line.parser.parse_args(argv)
    if not hasattr(options, "cmd"):
        command_line.parser.error("too few arguments")
    url = dict(arg.split("=", 1) for arg in options.x or [] if "=" in arg).get("url")
    config = alembic_config(url=url)
    config.cmd_opts = options
    command_line.run_cmd(config, options)


if __name__ == "__main__":
    main(sys.argv[1:])
