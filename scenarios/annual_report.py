"""The annual report of a run: one HTML page and an Excel workbook a plant manager reads at a glance.

``write_annual_report(run, site, folder)`` writes, beside a run's normal outputs (:func:`scenarios.outputs.write_run`):

- ``annual.html``: the headline (each calendar year's zero-carbon status under the site's standard, met or not, and
  the cost of the least-cost purchase that closes the gap), money paid against the rule-based baseline with the
  saving split by cost group, the targets and contract volumes over their periods, a table and charts per month
  (energy cost, saving, grid import, PV, green share, scope 2 location- and market-based, net emissions), the
  carbon ledger per month, and the notes;
- ``annual.xlsx`` (:mod:`scenarios.annual_workbook`): ``Summary`` (the same headline, money, the table per month
  with its total, the ledger per month), one sheet per month with its days, ``Ledger`` (every entry), ``Daily``
  (every day of the run) and ``Targets`` (the period figures and each day's planned and achieved share).

Every number is computed once here, from the run's per-period KPIs (money, energy) and its carbon ledger
(emissions, certificates, offsets: :func:`scenarios.ledger.ledger_from_run`), so the sheets add up: a month's
days sum to the month's row, the months to the total, and the total equals the run's KPIs and the ledger's year.

Why both sources: money and energy are the optimiser's (what was planned and paid), emissions the ledger's (the
reporting factor set of the year, with certificates and offsets), which may differ from the factors the
optimiser planned with (``site.emission_factors``); the page says which set it used.

A run of any length works: a year run (``dispatch annual``) covers the calendar year, a shorter one is reported as
far as it goes (the status says how many days of the year it covers). A period of several days (``rolling:
false``) is one row, counted in the month it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.baseline_state import INFEASIBLE_BASELINE
from scenarios.annual_workbook import Block, Sheet, write_workbook
from scenarios.ledger_activity import period_dates
from scenarios.ledger_entries import KG_PER_T, LedgerTotals
from scenarios.outputs import account_table, period_payload
from scenarios.pipeline import ScenarioRun
from scenarios.report_figures import figure_html, monthly_figures
from scenarios.report_html import plotly_js_file, render_page
from scenarios.report_tables import (
    RunCarbon,
    carbon_table,
    fmt_number,
    money,
    period_table,
    savings_table,
    tco2,
)
from scenarios.rounding import AMOUNT, round_table
from scenarios.site import Site

ANNUAL_HTML = "annual.html"
ANNUAL_XLSX = "annual.xlsx"

LEDGER_COLUMNS = (
    "scope1_kgco2",
    "scope2_location_kgco2",
    "scope2_market_kgco2",
    "certificates_mwh",
    "certificates_kgco2",
    "scope2_market_after_certificates_kgco2",
    "offsets_tco2",
    "net_kgco2",
)
"""The ledger's figures in the daily table (``scope2_market_kgco2``: before certificates)."""

ADDITIVE = (
    "energy_cost_cny",
    "baseline_energy_cost_cny",
    "saving_cny",
    "import_kwh",
    "export_kwh",
    "pv_available_kwh",
    "pv_output_kwh",
    "pv_self_used_kwh",
    "green_contract_kwh",
    "consumption_kwh",
    *LEDGER_COLUMNS,
)
"""Columns of the daily and monthly tables that add up over days and months [CNY, kWh, kgCO2, MWh, tCO2]; the
shares are recomputed from the summed energies, the peak is the largest."""


def _shares(row: dict[str, Any]) -> dict[str, float | None]:
    """PV self-consumption = PV used on site / PV available; green share = (PV used on site + green contracts) /
    consumption (the optimiser's definitions), from summed energies."""
    used, available, consumption = row["pv_self_used_kwh"], row["pv_available_kwh"], row["consumption_kwh"]
    return {
        "pv_self_consumption_frac": used / available if available > 0 else None,
        "green_share_frac": (used + row["green_contract_kwh"]) / consumption if consumption > 0 else None,
    }


def daily_rows(run: ScenarioRun, carbon: RunCarbon) -> pd.DataFrame:
    """One row per run period (a day in a rolling run): status, money paid (optimised, rule-based, saving: blank
    with ``saving_label`` against a baseline that leaves demand unmet) [CNY], energies [kWh], shares, peak import
    [kW] from the period's KPIs, and the ledger's emissions [kgCO2], certificates [MWh] and offsets [tCO2] of its
    dates; not rounded."""
    by_day = {t.period: t for t in carbon.ledger.by_day()}
    rows = []
    for record, kpis, base in zip(run.days, run.daily_kpis, run.daily_baseline_kpis, strict=True):
        dates = period_dates(record.period)
        ledger = [by_day[d.isoformat()] for d in dates if d.isoformat() in by_day]
        row: dict[str, Any] = {
            "date": record.period,
            "month": f"{dates[0]:%Y-%m}",
            "days": len(dates),
            "status": record.status,
            "schedule_source": record.schedule_source,
            "energy_cost_cny": kpis.energy_cost_cny,
            "baseline_energy_cost_cny": base.energy_cost_cny,
            "saving_cny": record.saving_cny,
            "saving_label": record.saving_label or "",
            "import_kwh": kpis.import_kwh,
            "export_kwh": kpis.export_kwh,
            "pv_available_kwh": kpis.pv_available_kwh,
            "pv_output_kwh": kpis.pv_output_kwh,
            "pv_self_used_kwh": kpis.pv_output_kwh - kpis.export_kwh,
            "green_contract_kwh": kpis.green_contract_kwh,
            "consumption_kwh": kpis.consumption_kwh,
            "peak_import_kw": kpis.peak_import_kw,
        }
        row |= {column: sum(float(getattr(t, column)) for t in ledger) for column in LEDGER_COLUMNS}
        rows.append(row | _shares(row))
    return pd.DataFrame(rows, columns=_COLUMNS)


_COLUMNS = (
    "date",
    "month",
    "days",
    "status",
    "schedule_source",
    "energy_cost_cny",
    "baseline_energy_cost_cny",
    "saving_cny",
    "saving_label",
    "import_kwh",
    "export_kwh",
    "pv_available_kwh",
    "pv_output_kwh",
    "pv_self_used_kwh",
    "green_contract_kwh",
    "consumption_kwh",
    "pv_self_consumption_frac",
    "green_share_frac",
    "peak_import_kw",
    *LEDGER_COLUMNS,
)


def _sum_rows(label: str, rows: pd.DataFrame) -> dict[str, Any]:
    """One row that sums ``rows`` (daily or monthly): additive columns summed, the peak the largest, the shares
    recomputed; the saving blank (and labelled) when any of them states none."""
    out: dict[str, Any] = {"month": label, "days": int(rows["days"].sum())}
    for column in ADDITIVE:
        out[column] = float(rows[column].sum())
    infeasible = int(rows["saving_cny"].isna().sum())
    if infeasible:
        out["saving_cny"] = None
        out["saving_label"] = f"{INFEASIBLE_BASELINE} on {infeasible} {'day' if len(rows) > 1 else 'period'}(s)"
    else:
        out["saving_label"] = ""
    peaks = rows["peak_import_kw"].dropna()
    out["peak_import_kw"] = float(peaks.max()) if len(peaks) else None
    return out | _shares(out)


MONTH_COLUMNS = ("month", *(c for c in _COLUMNS if c not in ("date", "month", "status", "schedule_source")))
"""The daily table's columns that a month (or the year) sums or recomputes."""


def monthly_rows(daily: pd.DataFrame) -> pd.DataFrame:
    """One row per calendar month of :func:`daily_rows` (see :func:`_sum_rows`), in order; not rounded."""
    rows = [_sum_rows(str(month), group) for month, group in daily.groupby("month", sort=False)]
    return pd.DataFrame(rows, columns=MONTH_COLUMNS)


def total_row(daily: pd.DataFrame) -> pd.DataFrame:
    """The run's total as one row (``month``: ``total``), summed from the days."""
    return pd.DataFrame([_sum_rows("total", daily)], columns=MONTH_COLUMNS)


# --- the page --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthTable:
    """The table per month as shown: header, one row per month, the total."""

    currency: str
    rows: list[list[str]]
    total: list[str]
    notes: list[str]


def _month_cells(row: pd.Series) -> list[str]:
    saving = row["saving_cny"]
    share = row["green_share_frac"]
    return [
        str(row["month"]),
        str(int(row["days"])),
        fmt_number(row["energy_cost_cny"], ",.0f"),
        fmt_number(row["baseline_energy_cost_cny"], ",.0f"),
        INFEASIBLE_BASELINE if saving is None or saving != saving else fmt_number(saving, ",.0f"),
        fmt_number(row["import_kwh"], ",.0f"),
        fmt_number(row["pv_output_kwh"], ",.0f"),
        "-" if share is None or share != share else fmt_number(100 * share, ".1f") + " %",
        tco2(row["scope2_location_kgco2"]),
        tco2(row["scope2_market_after_certificates_kgco2"]),
        tco2(row["net_kgco2"]),
    ]


def month_table(months: pd.DataFrame, total: pd.DataFrame, currency: str) -> MonthTable:
    """:func:`monthly_rows` and :func:`total_row` as display strings."""
    notes = [f"{row['month']}: {row['saving_label']}" for _, row in months.iterrows() if row["saving_label"]]
    return MonthTable(
        currency=currency,
        rows=[_month_cells(row) for _, row in months.iterrows()],
        total=_month_cells(total.iloc[0]),
        notes=notes,
    )


def _ledger_month_cells(t: LedgerTotals) -> list[str]:
    return [
        t.period,
        str(t.days),
        tco2(t.scope1_kgco2),
        tco2(t.scope2_location_kgco2),
        tco2(t.scope2_market_kgco2),
        fmt_number(t.green_contract_kwh, ",.0f"),
        fmt_number(t.certificates_mwh, ",.3f"),
        tco2(t.certificates_kgco2),
        fmt_number(t.offsets_tco2, ",.3f"),
        tco2(t.net_kgco2),
    ]


def _headline(run: ScenarioRun, carbon: RunCarbon) -> list[tuple[str, str]]:
    """(css class, text) lines: per year, the status and the closing purchase's cost; without an account, why no
    status is given."""
    currency = run.currency
    if not carbon.account:
        return [
            (
                "note",
                "No zero-carbon status: the site has no carbon account (site.carbon: standard, certificates, credits, "
                f"quotes). Net emissions over the run {tco2(carbon.totals().net_kgco2)} tCO2.",
            )
        ]
    lines = []
    for status in carbon.statuses:
        state = "MET" if status.met else "NOT MET"
        covers = (
            f" ({status.days_covered} of its {status.days_in_year} days run)"
            if status.days_covered < status.days_in_year
            else ""
        )
        text = f"{status.year}{covers}: zero-carbon status {state} under {status.standard}; net emissions "
        text += f"{tco2(status.net_kgco2)} tCO2"
        if not status.met:
            purchase = status.purchase
            text += f"; closing purchase {money(purchase.cost_cny)} {currency}"
            if not purchase.closes_gap:
                text += f", which leaves {tco2(purchase.unclosed_kgco2)} tCO2 open"
        lines.append(("better" if status.met else "warn", text))
    return lines


def _money_line(run: ScenarioRun) -> str:
    """Money paid against the rule-based baseline, in one sentence."""
    currency = run.currency
    paid, base = run.kpis.energy_cost_cny, run.baseline_kpis.energy_cost_cny
    text = (
        f"Energy cost (money paid less export revenue) {money(paid)} {currency} with the plan, {money(base)} "
        f"{currency} by the rule-based baseline"
    )
    if run.saving_cny is None:
        return f"{text}: {run.savings.label}; no saving is stated against it."
    return f"{text}: a saving of {money(run.saving_cny)} {currency}."


def _notes(run: ScenarioRun, carbon: RunCarbon, daily: pd.DataFrame) -> list[str]:
    notes = [
        "Money and energy are the plan's (the optimiser's KPIs per day); emissions, certificates and offsets are the "
        f"carbon ledger's, with the factor set(s) {', '.join(i for i, _ in carbon.factor_sets())}; the optimiser "
        "planned with the site's emission_factors, which may differ.",
        "Scope 2 location-based: all grid import x the grid average; market-based: grid import not covered by "
        "green contracts x the residual factor, less what certificates avoid. Net: scope 1 + scope 2 market-based "
        "after certificates - offsets.",
    ]
    if (daily["days"] > 1).any():
        notes.append("Periods longer than a day are counted in the month they start.")
    if run.fallback_days:
        shown = ", ".join(run.fallback_days[:10]) + (" ..." if len(run.fallback_days) > 10 else "")
        notes.append(f"{len(run.fallback_days)} period(s) fell back to the rule-based schedule: {shown}")
    return notes + [str(n) for n in run.account_notes]


def render_annual_html(
    run: ScenarioRun, carbon: RunCarbon, daily: pd.DataFrame | None = None, *, plotly_js: str = "inline"
) -> str:
    """The annual page of ``run`` (see the module's notes); ``daily`` from :func:`daily_rows` when already made;
    ``plotly_js`` as in :func:`scenarios.report_html.render_schedule_html`."""
    daily = daily_rows(run, carbon) if daily is None else daily
    months = monthly_rows(daily)
    total = total_row(daily)
    years = sorted({d.year for label in daily["date"] for d in period_dates(str(label))})
    span = str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"
    ledger_total = carbon.ledger.by_year()
    return render_page(
        "annual.html.j2",
        f"{run.scenario}: {run.label}, annual report {span}",
        plotly_js,
        description=str(run.description or ""),
        first_period=str(run.days[0].period),
        last_period=str(run.days[-1].period),
        periods=len(run.days),
        currency=run.currency,
        headline=_headline(run, carbon),
        money_line=_money_line(run),
        savings=savings_table(run),
        periods_table=period_table(run),
        months=month_table(months, total, run.currency),
        figures=[figure_html(f) for f in monthly_figures(months, run.currency)],
        ledger_months=[_ledger_month_cells(t) for t in carbon.ledger.by_month()],
        ledger_years=[_ledger_month_cells(t) for t in ledger_total],
        carbon=carbon_table(carbon, run.currency),
        notes=_notes(run, carbon, daily),
    )


# --- the workbook ----------------------------------------------------------------------------------------------


def _key_values(rows: list[tuple[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["item", "value"])


def _status_frame(carbon: RunCarbon) -> pd.DataFrame:
    rows = [
        {
            "year": s.year,
            "standard": s.standard,
            "met": s.met,
            "days_covered": s.days_covered,
            "days_in_year": s.days_in_year,
            "scope1_kgco2": s.scope1_kgco2,
            "scope2_location_kgco2": s.scope2_location_kgco2,
            "scope2_market_kgco2": s.scope2_market_kgco2,
            "certificates_kgco2": s.certificates_kgco2,
            "offsets_kgco2": s.offsets_kgco2,
            "net_kgco2": s.net_kgco2,
            "net_tco2": s.net_kgco2 / KG_PER_T,
            "closing_purchase_cny": s.purchase.cost_cny,
            "purchase_closes_gap": s.purchase.closes_gap,
            "unclosed_kgco2": s.purchase.unclosed_kgco2,
            "reasons": "; ".join(r.message for r in s.reasons),
            "notes": "; ".join([*s.notes, *s.purchase.reasons]),
        }
        for s in carbon.statuses
    ]
    return round_table(pd.DataFrame(rows))


def _purchase_frame(carbon: RunCarbon) -> pd.DataFrame:
    rows = [
        {
            "year": s.year,
            "kind": item.kind,
            "quote": item.quote_id,
            "quantity": round(item.quantity, AMOUNT.decimals),
            "whole_units": item.whole_units,
            "unit": item.unit,
            "price_per_unit_cny": item.price_cny_per_unit,
            "cost_cny": item.cost_cny,
            "closes_kgco2": item.kgco2,
            "months": ", ".join(item.months),
        }
        for s in carbon.statuses
        for item in s.purchase.items
    ]
    return round_table(pd.DataFrame(rows))


def _money_frame(run: ScenarioRun) -> pd.DataFrame:
    saving = run.savings
    rows: list[tuple[str, Any]] = [
        (f"energy cost, optimised [{run.currency}]", run.kpis.energy_cost_cny),
        (f"energy cost, rule-based baseline [{run.currency}]", run.baseline_kpis.energy_cost_cny),
        (f"saving [{run.currency}]", saving.total_cny if saving.baseline_feasible else saving.label),
    ]
    for group, value in (saving.by_group_cny or {}).items():
        rows.append((f"  of which {group.replace('_', ' ')} [{run.currency}]", value))
    if saving.baseline_feasible:
        rows.append((f"carbon cost saved, not money paid [{run.currency}]", saving.carbon_cny))
        rows.append((f"annualised saving, estimate [{run.currency}/yr]", saving.annualised_estimate_cny))
    return _key_values([(k, round(v, 2) if isinstance(v, float) else v) for k, v in rows])


def _ledger_month_frame(carbon: RunCarbon) -> pd.DataFrame:
    rows = [
        t.model_dump(
            include={
                "period",
                "days",
                "import_kwh",
                "green_contract_kwh",
                "pv_self_used_kwh",
                "scope1_kgco2",
                "scope2_location_kgco2",
                "scope2_market_kgco2",
                "certificates_mwh",
                "certificates_kgco2",
                "certificates_cost_cny",
                "scope2_market_after_certificates_kgco2",
                "offsets_tco2",
                "offsets_cost_cny",
                "net_kgco2",
            }
        )
        for t in [*carbon.ledger.by_month(), *carbon.ledger.by_year()]
    ]
    return round_table(pd.DataFrame(rows))


def _targets_frame(run: ScenarioRun) -> pd.DataFrame:
    """The period figures as ``kpis.json`` writes them (:func:`scenarios.outputs.period_payload`), one row each."""
    return pd.DataFrame(period_payload(run))


def annual_sheets(run: ScenarioRun, carbon: RunCarbon, daily: pd.DataFrame | None = None) -> list[Sheet]:
    """The workbook's sheets: ``Summary``, one per month (``YYYY-MM``) with its days, ``Ledger``, ``Daily`` and
    ``Targets``; numbers rounded at their unit's precision (:mod:`scenarios.rounding`)."""
    daily = daily_rows(run, carbon) if daily is None else daily
    months = monthly_rows(daily)
    total = total_row(daily)
    about = [
        ("scenario", run.scenario),
        ("run", run.label),
        ("first period", run.days[0].period),
        ("last period", run.days[-1].period),
        ("periods", len(run.days)),
        ("currency", run.currency),
        ("factor sets", "; ".join(f"{i}: {source}" for i, source in carbon.factor_sets())),
        ("carbon account", "yes" if carbon.account else "no (site.carbon): no zero-carbon status"),
    ]
    summary = [Block("Annual report", _key_values(about))]
    if carbon.account:
        summary.append(Block("Zero-carbon status", _status_frame(carbon)))
        purchase = _purchase_frame(carbon)
        if len(purchase):
            summary.append(Block("Closing purchase", purchase))
    summary += [
        Block("Money", _money_frame(run)),
        Block("Per month", round_table(pd.concat([months, total], ignore_index=True)), total_rows=1),
        Block("Carbon ledger per month and year", _ledger_month_frame(carbon), total_rows=len(carbon.ledger.years())),
    ]
    notes = _notes(run, carbon, daily)
    summary.append(Block("Notes", pd.DataFrame({"note": notes})))
    sheets = [Sheet("Summary", summary)]
    for month, group in daily.groupby("month", sort=False):
        sheets.append(Sheet(str(month), [Block(None, round_table(group.reset_index(drop=True)))]))
    sheets.append(Sheet("Ledger", [Block(None, round_table(carbon.ledger.to_frame()))]))
    sheets.append(Sheet("Daily", [Block(None, round_table(daily))]))
    targets = [Block("Targets and contract volumes over their periods", _targets_frame(run))]
    targets.append(Block("Each day's planned and achieved share", account_table(run)))
    if run.account_notes:
        targets.append(Block("Notes", pd.DataFrame({"note": [str(n) for n in run.account_notes]})))
    sheets.append(Sheet("Targets", targets))
    return sheets


def write_annual_report(
    run: ScenarioRun,
    site: Site,
    folder: Path,
    *,
    carbon: RunCarbon | None = None,
    library: Path | None = None,
) -> dict[str, Path]:
    """Writes ``annual.html`` and ``annual.xlsx`` of ``run`` (of ``site``) into ``folder``; returns them by kind
    (``annual_html``, ``annual_xlsx``). ``carbon``: the run's ledger if already built (else built from ``site``);
    the page loads plotly.js from ``library`` (default: ``folder``), written there once."""
    folder.mkdir(parents=True, exist_ok=True)
    carbon = carbon or RunCarbon.of(run, site)
    daily = daily_rows(run, carbon)
    html = folder / ANNUAL_HTML
    html.write_text(render_annual_html(run, carbon, daily, plotly_js=plotly_js_file(folder, library)), encoding="utf-8")
    xlsx = folder / ANNUAL_XLSX
    write_workbook(xlsx, annual_sheets(run, carbon, daily))
    return {"annual_html": html, "annual_xlsx": xlsx}
