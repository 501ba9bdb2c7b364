"""Unit commitment of gas boilers and heat pumps: start cost, start gas, min up/down times, ramp limits, carried
across midnight; starts per unit in the KPIs. Every optimum below is worked out by hand.

Common numbers (hourly steps, so kW and kWh per step are the same figures):

- boiler: 200 kW_th, efficiency 0.9, LHV 10 kWh/Nm3 -> 9 kWh_th/Nm3; gas 3 CNY/Nm3 -> 1/3 = 0.33333 CNY/kWh_th;
- heat pump: 50 kW_th, COP 3, electricity 0.6 CNY/kWh -> 0.2 CNY/kWh_th, cheaper than the boiler;
- so the heat pump runs at its 50 kW_th whenever it can and the boiler supplies the rest.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from optimizer import DispatchProblem, DispatchResult, GridSpec, Horizon, solve
from optimizer.assets import REGISTRY
from optimizer.assets.boilers import GasBoilerSpec
from optimizer.assets.commitment import UNIT_START
from optimizer.assets.heat import HeatDemandSpec
from optimizer.assets.heat_pump import HeatPumpSpec
from optimizer.state import CarryContext
from scenarios.loader import load_scenario
from scenarios.pipeline import run_case

T0 = pd.Timestamp("2026-01-15 00:00", tz="Asia/Shanghai")
GAS_CNY_PER_KWH_TH = 3.0 / 9.0  # 0.33333
HP_CNY_PER_KWH_TH = 0.6 / 3.0  # 0.2


def horizon(n_steps: int) -> Horizon:
    return Horizon(start=T0.to_pydatetime(), step_minutes=60, n_steps=n_steps)


def grid(price: float | list[float] = 0.6) -> GridSpec:
    return GridSpec(name="grid", import_limit_kw=10_000, import_price_cny_per_kwh=price, location_kgco2_per_kwh=0.5)


def boiler(**kw: object) -> GasBoilerSpec:
    args: dict[str, object] = {
        "name": "boiler",
        "capacity_kw": 200,
        "efficiency": 0.9,
        "gas_lhv_kwh_per_nm3": 10.0,
        "gas_price_cny_per_nm3": 3.0,
    }
    return GasBoilerSpec(**(args | kw))


def heat_pump(**kw: object) -> HeatPumpSpec:
    return HeatPumpSpec(**({"name": "hp", "capacity_kw": 50, "cop": 3.0} | kw))


def run(demand: list[float], *assets: object, price: float | list[float] = 0.6) -> DispatchResult:
    problem = DispatchProblem(
        horizon=horizon(len(demand)),
        assets=[grid(price), HeatDemandSpec(name="heat", heat_kw=demand), *assets],
    )
    result = solve(problem)
    assert result.status == "optimal"
    assert result.kpis.max_balance_residual_kw < 1e-6
    return result


def col(result: DispatchResult, column: str) -> np.ndarray:
    return result.schedule[column].to_numpy()


# --- a start cost makes one block of many short firings ------------------------------------------------------------

GAPS = [100.0, 40.0, 100.0, 40.0, 100.0]
"""Demand with two gaps: the heat pump (50) cannot carry the 100 kW_th steps alone, so the boiler must fire in
steps 0, 2 and 4; in the gaps (40 kW_th) the heat pump alone suffices."""


@pytest.mark.parametrize(
    ("start_cost", "starts", "objective"),
    [
        # Follow the demand: steps 0, 2, 4: heat pump 50 (10 CNY) + boiler 50 (16.667) = 26.667 each -> 80;
        # gaps: heat pump 40 -> 8 CNY each -> 16. Energy 96 CNY, 3 starts.
        (0.0, 3, 96.0),
        # One block instead: the boiler stays on at its minimum load 40 through both gaps (the heat pump then
        # idles): each gap costs 40 * (0.33333 - 0.2) = 5.3333 CNY more, each start saved 5 CNY: still follows,
        # 96 + 3 * 5 = 111 (one block: 80 + 2 * 13.333 + 5 = 111.667).
        (5.0, 3, 111.0),
        # 20 CNY a start: one block, 80 + 2 * 13.333 + 1 * 20 = 126.667 (3 starts: 96 + 60 = 156;
        # 2 starts: 96 + 5.333 + 40 = 141.333).
        (20.0, 1, 126.6667),
    ],
)
def test_start_cost_keeps_the_boiler_on_through_short_gaps(start_cost: float, starts: int, objective: float) -> None:
    result = run(GAPS, heat_pump(), boiler(min_load_frac=0.2, start_cost_cny=start_cost))
    on = col(result, "boiler.on")
    if starts == 3:
        assert on == pytest.approx([1, 0, 1, 0, 1])
        assert col(result, "hp.heat_kw") == pytest.approx([50, 40, 50, 40, 50])
    else:
        assert on == pytest.approx([1, 1, 1, 1, 1])
        assert col(result, "boiler.heat_kw") == pytest.approx([50, 40, 50, 40, 50])
    assert col(result, "boiler.starts").sum() == pytest.approx(starts)
    assert result.kpis.unit_starts_by_asset == {"boiler": pytest.approx(starts)}
    assert result.kpis.objective_cny == pytest.approx(objective, rel=1e-5)
    assert result.kpis.cost_cny_by_component.get("start_up", 0.0) == pytest.approx(start_cost * starts)
    assert result.columns["boiler.starts"].role == UNIT_START


def test_start_gas_is_costed_at_the_gas_price_and_emits() -> None:
    # 2 Nm3 per start = 6 CNY > 5.333 CNY a gap costs: one block. Energy as above 80 + 26.667 = 106.667, plus one
    # start's gas 2 * 3 = 6 -> 112.667 (3 starts: 96 + 18 = 114).
    # Gas: (3 * 50 + 2 * 40) / 9 = 25.556 Nm3 of heat + 2 Nm3 start gas = 27.556 Nm3; 2.162 kgCO2/Nm3 ->
    # 59.575 kgCO2 from gas.
    result = run(GAPS, heat_pump(), boiler(min_load_frac=0.2, start_gas_nm3=2.0))
    assert col(result, "boiler.on") == pytest.approx([1, 1, 1, 1, 1])
    assert col(result, "boiler.gas_nm3_per_h") == pytest.approx([50 / 9 + 2, 40 / 9, 50 / 9, 40 / 9, 50 / 9])
    assert result.kpis.objective_cny == pytest.approx(112.6667, rel=1e-5)
    assert result.kpis.cost_cny_by_component["gas"] == pytest.approx(230 / 3 + 6, rel=1e-6)
    assert result.kpis.gas_use_nm3 == pytest.approx(230 / 9 + 2, rel=1e-6)
    assert result.kpis.emissions_location_kgco2_by_source["gas"] == pytest.approx((230 / 9 + 2) * 2.162, rel=1e-6)
    # The baseline fires three times (it follows the demand: the heat pump first, the boiler the rest at 50 >= 40):
    # its gas includes three starts' 6 Nm3.
    assert result.baseline_kpis.gas_use_nm3 == pytest.approx(150 / 9 + 6, rel=1e-6)
    assert result.baseline_kpis.unit_starts_by_asset == {"boiler": pytest.approx(3.0)}


# --- minimum up and down times ------------------------------------------------------------------------------------


def test_min_up_time_keeps_a_started_boiler_on() -> None:
    # Demand [30, 100, 40, 40]: only step 1 needs the boiler (50). Minimum load 40; step 0's 30 is below it, so the
    # boiler cannot start before step 1. A 3-hour minimum up time keeps it on in steps 1, 2, 3 at >= 40: it then
    # carries the 40 kW_th alone (no heat to spare).
    # Cost: 30 * 0.2 = 6; 50 * 0.2 + 50 / 3 = 26.667; 2 * 40 / 3 = 26.667 -> 59.333.
    # Without the rule: 6 + 26.667 + 8 + 8 = 48.667.
    free = run([30, 100, 40, 40], heat_pump(), boiler(min_load_frac=0.2))
    held = run([30, 100, 40, 40], heat_pump(), boiler(min_load_frac=0.2, min_up_minutes=180))
    assert free.kpis.objective_cny == pytest.approx(48.6667, rel=1e-5)
    assert col(free, "boiler.on") == pytest.approx([0, 1, 0, 0])
    assert held.kpis.objective_cny == pytest.approx(59.3333, rel=1e-5)
    assert col(held, "boiler.on") == pytest.approx([0, 1, 1, 1])
    assert col(held, "boiler.heat_kw") == pytest.approx([0, 50, 40, 40], abs=1e-6)


def test_min_down_time_keeps_the_boiler_on_through_a_gap_too_short_to_rest() -> None:
    # Demand [100, 40, 100]: stopping in step 1 with a 2-hour minimum down time would keep the boiler off in step
    # 2 too, where the heat pump alone (50) cannot serve 100: it stays on at 40 in step 1.
    # Cost: 26.667 + 13.333 + 26.667 = 66.667; without the rule 26.667 + 8 + 26.667 = 61.333 with 2 starts.
    free = run([100, 40, 100], heat_pump(), boiler(min_load_frac=0.2))
    held = run([100, 40, 100], heat_pump(), boiler(min_load_frac=0.2, min_down_minutes=120))
    assert free.kpis.objective_cny == pytest.approx(61.3333, rel=1e-5)
    assert free.kpis.unit_starts_by_asset == {"boiler": pytest.approx(2.0)}
    assert held.kpis.objective_cny == pytest.approx(66.6667, rel=1e-5)
    assert col(held, "boiler.on") == pytest.approx([1, 1, 1])
    assert held.kpis.unit_starts_by_asset == {"boiler": pytest.approx(1.0)}


# --- ramp limits -------------------------------------------------------------------------------------------------


def test_ramp_up_limit_makes_the_boiler_fire_ahead() -> None:
    # Demand [50, 110, 110], boiler without on/off, ramp up 30 kW_th/h, starting cold (initial_heat_kw 0).
    # The boiler must give 60 in step 1 but rises at most 30 a step: it fires 30 in step 0 already (the heat pump
    # gives the other 20) and 60 in steps 1 and 2.
    # Cost: 30 / 3 + 20 * 0.2 = 14; then 60 / 3 + 50 * 0.2 = 30 twice -> 74 (without the limit: 10 + 30 + 30 = 70).
    free = run([50, 110, 110], heat_pump(), boiler())
    limited = run([50, 110, 110], heat_pump(), boiler(ramp_up_kw_per_h=30, initial_heat_kw=0))
    assert free.kpis.objective_cny == pytest.approx(70.0, rel=1e-6)
    assert col(limited, "boiler.heat_kw") == pytest.approx([30, 60, 60], abs=1e-6)
    assert col(limited, "hp.heat_kw") == pytest.approx([20, 50, 50], abs=1e-6)
    assert limited.kpis.objective_cny == pytest.approx(74.0, rel=1e-6)


def test_a_start_reaches_the_minimum_load_then_ramps() -> None:
    # Minimum load 40 (0.2 x 200), ramp up 10 kW_th/h: a start may jump to 40 in its first step, then +10 a step.
    # Demand [50, 100, 110]: the boiler must give 50 in step 1 and 60 in step 2, so it starts in step 0 at 40
    # (heat pump 10), then 50, then 60.
    # Cost: 40 / 3 + 10 * 0.2 = 15.333; 50 / 3 + 10 = 26.667; 60 / 3 + 10 = 30 -> 72 (unlimited: 10 + 26.667 + 30
    # = 66.667).
    result = run([50, 100, 110], heat_pump(), boiler(min_load_frac=0.2, ramp_up_kw_per_h=10))
    assert col(result, "boiler.heat_kw") == pytest.approx([40, 50, 60], abs=1e-6)
    assert col(result, "boiler.on") == pytest.approx([1, 1, 1])
    assert result.kpis.objective_cny == pytest.approx(72.0, rel=1e-6)


def test_ramp_down_limit_from_the_carried_output() -> None:
    # The boiler ran at 100 kW_th before the horizon (initial_heat_kw, as a rolling run carries it) and falls at
    # most 20 kW_th/h (no on/off). Demand [90, 70, 50]: the heat pump could serve 50 of each step, but the boiler
    # cannot come down faster than 80, 60, 40, the least it may give; the heat pump gives the other 10 each step:
    # (80 + 60 + 40) / 3 + 30 * 0.2 = 60 + 6 = 66 CNY (free: 40, 20, 0 from the boiler, 60 / 3 + 150 * 0.2 = 50).
    result = run([90, 70, 50], heat_pump(), boiler(ramp_down_kw_per_h=20, initial_heat_kw=100))
    assert col(result, "boiler.heat_kw") == pytest.approx([80, 60, 40], abs=1e-6)
    assert result.kpis.objective_cny == pytest.approx(66.0, rel=1e-6)


def test_initial_output_above_capacity_is_refused() -> None:
    with pytest.raises(ValidationError, match="initial_heat_kw 250 kW_th is above capacity_kw 200"):
        boiler(initial_heat_kw=250)


def test_without_the_new_fields_the_boiler_is_the_lp_unit_it_was() -> None:
    # No minimum load, start cost, start gas or minimum times: no on/off binary, no starts column.
    result = run(GAPS, heat_pump(), boiler())
    assert "boiler.on" not in result.schedule.columns
    assert result.kpis.unit_starts_by_asset is None
    assert result.kpis.objective_cny == pytest.approx(96.0, rel=1e-6)


# --- heat pumps ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "objective", "on"),
    [
        # Demand [100, 50, 100]; heat pump 100 kW_th, minimum load 40, COP 3; electricity [0.6, 1.5, 0.6] CNY/kWh
        # -> 0.2, 0.5, 0.2 CNY/kWh_th; boiler 0.3333 CNY/kWh_th.
        # No start cost: heat pump 100 in steps 0 and 2 (20 each), boiler 50 in step 1 (16.667) -> 56.667, 2 starts.
        ({}, 56.6667, [1, 0, 1]),
        # 10 CNY a start: staying on at the minimum 40 in step 1 (40 * 0.5 = 20, boiler 10 -> 3.333) costs
        # 23.333 - 16.667 = 6.667 more than stopping, less than a start: 20 + 23.333 + 20 + 10 = 73.333
        # (two starts: 56.667 + 20 = 76.667).
        ({"start_cost_cny": 10.0}, 73.3333, [1, 1, 1]),
        # No start cost but a 2-hour minimum down time: a stop in step 1 keeps it off in step 2, where the boiler
        # would make all 100 (33.333): 20 + 16.667 + 33.333 = 70 against staying on: 20 + 23.333 + 20 = 63.333.
        ({"min_down_minutes": 120.0}, 63.3333, [1, 1, 1]),
    ],
)
def test_heat_pump_start_cost_and_min_down_time(fields: dict[str, float], objective: float, on: list[int]) -> None:
    hp = heat_pump(capacity_kw=100, min_load_frac=0.4, **fields)
    result = run([100, 50, 100], hp, boiler(), price=[0.6, 1.5, 0.6])
    assert col(result, "hp.on") == pytest.approx(on)
    assert result.kpis.objective_cny == pytest.approx(objective, rel=1e-5)
    assert result.kpis.unit_starts_by_asset == {"hp": pytest.approx(1.0 if on == [1, 1, 1] else 2.0)}


# --- carried across midnight in a rolling run ---------------------------------------------------------------------


ROLLING = """\
name: boiler_across_midnight
site:
  name: s
  latitude: 41.8
  longitude: 123.4
  assets:
    - {kind: grid, name: grid, import_limit_kw: 1000, import_price_cny_per_kwh: 0.6}
    - {kind: heat_demand, name: heat, heat_kw: $inputs.heat}
    - {kind: heat_pump, name: hp, capacity_kw: 50, cop: 3}
    - {kind: gas_boiler, name: boiler, capacity_kw: 200, efficiency: 0.9, gas_lhv_kwh_per_nm3: 10,
       gas_price_cny_per_nm3: 3, min_load_frac: 0.2, min_up_minutes: 180}
horizon: {start: 2026-01-15, days: 2, step_minutes: 60}
inputs:
  heat:
    values: [40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 100]
"""


def test_min_up_time_and_output_carry_across_midnight(tmp_path: Path) -> None:
    # Each day: 40 kW_th all day (the heat pump's, 8 CNY an hour), 100 at 23:00, where the boiler starts (50).
    # Day 1: 23 * 8 + (10 + 16.667) = 210.667 CNY, 1 start; the 3-hour minimum up time runs past midnight.
    # Day 2 starts with the boiler on for 60 min: it must stay on at 00:00 and 01:00, at its minimum 40, which
    # then carries the demand: 2 * (13.333 - 8) = 10.667 more -> 221.333 CNY; its own start at 23:00 again.
    path = tmp_path / "rolling.yaml"
    path.write_text(textwrap.dedent(ROLLING), encoding="utf-8")
    run_ = run_case(load_scenario(path).base())
    day1, day2 = run_.daily_kpis
    assert day1.objective_cny == pytest.approx(210.6667, rel=1e-5)
    assert day2.objective_cny == pytest.approx(221.3333, rel=1e-5)
    on = run_.schedule["boiler.on"].to_numpy()
    assert on[22:27] == pytest.approx([0, 1, 1, 1, 0])  # 22:00 .. 02:00 across midnight
    assert day1.unit_starts_by_asset == {"boiler": pytest.approx(1.0)}
    assert day2.unit_starts_by_asset == {"boiler": pytest.approx(1.0)}  # the 00:00 run is no new start
    assert run_.kpis.unit_starts_by_asset == {"boiler": pytest.approx(2.0)}


def test_commitment_state_carries_the_output_for_the_ramp() -> None:
    # The registry's state rule of a boiler: on/off, minutes in that state and the last output.
    (rule,) = REGISTRY["gas_boiler"].state
    assert rule.fields == ("initial_on", "initial_minutes_in_state", "initial_heat_kw")
    index = pd.date_range(T0, periods=3, freq="h")
    schedule = pd.DataFrame({"boiler.on": [0.0, 1.0, 1.0], "boiler.heat_kw": [0.0, 40.0, 55.0]}, index=index)

    carried = rule.carry(
        boiler(min_load_frac=0.2), schedule, CarryContext(index[-1], index[-1] + pd.Timedelta("1h"), 60)
    )
    assert carried == {"initial_heat_kw": 55.0, "initial_on": True, "initial_minutes_in_state": 120.0}


def test_baseline_lead_boiler_leaves_the_lag_boiler_its_minimum_load() -> None:
    # Two 200 kW_th boilers with a 40 kW_th minimum load, 220 kW_th of demand, no heat pump. Lead boiler at 200
    # would leave 20 kW_th, below the lag boiler's minimum: unmet. The rule shares instead: lead 180, lag 40.
    # Optimum and baseline alike: 220 kW_th of gas heat, 220 / 3 = 73.333 CNY (the optimum starts the lead boiler
    # at no more than its 50 kW_th/h ramp from off, the lag boiler gives the rest). The baseline's lead boiler jumps
    # from off to 180, faster than that ramp allows, and the baseline says so.
    result = run(
        [220.0],
        boiler(name="lead", min_load_frac=0.2, ramp_up_kw_per_h=50),
        boiler(name="lag", min_load_frac=0.2),
    )
    baseline = result.baseline_schedule
    assert baseline["lead.heat_kw"].to_numpy() == pytest.approx([180])
    assert baseline["lag.heat_kw"].to_numpy() == pytest.approx([40])
    assert result.baseline_shortfalls == []
    assert result.baseline_kpis.energy_cost_cny == pytest.approx(220 / 3)
    assert result.kpis.objective_cny == pytest.approx(220 / 3)
    assert any("faster than its ramp_up_kw_per_h" in w for w in result.baseline_warnings)
