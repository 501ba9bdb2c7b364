"""The outputs of a run toward the year's zero-carbon status: ``kpis.json``'s ``period_figures`` and ``carbon``,
``account.csv``, ``ledger.csv``, the report's sections, the command line's summary, and the annual report
(``annual.html``, ``annual.xlsx``) of ``dispatch annual`` and ``dispatch run --annual``.

Every expected number is worked out by hand on one small plant (:data:`HAND`), three hourly days across a month
end (30 January to 1 February 2026):

- load 100 kW all day, PV 50 kW from 08:00 to 16:00 (all used on site, no export): per day 2,400 kWh consumed,
  400 kWh of PV, 2,000 kWh imported; over the three days 6,000 kWh imported;
- a PPA at 0.55 CNY/kWh (grid 0.5) with 36,500 kWh a year: the three days' share is 36,500 x 3 / 365 = 300 kWh,
  and as it is dearer than the grid the plan takes exactly that: energy cost 5,700 x 0.5 + 300 x 0.55 = 3,015 CNY.
  The rule-based baseline takes the PPA for all import: 6,000 x 0.55 = 3,300 CNY, a saving of 285 CNY;
- the ledger (2026 takes the 2023 national set: grid average 0.5306, residual 0.6096 kgCO2/kWh): scope 2
  location-based 6,000 x 0.5306 = 3,183.6 kgCO2, market-based before certificates (6,000 - 300) x 0.6096 =
  3,474.72 kgCO2; the site's 2 MWh of GEC avoid 2,000 x 0.6096 = 1,219.2 kgCO2, so net 2,255.52 kgCO2;
- the year is not zero-carbon: the least-cost closing purchase covers the 5,700 - 2,000 = 3,700 kWh of grid power
  left with GEC at 5.6 CNY/MWh: 3.7 MWh, bought whole as 4 certificates, 22.40 CNY.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from rich.console import Console
from typer.testing import CliRunner

from optimizer import solve
from scenarios.annual_report import write_annual_report
from scenarios.cli import app, result_line
from scenarios.ledger import ledger_from_run
from scenarios.loader import Case, load_scenario
from scenarios.pipeline import ScenarioRun, build_problem, case_periods, run_case
from scenarios.report import print_result

HAND = """\
name: hand
description: three days across a month end, worked out by hand
site:
  name: Hand-computed annual report site
  tz: Asia/Shanghai
  emission_factors: {grid_location_kgco2_per_kwh: 0.5306, grid_market_kgco2_per_kwh: 0.6096}
  assets:
    - {kind: grid, name: grid, import_limit_kw: 1000, import_price_cny_per_kwh: 0.5, export_limit_kw: 0}
    - {kind: load, name: plant, power_kw: 100}
    - {kind: pv, name: roof, available_kw: $inputs.pv}
    - {kind: green_contract, name: ppa, price_cny_per_kwh: 0.55, min_energy_kwh: 36500, energy_over: year}
  carbon:
    standard: {preset: iso14068}
    lots:
      - {kind: gec, id: gec-lot, mwh: 2, production_month: 2026-01, price_cny_per_mwh: 5.6}
    quotes:
      gec: [{id: gec-market, price_cny_per_mwh: 5.6}]
horizon: {start: 2026-01-30, days: 3, step_minutes: 60}
inputs:
  pv:  # kW, hourly from midnight: 50 kW from 08:00 to 16:00
    values: [0, 0, 0, 0, 0, 0, 0, 0, 50, 50, 50, 50, 50, 50, 50, 50, 0, 0, 0, 0, 0, 0, 0, 0]
"""
PLAIN = """\
name: plain
site:
  name: The same plant without the PPA and without a carbon account
  tz: Asia/Shanghai
  assets:
    - {kind: grid, name: grid, import_limit_kw: 1000, import_price_cny_per_kwh: 0.5, export_limit_kw: 0}
    - {kind: load, name: plant, power_kw: 100}
    - {kind: pv, name: roof, available_kw: $inputs.pv}
horizon: {start: 2026-01-30, days: 3, step_minutes: 60}
inputs:
  pv: {values: [0, 0, 0, 0, 0, 0, 0, 0, 50, 50, 50, 50, 50, 50, 50, 50, 0, 0, 0, 0, 0, 0, 0, 0]}
"""

IMPORT_KWH = 6_000.0  # (100 kW x 24 h - 50 kW x 8 h) x 3 days
PPA_KWH = 300.0  # 36,500 x 3 / 365
ENERGY_COST = 5_700 * 0.5 + 300 * 0.55  # 3,015 CNY
SAVING = 6_000 * 0.55 - ENERGY_COST  # 285 CNY
LOCATION_KG = IMPORT_KWH * 0.5306  # 3,183.6
MARKET_KG = (IMPORT_KWH - PPA_KWH) * 0.6096  # 3,474.72
GEC_KG = 2_000 * 0.6096  # 1,219.2
NET_KG = MARKET_KG - GEC_KG  # 2,255.52 = 3,700 x 0.6096
PURCHASE_CNY = 4 * 5.6  # 3.7 MWh bought whole: 22.40


def _case(tmp_path: Path, text: str = HAND, name: str = "hand") -> Case:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(path).base()


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> tuple[Case, ScenarioRun]:
    case = _case(tmp_path_factory.mktemp("hand"))
    run = run_case(case)
    assert run.ok
    return case, run


def _table(sheet: Worksheet, first_row: int) -> pd.DataFrame:
    """The table whose header is at ``first_row``: its rows down to the first empty one."""
    rows = list(sheet.iter_rows(min_row=first_row, values_only=True))
    header = [c for c in rows[0] if c is not None]
    body = []
    for row in rows[1:]:
        if all(c is None for c in row):
            break
        body.append(list(row[: len(header)]))
    return pd.DataFrame(body, columns=header)


def _block(sheet: Worksheet, title: str) -> pd.DataFrame:
    """The block of the Summary (or Targets) sheet titled ``title``."""
    for (cell,) in sheet.iter_rows(min_col=1, max_col=1):
        if cell.value == title:
            return _table(sheet, cell.row + 1)
    raise AssertionError(f"no block {title!r} on {sheet.title}")


def test_the_run_is_what_the_hand_says(hand: tuple[Case, ScenarioRun]) -> None:
    _, run = hand
    assert run.kpis.import_kwh == pytest.approx(IMPORT_KWH, abs=1e-3)
    assert run.kpis.green_contract_kwh == pytest.approx(PPA_KWH, abs=1e-3)
    assert run.kpis.energy_cost_cny == pytest.approx(ENERGY_COST, abs=1e-3)
    assert run.saving_cny == pytest.approx(SAVING, abs=1e-3)


def test_the_workbook_adds_up_from_days_to_months_to_the_run_and_the_ledger(
    hand: tuple[Case, ScenarioRun], tmp_path: Path
) -> None:
    """Each month's sheet sums to its row of the Summary, the months to the total, the total to the run's KPIs
    and to the hand's numbers; the Ledger sheet's entries sum to the ledger's year."""
    case, run = hand
    files = write_annual_report(run, case.scenario.site, tmp_path)
    assert files == {"annual_html": tmp_path / "annual.html", "annual_xlsx": tmp_path / "annual.xlsx"}
    book = openpyxl.load_workbook(files["annual_xlsx"])
    assert book.sheetnames == ["Summary", "2026-01", "2026-02", "Ledger", "Daily", "Targets"]

    months = _block(book["Summary"], "Per month").set_index("month")
    assert list(months.index) == ["2026-01", "2026-02", "total"]
    assert months.loc["2026-01", "days"] == 2 and months.loc["2026-02", "days"] == 1
    summed = (
        "energy_cost_cny",
        "baseline_energy_cost_cny",
        "saving_cny",
        "import_kwh",
        "pv_output_kwh",
        "green_contract_kwh",
        "consumption_kwh",
        "scope2_location_kgco2",
        "scope2_market_kgco2",
        "certificates_mwh",
        "net_kgco2",
    )
    for month in ("2026-01", "2026-02"):
        days = _table(book[month], 1)
        assert list(days["month"]) == [month] * len(days)
        for column in summed:  # rounded to 0.01 CNY or 0.001 kWh/kgCO2/MWh: at most half of it per row apart
            assert days[column].sum() == pytest.approx(months.loc[month, column], abs=0.01 * len(days)), column
    for column in summed:
        assert months.loc[["2026-01", "2026-02"], column].sum() == pytest.approx(months.loc["total", column], abs=0.02)
    total = months.loc["total"]
    for column, kpi in (
        ("energy_cost_cny", run.kpis.energy_cost_cny),
        ("baseline_energy_cost_cny", run.baseline_kpis.energy_cost_cny),
        ("import_kwh", run.kpis.import_kwh),
        ("pv_output_kwh", run.kpis.pv_output_kwh),
        ("green_contract_kwh", run.kpis.green_contract_kwh),
    ):
        assert total[column] == pytest.approx(kpi, abs=0.005), column
    assert total["energy_cost_cny"] == pytest.approx(ENERGY_COST, abs=0.005)
    assert total["saving_cny"] == pytest.approx(SAVING, abs=0.005)
    assert total["import_kwh"] == pytest.approx(IMPORT_KWH, abs=0.001)
    assert total["scope2_location_kgco2"] == pytest.approx(LOCATION_KG, abs=0.001)
    assert total["scope2_market_kgco2"] == pytest.approx(MARKET_KG, abs=0.001)
    assert total["net_kgco2"] == pytest.approx(NET_KG, abs=0.001)
    # green share from the summed energies: (PV used 1,200 + PPA 300) / consumption 7,200
    assert total["green_share_frac"] == pytest.approx(1_500 / 7_200, abs=1e-6)

    daily = _table(book["Daily"], 1)
    assert list(daily["date"]) == ["2026-01-30", "2026-01-31", "2026-02-01"]
    assert daily["energy_cost_cny"].sum() == pytest.approx(ENERGY_COST, abs=0.015)

    (year,) = ledger_from_run(run, case.scenario.site).by_year()
    entries = _table(book["Ledger"], 1)
    assert list(entries["id"]) == ["2026-01-30", "2026-01-31", "2026-02-01"]
    for column in (
        "import_kwh",
        "green_contract_kwh",
        "scope2_location_kgco2",
        "scope2_market_kgco2",
        "certificates_mwh",
        "certificates_kgco2",
        "offsets_tco2",
        "net_kgco2",
    ):
        assert entries[column].sum() == pytest.approx(getattr(year, column), abs=0.002), column
    assert year.net_kgco2 == pytest.approx(NET_KG) and year.certificates_kgco2 == pytest.approx(GEC_KG)
    ledger_rows = _block(book["Summary"], "Carbon ledger per month and year").set_index("period")
    assert ledger_rows.loc["2026", "net_kgco2"] == pytest.approx(year.net_kgco2, abs=0.001)

    status = _block(book["Summary"], "Zero-carbon status")
    assert bool(status.loc[0, "met"]) is False
    assert status.loc[0, "closing_purchase_cny"] == pytest.approx(PURCHASE_CNY)
    purchase = _block(book["Summary"], "Closing purchase")
    assert purchase.loc[0, "whole_units"] == 4 and purchase.loc[0, "quantity"] == pytest.approx(3.7, abs=1e-3)

    targets = _block(book["Targets"], "Targets and contract volumes over their periods")
    assert targets.loc[0, "item"] == "ppa.energy" and targets.loc[0, "period"] == "2026"
    assert targets.loc[0, "required"] == pytest.approx(PPA_KWH) and bool(targets.loc[0, "met"])
    shares = _block(book["Targets"], "Each day's planned and achieved share")
    assert shares["achieved"].sum() == pytest.approx(PPA_KWH, abs=0.003)


def test_the_annual_page_states_the_status_and_the_closing_purchase(
    hand: tuple[Case, ScenarioRun], tmp_path: Path
) -> None:
    """Net 2,255.52 kgCO2 = (6,000 - 300 - 2,000) kWh x 0.6096; 3.7 MWh of GEC bought whole: 4 x 5.6 = 22.40 CNY."""
    case, run = hand
    html = write_annual_report(run, case.scenario.site, tmp_path)["annual_html"].read_text(encoding="utf-8")
    assert "2026 (3 of its 365 days run): zero-carbon status NOT MET under ISO 14068-1:2023" in html
    assert "net emissions 2.256 tCO2; closing purchase 22.40 CNY" in html
    assert "4 MWh (3.700 needed)" in html and "gec-market" in html
    assert "a saving of 285.00 CNY" in html
    assert "Targets over their periods" in html and "ppa.energy" in html
    assert "Carbon ledger per month" in html and html.count('class="plotly-graph-div"') == 2
    assert '<script type="text/javascript" src="plotly.min.js"' in html


def test_dispatch_run_writes_period_figures_carbon_account_and_ledger(tmp_path: Path) -> None:
    """``kpis.json`` has the contract's year figure and the carbon totals, status and purchase; ``account.csv`` each
    day's planned and achieved share; ``ledger.csv`` one entry per day; the summary and the report say the same."""
    path = tmp_path / "hand.yaml"
    path.write_text(HAND, encoding="utf-8")
    out = tmp_path / "out"
    done = CliRunner().invoke(app, ["run", str(path), "--out", str(out), "--no-progress", "-j", "1"])
    assert done.exit_code == 0, done.output
    text = " ".join(done.output.split())
    assert "ppa.energy over 2026 (3 of 365 days): achieved 300 kWh, required at least 300 kWh: met" in text
    assert "the other 362 days of 2026 must take 36,200 kWh (100 a day)" in text
    assert "zero-carbon status NOT MET" in text and "net 2.256 tCO2" in text
    assert "closing purchase 22.40 CNY (4 MWh GEC at gec-market)" in text
    assert not (out / "annual.html").exists()  # only with --annual

    payload = json.loads((out / "kpis.json").read_text())
    (figure,) = payload["period_figures"]
    assert (figure["item"], figure["period"], figure["unit"]) == ("ppa.energy", "2026", "kWh")
    assert figure["required"] == PPA_KWH and figure["achieved"] == pytest.approx(PPA_KWH, abs=1e-3)
    assert figure["met"] and (figure["days_run"], figure["days_in_period"]) == (3, 365)
    assert (figure["days_above"], figure["days_below"], figure["days_planned"], figure["days_paced"]) == (3, 0, 3, 0)
    assert payload["period_notes"] == []
    carbon = payload["carbon"]
    assert carbon["account"] and carbon["standard"] == "ISO 14068-1:2023 carbon neutrality"
    assert carbon["factor_sets"][0]["id"] == "CN/2023/published"
    assert carbon["factor_sets"][0]["grid_market_kgco2_per_kwh"] == 0.6096
    totals = carbon["totals"]
    assert totals["scope2_location_kgco2"] == pytest.approx(LOCATION_KG, abs=1e-3)
    assert totals["scope2_market_kgco2"] == pytest.approx(MARKET_KG, abs=1e-3)
    assert totals["scope2_location_kgco2_by_source"]["grid"] == pytest.approx(LOCATION_KG, abs=1e-3)
    assert totals["scope1_kgco2_by_fuel"] == {"natural_gas": 0.0}
    assert totals["green_contract_kwh"] == pytest.approx(PPA_KWH, abs=1e-3)
    assert totals["certificates_mwh"] == 2.0 and totals["offsets_tco2"] == 0.0
    assert totals["net_kgco2"] == pytest.approx(NET_KG, abs=1e-3) and totals["net_tco2"] == pytest.approx(2.256)
    (status,) = carbon["statuses"]
    assert status["year"] == 2026 and not status["met"]
    assert [r["code"] for r in status["reasons"]] == ["net_positive"]
    (item,) = status["purchase"]["items"]
    assert (item["kind"], item["quote_id"], item["quantity"], item["whole_units"]) == ("gec", "gec-market", 3.7, 4)
    assert status["purchase"]["cost_cny"] == pytest.approx(PURCHASE_CNY) and status["purchase"]["closes_gap"]
    assert status["retirements"][0]["quantity"] == 2.0

    account = pd.read_csv(out / "account.csv")
    assert list(account["date"]) == ["2026-01-30", "2026-01-31", "2026-02-01"]
    assert set(account["item"]) == {"ppa.energy"} and set(account["source"]) == {"plan"}
    assert account["achieved"].sum() == pytest.approx(PPA_KWH, abs=3e-3)
    assert account["planned"].sum() == pytest.approx(PPA_KWH, abs=3e-3) and account["did_its_share"].all()
    ledger = pd.read_csv(out / "ledger.csv")
    assert list(ledger["id"]) == ["2026-01-30", "2026-01-31", "2026-02-01"]
    assert ledger["import_kwh"].sum() == pytest.approx(IMPORT_KWH, abs=3e-3)
    assert ledger["net_kgco2"].sum() == pytest.approx(NET_KG, abs=3e-3)

    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Targets over their periods</h2>" in report and "<h2>Carbon account</h2>" in report
    assert "Closing purchase: <b>22.40</b>" in report


def test_a_site_without_a_carbon_account_or_period_items_still_gets_both_scope_2_totals(tmp_path: Path) -> None:
    """Without the PPA: 6,000 kWh imported, all at the grid's factors: location 3,183.6, market 6,000 x 0.6096 =
    3,657.6 kgCO2, no certificates, net = market; no status (no standard to judge by), no account.csv."""
    path = tmp_path / "plain.yaml"
    path.write_text(PLAIN, encoding="utf-8")
    out = tmp_path / "out"
    done = CliRunner().invoke(app, ["run", str(path), "--out", str(out), "--no-progress", "-j", "1"])
    assert done.exit_code == 0, done.output
    assert "no carbon account (site.carbon)" in " ".join(done.output.split())
    payload = json.loads((out / "kpis.json").read_text())
    assert payload["period_figures"] == []
    carbon = payload["carbon"]
    assert not carbon["account"] and carbon["statuses"] == [] and carbon["standard"] is None
    assert carbon["totals"]["scope2_location_kgco2"] == pytest.approx(LOCATION_KG, abs=1e-3)
    assert carbon["totals"]["scope2_market_kgco2"] == pytest.approx(IMPORT_KWH * 0.6096, abs=1e-3)
    assert carbon["totals"]["net_kgco2"] == pytest.approx(IMPORT_KWH * 0.6096, abs=1e-3)
    assert (out / "ledger.csv").exists() and not (out / "account.csv").exists()
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Carbon account</h2>" in report and "Targets over their periods" not in report


def test_dispatch_annual_writes_the_run_and_the_annual_report(tmp_path: Path) -> None:
    """``dispatch annual --year 2026 --end 2026-01-02``: the file's plant from 1 January (the year's first days,
    whatever the file's start), the run's files and both annual files."""
    path = tmp_path / "hand.yaml"
    path.write_text(HAND, encoding="utf-8")
    out = tmp_path / "annual"
    args = ["annual", str(path), "--year", "2026", "--end", "2026-01-02", "--out", str(out), "--no-progress", "-j", "1"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    for name in ("annual.html", "annual.xlsx", "kpis.json", "ledger.csv", "account.csv", "report.html"):
        assert (out / name).exists(), name
    assert "hand base, year 2026: 2026-01-01 to 2026-01-02, 2 days" in " ".join(done.output.split())
    book = openpyxl.load_workbook(out / "annual.xlsx")
    assert book.sheetnames == ["Summary", "2026-01", "Ledger", "Daily", "Targets"]
    assert list(_table(book["Daily"], 1)["date"]) == ["2026-01-01", "2026-01-02"]
    html = (out / "annual.html").read_text(encoding="utf-8")
    assert "2026 (2 of its 365 days run): zero-carbon status" in html

    wrong = CliRunner().invoke(app, [*args[:4], "--end", "2027-01-02", "--out", str(out)])
    assert wrong.exit_code == 2 and "is not in 2026" in wrong.output


def test_no_saving_is_printed_against_an_infeasible_baseline(tmp_path: Path) -> None:
    """The demo's Result line and the console's KPI table state no saving when the baseline leaves heat unmet
    (``saving_cny`` None), instead of failing to format it."""
    from tests.test_savings_split import UNMET

    case = _case(tmp_path, UNMET, "unmet")
    result = solve(build_problem(case, case_periods(case)[0]))
    assert result.schedule_source == "optimizer" and result.saving_cny is None
    line = result_line(result, "CNY", 1)
    assert "baseline infeasible: 4,900.0 kWh_th of heat unmet" in line and "no saving is stated" in line
    buffer = io.StringIO()
    print_result(result, Console(file=buffer, width=200))
    assert "no saving is stated against it" in buffer.getvalue()
    assert "saving over the rule-based baseline" not in buffer.getvalue()
