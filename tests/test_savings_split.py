"""Savings one can trust: no saving against a baseline that leaves demand unmet, the saving split by cost group, and
a short run's demand charge scaled per month billed, not per day. Every expected number is worked out by hand."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from optimizer import (
    AirDemandSpec,
    AirReceiverSpec,
    CompressorSpec,
    DispatchProblem,
    GridSpec,
    Horizon,
    Kpis,
    LoadSpec,
    PvSpec,
    solve,
)
from optimizer.kpis import MONEY_GROUPS, cost_group
from scenarios.cli import app
from scenarios.loader import Case, load_scenario
from scenarios.outputs import daily_table, run_payload
from scenarios.pipeline import ScenarioRun, run_case, with_dates
from tests.api_fixtures import DAY, HEADERS, api_client, create_site, small_site

ROOT = Path(__file__).resolve().parents[1]

# --- the split, by hand ---------------------------------------------------------------------------------------------

SPLIT = """\
name: split
site:
  name: Split test site
  tz: Asia/Shanghai
  emission_factors: {grid_location_kgco2_per_kwh: 0.5, grid_market_kgco2_per_kwh: 0.5}
  assets:
    - {kind: grid, name: grid, import_limit_kw: 1000, import_price_cny_per_kwh: 0.5, demand_charge_cny_per_kw_month: 30}
    - {kind: load, name: plant, power_kw: $inputs.plant}
    - {kind: block_load, name: press, profile_kw: [100, 100], earliest_start: "08:00", latest_start: "20:00"}
    - {kind: green_contract, name: certificates, pricing: certificate, price_cny_per_kwh: 0.05, max_kw: 50}
    - {kind: heat_demand, name: process_heat, heat_kw: 45}
    - {kind: heat_pump, name: heat_pump, capacity_kw: 50, cop: 1.25}
    - {kind: gas_boiler, name: boiler, capacity_kw: 100, efficiency: 0.9, gas_lhv_kwh_per_nm3: 10,
       gas_price_cny_per_nm3: 2.7, location_kgco2_per_nm3: 2.0, market_kgco2_per_nm3: 2.0}
  objective: {carbon_price_cny_per_tco2: 40}
horizon: {start: 2026-07-15, days: 1, step_minutes: 60}
inputs:
  plant:  # hourly from midnight: 200 kW from 08:00 to 10:00, else 100 kW
    values: [100, 100, 100, 100, 100, 100, 100, 100, 200, 200, 100, 100,
             100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100]
"""
# Rule-based baseline (per day): the heat pump covers the 45 kW_th (COP 1.25: 36 kW), the 2-hour 100 kW press starts
# at its earliest, 08:00, on top of the plant's 200 kW, and the certificates cover 50 kW of import every hour.
#   import 100 x 24 + 100 x 2 (plant) + 100 x 2 (press) + 36 x 24 (heat pump) = 3,664 kWh -> energy 0.5 x 3,664
#   = 1,832 CNY; peak 200 + 100 + 36 = 336 kW -> demand charge 30 x 336 = 10,080 CNY; certificates 0.05 x 50 x 24
#   = 60 CNY; no gas. Money paid 11,972 CNY. Market emissions 0.5 x (3,664 - 1,200) = 1,232 kg -> carbon 0.04 x 1,232
#   = 49.28 CNY.
# Optimum: the boiler makes the heat (gas 2.7 / (0.9 x 10) = 0.30 CNY/kWh_th + carbon 0.04 x 2.0 / 9 = 0.0089, against
# the heat pump's 0.5 / 1.25 = 0.40 + 0.04 x 0.5 / 1.25 = 0.016), the press runs away from 08:00-10:00 (peak 200 kW),
# no certificates (0.05 CNY/kWh against 0.04 x 0.5 = 0.02 CNY/kWh of carbon).
#   import 2,600 + 200 = 2,800 kWh -> 1,400 CNY; demand charge 30 x 200 = 6,000 CNY; gas 45 x 24 / 9 = 120 Nm3 x 2.7
#   = 324 CNY. Money paid 7,724 CNY. Emissions 0.5 x 2,800 + 2.0 x 120 = 1,640 kg -> carbon 65.60 CNY.
# Saving 11,972 - 7,724 = 4,248 = energy 432 + demand charge 4,080 + gas -324 + certificates 60 + other 0;
# carbon apart: 49.28 - 65.60 = -16.32 CNY.


def _case(tmp_path: Path, text: str, name: str, days: int | None = None) -> Case:
    """The base case of a scenario written to ``tmp_path``, over ``days`` days when given."""
    file = tmp_path / f"{name}.yaml"
    file.write_text(text, encoding="utf-8")
    case = load_scenario(file).base()
    return case if days is None else with_dates(case, days=days)


def _days(run: ScenarioRun) -> list[tuple[Kpis, Kpis]]:
    """Per day: the plan's and the baseline's KPIs."""
    return list(zip(run.daily_kpis, run.daily_baseline_kpis, strict=True))


def test_the_saving_splits_by_cost_group_and_the_groups_add_up(tmp_path: Path) -> None:
    run = run_case(_case(tmp_path, SPLIT, "split"))
    saving = run.savings
    assert saving.baseline_feasible and saving.label is None
    assert run.baseline_kpis.energy_cost_cny == pytest.approx(11_972.0)
    assert run.kpis.energy_cost_cny == pytest.approx(7_724.0)
    assert saving.total_cny == pytest.approx(4_248.0) and run.saving_cny == pytest.approx(4_248.0)
    assert saving.by_group_cny == pytest.approx(
        {"energy": 432.0, "demand_charge": 4_080.0, "gas": -324.0, "heat": 0.0, "certificates": 60.0, "other": 0.0}
    )
    assert sum(saving.by_group_cny.values()) == pytest.approx(saving.total_cny)  # 432 + 4,080 - 324 + 60 + 0
    assert saving.carbon_cny == pytest.approx(-16.32)  # apart: not money paid
    # the certificate premium is its own group, out of the green_contract component that also holds PPA energy
    assert run.baseline_kpis.cost_cny_by_group["certificates"] == pytest.approx(60.0)
    assert run.baseline_kpis.cost_cny_by_component["green_contract"] == pytest.approx(60.0)


def test_a_short_run_scales_the_demand_charge_per_month_billed_not_per_day(tmp_path: Path) -> None:
    """Two days in July: the demand charge is billed once for the month on each plant's own peak (the baseline
    carries its 336 kW, the plan its 200 kW, into day 2), so the run saves 4,080 CNY of demand charge for one month
    and 2 x (432 - 324 + 60) = 336 CNY of the rest over 2 days. Per day 336 / 2 = 168 CNY; a year is estimated at
    168 x 365 + 4,080 x 12 = 61,320 + 48,960 = 110,280 CNY (the one-day run says the same), where the run's saving
    scaled by days would claim (4,080 + 336) x 365 / 2 = 805,920 CNY."""
    run = run_case(_case(tmp_path, SPLIT, "split", days=2))
    saving = run.savings
    demand = [b.cost_cny_by_group["demand_charge"] - k.cost_cny_by_group["demand_charge"] for k, b in _days(run)]
    assert demand == pytest.approx([4_080.0, 0.0])  # billed once, on day 1
    assert saving.total_cny == pytest.approx(4_416.0)  # 4,080 + 336
    assert saving.by_group_cny == pytest.approx(
        {"energy": 864.0, "demand_charge": 4_080.0, "gas": -648.0, "heat": 0.0, "certificates": 120.0, "other": 0.0}
    )
    assert (saving.days, saving.months_billed) == (pytest.approx(2.0), 1)
    assert saving.per_day_cny == pytest.approx(168.0)
    assert saving.demand_charge_per_month_cny == pytest.approx(4_080.0)
    assert saving.annualised_estimate_cny == pytest.approx(110_280.0)
    assert saving.total_cny * 365 / saving.days == pytest.approx(805_920.0)  # what the estimate does not do
    payload = run_payload(run)["savings"]
    assert payload["annualised_estimate_cny"] == 110_280.0 and payload["per_day_cny"] == 168.0
    # days.csv: each day's split adds up to its saving
    days = daily_table(run)
    split = days[[f"saving_{group}" for group in MONEY_GROUPS]].sum(axis=1)
    assert split.to_numpy() == pytest.approx(days["saving"].to_numpy())
    assert days["saving_demand_charge"].tolist() == pytest.approx([4_080.0, 0.0])


def test_the_groups_add_up_to_the_saving_on_a_shipped_example() -> None:
    """Lingyun (certificates, a gas boiler, purchased heat, compressors with starts, a demand charge, a carbon
    price) on its first day: every component lands in one group, and the groups add up to the saving."""
    case = with_dates(load_scenario(ROOT / "scenarios" / "examples" / "lingyun.yaml").base(), days=1)
    run = run_case(case)
    saving = run.savings
    assert saving.baseline_feasible and saving.total_cny is not None and saving.by_group_cny is not None
    assert sum(saving.by_group_cny.values()) == pytest.approx(saving.total_cny, abs=1e-6)
    for kpis in (run.kpis, run.baseline_kpis):
        groups = kpis.cost_cny_by_group
        assert sum(groups[g] for g in MONEY_GROUPS) == pytest.approx(kpis.energy_cost_cny, abs=1e-6)
        assert groups["carbon"] == pytest.approx(kpis.cost_cny_by_component.get("carbon", 0.0))
        assert {cost_group(c) for c in kpis.cost_cny_by_component} <= {*MONEY_GROUPS, "carbon", "penalty"}
    # purchased heat is its own group; start-ups are money paid under "other"; the certificate premium under
    # "certificates"
    assert cost_group("heat") == "heat" and cost_group("start_up") == "other"
    assert run.baseline_kpis.cost_cny_by_group["certificates"] > 0


# --- an infeasible baseline: typed, and no saving stated anywhere ----------------------------------------------------

UNMET = """\
name: unmet
site:
  name: Unmet heat test site
  tz: Asia/Shanghai
  assets:
    - {kind: grid, name: grid, import_limit_kw: 1000, import_price_cny_per_kwh: 0.5}
    - {kind: load, name: plant, power_kw: 100}
    - {kind: heat_demand, name: process_heat, heat_kw: $inputs.heat}
    - {kind: gas_boiler, name: boiler, capacity_kw: 1000, efficiency: 0.9, gas_lhv_kwh_per_nm3: 10,
       gas_price_cny_per_nm3: 2.7, min_load_frac: 0.3}
    - {kind: heat_tank, name: tank, capacity_kwh: 600, charge_power_kw: 600, discharge_power_kw: 600,
       initial_level_frac: 0.5}
horizon: {start: 2026-07-15, days: 2, step_minutes: 60}
inputs:
  heat:  # kW_th, hourly from midnight: 250 from 08:00 to 10:00, else 200
    values: [200, 200, 200, 200, 200, 200, 200, 200, 250, 250, 200, 200,
             200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]
variants:
  boiler_without_min_load:
    description: the boiler modulates down to 0
    set:
      site.boiler.min_load_frac: 0
"""
# The boiler cannot run below 0.3 x 1,000 = 300 kW_th and the rule-based baseline leaves the tank idle, so the boiler
# stays off and the heat is unmet: per day 22 x 200 + 2 x 250 = 4,900 kWh_th, worst 250 kW_th at 08:00, at all 24
# steps; over the two days 9,800 kWh_th at 48 steps. The plan cycles the boiler through the tank. The baseline pays
# 100 kW x 24 h x 0.5 = 1,200 CNY a day and no gas: the "saving" 1,200 - (1,200 + gas) would be negative, a cost
# comparison with heat left out.
UNMET_LABEL = "baseline infeasible: 9,800.0 kWh_th of heat unmet (process_heat; worst 250.0 kW_th at 2026-07-15 08:00)"


def test_a_boiler_that_cannot_follow_the_heat_load_leaves_typed_unmet_heat(tmp_path: Path) -> None:
    run = run_case(_case(tmp_path, UNMET, "unmet"))
    assert [d.schedule_source for d in run.days] == ["optimizer", "optimizer"]
    day = run.days[0].baseline_shortfalls
    assert len(day) == 1
    (shortfall,) = day
    assert (shortfall.bus, shortfall.kind, shortfall.quantity, shortfall.unit) == ("heat", "unmet", "heat", "kWh_th")
    assert shortfall.amount == pytest.approx(4_900.0)  # 22 x 200 + 2 x 250
    assert (shortfall.worst, shortfall.rate_unit, shortfall.steps) == (pytest.approx(250.0), "kW_th", 24)
    assert shortfall.worst_at == "2026-07-15T08:00:00+08:00" and shortfall.assets == ["process_heat"]
    (merged,) = run.baseline_shortfalls
    assert (merged.amount, merged.steps, merged.worst_at) == (pytest.approx(9_800.0), 48, "2026-07-15T08:00:00+08:00")
    assert not run.baseline_feasible and run.saving_cny is None
    assert all(d.saving_cny is None for d in run.days)
    saving = run.savings
    assert saving.label == UNMET_LABEL
    assert saving.total_cny is None and saving.by_group_cny is None and saving.annualised_estimate_cny is None
    assert any("heat bus short at 24 steps" in w for w in run.days[0].baseline_warnings)


def test_no_saving_is_stated_against_an_infeasible_baseline_in_any_output(tmp_path: Path) -> None:
    """``dispatch compare``: the table, comparison.csv/json/html, and per variant days.csv, kpis.json, report.html;
    the variant whose boiler modulates to 0 has a baseline that meets the heat, and a saving."""
    (tmp_path / "unmet.yaml").write_text(UNMET, encoding="utf-8")
    out = tmp_path / "out"
    done = CliRunner().invoke(
        app,
        ["compare", str(tmp_path / "unmet.yaml"), "--out", str(out), "--no-progress", "-j", "1"],
        env={"COLUMNS": "200"},
    )
    assert done.exit_code == 0, done.output
    text = " ".join(done.output.split())
    assert "saving vs rule-based [CNY] │ baseline infeasible │" in text
    assert f"base: {UNMET_LABEL}; no saving is stated against it" in text

    days = pd.read_csv(out / "base" / "days.csv")
    assert days["saving"].isna().all() and days[[f"saving_{g}" for g in MONEY_GROUPS]].isna().all().all()
    assert days["saving_label"].tolist() == [
        f"baseline infeasible: 4,900.0 kWh_th of heat unmet (process_heat; worst 250.0 kW_th at 2026-07-{d} 08:00)"
        for d in (15, 16)
    ]
    kpis = json.loads((out / "base" / "kpis.json").read_text())
    assert kpis["saving_cny"] is None and kpis["baseline_feasible"] is False and kpis["saving_label"] == UNMET_LABEL
    assert kpis["savings"]["total_cny"] is None and kpis["savings"]["label"] == UNMET_LABEL
    assert kpis["baseline_shortfalls"][0] | {"assets": None} == {
        "bus": "heat",
        "kind": "unmet",
        "quantity": "heat",
        "assets": None,
        "amount": 9_800.0,
        "unit": "kWh_th",
        "worst": 250.0,
        "rate_unit": "kW_th",
        "worst_at": "2026-07-15T08:00:00+08:00",
        "steps": 48,
    }
    assert kpis["baseline_kpis"]["shortfalls"] == kpis["baseline_shortfalls"]
    assert [d["saving_cny"] for d in kpis["days"]] == [None, None]
    assert kpis["days"][0]["saving_label"].startswith("baseline infeasible: 4,900.0 kWh_th of heat unmet")
    report = (out / "base" / "report.html").read_text(encoding="utf-8")
    assert UNMET_LABEL in report and "no saving is stated against the rule-based baseline" in report
    assert "saving against the rule-based baseline <b>" not in report

    table = pd.read_csv(out / "comparison.csv").set_index("run")
    assert pd.isna(table.loc["base", "saving_vs_rules_cny"]) and table.loc["base", "saving_label"] == UNMET_LABEL
    assert pd.isna(table.loc["base", "energy_cost_cny_vs_rules"])  # no change stated against it either
    assert table.loc["boiler_without_min_load", "saving_vs_rules_cny"] == pytest.approx(0.0)  # both burn the same gas
    comparison = json.loads((out / "comparison.json").read_text())
    assert comparison["runs"][0]["saving_cny"] is None and comparison["runs"][0]["saving_label"] == UNMET_LABEL
    assert f"base: {UNMET_LABEL}" in (out / "comparison.html").read_text(encoding="utf-8")


def _unmet_site() -> dict[str, Any]:
    """The infeasible-baseline plant as an API site: 200 kW_th of heat all day, a boiler that cannot go below 300."""
    return {
        "name": "unmet heat",
        "tz": "Asia/Shanghai",
        "assets": [
            {"kind": "grid", "name": "grid", "import_limit_kw": 1000, "import_price_cny_per_kwh": 0.5},
            {"kind": "load", "name": "plant", "power_kw": 100},
            {"kind": "heat_demand", "name": "process_heat", "heat_kw": 200},
            {
                "kind": "gas_boiler",
                "name": "boiler",
                "capacity_kw": 1000,
                "efficiency": 0.9,
                "gas_price_cny_per_nm3": 2.7,
                "min_load_frac": 0.3,
            },
            {
                "kind": "heat_tank",
                "name": "tank",
                "capacity_kwh": 600,
                "charge_power_kw": 600,
                "discharge_power_kw": 600,
                "initial_level_frac": 0.5,
            },
        ],
    }


def test_the_api_labels_an_infeasible_baseline_and_states_no_saving(tmp_path: Path) -> None:
    """96 quarter-hours of 200 kW_th unmet: 200 x 24 = 4,800 kWh_th, worst 200 kW_th at the first step."""
    label = "baseline infeasible: 4,800.0 kWh_th of heat unmet (process_heat; worst 200.0 kW_th at 2026-07-15 00:00)"
    with api_client(tmp_path) as client:
        site_id = create_site(client, _unmet_site())
        response = client.post(f"/v1/sites/{site_id}/dispatch", json={"date": DAY}, headers=HEADERS)
        assert response.status_code == 201, response.text
        out = response.json()
        assert out["status"] == "optimal"
        assert out["saving_cny"] is None and out["baseline_feasible"] is False and out["saving_label"] == label
        (shortfall,) = out["baseline_shortfalls"]
        assert (shortfall["bus"], shortfall["amount"], shortfall["worst"]) == ("heat", 4800.0, 200.0)
        assert shortfall["steps"] == 96
        assert shortfall["worst_at"] == "2026-07-15T00:00:00+08:00"
        assert out["baseline_kpis"]["shortfalls"] == out["baseline_shortfalls"]
        assert out["savings"]["total_cny"] is None and out["savings"]["label"] == label
        stored = client.get(f"/v1/schedules/{out['schedule_id']}", headers=HEADERS).json()
        assert stored["saving_label"] == label and stored["saving_cny"] is None
        page = client.get(f"/v1/schedules/{out['schedule_id']}", headers={**HEADERS, "Accept": "text/html"})
        if page.status_code == 200:  # 406 where the HTML renderer is not installed
            assert label in page.text and "no saving is stated against the rule-based baseline" in page.text


def test_the_api_splits_a_feasible_saving(tmp_path: Path) -> None:
    """The small grid + PV + battery site: its groups add up to the saving (each written to 0.01 CNY), one day in
    one month, so the annualised estimate is per_day x 365 + demand_charge_per_month x 12."""
    with api_client(tmp_path) as client:
        site_id = create_site(client, small_site())
        out = client.post(f"/v1/sites/{site_id}/dispatch", json={"date": DAY}, headers=HEADERS).json()
    assert out["baseline_feasible"] is True and out["saving_label"] is None and out["baseline_shortfalls"] == []
    savings = out["savings"]
    assert savings["total_cny"] == pytest.approx(out["saving_cny"], abs=0.011)
    assert sum(savings["by_group_cny"].values()) == pytest.approx(out["saving_cny"], abs=0.05)
    assert (savings["days"], savings["months_billed"]) == (1.0, 1)
    demand = savings["by_group_cny"]["demand_charge"]
    assert savings["per_day_cny"] == pytest.approx(savings["total_cny"] - demand, abs=0.02)
    assert savings["annualised_estimate_cny"] == pytest.approx(
        savings["per_day_cny"] * 365 + savings["demand_charge_per_month_cny"] * 12, abs=0.05 * 365
    )


# --- other shortfalls the baseline can leave ------------------------------------------------------------------------


def _day_of_quarter_hours(n_steps: int) -> Horizon:
    start = dt.datetime(2026, 7, 15, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    return Horizon(start=start, step_minutes=15, n_steps=n_steps)


def test_compressed_air_the_compressors_cannot_make_is_unmet_in_m3() -> None:
    """2 m3/min of air, the only compressor unavailable in the third quarter-hour: the baseline leaves 2 m3/min x
    15 min = 30 m3 unmet there; the plan takes it from the receiver (30 m3 at the start, refilled after)."""
    problem = DispatchProblem(
        horizon=_day_of_quarter_hours(4),
        assets=[
            GridSpec(name="grid", import_limit_kw=100, import_price_cny_per_kwh=0.5),
            CompressorSpec(
                name="screw",
                rated_flow_m3_per_min=10,
                specific_power_kw_per_m3_per_min=6,
                control="load_unload",
                availability=[1, 1, 0, 1],
            ),
            AirReceiverSpec(name="receiver", capacity_m3=60, initial_level_frac=0.5),
            AirDemandSpec(name="air", flow_m3_per_min=2),
        ],
    )
    result = solve(problem)
    assert result.schedule_source == "optimizer"
    (shortfall,) = result.baseline_shortfalls
    assert (shortfall.bus, shortfall.quantity, shortfall.unit, shortfall.rate_unit) == (
        "compressed_air",
        "compressed air",
        "m3",
        "m3/min",
    )
    assert shortfall.amount == pytest.approx(30.0)  # 2 m3/min x 60 min/h x 0.25 h
    assert (shortfall.worst, shortfall.steps, shortfall.assets) == (pytest.approx(2.0), 1, ["air"])
    assert shortfall.worst_at == "2026-07-15T00:30:00+08:00"
    assert result.saving_cny is None and not result.baseline_feasible
    assert result.savings.label == (
        "baseline infeasible: 30.0 m3 of compressed air unmet (air; worst 2.0 m3/min at 2026-07-15 00:30)"
    )


def test_electricity_surplus_the_baseline_cannot_place_is_a_shortfall() -> None:
    """500 kW of PV that may not be curtailed, 100 kW of load, no export: the baseline cannot place 400 kW for an
    hour, 400 kWh (the plan cannot either: the answer is the fallback, and no saving is stated)."""
    problem = DispatchProblem(
        horizon=_day_of_quarter_hours(4),
        assets=[
            GridSpec(name="grid", import_limit_kw=100, import_price_cny_per_kwh=0.5),
            PvSpec(name="pv", available_kw=500, curtailable=False),
            LoadSpec(name="plant", power_kw=100),
        ],
    )
    result = solve(problem)
    assert result.schedule_source == "fallback"
    (shortfall,) = result.baseline_shortfalls
    assert (shortfall.bus, shortfall.kind, shortfall.unit) == ("electricity", "surplus", "kWh")
    assert shortfall.assets == ["pv"]
    assert shortfall.amount == pytest.approx(400.0)  # (500 - 100) kW x 1 h
    assert result.savings.label.startswith("baseline infeasible: 400.0 kWh of electricity surplus it cannot place")
    assert result.saving_cny is None
