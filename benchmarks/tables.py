"""Tables and result files of the benchmark runner: number formats, Markdown and console tables,
``benchmarks/results/<group>.json`` and ``<group>.md`` (``<group>_quick.*`` with ``--quick``).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from benchmarks.core import RESULTS, cell
from benchmarks.measure import Row


def markdown_table(rows: list[Row], columns: list[tuple[str, str]]) -> str:
    """A GitHub table of ``rows``; ``columns`` are (key, header)."""
    first = rows[0] if rows else {}
    align = ["---" if isinstance(first.get(k), str) else "---:" for k, _ in columns]
    lines = ["| " + " | ".join(h for _, h in columns) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(fmt(row.get(k), k) for k, _ in columns) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value: Any, key: str = "") -> str:
    """``value`` for a table cell, formatted by what its ``key`` names (seconds, MB, CNY, relative)."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    if key.endswith("_rel") or key.startswith("rel_"):
        return f"{value:.1e}"
    if "objective" in key or "cost" in key or "saving" in key or "kgco2" in key:
        return f"{value:,.2f}"
    if key.endswith("_mb"):
        return f"{value:,.0f}"
    if key.endswith("_s") and value < 1:
        return f"{value * 1000:.1f} ms"
    if key.endswith("_s"):
        return f"{value:,.2f} s"
    return cell(value) if abs(value) >= 100 else f"{value:.3g}"


def print_table(title: str, rows: list[Row], columns: list[tuple[str, str]]) -> None:
    """``rows`` as a table on the console; ``columns`` are (key, header)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title)
    for _, header in columns:
        table.add_column(header, justify="right")
    for row in rows:
        table.add_row(*(escape(fmt(row.get(k), k)) for k, _ in columns))
    Console(width=260).print(table)


def machine_markdown(machine: dict[str, Any]) -> str:
    """One line naming the machine and versions a result was measured with."""
    keys = ("cpu", "cores", "python", "highs", "highspy", "pyomo", "linopy", "pypsa", "platform", "commit", "date")
    return "Machine: " + ", ".join(f"{k} {machine.get(k)}" for k in keys if machine.get(k) is not None)


def write_results(group: str, quick: bool, payload: dict[str, Any], markdown: str) -> tuple[Path, Path]:
    """Writes ``<group>.json`` and ``<group>.md`` (``<group>_quick.*``) in ``benchmarks/results/``."""
    RESULTS.mkdir(exist_ok=True)
    stem = f"{group}_quick" if quick else group
    json_path, md_path = RESULTS / f"{stem}.json", RESULTS / f"{stem}.md"
    json_path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    md_path.write_text(markdown + "\n")
    return json_path, md_path


def load_rows(group: str, quick: bool) -> list[Row] | None:
    """The rows of a group's last result file, None when there is none."""
    path = RESULTS / (f"{group}_quick.json" if quick else f"{group}.json")
    with contextlib.suppress(OSError, ValueError, KeyError):
        return json.loads(path.read_text())["rows"]
    return None
