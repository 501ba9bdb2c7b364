"""Cooling bus: chillers (chilled water and ice), cold tanks, cooling demand.

Every optimum below is worked out by hand in the test's comment. Unless said
otherwise: hourly steps (dt = 1 h, so kW and kWh per step are the same
number), tanks without standing loss, electricity from a grid with the given
price per step, electricity cost = sum(price * cooling / COP).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from optimizer import DispatchProblem, GridSpec, Horizon, LoadSpec, liaoning_tou, solve
from optimizer.assets.cold_storage import ChillerSpec, ColdTankSpec, CoolingDemandSpec
from optimizer.dispatch import DispatchResult
from optimizer.model import build_model

TZ = "Asia/Shanghai"
TOL = 1e-6


def hourly(n_steps: int, start: str = "2026-07-15 00:00") -> Horizon:
    return Horizon(start=pd.Timestamp(start, tz=TZ).to_pydatetime(), step_minutes=60, n_steps=n_steps)


def priced_grid(prices: list[float]) -> GridSpec:
    return GridSpec(name="grid", import_limit_kw=10_000, import_price_cny_per_kwh=prices)


def tou_grid() -> GridSpec:
    return GridSpec(name="grid", import_limit_kw=10_000, tariff=liaoning_tou(0.62))


def tank(name: str = "tank", **kwargs: object) -> ColdTankSpec:
    values: dict = {"capacity_kwh": 400, "charge_power_kw": 300, "discharge_power_kw": 300}
    values.update(standing_loss_frac_per_h=0.0)
    values.update(kwargs)
    return ColdTankSpec(name=name, **values)


def run(horizon: Horizon, *assets: object) -> DispatchResult:
    result = solve(DispatchProblem(horizon=horizon, assets=list(assets)))
    assert result.status == "optimal", result.diagnosis
    assert result.kpis.max_balance_residual_kw < TOL
    return result


def col(result: DispatchResult | pd.DataFrame, column: str) -> np.ndarray:
    """A column of the optimised schedule (or of the given schedule)."""
    schedule = result if isinstance(result, pd.DataFrame) else result.schedule
    return schedule[column].to_numpy()


def energy_cost(result: DispatchResult) -> float:
    return result.kpis.cost_cny_by_component.get("grid_energy", 0.0)


# --- chilled-water tank shifts the chiller to cheap steps -------------------------------------


def test_tank_lets_the_chiller_run_only_in_cheap_steps() -> None:
    # Prices 0.3, 0.3, 1.0, 1.0 CNY/kWh; demand 100 kW_th every step; chiller 300 kW_th, COP 5;
    # tank 400 kWh_th, charge <= 100, empty at start and end, no loss.
    # All 400 kWh_th should be made at 0.3: each cheap step makes 100 (demand) + 100 (the charge
    # limit) = 200, and the tank holds 100, 200, then covers the expensive steps: 100, 0.
    # Electricity 40, 40, 0, 0 kWh -> cost 80 * 0.3 = 24 CNY.
    # Baseline: the chiller follows demand (20 kWh per step), the tank stays empty:
    # 20 * (0.3 + 0.3 + 1.0 + 1.0) = 52 CNY, so the saving is 28 CNY.
    result = run(
        hourly(4),
        priced_grid([0.3, 0.3, 1.0, 1.0]),
        CoolingDemandSpec(name="cold", cooling_kw=100),
        ChillerSpec(name="chiller", cooling_capacity_kw=300, chilled_water_cop=5),
        tank(capacity_kwh=400, charge_power_kw=100, discharge_power_kw=200),
    )
    assert col(result, "chiller.cooling_kw") == pytest.approx([200, 200, 0, 0], abs=TOL)
    assert col(result, "chiller.power_kw") == pytest.approx([40, 40, 0, 0], abs=TOL)
    net_discharge = col(result, "tank.discharge_kw") - col(result, "tank.charge_kw")
    assert net_discharge == pytest.approx([-100, -100, 100, 100], abs=TOL)
    assert col(result, "tank.level_kwh") == pytest.approx([100, 200, 100, 0], abs=TOL)
    assert energy_cost(result) == pytest.approx(24.0)
    assert col(result.baseline_schedule, "chiller.cooling_kw") == pytest.approx([100] * 4)
    assert col(result.baseline_schedule, "tank.level_kwh") == pytest.approx([0] * 4)
    assert result.baseline_kpis.energy_cost_cny == pytest.approx(52.0)
    assert result.saving_cny == pytest.approx(28.0)
    # A grid priced per step has no TOU bands: the band KPIs are undefined.
    assert result.kpis.cooling_shifted_from_peak_kwh is None
    assert result.kpis.cooling_electricity_kwh_by_band is None


def test_standing_loss_is_paid_for_by_the_chiller() -> None:
    # Prices 0.3, 1.0; demand 0, 100; tank loses 10 %/h of the content held at the start of a step.
    # Storing x at step 0 leaves 0.9 x for step 1: x = 100 / 0.9 = 111.11 kWh_th, costing
    # 111.11 / 5 * 0.3 = 6.67 CNY, far below chilled water at 1.0 (100 / 5 * 1.0 = 20 CNY).
    result = run(
        hourly(2),
        priced_grid([0.3, 1.0]),
        CoolingDemandSpec(name="cold", cooling_kw=[0, 100]),
        ChillerSpec(name="chiller", cooling_capacity_kw=300, chilled_water_cop=5),
        tank(standing_loss_frac_per_h=0.1),
    )
    assert col(result, "chiller.cooling_kw") == pytest.approx([100 / 0.9, 0], abs=TOL)
    assert col(result, "tank.level_kwh") == pytest.approx([100 / 0.9, 0], abs=TOL)
    assert energy_cost(result) == pytest.approx(100 / 0.9 / 5 * 0.3)


def test_default_standing_loss_is_two_percent_per_day() -> None:
    spec = ColdTankSpec(name="t", capacity_kwh=1, charge_power_kw=1, discharge_power_kw=1)
    assert (1 - spec.standing_loss_frac_per_h) ** 24 == pytest.approx(0.98)


def test_no_cooling_assets_leave_cooling_kpis_empty() -> None:
    result = run(hourly(2), tou_grid(), LoadSpec(name="load", power_kw=10))
    assert result.kpis.cooling_shifted_from_peak_kwh is None
    assert result.kpis.cooling_electricity_kwh_by_band is None


def test_baseline_follows_demand_and_idle_tank_only_loses() -> None:
    # Baseline: chiller 250 kW_th, COP 5, min load 40 % (100 kW_th); demand 100, 300, 50, 0.
    # It follows demand up to capacity: 100, 250 (50 unmet), 50 (below min load: cycling), 0;
    # electricity 20, 50, 10, 0; on 1, 1, 1, 0 with one start (step 0).
    # Tank: 1000 kWh_th starting at 50 %, 10 %/h loss, idle: 450, 405, 364.5, 328.05.
    result = solve(
        DispatchProblem(
            horizon=hourly(4),
            assets=[
                priced_grid([1.0] * 4),
                CoolingDemandSpec(name="cold", cooling_kw=[100, 300, 50, 0]),
                ChillerSpec(name="chiller", cooling_capacity_kw=250, chilled_water_cop=5, min_load_frac=0.4),
                tank(capacity_kwh=1000, initial_level_frac=0.5, standing_loss_frac_per_h=0.1),
            ],
        )
    )
    base = result.baseline_schedule
    assert base["chiller.cooling_kw"].to_numpy() == pytest.approx([100, 250, 50, 0])
    assert base["chiller.power_kw"].to_numpy() == pytest.approx([20, 50, 10, 0])
    assert base["chiller.on"].to_numpy() == pytest.approx([1, 1, 1, 0])
    assert base["chiller.starts"].to_numpy() == pytest.approx([1, 0, 0, 0])
    assert base["tank.level_kwh"].to_numpy() == pytest.approx([450, 405, 364.5, 328.05])
    assert base["tank.charge_kw"].to_numpy() == pytest.approx([0] * 4)
    assert result.baseline_kpis.max_balance_residual_kw == pytest.approx(50.0)  # the unmet demand
    warnings = " | ".join(result.baseline_warnings)
    assert "below its min load at 1 steps" in warnings
    assert "50.0 kWh_th unmet at 1 steps" in warnings


# --- minimum load -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("min_load_frac", "cooling", "level", "cost"),
    [
        # Min load 50 % of 100 kW_th: output is 0 or >= 50. Demand 30, 30; the empty tank cannot
        # serve step 0, so the chiller runs at step 0 (>= 50), and step 1 would need 60 - out0 < 50:
        # it must be 0, hence out0 = 60 (30 + 30 stored). Cost 60 / 5 * 1.0 = 12 CNY, although
        # step 1 is cheaper.
        (0.5, [60, 0], [30, 0], 12.0),
        # Without a min load the chiller simply follows demand: 6 + 5.4 = 11.4 CNY.
        (0.0, [30, 30], [0, 0], 30 / 5 * 1.0 + 30 / 5 * 0.9),
    ],
)
def test_min_load_means_off_or_at_least_min(
    min_load_frac: float, cooling: list[float], level: list[float], cost: float
) -> None:
    result = run(
        hourly(2),
        priced_grid([1.0, 0.9]),
        CoolingDemandSpec(name="cold", cooling_kw=30),
        ChillerSpec(name="chiller", cooling_capacity_kw=100, chilled_water_cop=5, min_load_frac=min_load_frac),
        tank(capacity_kwh=100, charge_power_kw=100, discharge_power_kw=100),
    )
    assert col(result, "chiller.cooling_kw") == pytest.approx(cooling, abs=TOL)
    assert col(result, "tank.level_kwh") == pytest.approx(level, abs=TOL)
    assert energy_cost(result) == pytest.approx(cost)
    if min_load_frac > 0:
        assert col(result, "chiller.on") == pytest.approx([1, 0], abs=TOL)


# --- availability -----------------------------------------------------------------------------


@pytest.mark.parametrize("min_load_frac", [0.0, 0.2])  # continuous unit, and one with on/off
def test_availability_limits_and_stops_the_chiller(min_load_frac: float) -> None:
    # Prices 1.0, 1.0, 0.5, 0.4; demand 100; chiller 200 kW_th, COP 5, available 100 %, 0 %, 100 %, 25 %.
    # Step 1 is out: step 0 makes 200 (100 stored for step 1). The cheapest step 3 can make only
    # 50, so step 2 makes 150 (50 stored). Levels 100, 0, 50, 0.
    # Cost (200 * 1.0 + 150 * 0.5 + 50 * 0.4) / 5 = 59 CNY. (Min load 20 % = 40 <= 50: same plan.)
    result = run(
        hourly(4),
        priced_grid([1.0, 1.0, 0.5, 0.4]),
        CoolingDemandSpec(name="cold", cooling_kw=100),
        ChillerSpec(
            name="chiller",
            cooling_capacity_kw=200,
            chilled_water_cop=5,
            min_load_frac=min_load_frac,
            availability_frac=[1, 0, 1, 0.25],
        ),
        tank(capacity_kwh=400),
    )
    assert col(result, "chiller.cooling_kw") == pytest.approx([200, 0, 150, 50], abs=TOL)
    assert col(result, "tank.level_kwh") == pytest.approx([100, 0, 50, 0], abs=TOL)
    assert energy_cost(result) == pytest.approx(59.0)
    # The baseline respects availability too: step 1 is unmet (100 kWh_th), step 3 gets 50.
    assert col(result.baseline_schedule, "chiller.cooling_kw") == pytest.approx([100, 0, 100, 50])


# --- start cost, min up / down ----------------------------------------------------------------

START_CASE_PRICES = [0.5, 1.0, 0.6, 1.0]
# Demand 100 every step; chiller 200 kW_th, COP 5, min load 50 % (100); tank 400 kWh_th, empty at
# start and end. Energy alone: run at the two cheap steps at full load, 200 @ 0.5 and 200 @ 0.6:
# (100 + 120) / 5 = 44 CNY, two starts (on 1, 0, 1, 0). Avoiding the second start means running
# through step 1 at the min load: 200 @ 0.5, 100 @ 1.0, 100 @ 0.6 = (100 + 100 + 60) / 5 = 52 CNY,
# one start (on 1, 1, 1, 0). Break-even start cost: 44 + 2 S = 52 + S -> S = 8 CNY.
TWO_STARTS = {"on": [1, 0, 1, 0], "cooling": [200, 0, 200, 0], "level": [100, 0, 100, 0], "energy": 44.0}
ONE_START = {"on": [1, 1, 1, 0], "cooling": [200, 100, 100, 0], "level": [100, 100, 100, 0], "energy": 52.0}


def start_case(**chiller: object) -> DispatchResult:
    return run(
        hourly(4),
        priced_grid(START_CASE_PRICES),
        CoolingDemandSpec(name="cold", cooling_kw=100),
        ChillerSpec(name="chiller", cooling_capacity_kw=200, chilled_water_cop=5, min_load_frac=0.5, **chiller),
        tank(capacity_kwh=400),
    )


@pytest.mark.parametrize(
    ("start_cost", "initial_on", "plan", "starts"),
    [
        (5.0, False, TWO_STARTS, [1, 0, 1, 0]),  # 44 + 10 = 54 < 52 + 5 = 57
        (10.0, False, ONE_START, [1, 0, 0, 0]),  # 52 + 10 = 62 < 44 + 20 = 64: the extra start is avoided
        (5.0, True, TWO_STARTS, [0, 0, 1, 0]),  # running before the horizon: 44 + 5 = 49 < 52 + 0
    ],
)
def test_start_cost_prevents_an_extra_start(
    start_cost: float, initial_on: bool, plan: dict, starts: list[float]
) -> None:
    result = start_case(start_cost_cny=start_cost, initial_on=initial_on)
    assert col(result, "chiller.on") == pytest.approx(plan["on"], abs=TOL)
    assert col(result, "chiller.cooling_kw") == pytest.approx(plan["cooling"], abs=TOL)
    assert col(result, "tank.level_kwh") == pytest.approx(plan["level"], abs=TOL)
    assert col(result, "chiller.starts") == pytest.approx(starts, abs=TOL)
    assert energy_cost(result) == pytest.approx(plan["energy"])
    assert result.kpis.cost_cny_by_component["start_up"] == pytest.approx(start_cost * sum(starts))


@pytest.mark.parametrize("rule", [{}, {"min_down_minutes": 120}, {"min_up_minutes": 180}])
def test_min_up_and_down_times(rule: dict) -> None:
    # Same case without a start cost: the cheapest plan is two starts (44 CNY). A 2-step min down
    # time forbids the 1-step stop at step 1; a 3-step min up time forbids stopping after step 0;
    # either way the plan is to run through: on 1, 1, 1, 0 at 52 CNY.
    result = start_case(**rule)
    plan = ONE_START if rule else TWO_STARTS
    assert col(result, "chiller.on") == pytest.approx(plan["on"], abs=TOL)
    assert col(result, "chiller.cooling_kw") == pytest.approx(plan["cooling"], abs=TOL)
    assert energy_cost(result) == pytest.approx(plan["energy"])


@pytest.mark.parametrize(("minutes_in_state", "on", "energy"), [(None, [1, 1, 1], 60.0), (0.0, [0, 0, 1], 120.0)])
def test_min_down_time_carried_from_before_the_horizon(
    minutes_in_state: float | None, on: list[int], energy: float
) -> None:
    # 100 kW_th per hour at 1 CNY/kWh. The good chiller (COP 5: 20 CNY a step) was stopped just now and
    # must rest 2 h, so the poor one (COP 2: 50 CNY a step) covers steps 0-1: 50 + 50 + 20 = 120 CNY.
    # Stopped long enough (the default), the good one runs throughout: 3 x 20 = 60 CNY.
    good = ChillerSpec(
        name="chiller",
        cooling_capacity_kw=500,
        chilled_water_cop=5,
        min_down_minutes=120,
        initial_minutes_in_state=minutes_in_state,
    )
    poor = ChillerSpec(name="poor", cooling_capacity_kw=500, chilled_water_cop=2)
    demand = CoolingDemandSpec(name="process", cooling_kw=100.0)
    result = run(hourly(3), priced_grid([1.0, 1.0, 1.0]), good, poor, demand)
    assert col(result, "chiller.on") == pytest.approx(on, abs=TOL)
    assert energy_cost(result) == pytest.approx(energy)


# --- ice mode ---------------------------------------------------------------------------------


START_COST = 1.0  # one start either way (ice at step 0 or chilled water at step 1): it changes no decision


def ice_case(peak_price: float, demand: list[float], capacity_kw: float = 200, min_load: float = 0.0) -> DispatchResult:
    return run(
        hourly(2),
        priced_grid([0.31, peak_price]),
        CoolingDemandSpec(name="cold", cooling_kw=demand),
        ChillerSpec(
            name="chiller",
            cooling_capacity_kw=capacity_kw,
            chilled_water_cop=6,
            ice_cop=4,
            ice_capacity_derate_frac=0.3,
            start_cost_cny=START_COST,
            min_load_frac=min_load,
        ),
        tank("ice", medium="ice", capacity_kwh=400),
    )


@pytest.mark.parametrize(
    ("peak_price", "uses_ice", "cost"),
    [
        # 100 kWh_th needed at step 1. Chilled water then costs p / 6 per kWh_th; ice made at the
        # valley price 0.31 costs 0.31 / 4 = 0.0775. Break-even p = 0.31 * 6 / 4 = 0.465 CNY/kWh.
        (0.45, False, 100 / 6 * 0.45),  # 7.50 < 7.75: the COP penalty outweighs the cheaper energy
        (0.48, True, 100 / 4 * 0.31),  # 7.75 < 8.00: ice pays
        (0.93, True, 100 / 4 * 0.31),  # Liaoning peak/valley ratio 3: ice clearly pays
    ],
)
def test_ice_mode_used_only_beyond_the_cop_break_even(peak_price: float, uses_ice: bool, cost: float) -> None:
    result = ice_case(peak_price, demand=[0, 100])
    if uses_ice:
        assert col(result, "chiller.ice_kw") == pytest.approx([100, 0], abs=TOL)
        assert col(result, "chiller.cooling_kw") == pytest.approx([0, 0], abs=TOL)
        assert col(result, "chiller.ice_mode")[0] == pytest.approx(1.0)
        assert col(result, "chiller.power_kw") == pytest.approx([25, 0], abs=TOL)
        assert col(result, "ice.level_kwh") == pytest.approx([100, 0], abs=TOL)
    else:
        assert col(result, "chiller.ice_kw") == pytest.approx([0, 0], abs=TOL)
        assert col(result, "chiller.cooling_kw") == pytest.approx([0, 100], abs=TOL)
        assert col(result, "ice.level_kwh") == pytest.approx([0, 0], abs=TOL)
    assert energy_cost(result) == pytest.approx(cost)
    # Making ice is running: the unit is on and was started once (ice mode cannot dodge the start).
    producing = 0 if uses_ice else 1
    assert col(result, "chiller.on")[producing] == pytest.approx(1.0)
    assert col(result, "chiller.starts").sum() == pytest.approx(1.0)
    assert result.kpis.cost_cny_by_component["start_up"] == pytest.approx(START_COST)


def test_ice_capacity_is_derated() -> None:
    # 150 kWh_th at the peak step (0.93). Ice capacity 200 * (1 - 0.3) = 140: 140 as ice at the
    # valley (140 / 4 * 0.31 = 10.85), the other 10 as chilled water at the peak (10 / 6 * 0.93 = 1.55).
    result = ice_case(0.93, demand=[0, 150])
    assert col(result, "chiller.ice_kw") == pytest.approx([140, 0], abs=TOL)
    assert col(result, "chiller.cooling_kw") == pytest.approx([0, 10], abs=TOL)
    assert energy_cost(result) == pytest.approx(10.85 + 1.55)


def test_ice_mode_has_its_own_min_load() -> None:
    # Min load 50 % of the ice capacity 140 = 70 kWh_th per ice step. Only 50 is needed at the
    # peak step (0.93): 70 of ice (70 / 4 * 0.31 = 5.425 CNY, 20 left in the tank) beats 50 of
    # chilled water at the peak (50 / 6 * 0.93 = 7.75; its min load, 100, exceeds the demand anyway).
    result = ice_case(0.93, demand=[0, 50], min_load=0.5)
    assert col(result, "chiller.ice_kw") == pytest.approx([70, 0], abs=TOL)
    assert col(result, "chiller.cooling_kw") == pytest.approx([0, 0], abs=TOL)
    assert col(result, "ice.level_kwh") == pytest.approx([70, 20], abs=TOL)
    assert energy_cost(result) == pytest.approx(70 / 4 * 0.31)


def test_one_mode_per_step() -> None:
    # Chiller 300 kW_th (ice 210); demand 50 at the valley step, 100 at the peak step (0.93).
    # Both modes at step 0 (50 chilled water + 100 ice) would cost 50/6*0.31 + 100/4*0.31 = 10.33,
    # but a step has one mode. Ice for everything at step 0: 150 made, 50 melted at once, 100 kept:
    # 150 / 4 * 0.31 = 11.625. Chilled water only: 50/6*0.31 + 100/6*0.93 = 18.08. So: ice.
    result = ice_case(0.93, demand=[50, 100], capacity_kw=300)
    assert col(result, "chiller.ice_kw") == pytest.approx([150, 0], abs=TOL)
    assert col(result, "chiller.cooling_kw") == pytest.approx([0, 0], abs=TOL)
    assert col(result, "ice.level_kwh") == pytest.approx([100, 0], abs=TOL)
    net_melt = col(result, "ice.discharge_kw") - col(result, "ice.charge_kw")
    assert net_melt == pytest.approx([50 - 150, 100], abs=TOL)
    assert energy_cost(result) == pytest.approx(150 / 4 * 0.31)


def test_ice_mode_without_an_ice_tank_stays_off() -> None:
    # No ice tank: nothing can take ice, so the chiller works in chilled-water mode only.
    chiller = ChillerSpec(name="chiller", cooling_capacity_kw=200, chilled_water_cop=6, ice_cop=4)
    result = run(hourly(2), priced_grid([0.31, 0.93]), CoolingDemandSpec(name="cold", cooling_kw=[0, 100]), chiller)
    assert col(result, "chiller.cooling_kw") == pytest.approx([0, 100], abs=TOL)
    assert col(result, "chiller.ice_kw") == pytest.approx([0, 0], abs=TOL)
    assert col(result, "chiller.ice_mode") == pytest.approx([0, 0], abs=TOL)
    # The ice-mode binaries are fixed, not left for the MIP to explore.
    built = build_model(DispatchProblem(horizon=hourly(2), assets=[priced_grid([1, 1]), chiller]))
    assert all(v.fixed and v.value == 0 for v in built.model.chiller.ice_mode.values())


# --- chillers off in tariff bands -------------------------------------------------------------


@pytest.mark.parametrize("rule_on", [True, False])
def test_off_in_bands_stops_chillers_at_peak_even_when_running_is_cheaper(rule_on: bool) -> None:
    # Liaoning TOU on 2026-07-15 (a sharp month), flat 0.62: steps 15:00 flat 0.62, 16:00 peak 0.93,
    # 17:00 and 18:00 sharp 1.1625. Demand 0, 100, 100, 100. Chiller 500 kW_th, COP 6, ice COP 3.5,
    # derate 0.3 (ice 350); empty ice tank, no chilled-water tank.
    # Per kWh_th: ice made at flat 0.62 / 3.5 = 0.17714; chilled water at peak 0.93 / 6 = 0.155,
    # at sharp 1.1625 / 6 = 0.19375.
    # Rule off: ice at 15:00 for the sharp steps (200), chilled water at the peak step (100):
    #   200 / 3.5 * 0.62 + 100 / 6 * 0.93 = 35.428571 + 15.5 = 50.928571 CNY.
    # Rule on (off in sharp and peak): 300 of ice at 15:00: 300 / 3.5 * 0.62 = 53.142857 CNY.
    # The rule costs 100 * (0.62 / 3.5 - 0.93 / 6) = 2.2142857 CNY.
    # Cooling shifted out of sharp+peak = demand there (300) - chiller output there (0 or 100).
    chiller = ChillerSpec(
        name="chiller",
        cooling_capacity_kw=500,
        chilled_water_cop=6,
        ice_cop=3.5,
        ice_capacity_derate_frac=0.3,
        off_in_bands=["sharp", "peak"] if rule_on else [],
    )
    result = run(
        hourly(4, "2026-07-15 15:00"),
        tou_grid(),
        CoolingDemandSpec(name="cold", cooling_kw=[0, 100, 100, 100]),
        chiller,
        tank("ice", medium="ice", capacity_kwh=400, charge_power_kw=400, discharge_power_kw=400),
    )
    assert col(result, "grid.import_price_cny_per_kwh") == pytest.approx([0.62, 0.93, 1.1625, 1.1625])
    if rule_on:
        assert col(result, "chiller.ice_kw") == pytest.approx([300, 0, 0, 0], abs=TOL)
        assert col(result, "chiller.cooling_kw") == pytest.approx([0, 0, 0, 0], abs=TOL)
        assert col(result, "chiller.on")[1:] == pytest.approx([0, 0, 0], abs=TOL)
        assert col(result, "ice.level_kwh") == pytest.approx([300, 200, 100, 0], abs=TOL)
        assert energy_cost(result) == pytest.approx(300 / 3.5 * 0.62)
        assert result.kpis.cooling_shifted_from_peak_kwh == pytest.approx(300.0)
        assert result.kpis.cooling_electricity_kwh_by_band == pytest.approx(
            {"flat": 300 / 3.5, "peak": 0.0, "sharp": 0.0}, abs=TOL
        )
    else:
        assert col(result, "chiller.ice_kw") == pytest.approx([200, 0, 0, 0], abs=TOL)
        assert col(result, "chiller.cooling_kw") == pytest.approx([0, 100, 0, 0], abs=TOL)
        assert col(result, "ice.level_kwh") == pytest.approx([200, 200, 100, 0], abs=TOL)
        assert energy_cost(result) == pytest.approx(200 / 3.5 * 0.62 + 100 / 6 * 0.93)
        assert result.kpis.cooling_shifted_from_peak_kwh == pytest.approx(200.0)
        assert result.kpis.cooling_electricity_kwh_by_band == pytest.approx(
            {"flat": 200 / 3.5, "peak": 100 / 6, "sharp": 0.0}, abs=TOL
        )


def test_off_in_bands_cost_difference_between_rule_on_and_off() -> None:
    def cost(bands: list[str]) -> float:
        return run(
            hourly(4, "2026-07-15 15:00"),
            tou_grid(),
            CoolingDemandSpec(name="cold", cooling_kw=[0, 100, 100, 100]),
            ChillerSpec(
                name="chiller",
                cooling_capacity_kw=500,
                chilled_water_cop=6,
                ice_cop=3.5,
                ice_capacity_derate_frac=0.3,
                off_in_bands=bands,
            ),
            tank("ice", medium="ice", capacity_kwh=400, charge_power_kw=400, discharge_power_kw=400),
        ).kpis.energy_cost_cny

    # 53.142857 - 50.928571 = 2.2142857 CNY (see the previous test).
    assert cost(["sharp", "peak"]) - cost([]) == pytest.approx(2.2142857)


def test_off_in_bands_needs_a_tariff_and_known_bands() -> None:
    assets = [CoolingDemandSpec(name="cold", cooling_kw=10), tank(capacity_kwh=100)]
    chiller = ChillerSpec(name="chiller", cooling_capacity_kw=100, chilled_water_cop=5, off_in_bands=["peak"])
    with pytest.raises(ValueError, match="needs TOU bands from a grid tariff"):
        solve(DispatchProblem(horizon=hourly(2), assets=[priced_grid([1.0, 1.0]), chiller, *assets]))
    typo = chiller.model_copy(update={"off_in_bands": ["Peak"]})
    with pytest.raises(ValueError, match=r"\['Peak'\] are not bands of the tariff"):
        solve(DispatchProblem(horizon=hourly(2), assets=[tou_grid(), typo, *assets]))


def test_spec_errors_name_the_field() -> None:
    with pytest.raises(ValidationError, match=r"ice_cop 7\.0 is above chilled_water_cop 6\.0"):
        ChillerSpec(name="c", cooling_capacity_kw=100, chilled_water_cop=6, ice_cop=7)
    with pytest.raises(ValidationError, match=r"availability_frac .* at most 1"):
        ChillerSpec(name="c", cooling_capacity_kw=100, chilled_water_cop=6, availability_frac=[1, 1.5])
    with pytest.raises(ValidationError, match=r"cold\.cooling_kw has 3 values, the horizon has 2 steps"):
        DispatchProblem(horizon=hourly(2), assets=[CoolingDemandSpec(name="cold", cooling_kw=[1, 2, 3])])
    with pytest.raises(ValidationError, match="medium"):
        ColdTankSpec(name="t", medium="brine", capacity_kwh=1, charge_power_kw=1, discharge_power_kw=1)


# --- properties on random small instances -----------------------------------------------------


@st.composite
def cooling_instances(draw: st.DrawFn) -> dict:
    n = draw(st.integers(3, 6))
    start_hour = draw(st.integers(0, 24 - n))
    ice = draw(st.booleans())
    return {
        "n": n,
        "start": f"2026-07-15 {start_hour:02d}:00",
        "demand": draw(st.lists(st.integers(0, 200), min_size=n, max_size=n)),
        "capacity": draw(st.integers(50, 300)),
        "cop": draw(st.floats(5.5, 6.3)),
        "ice_cop": draw(st.floats(3.5, 4.2)) if ice else None,
        "derate": draw(st.floats(0.30, 0.35)),
        "min_load": draw(st.sampled_from([0.0, 0.2, 0.5])),
        "start_cost": draw(st.sampled_from([0.0, 5.0])),
        "available": draw(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=n, max_size=n)),
        "off_in_bands": draw(st.sampled_from([[], ["sharp"], ["sharp", "peak"]])),
        "tank_capacity": draw(st.integers(50, 500)),
        "tank_rate": draw(st.integers(50, 300)),
        "tank_initial": draw(st.sampled_from([0.0, 0.3, 1.0])),
        "tank_loss": draw(st.sampled_from([0.0, 0.01, 0.05])),
        "ice_capacity": draw(st.integers(50, 500)),
        "ice_initial": draw(st.sampled_from([0.0, 0.5])),
    }


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cooling_instances())
def test_random_instances_respect_every_rule(case: dict) -> None:
    horizon = hourly(case["n"], case["start"])
    main = ChillerSpec(
        name="main",
        cooling_capacity_kw=case["capacity"],
        chilled_water_cop=case["cop"],
        ice_cop=case["ice_cop"],
        ice_capacity_derate_frac=case["derate"],
        min_load_frac=case["min_load"],
        start_cost_cny=case["start_cost"],
        availability_frac=case["available"],
        off_in_bands=case["off_in_bands"],
    )
    # An unrestricted backup (max demand 200 + max tank charge 300) keeps every instance feasible.
    backup = ChillerSpec(name="backup", cooling_capacity_kw=500, chilled_water_cop=3.0)
    water = ColdTankSpec(
        name="water",
        capacity_kwh=case["tank_capacity"],
        charge_power_kw=case["tank_rate"],
        discharge_power_kw=case["tank_rate"],
        initial_level_frac=case["tank_initial"],
        standing_loss_frac_per_h=case["tank_loss"],
    )
    tanks = [water]
    if case["ice_cop"] is not None:
        tanks.append(
            ColdTankSpec(
                name="ice",
                medium="ice",
                capacity_kwh=case["ice_capacity"],
                charge_power_kw=300,
                discharge_power_kw=300,
                initial_level_frac=case["ice_initial"],
                end_level_frac=0.0,
            )
        )
    result = run(horizon, tou_grid(), CoolingDemandSpec(name="cold", cooling_kw=case["demand"]), main, backup, *tanks)
    s = result.schedule
    dt_h = horizon.dt_h

    # Cooling (and ice, and electricity) balances hold: checked in run(); once more by hand for cooling.
    supply = s["main.cooling_kw"] + s["backup.cooling_kw"] + sum(s[f"{t.name}.discharge_kw"] for t in tanks)
    assert np.abs(supply - s["water.charge_kw"] - s["cold.cooling_kw"]).max() < TOL

    # Tanks within bounds, level balance with the standing loss, end level.
    for spec in tanks:
        level = s[f"{spec.name}.level_kwh"].to_numpy()
        assert level.min() >= -TOL
        assert level.max() <= spec.capacity_kwh + TOL
        keep = (1 - spec.standing_loss_frac_per_h) ** dt_h
        previous = np.r_[spec.initial_level_frac * spec.capacity_kwh, level[:-1]]
        flow = (s[f"{spec.name}.charge_kw"] - s[f"{spec.name}.discharge_kw"]).to_numpy() * dt_h
        assert np.abs(level - (keep * previous + flow)).max() < 1e-5
        end = spec.initial_level_frac if spec.end_level_frac is None else spec.end_level_frac
        assert level[-1] >= end * spec.capacity_kwh - 1e-5
        # The baseline leaves the tank idle: only the standing loss.
        base_level = result.baseline_schedule[f"{spec.name}.level_kwh"].to_numpy()
        expected = spec.initial_level_frac * spec.capacity_kwh * keep ** np.arange(1, case["n"] + 1)
        assert base_level == pytest.approx(expected)

    # Main chiller: off where unavailable or in banned bands; min load and capacity per mode; one mode.
    cooling = s["main.cooling_kw"].to_numpy()
    ice = s["main.ice_kw"].to_numpy() if main.has_ice_mode else np.zeros(case["n"])
    bands = liaoning_tou(0.62).bands(horizon.index).to_numpy()
    off = (np.asarray(case["available"]) == 0) | np.isin(bands, case["off_in_bands"])
    assert np.all(cooling[off] < TOL)
    assert np.all(ice[off] < TOL)
    available = np.asarray(case["available"])
    assert np.all(cooling <= main.cooling_capacity_kw * available + TOL)
    assert np.all(ice <= main.ice_capacity_kw * available + TOL)
    running = cooling > TOL
    assert np.all(cooling[running] >= main.min_load_frac * main.cooling_capacity_kw - TOL)
    making_ice = ice > TOL
    assert np.all(ice[making_ice] >= main.min_load_frac * main.ice_capacity_kw - TOL)
    assert not np.any(running & making_ice)
    power = cooling / main.chilled_water_cop + (ice / main.ice_cop if main.ice_cop else 0.0)
    assert s["main.power_kw"].to_numpy() == pytest.approx(power, abs=1e-6)
    if main.needs_on_off(horizon.step_minutes):
        on = s["main.on"].to_numpy()
        assert np.all(on[running | making_ice] > 1 - TOL)

    # The shifted-cooling KPI from its definition.
    peak = np.isin(bands, ["sharp", "peak"])
    produced = cooling + ice + s["backup.cooling_kw"].to_numpy()
    shifted = float(((s["cold.cooling_kw"].to_numpy() - produced) * peak).sum() * dt_h)
    assert result.kpis.cooling_shifted_from_peak_kwh == pytest.approx(shifted, abs=1e-5)
    by_band = result.kpis.cooling_electricity_kwh_by_band
    assert by_band is not None
    total_power = (s["main.power_kw"] + s["backup.power_kw"]).to_numpy() * dt_h
    assert sum(by_band.values()) == pytest.approx(total_power.sum(), abs=1e-5)
