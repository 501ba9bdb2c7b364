"""Side-by-side KPIs of runs (variants, sweep points): values, deltas against the base and the rule-based baseline.

``comparison_table`` gives one row per run with, for each KPI, the value, the
change against the base run (``<kpi>_vs_base``) and the change against the
run's own rule-based baseline (``<kpi>_vs_rules``). Shares are fractions
(0-1) and their deltas are in fraction points. The saving against the rules
is split by cost group (:data:`SAVING_ROWS`), with the carbon cost apart, per
day, per month billed and annualised (:class:`optimizer.kpis.Savings`); it is
blank, labelled ``baseline infeasible: ...``, when the rules leave demand unmet.

``print_comparison`` prints the same as rich tables that fit the terminal (80 columns when piped); sweep points
are named by their values (:func:`sweep_point_label`: ``battery.capacity_kwh=500``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from optimizer import Kpis
from optimizer.baseline_state import INFEASIBLE_BASELINE
from optimizer.kpis import CARBON, MONEY_GROUPS
from scenarios.pipeline import ScenarioRun


@dataclass(frozen=True)
class KpiRow:
    """A KPI shown in comparisons: how to read it from :class:`~optimizer.Kpis`, its label and unit."""

    key: str
    label: str
    unit: str
    lower_is_better: bool = True

    def value(self, kpis: Kpis) -> float | None:
        if self.key.startswith("cost:"):
            return kpis.cost_cny_by_component.get(self.key.removeprefix("cost:"), 0.0)
        value = getattr(kpis, self.key)
        return None if value is None else float(value)


KPI_ROWS: tuple[KpiRow, ...] = (
    KpiRow("energy_cost_cny", "energy cost", "{currency}"),
    KpiRow("cost:demand_charge", "  of which demand charge", "{currency}"),
    KpiRow("objective_cny", "objective (with carbon price, penalties)", "{currency}"),
    KpiRow("emissions_market_kgco2", "emissions, market-based", "kgCO2"),
    KpiRow("emissions_location_kgco2", "emissions, location-based", "kgCO2"),
    KpiRow("pv_self_consumption_frac", "PV self-consumption", "%", lower_is_better=False),
    KpiRow("green_share_frac", "green share", "%", lower_is_better=False),
    KpiRow("peak_import_kw", "peak import", "kW"),
    KpiRow("import_kwh", "grid import", "kWh"),
    KpiRow("export_kwh", "export", "kWh", lower_is_better=False),
    KpiRow("green_contract_kwh", "green contracts", "kWh"),
    KpiRow("curtailment_kwh", "PV curtailed", "kWh"),
)


SAVING_ROWS: tuple[tuple[str, str], ...] = (
    *((f"saving_{group}_cny", "  " + group.replace("_", " ")) for group in MONEY_GROUPS),
    (f"saving_{CARBON}_cny", "carbon cost saved, not paid"),
)
"""The saving's split as the tables show it: (column of :func:`comparison_table`, label); the groups of money paid
add up to ``saving_vs_rules_cny``, the carbon cost is apart."""
SCALING_ROWS: tuple[tuple[str, str, str], ...] = (
    ("saving_per_day_cny", "saving per day, excl. demand charge", "{currency}/day"),
    ("saving_demand_charge_per_month_cny", "demand charge saved per month", "{currency}/month"),
    ("saving_annualised_estimate_cny", "annualised saving, estimate", "{currency}/yr"),
)
"""How the saving scales, as the tables show it: (column, label, unit)."""
ANNUALISED_NOTE = (
    "annualised saving, an estimate = saving per day (excl. demand charge) x 365 + demand charge saved per month "
    "billed x 12: the demand charge is billed per calendar month on the month's peak, so a short run's demand-charge "
    "saving is a month's, not scaled by days."
)


def saving_columns(run: ScenarioRun) -> dict[str, Any]:
    """The saving columns of one run: total (None against an infeasible baseline), label, split, scaling."""
    saving = run.savings
    by_group = saving.by_group_cny or {}
    row: dict[str, Any] = {"saving_vs_rules_cny": saving.total_cny, "saving_label": saving.label or ""}
    row |= {f"saving_{group}_cny": by_group.get(group) for group in MONEY_GROUPS}
    row[f"saving_{CARBON}_cny"] = saving.carbon_cny
    row["saving_per_day_cny"] = saving.per_day_cny
    row["saving_demand_charge_per_month_cny"] = saving.demand_charge_per_month_cny
    row["months_billed"] = saving.months_billed
    row["saving_annualised_estimate_cny"] = saving.annualised_estimate_cny
    return row


def kpi_values(kpis: Kpis) -> dict[str, float | None]:
    """The comparison KPIs of one schedule."""
    return {row.key: row.value(kpis) for row in KPI_ROWS}


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def comparison_table(runs: Sequence[ScenarioRun], base: str = "base") -> pd.DataFrame:
    """One row per run: its label, description and swept parameters (``param:<path>``), KPI values, ``_vs_base``
    and ``_vs_rules`` deltas (none against a baseline that leaves demand unmet), saving (with
    :func:`saving_columns`), fallback days.

    ``_vs_base`` is against the run labelled ``base`` (the file as written, in ``dispatch compare`` and ``dispatch
    sweep``), or the first run when none is.
    """
    reference = next((r for r in runs if r.label == base), runs[0])
    ref_values = kpi_values(reference.kpis)
    rows: list[dict[str, Any]] = []
    for run in runs:
        values = kpi_values(run.kpis)
        # no change is stated against a baseline that leaves demand unmet (its costs leave that demand out)
        rules = kpi_values(run.baseline_kpis) if run.baseline_feasible else dict.fromkeys(values)
        row: dict[str, Any] = {"run": run.label, "description": run.description}
        row |= {f"param:{k}": v for k, v in run.parameters.items()}
        for key, value in values.items():
            row[key] = value
            row[f"{key}_vs_base"] = _delta(value, ref_values[key])
            row[f"{key}_vs_rules"] = _delta(value, rules[key])
        row["rules_energy_cost_cny"] = run.baseline_kpis.energy_cost_cny
        row |= saving_columns(run)
        row["days"] = len(run.days)
        row["fallback_days"] = len(run.fallback_days)
        rows.append(row)
    frame = pd.DataFrame(rows)
    params = [c for c in frame.columns if str(c).startswith("param:")]
    first = ["run", "description", *params]  # also when the first run (a sweep's base) has no parameters
    return frame[first + [c for c in frame.columns if c not in first]]


def _fmt(value: float | None, unit: str, *, delta: bool = False) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    if unit == "%":
        text = f"{100 * value:+.1f} pt" if delta else f"{100 * value:.1f} %"
    else:
        text = f"{value:+,.0f}" if delta else f"{value:,.0f}"
    if text.lstrip("+-").replace("0", "").strip(" .%pt") == "":  # rounds to zero: no sign (no "-0", "+0.0 pt")
        text = text.lstrip("+-")
    return text


# --- sweep points named by their values ---------------------------------------------------------


def parameter_text(value: Any) -> str:
    """A swept value as written in a scenario file: ``500`` (not ``500.0``), ``0.45``, ``true``; ``{add: 100}``
    as ``+=100`` and ``{scale: 1.2}`` as ``*=1.2`` (see :func:`sweep_point_label`)."""
    if isinstance(value, dict) and len(value) == 1:
        ((op, amount),) = value.items()
        if op in ("add", "scale"):
            return f"{'+' if op == 'add' else '*'}={parameter_text(amount)}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"
    if isinstance(value, list) and len(value) > 3:
        return f"[{parameter_text(value[0])}, ... {len(value)} values]"
    return str(value)


def _parameter_name(dotted: str) -> str:
    return dotted.removeprefix("site.")


def sweep_point_label(parameters: Mapping[str, Any], separator: str = ", ") -> str:
    """A sweep point named by its values: ``battery.capacity_kwh=500`` (the ``site.`` of the path dropped), one
    ``name=value`` per parameter joined by ``separator``; ``add``/``scale`` changes as ``name+=100``, ``name*=1.2``."""
    parts = []
    for dotted, value in parameters.items():
        text = parameter_text(value)
        joiner = "" if text[:2] in ("+=", "*=") else "="
        parts.append(f"{_parameter_name(dotted)}{joiner}{text}")
    return separator.join(parts)


# --- the console table --------------------------------------------------------------------------

LABEL_WIDTH = 30
"""The KPI column's width at most [characters]; longer labels wrap at spaces."""
LABEL_COMFORT = 22
"""The KPI column's width the layout keeps before it wraps run names harder [characters]."""
MIN_LABEL_WIDTH = 18
"""The KPI column's width at least, before runs go to a second table [characters]."""
NAME_MIN = 10
"""Run names wrap at ``_``, ``.``, ``=``, ``,``, ``-``, ``/`` or spaces down to lines of this width [characters]."""
COLUMN_EXTRA = 3
"""Characters a column takes beyond its content: a space either side and its border."""


def wrap_name(name: str, width: int) -> list[str]:
    """A run name in lines of at most ``width`` characters, broken after ``_ . = , - /`` or at a space (split
    mid-word only where a part is longer than ``width``): nothing of the name is cut."""
    lines: list[str] = []
    for given in name.splitlines() or [""]:
        line = ""
        for part in re.findall(r"[^_.=,\-/ ]+[_.=,\-/ ]*|[_.=,\-/ ]+", given):
            if line and len((line + part).rstrip()) > width:
                lines.append(line.rstrip())
                line = ""
            while len(part.rstrip()) > width:
                lines.append(part[:width])
                part = part[width:]
            line += part
        lines.append(line.rstrip())
    return lines


def _layout(label: int, numbers: Sequence[int], names: Sequence[str], room: int) -> tuple[int, list[list[str]]]:
    """The KPI column's width and each run's header lines so that the table fits ``room`` characters if it can:
    names whole where they fit, else wrapped (shorter and shorter lines), then narrower KPI labels."""

    def headers(cap: int) -> list[list[str]]:
        return [wrap_name(name, max(cap, n)) for name, n in zip(names, numbers, strict=True)]

    def widths(lines: list[list[str]]) -> int:
        return sum(max(n, *map(len, h)) + COLUMN_EXTRA for n, h in zip(numbers, lines, strict=True))

    label = min(label, LABEL_WIDTH)
    longest = max((len(line) for name in names for line in name.splitlines()), default=NAME_MIN)
    for cap in range(max(longest, NAME_MIN), NAME_MIN - 1, -1):
        wrapped = headers(cap)
        free = room - COLUMN_EXTRA - widths(wrapped)
        if free >= min(label, LABEL_COMFORT):
            return min(label, free), wrapped
    wrapped = headers(NAME_MIN)
    free = room - COLUMN_EXTRA - widths(wrapped)
    if free >= MIN_LABEL_WIDTH:
        return min(label, free), wrapped
    widest = max(max(n, *map(len, h)) for n, h in zip(numbers, wrapped, strict=True))  # runs go to several tables
    return max(MIN_LABEL_WIDTH, min(label, LABEL_COMFORT, room - 2 * COLUMN_EXTRA - widest)), wrapped


@dataclass(frozen=True)
class _Line:
    label: str
    cells: list[str]
    dim: bool = False


def _lines(table: pd.DataFrame, runs: Sequence[ScenarioRun], base: str, reference: str, vs_rules: bool) -> list[_Line]:
    """The table's lines: per KPI its values, then (dim) the change against the reference and (``vs_rules``)
    against the run's own rule-based baseline."""
    currency = runs[0].currency
    lines: list[_Line] = []
    for row in KPI_ROWS:
        if table[row.key].isna().all():
            continue  # e.g. PV self-consumption of a site without PV
        unit = row.unit.format(currency=currency)
        indent = " " * (len(row.label) - len(row.label.lstrip()) + 2)
        lines.append(_Line(f"{row.label} [{unit}]", [_fmt(v, unit) for v in table[row.key]]))
        if len(runs) > 1:
            deltas = [
                "" if label == reference else _fmt(v, unit, delta=True)
                for label, v in zip(table["run"], table[f"{row.key}_vs_base"], strict=True)
            ]
            lines.append(_Line(f"{indent}vs {base}", deltas, dim=True))
        if vs_rules:
            rules = [_fmt(v, unit, delta=True) for v in table[f"{row.key}_vs_rules"]]
            lines.append(_Line(f"{indent}vs rules", rules, dim=True))
    lines += _saving_lines(table, currency)
    lines.append(_Line("fallback days", [str(v) for v in table["fallback_days"]]))
    return lines


def _shown(value: Any) -> bool:
    """True for a number that does not read as 0 at a whole currency unit."""
    return value is not None and value == value and _fmt(value, "") not in ("0", "-")


def _saving_lines(table: pd.DataFrame, currency: str) -> list[_Line]:
    """The saving against the rules (``baseline infeasible`` where it is not stated), its groups that are not 0
    in every run, the carbon cost apart and how it scales; the scaling only when a run has a saving."""
    infeasible = [bool(label) for label in table["saving_label"]]
    totals = [
        INFEASIBLE_BASELINE if bad else _fmt(v, "")
        for v, bad in zip(table["saving_vs_rules_cny"], infeasible, strict=True)
    ]
    lines = [_Line(f"saving vs rule-based [{currency}]", totals)]
    for column, label in SAVING_ROWS:
        if any(_shown(v) for v in table[column]):
            lines.append(_Line(f"{label} [{currency}]", [_fmt(v, "") for v in table[column]]))
    if not all(infeasible):
        for column, label, unit in SCALING_ROWS:
            lines.append(_Line(f"{label} [{unit.format(currency=currency)}]", [_fmt(v, "") for v in table[column]]))
    return lines


def _chunks(widths: Sequence[int], room: int) -> list[list[int]]:
    """Consecutive runs (by index) per table so that each table's run columns fit in ``room`` characters."""
    chunks: list[list[int]] = []
    used = 0
    for i, width in enumerate(widths):
        if chunks and chunks[-1] and used + width + COLUMN_EXTRA <= room:
            chunks[-1].append(i)
            used += width + COLUMN_EXTRA
        else:
            chunks.append([i])
            used = width + COLUMN_EXTRA
    return chunks


def print_comparison(
    runs: Sequence[ScenarioRun],
    console: Console | None = None,
    base: str = "base",
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    vs_rules: bool | None = None,
) -> None:
    """Rich tables: a KPI per row, a column per run, and under each KPI (dim) its change against the base run and
    (``vs_rules``; default: when there is a single run) against the run's own rule-based baseline. The saving over
    the rule-based baseline has a row of its own, then its groups of money paid that are not 0, the carbon cost
    apart, the saving per day, the demand charge per month billed and the annualised estimate; under the tables,
    what each infeasible baseline leaves unmet and how the estimate is made. ``comparison_table`` (the CSV) has
    every change.

    The tables fit the console's width (80 columns when the output is piped): run names are kept whole (a long one
    continues on the header's next line), numbers are never wrapped, KPI labels wrap at spaces; runs that do not fit
    beside each other go to further tables under the first, each with the KPI column. ``headers`` replaces a run's
    label in its column header (e.g. the value alone of a one-parameter sweep, the parameter being named in
    ``title``).
    """
    console = console or Console()
    table = comparison_table(runs, base)
    reference = base if (table["run"] == base).any() else str(table["run"].iloc[0])
    lines = _lines(table, runs, base, reference, len(runs) == 1 if vs_rules is None else vs_rules)
    names = [str((headers or {}).get(run.label, run.label)) for run in runs]
    numbers = [max(len(line.cells[i]) for line in lines) for i in range(len(runs))]
    room = max(console.width, 40) - 1  # the table's left border
    label_width, wrapped = _layout(max(len(line.label) for line in lines), numbers, names, room)
    widths = [max(n, *map(len, h)) for n, h in zip(numbers, wrapped, strict=True)]
    chunks = _chunks(widths, room - label_width - COLUMN_EXTRA)
    title = title or f"{runs[0].scenario}: {len(runs[0].days)} day(s)"
    _print_tables(console, title, lines, chunks, wrapped, widths, label_width)
    for label, note in zip(table["run"], table["saving_label"], strict=True):
        if note:
            console.print(f"{escape(str(label))}: {escape(note)}; no saving is stated against it", highlight=False)
    if not all(bool(note) for note in table["saving_label"]):
        console.print(ANNUALISED_NOTE, highlight=False)


def _print_tables(
    console: Console,
    title: str,
    lines: list[_Line],
    chunks: list[list[int]],
    wrapped: list[list[str]],
    widths: list[int],
    label_width: int,
) -> None:
    """The rich tables of :func:`print_comparison`, one per chunk of runs."""
    for k, chunk in enumerate(chunks):
        grid = Table(title=escape(title + (f" ({k + 1}/{len(chunks)})" if len(chunks) > 1 else "")))
        grid.add_column("KPI", width=label_width, overflow="fold")
        for i in chunk:
            grid.add_column(escape("\n".join(wrapped[i])), justify="right", width=widths[i], overflow="fold")
        for line in lines:
            cells = [line.cells[i] for i in chunk]
            style = "dim" if line.dim else None
            grid.add_row(escape(line.label), *cells, style=style)
        console.print(grid)
