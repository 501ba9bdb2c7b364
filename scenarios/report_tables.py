"""The tables of the HTML reports as plain data: every cell a display string, no HTML.

The templates (``scenarios/templates/tables.html.j2``) lay them out and escape them:

- :func:`kpi_table`: optimised vs rule-based KPIs of one schedule, with the difference and the targets;
- :func:`comparison_table_rows`: KPIs per variant with deltas against the base run and the rules, and the
  saving with its split;
- :func:`savings_table`: one run's saving split by cost group, the carbon cost apart, per day, per month billed
  and annualised (an estimate);
- :func:`days_table`: cost, saving, fallback and solve time per day (per month for long runs).

Against a rule-based baseline that leaves demand unmet no saving is shown: the cell reads ``baseline infeasible``
and the table's note says what is unmet.

Cells are formatted at a display precision, never as raw floats; a value that shows as zero is written
without a sign (``0``, not ``-0`` or ``+0``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimizer import Kpis
from optimizer.baseline_state import INFEASIBLE_BASELINE
from optimizer.kpis import MONEY_GROUPS, savings, with_shortfalls
from scenarios.compare import ANNUALISED_NOTE, KPI_ROWS, SAVING_ROWS, SCALING_ROWS, comparison_table
from scenarios.pipeline import ScenarioRun


@dataclass(frozen=True)
class Delta:
    """A difference as shown: its text and ``"better"``/``"worse"`` (``None``: none or zero)."""

    text: str
    css: str | None = None


@dataclass(frozen=True)
class KpiRow:
    label: str
    indent: int  # sub-items (labels with leading spaces in KPI_ROWS) are indented
    unit: str
    optimised: str
    rules: str
    difference: Delta


@dataclass(frozen=True)
class TargetRow:
    target: str
    required: str
    unit: str
    achieved: str
    state: str


@dataclass(frozen=True)
class KpiTable:
    rows: list[KpiRow]
    targets: list[TargetRow]


@dataclass(frozen=True)
class ComparisonCell:
    value: str
    vs_base: Delta | None  # None in the base run's own column
    vs_rules: Delta


@dataclass(frozen=True)
class ComparisonRow:
    label: str
    indent: int
    unit: str
    cells: list[ComparisonCell]


@dataclass(frozen=True)
class SavingRow:
    """A line of a saving's split: its label, indent, unit and one cell per run."""

    label: str
    indent: int
    unit: str
    cells: list[str]


@dataclass(frozen=True)
class ComparisonTable:
    runs: list[str]
    rows: list[ComparisonRow]
    currency: str
    savings: list[str]  # per run; "baseline infeasible" where no saving is stated
    fallback_periods: list[str]
    saving_rows: list[SavingRow] = field(default_factory=list)  # the split, the carbon cost, the scaling
    notes: list[tuple[str, str]] = field(default_factory=list)  # (css class, text): infeasible baselines, estimate


@dataclass(frozen=True)
class SavingsTable:
    """One run's saving: the total and its groups of money paid, the carbon cost apart, how it scales."""

    currency: str
    label: str | None  # "baseline infeasible: <what is unmet>": no saving is stated
    rows: list[tuple[str, int, str, str]]  # label, indent, value, unit
    note: str | None  # how the annualised estimate is made


@dataclass(frozen=True)
class DaysTable:
    per: str  # "day" or "month"
    currency: str
    rows: list[tuple[str, str, str, str, str, str, str]]  # period, cost, rule-based, saving, fallback, solve, note


def _shows_zero(text: str) -> bool:
    """True when a formatted number reads as zero (``-0``, ``+0.0 pt``, ``0.0 %``)."""
    digits = [c for c in text if c.isdigit()]
    return bool(digits) and all(c == "0" for c in digits)


def unsigned_zero(text: str) -> str:
    """A formatted number without the sign of a zero: ``-0`` -> ``0``, ``-0.0 %`` -> ``0.0 %``."""
    return text.lstrip("+-") if _shows_zero(text) else text


def fmt_number(value: float, spec: str) -> str:
    """``value`` in a format spec (``",.0f"``), a zero unsigned."""
    return unsigned_zero(format(value, spec))


def fmt_value(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    if unit == "%":
        return fmt_number(100 * value, ".1f") + " %"
    return fmt_number(value, ",.1f") if abs(value) < 100 else fmt_number(value, ",.0f")


def fmt_delta(value: float | None, unit: str, lower_is_better: bool) -> Delta:
    """A difference with its sign, and whether it is better or worse; ``0`` (no sign, no verdict) when it shows
    as zero at the display precision."""
    if value is None or not np.isfinite(value):
        return Delta("-")
    text = f"{100 * value:+.1f} pt" if unit == "%" else f"{value:+,.0f}"
    if _shows_zero(text):
        return Delta("0")
    good = (value < 0) == lower_is_better
    return Delta(text, "better" if good else "worse")


def fmt_shortfall(shortfall: float, unit: str) -> str:
    """How far a target was missed, at one decimal (``< 0.1`` for less)."""
    text = fmt_number(shortfall, ",.1f")
    return f"short by < 0.1 {unit}" if _shows_zero(text) else f"short by {text} {unit}"


def _split_label(text: str) -> tuple[str, int]:
    """A KPI label and its indent: two leading spaces per level."""
    stripped = text.lstrip(" ")
    return stripped, (len(text) - len(stripped)) // 2


def kpi_table(kpis: Kpis, baseline: Kpis, currency: str, baseline_feasible: bool = True) -> KpiTable:
    """Optimised vs rule-based KPIs with the difference (rows where both are missing left out; no difference
    against a baseline that leaves demand unmet), and the targets."""
    rows = []
    for row in KPI_ROWS:
        unit = row.unit.format(currency=currency)
        a, b = row.value(kpis), row.value(baseline)
        if a is None and b is None:
            continue
        delta = None if a is None or b is None or not baseline_feasible else a - b
        label, indent = _split_label(row.label)
        rows.append(
            KpiRow(
                label, indent, unit, fmt_value(a, unit), fmt_value(b, unit), fmt_delta(delta, unit, row.lower_is_better)
            )
        )
    targets = []
    for shortfall in kpis.target_shortfalls:
        state = "met" if shortfall.shortfall <= 1e-6 else fmt_shortfall(shortfall.shortfall, str(shortfall.unit))
        targets.append(
            TargetRow(
                str(shortfall.target),
                fmt_number(shortfall.required, ",.0f"),
                str(shortfall.unit),
                fmt_number(shortfall.achieved, ",.0f"),
                state,
            )
        )
    return KpiTable(rows, targets)


def comparison_table_rows(runs: Sequence[ScenarioRun], base: str = "base") -> ComparisonTable:
    """KPIs per run with deltas against the base run and against each run's rule-based baseline."""
    table = comparison_table(runs, base)
    currency = runs[0].currency
    rows = []
    for row in KPI_ROWS:
        if table[row.key].isna().all():
            continue
        unit = row.unit.format(currency=currency)
        cells = [
            ComparisonCell(
                fmt_value(r[row.key], unit),
                None if r["run"] == base else fmt_delta(r[f"{row.key}_vs_base"], unit, row.lower_is_better),
                fmt_delta(r[f"{row.key}_vs_rules"], unit, row.lower_is_better),
            )
            for _, r in table.iterrows()
        ]
        label, indent = _split_label(row.label)
        rows.append(ComparisonRow(label, indent, unit, cells))
    infeasible = [bool(label) for label in table["saving_label"]]
    saving_rows = [
        SavingRow(*_split_label(label), currency, [fmt_value(v, currency) for v in table[column]])
        for column, label in SAVING_ROWS
        if any(_nonzero(v) for v in table[column])
    ]
    if not all(infeasible):
        saving_rows += [
            SavingRow(label, 0, unit.format(currency=currency), [fmt_value(v, currency) for v in table[column]])
            for column, label, unit in SCALING_ROWS
        ]
    notes = [
        ("warn", f"{run}: {label}") for run, label in zip(table["run"], table["saving_label"], strict=True) if label
    ]
    return ComparisonTable(
        runs=[str(r) for r in table["run"]],
        rows=rows,
        currency=currency,
        savings=[
            INFEASIBLE_BASELINE if bad else fmt_number(v, ",.0f")
            for v, bad in zip(table["saving_vs_rules_cny"], infeasible, strict=True)
        ],
        fallback_periods=[str(int(v)) for v in table["fallback_days"]],
        saving_rows=saving_rows,
        notes=notes + ([("note", ANNUALISED_NOTE)] if not all(infeasible) else []),
    )


def _nonzero(value: float | None) -> bool:
    """True for a number that does not show as 0 (nor ``-``)."""
    return value is not None and bool(np.isfinite(value)) and not _shows_zero(fmt_value(value, ""))


def savings_table(run: ScenarioRun) -> SavingsTable:
    """The run's saving split by group of money paid (they add up to the total), the internal carbon cost saved
    (apart: not money paid), the run's length, the saving per day (all but the demand charge), the demand charge per
    month billed and the annualised estimate; only the label when the baseline is infeasible."""
    currency = run.currency
    saving = run.savings
    if not saving.baseline_feasible or saving.total_cny is None:
        return SavingsTable(currency, saving.label, [], None)
    by_group = saving.by_group_cny or {}
    rows = [("saving against the rule-based baseline", 0, fmt_value(saving.total_cny, currency), currency)]
    rows += [(group.replace("_", " "), 1, fmt_value(by_group.get(group), currency), currency) for group in MONEY_GROUPS]
    rows.append(("carbon cost saved, not money paid", 0, fmt_value(saving.carbon_cny, currency), currency))
    if saving.days is not None:
        rows.append(("run", 0, f"{saving.days:.3g} day(s) in {saving.months_billed} month(s) billed", ""))
        rows += [
            (
                label,
                0,
                fmt_value(getattr(saving, column.removeprefix("saving_")), currency),
                unit.format(currency=currency),
            )
            for column, label, unit in SCALING_ROWS
        ]
    return SavingsTable(currency, None, rows, ANNUALISED_NOTE if saving.days is not None else None)


def days_table(run: ScenarioRun, limit: int = 62) -> DaysTable | None:
    """Per day of a run of several days, or per month when it has more than ``limit`` days; ``None`` for one day."""
    if len(run.days) < 2:
        return None
    records = run.days
    if len(records) > limit:
        frame = pd.DataFrame(
            {
                "month": [r.period[:7] for r in records],
                "cost": [k.energy_cost_cny for k in run.daily_kpis],
                "rules": [k.energy_cost_cny for k in run.daily_baseline_kpis],
                "fallback": [r.schedule_source != "optimizer" for r in records],
                "solve": [r.solve_seconds for r in records],
                "infeasible": [not r.baseline_feasible for r in records],
            }
        ).groupby("month", sort=False)
        rows = [
            (
                str(m),
                fmt_number(g.cost.sum(), ",.0f"),
                fmt_number(g.rules.sum(), ",.0f"),
                INFEASIBLE_BASELINE if g.infeasible.any() else fmt_number(g.rules.sum() - g.cost.sum(), ",.0f"),
                str(int(g.fallback.sum())),
                fmt_number(g.solve.sum(), ".1f"),
                f"{INFEASIBLE_BASELINE} on {int(g.infeasible.sum())} day(s)" if g.infeasible.any() else "",
            )
            for m, g in frame
        ]
        return DaysTable("month", run.currency, rows)
    rows = []
    for r, k, b in zip(records, run.daily_kpis, run.daily_baseline_kpis, strict=True):
        saving = savings(k, with_shortfalls(b, r.baseline_shortfalls))
        rows.append(
            (
                r.period,
                fmt_number(k.energy_cost_cny, ",.0f"),
                fmt_number(b.energy_cost_cny, ",.0f"),
                INFEASIBLE_BASELINE if saving.total_cny is None else fmt_number(saving.total_cny, ",.0f"),
                "" if r.schedule_source == "optimizer" else f"FALLBACK {r.status}",
                fmt_number(r.solve_seconds, ".1f"),
                saving.label or "",
            )
        )
    return DaysTable("day", run.currency, rows)
