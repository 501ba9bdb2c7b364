"""The stamps and the index of ``python -m benchmarks.refresh`` (nothing is measured here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import benchmarks.refresh as refresh

STAMP = {"date": "2026-12-02", "commit": "abc1234", "uncommitted_changes": True, "command": refresh.COMMAND}


def test_the_stamp_goes_under_the_title_once() -> None:
    line = refresh.stamp_line(STAMP, "core")
    assert line.startswith("> Regenerated 2026-12-02 at commit abc1234 with uncommitted changes")
    assert "`python -m benchmarks.refresh`" in line and "`core.md`, by `python -m benchmarks.run --group core`" in line
    once = refresh.stamp_markdown("# Core\n\n| a |\n|---|\n", line)
    assert once.splitlines()[:4] == ["# Core", "", line, ""]
    again = refresh.stamp_markdown(once, refresh.stamp_line({**STAMP, "date": "2027-01-05"}, "core"))
    assert again.count("> Regenerated ") == 1 and "2027-01-05" in again and again.endswith("| a |\n|---|\n")
    assert refresh.stamp_markdown("| a |\n", line).startswith(line + "\n\n| a |")  # no title: at the top


def test_files_are_stamped_and_the_index_dates_every_result(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(refresh, "RESULTS", tmp_path)
    (tmp_path / "core_quick.md").write_text("# Core LP benchmark (ours)\n\n| a |\n")
    (tmp_path / "core_quick.json").write_text(json.dumps({"rows": []}))
    (tmp_path / "core.md").write_text("# Core\n\nMachine: cpu X, commit b8d4b7a, date 2026-11-29T18:38:53+0000.\n")
    (tmp_path / "api_latency.md").write_text("| case |\n|---|\n")
    stamped = refresh.stamp_files("core_quick", "core", STAMP)
    assert [p.name for p in stamped] == ["core_quick.md", "core_quick.json"]
    assert json.loads((tmp_path / "core_quick.json").read_text())["refreshed"] == STAMP
    assert refresh.dated(tmp_path / "core_quick.md") == ("2026-12-02", "abc1234")
    assert refresh.dated(tmp_path / "core.md") == ("2026-11-29", "b8d4b7a")
    assert refresh.dated(tmp_path / "api_latency.md") == (None, None)

    index = refresh.write_index().read_text()
    quick = "| [`core_quick.md`](core_quick.md) | quick | 2026-12-02 | abc1234 | `python -m benchmarks.refresh` |"
    assert quick in index
    assert "| [`core.md`](core.md) | full | 2026-11-29 | b8d4b7a | `python -m benchmarks.run --group core` |" in index
    assert "| [`api_latency.md`](api_latency.md) | full | not dated | - |" in index
    assert "README.md`](README.md)" not in index  # the index does not list itself
