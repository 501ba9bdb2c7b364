"""An Excel workbook from tables (openpyxl): sheets of titled blocks, headers in bold, numbers formatted by unit.

The annual report (:mod:`scenarios.annual_report`) says what goes in; this module only lays it out, so the sheets
hold values (no formulas: a reader without a calculation engine, a test or pandas, sees the same numbers as Excel):

- a :class:`Sheet` is a name (at most 31 characters, none of ``[]:*?/\\``) and its :class:`Block` s, one under the
  other with a blank row between them;
- a block is an optional title (bold, on its own row), a header row (bold, grey) and the frame's rows; its last
  ``total_rows`` rows are bold (a total, a year);
- numbers are written as they are (already rounded by :mod:`scenarios.rounding`) and shown by the unit in their
  column's name: money (``_cny``) to 0.01, energies and emissions (``_kwh``, ``_kgco2``) whole, MWh and tCO2 to
  0.001, powers (``_kw``) to 0.1, shares (``_frac``) in %; blanks (None, NaN) stay empty;
- a sheet of one untitled block keeps its header row in view (frozen panes) and has a filter on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

SHEET_NAME_MAX = 31
"""Excel's longest sheet name [characters]."""
COLUMN_WIDTH_MAX = 48
"""Widest column the layout sets [characters]; longer text wraps in the cell's width."""
HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")
BOLD = Font(bold=True)

NUMBER_FORMATS: tuple[tuple[str, str], ...] = (
    ("_frac", "0.0%"),
    ("_cny", "#,##0.00"),
    ("_mwh", "#,##0.000"),
    ("_tco2", "#,##0.000"),
    ("_kgco2", "#,##0"),
    ("_kwh", "#,##0"),
    ("_kw", "#,##0.0"),
    ("_nm3", "#,##0"),
    ("_gj", "#,##0.000"),
)
"""How a column's numbers are shown, by the unit its name ends with (the value keeps its full precision)."""


@dataclass(frozen=True)
class Block:
    """A table on a sheet: a title (None: none), the frame (its columns are the header), bold total rows at the
    end."""

    title: str | None
    frame: pd.DataFrame
    total_rows: int = 0


@dataclass(frozen=True)
class Sheet:
    """A worksheet: its name and its blocks, top to bottom."""

    name: str
    blocks: Sequence[Block]


def number_format(column: str) -> str | None:
    """The display format of a column's numbers from its name's unit (:data:`NUMBER_FORMATS`); None: general."""
    return next((fmt for suffix, fmt in NUMBER_FORMATS if column.endswith(suffix)), None)


def cell_value(value: Any) -> Any:
    """A value openpyxl writes: numpy scalars as Python numbers, NaN, NA and infinities as an empty cell."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_block(sheet: Worksheet, block: Block, row: int, widths: dict[int, int]) -> int:
    """Writes ``block`` from ``row``; returns the first row after it."""
    if block.title:
        sheet.cell(row=row, column=1, value=block.title).font = Font(bold=True, size=12)
        row += 1
    columns = [str(c) for c in block.frame.columns]
    for k, name in enumerate(columns, start=1):
        cell = sheet.cell(row=row, column=k, value=name)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        widths[k] = max(widths.get(k, 0), len(name))
    formats = [number_format(name) for name in columns]
    first_total = len(block.frame) - block.total_rows
    for i, values in enumerate(block.frame.itertuples(index=False, name=None)):
        row += 1
        for k, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=k, value=cell_value(value))
            if formats[k - 1] is not None and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = formats[k - 1]
            if i >= first_total:
                cell.font = BOLD
            widths[k] = max(widths.get(k, 0), min(len(str(cell.value)) if cell.value is not None else 0, 60))
    return row + 2


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> Path:
    """Writes ``sheets`` into the workbook ``path`` (replaced if it exists); returns the path."""
    book = Workbook()
    book.remove(book.active)
    for spec in sheets:
        if len(spec.name) > SHEET_NAME_MAX or any(c in spec.name for c in "[]:*?/\\"):
            raise ValueError(f"{spec.name!r} is not a sheet name (at most {SHEET_NAME_MAX} characters, no []:*?/\\)")
        sheet = book.create_sheet(spec.name)
        widths: dict[int, int] = {}
        row = 1
        for block in spec.blocks:
            row = _write_block(sheet, block, row, widths)
        for k, width in widths.items():
            sheet.column_dimensions[get_column_letter(k)].width = min(width + 2, COLUMN_WIDTH_MAX)
        if len(spec.blocks) == 1 and spec.blocks[0].title is None:
            sheet.freeze_panes = "A2"
            frame = spec.blocks[0].frame
            if len(frame.columns):
                sheet.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}"
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path
