"""Side-by-side KPIs of runs (variants, sweep points): values, deltas against the base and the rule-based baseline.

``comparison_table`` gives one row per run with, for each KPI, the value, the
change against the base run (``<kpi>_vs_base``) and the change against the
run's own rule-based baseline (``<kpi>_vs_rules``). Shares are fractions
(0-1) and their deltas are in fraction points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from optimizer import Kpis
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


def kpi_values(kpis: Kpis) -> dict[str, float | None]:
    """The comparison KPIs of one schedule."""
    return {row.key: row.value(kpis) for row in KPI_ROWS}


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def comparison_table(runs: Sequence[ScenarioRun], base: str = "base") -> pd.DataFrame:
    """One row per run: KPI values, ``_vs_base`` and ``_vs_rules`` deltas, saving, fallback days."""
    reference = next((r for r in runs if r.label == base), runs[0])
    ref_values = kpi_values(reference.kpis)
    rows: list[dict[str, Any]] = []
    for run in runs:
        values = kpi_values(run.kpis)
        rules = kpi_values(run.baseline_kpis)
        row: dict[str, Any] = {"run": run.label, "description": run.description}
        row |= {f"param:{k}": v for k, v in run.parameters.items()}
        for key, value in values.items():
            row[key] = value
            row[f"{key}_vs_base"] = _delta(value, ref_values[key])
            row[f"{key}_vs_rules"] = _delta(value, rules[key])
        row["rules_energy_cost_cny"] = run.baseline_kpis.energy_cost_cny
        row["saving_vs_rules_cny"] = run.saving_cny
        row["days"] = len(run.days)
        row["fallback_days"] = len(run.fallback_days)
        rows.append(row)
    return pd.DataFrame(rows)


def _fmt(value: float | None, unit: str, *, delta: bool = False) -> str:
    if value is None:
        return "-"
    if unit == "%":
        text = f"{100 * value:+.1f} pt" if delta else f"{100 * value:.1f} %"
    else:
        text = f"{value:+,.0f}" if delta else f"{value:,.0f}"
    return text


def print_comparison(runs: Sequence[ScenarioRun], console: Console | None = None, base: str = "base") -> None:
    """A rich table: a KPI per row, a column per run, deltas against the base and the rules underneath."""
    console = console or Console()
    table = comparison_table(runs, base)
    currency = runs[0].currency
    grid = Table(title=f"{runs[0].scenario}: {len(runs[0].days)} day(s)", show_lines=False)
    grid.add_column("KPI")
    for run in runs:
        grid.add_column(escape(run.label), justify="right")
    for row in KPI_ROWS:
        if table[row.key].isna().all():
            continue  # e.g. PV self-consumption of a site without PV
        unit = row.unit.format(currency=currency)
        cells = []
        for _, r in table.iterrows():
            value = _fmt(r[row.key], unit)
            vs_base = (
                "" if r["run"] == base else f"\n[dim]{_fmt(r[f'{row.key}_vs_base'], unit, delta=True)} vs base[/dim]"
            )
            vs_rules = f"\n[dim]{_fmt(r[f'{row.key}_vs_rules'], unit, delta=True)} vs rules[/dim]"
            cells.append(value + vs_base + vs_rules)
        grid.add_row(escape(f"{row.label} [{unit}]"), *cells)
    grid.add_row(escape(f"saving vs rule-based [{currency}]"), *[f"{v:,.0f}" for v in table["saving_vs_rules_cny"]])
    grid.add_row("fallback days", *[str(v) for v in table["fallback_days"]])
    console.print(grid)
