"""The tables of the HTML reports as plain data: every cell a display string, no HTML.

The templates (``scenarios/templates/tables.html.j2``) lay them out and escape them:

- :func:`kpi_table`: optimised vs rule-based KPIs of one schedule, with the difference and the targets;
- :func:`comparison_table_rows`: KPIs per variant with deltas against the base run and the rules, and the
  saving with its split;
- :func:`savings_table`: one run's saving split by cost group, the carbon cost apart, per day, per month billed
  and annualised (an estimate);
- :func:`days_table`: cost, saving, fallback and solve time per day (per month for long runs);
- :func:`period_table`: each target or contract volume over its period (month, year, date range): required,
  achieved, met, days above and below their planned share, what the rest of the period must do;
- :func:`carbon_table`: the run's carbon ledger (:class:`RunCarbon`): scope 1 by fuel, scope 2 location- and
  market-based, green contracts, certificates, offsets, net, and per year the zero-carbon status with its reasons
  and the least-cost closing purchase;
- :func:`period_lines` and :func:`carbon_lines`: the same as lines of text for the command line's summary.

Against a rule-based baseline that leaves demand unmet no saving is shown: the cell reads ``baseline infeasible``
and the table's note says what is unmet.

Cells are formatted at a display precision, never as raw floats; a value that shows as zero is written
without a sign (``0``, not ``-0`` or ``+0``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from optimizer import Kpis
from optimizer.baseline_state import INFEASIBLE_BASELINE
from optimizer.kpis import MONEY_GROUPS, savings, with_shortfalls
from scenarios.compare import ANNUALISED_NOTE, KPI_ROWS, SAVING_ROWS, SCALING_ROWS, comparison_table
from scenarios.ledger import Ledger, ledger_from_run
from scenarios.ledger_entries import KG_PER_T, LedgerTotals
from scenarios.period_account import PeriodFigure
from scenarios.pipeline import ScenarioRun
from scenarios.zero_carbon import ZeroCarbonStatus


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


# --- targets over their periods --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodRow:
    """One target or contract volume over one period, as shown."""

    item: str
    period: str
    required: str  # "at least 60.0 %", "3,000 to 3,600 kWh", "at most 1,200 kgCO2"
    achieved: str
    met: bool
    days: str  # "3 of 365"
    above: str  # days that did at least their planned share (at most, for a cap)
    below: str
    rest: str  # what the days of the period after the run must do


@dataclass(frozen=True)
class PeriodTable:
    rows: list[PeriodRow]
    notes: list[str]  # the account's notes: a plan that could not be made (the days paced), months not split


def figure_value(value: float | None, unit: str) -> str:
    """A period figure's amount in its unit: a share in %, kWh and kgCO2 whole."""
    if value is None:
        return "-"
    if unit == "share":
        return fmt_number(100 * value, ".1f") + " %"
    return f"{fmt_number(value, ',.0f')} {unit}"


def _required(figure: PeriodFigure) -> str:
    if figure.kind == "emission_cap":
        return f"at most {figure_value(figure.required, figure.unit)}"
    if figure.maximum is not None:
        low = figure_value(figure.required, figure.unit).removesuffix(f" {figure.unit}")
        return f"{low} to {figure_value(figure.maximum, figure.unit)}"
    return f"at least {figure_value(figure.required, figure.unit)}"


def period_table(run: ScenarioRun) -> PeriodTable | None:
    """The run's targets and contract volumes over their periods (:attr:`ScenarioRun.period_figures`); ``None``
    when the site has none over a day, month, year or date range."""
    if not run.period_figures and not run.account_notes:
        return None
    rows = [
        PeriodRow(
            item=f.item,
            period=f.period,
            required=_required(f),
            achieved=figure_value(f.achieved, f.unit),
            met=f.met,
            days=f"{f.days_run} of {f.days_in_period}",
            above=str(f.days_above),
            below=str(f.days_below),
            rest=f.rest_of_period or "",
        )
        for f in run.period_figures
    ]
    return PeriodTable(rows, [str(n) for n in run.account_notes])


def period_lines(run: ScenarioRun) -> list[str]:
    """One line per target or contract volume over its period, for the command line: ``green_share over 2026
    (3 of 365 days): achieved 58.2 %, required at least 60.0 %: NOT MET; 1 day(s) above its planned share, 2
    below; the other 362 days need ...``; then the account's notes."""
    table = period_table(run)
    if table is None:
        return []
    lines = []
    for row in table.rows:
        state = "met" if row.met else "NOT MET"
        text = (
            f"{row.item} over {row.period} ({row.days} days): achieved {row.achieved}, required {row.required}: "
            f"{state}; {row.above} day(s) at their planned share or better, {row.below} below"
        )
        lines.append(text + (f"; {row.rest}" if row.rest else ""))
    return lines + [f"note: {n}" for n in table.notes]


# --- the carbon account ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunCarbon:
    """A run's carbon ledger (:func:`scenarios.ledger.ledger_from_run`) and, when the site has its own carbon
    account (``site.carbon``), the zero-carbon status of each calendar year the run covers.

    Without an account the ledger still gives scope 1 and both scope 2 totals, with the default factor set
    (the national set of the latest year not after the run's) and no certificates or offsets; no status is
    judged, since the site has stated no standard to judge it by.
    """

    ledger: Ledger
    account: bool
    statuses: tuple[ZeroCarbonStatus, ...]

    @classmethod
    def of(cls, run: ScenarioRun, site: Any) -> RunCarbon:
        """The carbon of ``run`` of ``site`` (a :class:`~scenarios.site.Site`)."""
        ledger = ledger_from_run(run, site)
        account = getattr(site, "carbon", None) is not None
        return cls(ledger, account, tuple(ledger.statuses()) if account else ())

    def totals(self) -> LedgerTotals:
        """The ledger's totals over the run (restatements included)."""
        return self.ledger.totals()

    def factor_sets(self) -> list[tuple[str, str]]:
        """(id, source) of every factor set the entries use (restatements' new sets included), in order."""
        seen: dict[str, str] = {}
        for entry in self.ledger.entries:
            seen.setdefault(entry.factor_set.id, entry.factor_set.source)
        return list(seen.items())


def tco2(kgco2: float | None) -> str:
    """An amount in kgCO2 shown in tCO2 at 0.001 (1 kg)."""
    return "-" if kgco2 is None else fmt_number(kgco2 / KG_PER_T, ",.3f")


def money(value: float | None) -> str:
    """An amount of money at 0.01."""
    return "-" if value is None else fmt_number(value, ",.2f")


@dataclass(frozen=True)
class PurchaseRow:
    """One line of a closing purchase: what, how much (whole certificates or credits), price and cost."""

    kind: str  # "GEC" or "offset"
    quote: str
    quantity: str  # "220 MWh" (219.4 needed)
    price: str
    cost: str
    closes: str  # tCO2
    months: str


@dataclass(frozen=True)
class StatusView:
    """A year's zero-carbon status as shown."""

    year: int
    standard: str
    met: bool
    headline: str  # "2026: zero-carbon status NOT MET under ... (covers 3 of the 365 days)"
    net: str  # tCO2
    reasons: list[str]
    notes: list[str]
    purchase_cost: str
    purchase_closes: bool
    purchase: list[PurchaseRow]
    purchase_reasons: list[str]
    retirements: list[str]  # "gec-2026-01: retire 22 MWh"


@dataclass(frozen=True)
class CarbonTable:
    """The carbon account of a run: totals by scope (tCO2 unless stated) and each year's status."""

    account: bool
    factor_sets: list[str]  # "CN/2023/published: <source>"
    rows: list[tuple[str, int, str, str]]  # label, indent, value, unit
    statuses: list[StatusView]
    notes: list[str]


def _status_view(status: ZeroCarbonStatus, currency: str) -> StatusView:
    state = "met" if status.met else "NOT MET"
    covers = (
        f" (covers {status.days_covered} of the {status.days_in_year} days)"
        if status.days_covered < status.days_in_year
        else ""
    )
    purchase = status.purchase
    rows = [
        PurchaseRow(
            kind="GEC" if item.kind == "gec" else "offset",
            quote=item.quote_id,
            quantity=f"{item.whole_units:,} {item.unit} ({fmt_number(item.quantity, ',.3f')} needed)",
            price=f"{money(item.price_cny_per_unit)} {currency}/{item.unit}",
            cost=money(item.cost_cny),
            closes=tco2(item.kgco2),
            months=", ".join(item.months),
        )
        for item in purchase.items
    ]
    return StatusView(
        year=status.year,
        standard=status.standard,
        met=status.met,
        headline=f"{status.year}: zero-carbon status {state} under {status.standard}{covers}",
        net=tco2(status.net_kgco2),
        reasons=[r.message for r in status.reasons],
        notes=list(status.notes),
        purchase_cost=money(purchase.cost_cny),
        purchase_closes=purchase.closes_gap,
        purchase=rows,
        purchase_reasons=list(purchase.reasons)
        + ([f"{tco2(purchase.unclosed_kgco2)} tCO2 stay open"] if purchase.unclosed_kgco2 > 0 else []),
        retirements=[f"{r.lot_id}: retire {r.whole_units:,} {r.unit}" for r in status.retirements],
    )


def carbon_table(carbon: RunCarbon, currency: str) -> CarbonTable:
    """The run's ledger totals (scope 1 by fuel; scope 2 location-based and market-based, both always, by source;
    green contracts; certificates and offsets retired; net) and each year's zero-carbon status."""
    t = carbon.totals()
    rows: list[tuple[str, int, str, str]] = [("scope 1", 0, tco2(t.scope1_kgco2), "tCO2")]
    rows += [(fuel.replace("_", " "), 1, tco2(v), "tCO2") for fuel, v in t.scope1_kgco2_by_fuel.items()]
    rows.append(("scope 2, location-based", 0, tco2(t.scope2_location_kgco2), "tCO2"))
    rows += [(source, 1, tco2(v), "tCO2") for source, v in t.scope2_location_kgco2_by_source.items()]
    rows.append(("scope 2, market-based before certificates", 0, tco2(t.scope2_market_kgco2), "tCO2"))
    rows += [(source, 1, tco2(v), "tCO2") for source, v in t.scope2_market_kgco2_by_source.items()]
    rows += [
        ("grid import", 0, fmt_number(t.import_kwh, ",.0f"), "kWh"),
        ("green contracts", 1, fmt_number(t.green_contract_kwh, ",.0f"), "kWh"),
        ("PV used on site", 0, fmt_number(t.pv_self_used_kwh, ",.0f"), "kWh"),
        ("certificates retired", 0, fmt_number(t.certificates_mwh, ",.3f"), "MWh"),
        ("emissions they avoid", 1, tco2(t.certificates_kgco2), "tCO2"),
        ("their cost", 1, money(t.certificates_cost_cny), currency),
        ("scope 2, market-based after certificates", 0, tco2(t.scope2_market_after_certificates_kgco2), "tCO2"),
        ("offsets retired", 0, fmt_number(t.offsets_tco2, ",.3f"), "tCO2"),
        ("their cost", 1, money(t.offsets_cost_cny), currency),
        ("net emissions", 0, tco2(t.net_kgco2), "tCO2"),
    ]
    notes = []
    if not carbon.account:
        notes.append(
            "the site has no carbon account (site.carbon): emissions with the default factor set, no certificates "
            "or offsets, no zero-carbon status"
        )
    return CarbonTable(
        account=carbon.account,
        factor_sets=[f"{set_id}: {source}" for set_id, source in carbon.factor_sets()],
        rows=rows,
        statuses=[_status_view(s, currency) for s in carbon.statuses],
        notes=notes,
    )


def carbon_lines(carbon: RunCarbon, currency: str) -> list[str]:
    """The carbon status for the command line, one line per calendar year (one line without an account): net
    tCO2, scope 2 both ways, the status with its first reason, the closing purchase and its cost."""
    table = carbon_table(carbon, currency)
    t = carbon.totals()
    scopes = (
        f"scope 1 {tco2(t.scope1_kgco2)}, scope 2 location-based {tco2(t.scope2_location_kgco2)}, "
        f"market-based {tco2(t.scope2_market_after_certificates_kgco2)} tCO2"
    )
    if not carbon.account:
        return [f"carbon: net {tco2(t.net_kgco2)} tCO2 ({scopes}); {table.notes[0]}"]
    lines = []
    by_year = {y.period: y for y in carbon.ledger.by_year()}
    for view in table.statuses:
        year = by_year[str(view.year)]
        text = f"carbon {view.headline}: net {view.net} tCO2"
        if len(table.statuses) > 1:
            text += f" ({tco2(year.scope2_location_kgco2)} / {tco2(year.scope2_market_after_certificates_kgco2)} "
            text += "tCO2 scope 2 location / market-based)"
        else:
            text += f" ({scopes})"
        if view.reasons:
            text += f"; {view.reasons[0]}"
        if not view.met:
            bought = "; ".join(f"{p.quantity.split(' (')[0]} {p.kind} at {p.quote}" for p in view.purchase)
            text += f"; closing purchase {view.purchase_cost} {currency}" + (f" ({bought})" if bought else "")
            if not view.purchase_closes:
                text += ", which does not close the gap: " + "; ".join(view.purchase_reasons)
        lines.append(text)
    return lines
