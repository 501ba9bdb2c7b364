"""Ramp limits of heat pumps and chillers (issue 19), as a gas boiler's: kW per hour between steps, a start may
jump to the minimum load, the last output carried into the next period. Every optimum is worked out by hand.

Hourly steps, so kW and kWh per step are the same figures:

- heat pump: 100 kW_th, COP 3, electricity 0.6 CNY/kWh -> 0.2 CNY/kWh_th;
- boiler: 200 kW_th, efficiency 0.9, LHV 10 kWh/Nm3, gas 3 CNY/Nm3 -> 1/3 = 0.33333 CNY/kWh_th (the backup);
- chillers at 1 CNY/kWh: "ch" COP 4 -> 0.25 CNY/kWh_th, "backup" COP 2 -> 0.5 CNY/kWh_th.
"""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from optimizer import DispatchProblem, DispatchResult, GridSpec, Horizon, SolveOptions, solve
from optimizer.assets import REGISTRY
from optimizer.assets.boilers import GasBoilerSpec
from optimizer.assets.cold_storage import ChillerSpec, ColdTankSpec, CoolingDemandSpec
from optimizer.assets.heat import HeatDemandSpec
from optimizer.assets.heat_pump import HeatPumpSpec
from optimizer.state import CarryContext
from scenarios.rolling import carried_state

T0 = pd.Timestamp("2026-01-15 00:00", tz="Asia/Shanghai")
EXACT = SolveOptions(mip_rel_gap=0.0)


def solve_at(start: pd.Timestamp, n_steps: int, price: float, *assets: object) -> DispatchResult:
    grid = GridSpec(name="grid", import_limit_kw=10_000, import_price_cny_per_kwh=price)
    horizon = Horizon(start=start.to_pydatetime(), step_minutes=60, n_steps=n_steps)
    result = solve(DispatchProblem(horizon=horizon, assets=[grid, *assets]), EXACT)
    assert result.status == "optimal"
    assert result.kpis.max_balance_residual_kw < 1e-6
    return result


def heat_run(demand: list[float], *assets: object, start: pd.Timestamp = T0) -> DispatchResult:
    return solve_at(start, len(demand), 0.6, HeatDemandSpec(name="heat", heat_kw=demand), *assets)


def cooling_run(demand: list[float], *assets: object) -> DispatchResult:
    return solve_at(T0, len(demand), 1.0, CoolingDemandSpec(name="cooling", cooling_kw=demand), *assets)


def heat_pump(**kw: object) -> HeatPumpSpec:
    return HeatPumpSpec(**({"name": "hp", "capacity_kw": 100, "cop": 3.0} | kw))


def boiler() -> GasBoilerSpec:
    return GasBoilerSpec(
        name="boiler", capacity_kw=200, efficiency=0.9, gas_lhv_kwh_per_nm3=10.0, gas_price_cny_per_nm3=3.0
    )


def chiller(name: str = "ch", cop: float = 4.0, **kw: object) -> ChillerSpec:
    return ChillerSpec(**({"name": name, "cooling_capacity_kw": 200.0, "chilled_water_cop": cop} | kw))


def tank() -> ColdTankSpec:
    return ColdTankSpec(
        name="tank", capacity_kwh=500.0, charge_power_kw=200.0, discharge_power_kw=200.0, standing_loss_frac_per_h=0.0
    )


def col(result: DispatchResult, column: str) -> list[float]:
    return result.schedule[column].to_numpy().tolist()


# --- heat pumps ----------------------------------------------------------------------------------------------------


def test_heat_pump_ramp_up_meets_a_step_with_the_boiler() -> None:
    # Demand [20, 90, 90]. Free: the heat pump gives it all, 200 * 0.2 = 40 CNY.
    # Ramp up 30 kW_th/h from 0 (initial_heat_kw): the heat pump gives 20, then at most 50 and 80; the boiler the
    # other 40 and 10. Cost: (20 + 50 + 80) * 0.2 = 30 + 50 / 3 = 16.667 -> 46.667 CNY.
    free = heat_run([20, 90, 90], heat_pump(), boiler())
    limited = heat_run([20, 90, 90], heat_pump(ramp_up_kw_per_h=30, initial_heat_kw=0), boiler())
    assert free.kpis.objective_cny == pytest.approx(40.0, rel=1e-6)
    assert col(limited, "hp.heat_kw") == pytest.approx([20, 50, 80], abs=1e-6)
    assert col(limited, "boiler.heat_kw") == pytest.approx([0, 40, 10], abs=1e-6)
    assert limited.kpis.objective_cny == pytest.approx(46.6667, rel=1e-5)


def test_heat_pump_start_jumps_to_its_minimum_load_then_ramps() -> None:
    # Minimum load 40 (0.4 x 100), ramp up 10 kW_th/h, off before the horizon: as a boiler, a start may reach the
    # minimum load 40 in its first step, then +10 a step. Demand [0, 90, 90]: off in step 0 (nothing to heat), 40
    # and 50 after; the boiler 50 and 40. Cost: 90 * 0.2 = 18 + 90 / 3 = 30 -> 48 CNY (free: 180 * 0.2 = 36).
    result = heat_run([0, 90, 90], heat_pump(min_load_frac=0.4, ramp_up_kw_per_h=10), boiler())
    assert col(result, "hp.heat_kw") == pytest.approx([0, 40, 50], abs=1e-6)
    assert col(result, "hp.on") == pytest.approx([0, 1, 1])
    assert result.kpis.objective_cny == pytest.approx(48.0, rel=1e-6)


def test_carried_heat_output_limits_the_next_days_first_step() -> None:
    # Day 1 (two steps): demand [50, 10], heat pump ramp up 30 kW_th/h, its output before day 1 unknown: it follows
    # the demand (a fall is not limited), 60 * 0.2 = 12 CNY, and ends at 10 kW_th.
    # Day 2 (two steps): demand [90, 90]. The carried 10 kW_th allows 40 then 70; the boiler gives 50 and 20:
    # 110 * 0.2 = 22 + 70 / 3 = 23.333 -> 45.333 CNY. Without the carried output: 180 * 0.2 = 36 CNY.
    hp = heat_pump(ramp_up_kw_per_h=30)
    day1 = heat_run([50, 10], hp, boiler())
    assert col(day1, "hp.heat_kw") == pytest.approx([50, 10], abs=1e-6)
    assert day1.kpis.objective_cny == pytest.approx(12.0, rel=1e-6)
    problem1 = DispatchProblem(
        horizon=Horizon(start=T0.to_pydatetime(), step_minutes=60, n_steps=2), assets=[hp, boiler()]
    )
    start2 = T0 + pd.Timedelta("2h")
    state = carried_state(problem1, day1.schedule, start2)
    assert state["hp"] == {"initial_heat_kw": pytest.approx(10.0)}
    day2 = heat_run([90, 90], hp.model_copy(update=state["hp"]), boiler(), start=start2)
    assert col(day2, "hp.heat_kw") == pytest.approx([40, 70], abs=1e-6)
    assert col(day2, "boiler.heat_kw") == pytest.approx([50, 20], abs=1e-6)
    assert day2.kpis.objective_cny == pytest.approx(45.3333, rel=1e-5)
    assert heat_run([90, 90], hp, boiler(), start=start2).kpis.objective_cny == pytest.approx(36.0, rel=1e-6)


# --- chillers ------------------------------------------------------------------------------------------------------


def test_chiller_ramp_up_meets_a_step_with_a_second_chiller() -> None:
    # Demand [50, 150, 150]; "ch" (0.25 CNY/kWh_th) ramps up at most 40 kW_th/h, its output before the horizon
    # unknown (step 0 free): 50, 90, 130; the backup chiller (0.5) gives 60 and 20.
    # Cost: 270 * 0.25 = 67.5 + 80 * 0.5 = 40 -> 107.5 CNY (free: 350 * 0.25 = 87.5).
    free = cooling_run([50, 150, 150], chiller(), chiller("backup", cop=2.0))
    limited = cooling_run([50, 150, 150], chiller(ramp_up_kw_per_h=40), chiller("backup", cop=2.0))
    assert free.kpis.objective_cny == pytest.approx(87.5, rel=1e-6)
    assert col(limited, "ch.cooling_kw") == pytest.approx([50, 90, 130], abs=1e-6)
    assert col(limited, "backup.cooling_kw") == pytest.approx([0, 60, 20], abs=1e-6)
    assert limited.kpis.objective_cny == pytest.approx(107.5, rel=1e-6)


def test_chiller_starts_at_its_minimum_load_and_ramps_down_from_the_carried_output() -> None:
    # Minimum load 60 (0.3 x 200), ramp up 20 kW_th/h, off before the horizon. Demand [0, 100, 100]: off in step
    # 0, then a start to 60 (the minimum load, above one step's ramp) and 80; the backup gives 40 and 20.
    # Cost: 140 * 0.25 = 35 + 60 * 0.5 = 30 -> 65 CNY (free: 200 * 0.25 = 50).
    started = cooling_run([0, 100, 100], chiller(min_load_frac=0.3, ramp_up_kw_per_h=20), chiller("backup", cop=2.0))
    assert col(started, "ch.cooling_kw") == pytest.approx([0, 60, 80], abs=1e-6)
    assert col(started, "ch.on") == pytest.approx([0, 1, 1])
    assert started.kpis.objective_cny == pytest.approx(65.0, rel=1e-6)
    # Ramp down 30 kW_th/h from a carried 150 kW_th (initial_cooling_kw, no on/off). Demand [100, 80]: "ch" cannot
    # fall below 120 and 90; a chilled-water tank (empty, no loss, ends at least empty) takes the 20 and 10 over.
    # Cost: 210 * 0.25 = 52.5 CNY (free: 180 * 0.25 = 45).
    down = cooling_run([100, 80], chiller(ramp_down_kw_per_h=30, initial_cooling_kw=150), tank())
    assert col(down, "ch.cooling_kw") == pytest.approx([120, 90], abs=1e-6)
    assert col(down, "tank.level_kwh") == pytest.approx([20, 30], abs=1e-6)
    assert down.kpis.objective_cny == pytest.approx(52.5, rel=1e-6)


def test_chiller_state_rule_carries_the_cooling_output() -> None:
    (rule,) = REGISTRY["chiller"].state
    assert rule.fields == ("initial_on", "initial_minutes_in_state", "initial_cooling_kw")
    index = pd.date_range(T0, periods=2, freq="h")
    schedule = pd.DataFrame({"ch.on": [1.0, 1.0], "ch.cooling_kw": [80.0, 70.0]}, index=index)
    carried = rule.carry(
        chiller(min_load_frac=0.3), schedule, CarryContext(index[-1], index[-1] + pd.Timedelta("1h"), 60)
    )
    assert carried == {"initial_cooling_kw": 70.0, "initial_on": True, "initial_minutes_in_state": 120.0}
    # A heat pump carries its heat output as a boiler does.
    (hp_rule,) = REGISTRY["heat_pump"].state
    assert hp_rule.fields == ("initial_on", "initial_minutes_in_state", "initial_heat_kw")


def test_initial_outputs_above_capacity_are_refused() -> None:
    with pytest.raises(ValidationError, match="initial_heat_kw 150 kW_th is above capacity_kw 100"):
        heat_pump(initial_heat_kw=150)
    with pytest.raises(ValidationError, match="initial_cooling_kw 250 kW_th is above cooling_capacity_kw 200"):
        chiller(initial_cooling_kw=250)
