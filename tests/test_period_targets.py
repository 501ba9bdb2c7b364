"""Targets and contract volumes over a period longer than a day: the optimiser's accounting periods
(optimizer.periods) and a rolling run's account (scenarios.period_account), checked by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from optimizer import DispatchProblem, Horizon, TargetProgress, solve
from optimizer.periods import DateRange, period_groups
from scenarios.loader import load_scenario
from scenarios.parallel import run_cases
from scenarios.pipeline import run_case

TZ = "Asia/Shanghai"


def test_period_groups_split_a_horizon_by_month_and_pro_rate_what_it_covers() -> None:
    """Two days across a month end, hourly: one group per month. Without earlier progress each group counts
    from the horizon's first step in it (Jan: 1 day of 31); with progress counted from the period's start, Jan
    counts from Jan 1 (31 of 31 days). Feb is never the first group, so it counts from Feb 1 (1 of 28)."""
    index = Horizon(start=pd.Timestamp("2026-01-31", tz=TZ), step_minutes=60, n_steps=48).index
    fresh = period_groups(index, 60, "month")
    assert [(g.label, len(g.steps), g.first) for g in fresh] == [("2026-01", 24, True), ("2026-02", 24, False)]
    assert [g.covered_frac for g in fresh] == pytest.approx([1 / 31, 1 / 28])
    carried = period_groups(index, 60, "month", dt.date.min)
    assert [g.covered_frac for g in carried] == pytest.approx([31 / 31, 1 / 28])
    since_jan_21 = period_groups(index, 60, "month", dt.date(2026, 1, 21))
    assert since_jan_21[0].covered_frac == pytest.approx(11 / 31)  # Jan 21..31
    in_range = period_groups(index, 60, DateRange(start=dt.date(2026, 2, 1), end=dt.date(2026, 2, 10)))
    assert [(g.label, len(g.steps)) for g in in_range] == [("2026-02-01..2026-02-10", 24)]


def _contract_problem(so_far: TargetProgress | None, over: str = "year") -> DispatchProblem:
    """One hourly day, 100 kW load, grid 0.5 CNY/kWh; a PPA at 0.6 CNY/kWh (dearer: only its minimum is taken)
    with 365,000 kWh a year as a hard minimum."""
    return DispatchProblem.model_validate(
        {
            "horizon": {"start": "2026-02-10T00:00:00+08:00", "step_minutes": 60, "n_steps": 24},
            "assets": [
                {"kind": "grid", "name": "grid", "import_limit_kw": 1000, "import_price_cny_per_kwh": 0.5},
                {"kind": "load", "name": "plant", "power_kw": 100.0},
                {
                    "kind": "green_contract",
                    "name": "ppa",
                    "price_cny_per_kwh": 0.6,
                    "min_energy_kwh": 365_000,
                    "energy_over": over,
                },
            ],
            "targets": {"so_far": None if so_far is None else so_far.model_dump()},
        }
    )


def test_an_annual_contract_minimum_on_one_day_is_its_share_of_the_year() -> None:
    """Without an account the day takes 1/365 of 365,000 = 1,000 kWh (not the whole year's minimum, which is
    infeasible: the day imports 2,400 kWh). With 30,000 kWh taken from Jan 1 to Feb 9 (40 days), the year to the
    end of Feb 10 (41 days) should have taken 41,000 kWh: the day takes 11,000 ... capped by what it imports,
    2,400 kWh, so it is infeasible as a hard minimum, and a take-or-pay contract pays for the rest."""
    fresh = solve(_contract_problem(None))
    assert fresh.status == "optimal"
    assert fresh.schedule["ppa.power_kw"].sum() == pytest.approx(1_000.0)
    # cost: 2,400 kWh at 0.5 + 1,000 kWh x (0.6 - 0.5) = 1,200 + 100 = 1,300 CNY
    assert fresh.kpis.energy_cost_cny == pytest.approx(1_300.0)

    behind = TargetProgress(contracts_kwh={"ppa": 30_000.0})
    assert solve(_contract_problem(behind)).status == "infeasible"
    take_or_pay = _contract_problem(behind).model_copy(deep=True)
    take_or_pay.assets[2] = take_or_pay.assets[2].model_copy(update={"shortfall_price_cny_per_kwh": 0.6})
    result = solve(take_or_pay)
    assert result.status == "optimal"
    assert result.schedule["ppa.power_kw"].sum() == pytest.approx(2_400.0)
    # 2,400 kWh through the PPA at 0.6 = 1,440; the 11,000 - 2,400 = 8,600 kWh not taken paid at 0.6 = 5,160
    assert result.kpis.cost_cny_by_component["take_or_pay"] == pytest.approx(5_160.0)
    assert result.kpis.energy_cost_cny == pytest.approx(1_440.0 + 5_160.0)


def _write_two_days(tmp_path: Path, first: str = "2026-07-15") -> None:
    """Hourly PV and grid price for ``first`` (sunny) and the day after (cloudy)."""
    index = pd.date_range(first, periods=48, freq="h")
    sunny = [200.0 if 3 <= h < 21 else 0.0 for h in range(24)]  # covers the 200 kW load 18 h of 24
    frame = pd.DataFrame(
        {"pv": sunny + [0.0] * 24, "price": [0.5] * 24 + [0.55] * 24},
        index=index.strftime("%Y-%m-%d %H:%M"),
    )
    frame.to_csv(tmp_path / "days.csv", index_label="time")


CONTRACT = """\
name: contract
site:
  name: Two days, one sunny, one cloudy
  tz: Asia/Shanghai
  assets:
    - {kind: grid, name: grid, import_limit_kw: 1000, import_price_cny_per_kwh: $inputs.price, export_limit_kw: 0}
    - {kind: load, name: plant, power_kw: 200}
    - {kind: pv, name: roof, available_kw: $inputs.pv}
    - kind: green_contract
      name: ppa
      price_cny_per_kwh: 0.6
      max_kw: 150
      min_energy_kwh: {min_energy_kwh}
      energy_over: {energy_over}
horizon: {start: 2026-07-15, days: 2, step_minutes: 60}
inputs:
  pv: {csv: days.csv, column: pv}
  price: {csv: days.csv, column: price}
"""


@pytest.mark.parametrize(
    ("min_energy_kwh", "energy_over", "label"),
    [
        (3000, "{start: 2026-07-15, end: 2026-07-16}", "2026-07-15..2026-07-16"),
        (547_500, "year", "2026"),  # 3,000 x 365 / 2: the two days' share of the year is 3,000 kWh
    ],
)
def test_a_contract_minimum_over_two_days_is_taken_where_it_costs_least(
    tmp_path: Path, min_energy_kwh: int, energy_over: str, label: str
) -> None:
    """3,000 kWh must be taken over the two days. Split evenly (1,500 a day) the sunny day could not: it imports
    only 6 h x 200 = 1,200 kWh. The PPA's premium over the grid is 0.6 - 0.5 = 0.10 CNY/kWh on day 1 and
    0.6 - 0.55 = 0.05 on day 2, so the plan takes all 3,000 kWh on the cloudy day (max 150 kW x 24 h = 3,600).
    Cost: day 1 1,200 x 0.5 = 600; day 2 (4,800 - 3,000) x 0.55 + 3,000 x 0.6 = 990 + 1,800 = 2,790."""
    _write_two_days(tmp_path)
    text = CONTRACT.replace("{min_energy_kwh}", str(min_energy_kwh)).replace("{energy_over}", energy_over)
    (tmp_path / "contract.yaml").write_text(text)
    run = run_case(load_scenario(tmp_path / "contract.yaml").base())
    assert run.ok
    taken = run.schedule["ppa.power_kw"].groupby(run.schedule.index.date).sum()
    assert taken.tolist() == pytest.approx([0.0, 3_000.0], abs=1e-3)
    assert run.kpis.energy_cost_cny == pytest.approx(600.0 + 2_790.0, abs=1e-3)
    [figure] = run.period_figures
    assert (figure.item, figure.period, figure.unit) == ("ppa.energy", label, "kWh")
    assert figure.required == pytest.approx(3_000.0)
    assert figure.achieved == pytest.approx(3_000.0, abs=1e-3)
    assert figure.met and figure.days_run == 2 and figure.days_in_period == (2 if label != "2026" else 365)
    assert [d.allocated for d in run.account_days] == pytest.approx([0.0, 3_000.0], abs=1e-3)
    assert [d.achieved for d in run.account_days] == pytest.approx([0.0, 3_000.0], abs=1e-3)


SHARE = """\
name: share
site:
  name: Two days, one sunny, one cloudy
  tz: Asia/Shanghai
  targets:
    green_share: {min_frac: 0.5, over: {start: 2026-07-15, end: 2026-07-16}}
  assets:
    - {kind: grid, name: grid, import_limit_kw: 1000, import_price_cny_per_kwh: 0.5, export_limit_kw: 0}
    - {kind: load, name: plant, power_kw: 200}
    - {kind: pv, name: roof, available_kw: $inputs.pv}
    - {kind: green_contract, name: gec, pricing: certificate, price_cny_per_kwh: 0.1}
horizon: {start: 2026-07-15, days: 2, step_minutes: 60}
inputs:
  pv: {csv: days.csv, column: pv}
"""


def test_a_green_share_over_two_days_lets_the_cloudy_day_lean_on_the_sunny_one(tmp_path: Path) -> None:
    """Consumption 200 kW x 48 h = 9,600 kWh; PV self-used 200 x 18 = 3,600 kWh (day 1 only). 50 % over the two
    days needs 4,800 green kWh: 1,200 kWh of certificates at 0.1 = 120 CNY. Each day on its own at 50 % would
    need 0 on day 1 (75 %) and 2,400 kWh on day 2 (240 CNY). Energy: 6,000 kWh imported at 0.5 = 3,000 CNY."""
    _write_two_days(tmp_path)
    (tmp_path / "share.yaml").write_text(SHARE)
    run = run_case(load_scenario(tmp_path / "share.yaml").base())
    assert run.ok
    assert run.kpis.green_contract_kwh == pytest.approx(1_200.0, abs=1e-3)
    assert run.kpis.energy_cost_cny == pytest.approx(3_000.0 + 120.0, abs=1e-3)
    [figure] = run.period_figures
    assert figure.unit == "share" and figure.required == 0.5
    assert figure.achieved == pytest.approx(0.5, abs=1e-6)
    assert figure.met


@pytest.mark.parametrize(("energy_over", "parts"), [("month", 2), ("year", 1)])
def test_split_months_runs_months_apart_only_when_no_item_spans_them(
    tmp_path: Path, energy_over: str, parts: int
) -> None:
    """July 31 (sunny) and August 1 (cloudy). A monthly minimum of 31 x 100 = 3,100 kWh in July and 3,100 in
    August pro-rates to 100 kWh on each day, so each month can be run on its own: two figures, one per month. A
    yearly minimum (36,500 kWh: 100 a day) ties the days together: the run is not split and says so."""
    _write_two_days(tmp_path, "2026-07-31")
    volume = "3100" if energy_over == "month" else "36500"
    text = CONTRACT.replace("{min_energy_kwh}", volume).replace("{energy_over}", energy_over)
    text = text.replace("start: 2026-07-15", "start: 2026-07-31")
    (tmp_path / "contract.yaml").write_text(text)
    [run] = run_cases(
        [load_scenario(tmp_path / "contract.yaml").base()], jobs=1, show_progress=False, split_months=True
    )
    assert len(run.period_figures) == parts
    assert sum(f.achieved for f in run.period_figures) == pytest.approx(200.0, abs=1e-3)
    assert all(f.met for f in run.period_figures)
    assert any("not run apart" in n for n in run.account_notes) == (parts == 1)
