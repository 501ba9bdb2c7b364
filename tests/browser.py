"""Headless Chromium for the browser tests: its path, a skip without it on a developer's machine, a failure in CI.

A browser test calls :func:`require_chromium` (and :func:`missing` for anything else it cannot run without), so
that CI (the environment variable ``CI`` set and not ``0``/``false``, as ``.ci/run`` and CI services do) never
passes with the browser tests silently skipped.
"""

from __future__ import annotations

import os
import shutil

import pytest

INSTALL_CHROMIUM = (
    "apt-get install -y chromium (Debian; .ci/run does this when it is missing), "
    "or put chromium or chromium-browser on PATH"
)


def in_ci() -> bool:
    """True when the ``CI`` environment variable is set to anything but empty, ``0``, ``false`` or ``no``."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(reason: str) -> None:
    """Skips the test with ``reason``, or fails it in CI, where a skipped browser test would hide a regression."""
    if in_ci():
        pytest.fail(f"{reason} (CI={os.environ.get('CI')}: browser tests must run in CI, not skip)", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    """The Chromium executable; skips (fails in CI) the calling test when there is none."""
    path = chromium_path()
    if path is None:
        missing(f"headless Chromium is not installed; to install: {INSTALL_CHROMIUM}")
    assert path is not None
    return path


def headless_command(
    chromium: str, profile: object, window: tuple[int, int], *extra: str, budget_ms: int = 10_000
) -> list[str]:
    """The command line of one headless Chromium run with a throw-away profile: no network chatter, a fixed window,
    ``budget_ms`` of virtual time for scripts to draw, then ``extra`` (``--screenshot=...``, ``--dump-dom``, a URL)."""
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--virtual-time-budget={budget_ms}",
        f"--user-data-dir={profile}",
        f"--window-size={window[0]},{window[1]}",
        *extra,
    ]
