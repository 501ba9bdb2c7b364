"""Benchmark group ``core``: our reference LP, model sizes and overhead (measured by ``benchmarks/core.py``)."""

from __future__ import annotations

import argparse
from typing import Any

from benchmarks.tables import markdown_table


def group_core(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from benchmarks.core import COLUMNS, core_rows, print_rows

    rows = core_rows(args.quick, args.repeats or 5)
    print_rows(rows, "Core LP benchmark (ours): sizes and overhead")
    columns = [(c, c) for c in COLUMNS]
    md = "\n\n".join(["# Core LP benchmark (ours)", markdown_table(rows, columns)])
    return {"rows": rows}, md
