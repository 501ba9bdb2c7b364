"""Chillers that start and stop, with a COP that follows the outdoor temperature (issue 19, points 2 and 4).

Hand calculations use hourly steps (dt = 1 h) and a flat price of 1 CNY/kWh, so a step's cost is its kW. The
chillers have the default temperatures: rated at 35 degC outdoor, condensing 15 K above the outdoor air but not
below 30 degC, evaporating at 2 degC (chilled water) or -10 degC (ice). So the lift is 35 + 15 - 2 = 48 K at
rating, and at an outdoor temperature T the COP is ``cop * 48 / (max(T + 15, 30) - 2)``:

- 35 degC: 48 / 48 = 1, the rated COP;
- 25 degC: condensing 40, lift 38: x 48 / 38 = 1.2632;
- 15 degC and below: condensing at its floor 30, lift 28: x 48 / 28 = 1.7143;
- 45 degC: condensing 60, lift 58: x 48 / 58 = 0.8276.
"""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from optimizer import DispatchProblem, GridSpec, Horizon, SolveOptions, solve
from optimizer.assets.cold_storage import ChillerSpec, ColdTankSpec, CoolingDemandSpec

START = pd.Timestamp("2026-07-15 00:00", tz="Asia/Shanghai")
EXACT = SolveOptions(mip_rel_gap=0.0)


def problem(n_steps: int, *assets: object) -> DispatchProblem:
    grid = GridSpec(name="grid", import_limit_kw=10_000.0, import_price_cny_per_kwh=1.0)
    horizon = Horizon(start=START.to_pydatetime(), step_minutes=60, n_steps=n_steps)
    return DispatchProblem(horizon=horizon, assets=[grid, *assets])


def chiller(**kwargs: object) -> ChillerSpec:
    kwargs.setdefault("cooling_capacity_kw", 200.0)
    kwargs.setdefault("chilled_water_cop", 4.0)
    return ChillerSpec(name="ch", **kwargs)


def tank(capacity_kwh: float) -> ColdTankSpec:
    return ColdTankSpec(
        name="tank",
        capacity_kwh=capacity_kwh,
        charge_power_kw=200.0,
        discharge_power_kw=200.0,
        standing_loss_frac_per_h=0.0,
    )


def demand(cooling_kw: list[float]) -> CoolingDemandSpec:
    return CoolingDemandSpec(name="cooling", cooling_kw=cooling_kw)


def col(result: object, column: str) -> list[float]:
    return result.schedule[column].round(6).tolist()  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- COP and the outdoor temperature


def test_cop_falls_with_the_outdoor_temperature() -> None:
    spec = chiller(outdoor_temperature_c=[5.0, 15.0, 25.0, 35.0, 45.0], ice_cop=3.0)
    cop, ice = spec.cops(5)
    assert cop.tolist() == pytest.approx([4 * 48 / 28, 4 * 48 / 28, 4 * 48 / 38, 4.0, 4 * 48 / 58])
    # Ice: evaporating at -10 degC, lift 60 K at rating: 3 * 60 / (30 + 10) = 4.5 at 15 degC and below.
    assert ice is not None
    assert ice.tolist() == pytest.approx([4.5, 4.5, 3 * 60 / 50, 3.0, 3 * 60 / 70])
    # Without a temperature the COPs are the constants given.
    constant, _ = chiller().cops(3)
    assert constant.tolist() == [4.0, 4.0, 4.0]


def test_the_plan_makes_cold_in_the_cooler_hour_when_a_tank_allows() -> None:
    # Same price both hours; 100 kWh_th needed in hour 1 (35 degC, COP 4: 25 kWh), hour 0 is 15 degC
    # (COP 6.857: 100 / 6.857 = 14.583 kWh). With a tank the chiller runs in hour 0.
    cool_first = chiller(outdoor_temperature_c=[15.0, 35.0])
    result = solve(problem(2, cool_first, tank(200.0), demand([0.0, 100.0])), EXACT)
    assert col(result, "ch.cooling_kw") == [100.0, 0.0]
    assert col(result, "tank.level_kwh") == [100.0, 0.0]
    assert col(result, "ch.cop") == pytest.approx([4 * 48 / 28, 4.0])
    assert result.kpis.objective_cny == pytest.approx(100.0 * 28 / (4 * 48))
    # The baseline follows the demand: hour 1 at COP 4, 25 kWh.
    assert result.baseline_kpis.objective_cny == pytest.approx(25.0)


def test_no_shift_without_storage_or_against_time() -> None:
    # The cooler hour comes after the demand: an empty tank cannot give cold made later, so hour 0 runs at COP 4.
    late_cool = chiller(outdoor_temperature_c=[35.0, 15.0])
    result = solve(problem(2, late_cool, tank(200.0), demand([100.0, 0.0])), EXACT)
    assert col(result, "ch.cooling_kw") == [100.0, 0.0]
    assert result.kpis.objective_cny == pytest.approx(25.0)
    # No tank: the demand is met when it occurs.
    result = solve(problem(2, chiller(outdoor_temperature_c=[15.0, 35.0]), demand([0.0, 100.0])), EXACT)
    assert col(result, "ch.cooling_kw") == [0.0, 100.0]
    assert result.kpis.objective_cny == pytest.approx(25.0)


def test_with_a_constant_cop_both_hours_cost_the_same() -> None:
    # The former model: COP 4 in both hours, 25 kWh wherever the chiller runs.
    result = solve(problem(2, chiller(), tank(200.0), demand([0.0, 100.0])), EXACT)
    assert result.kpis.objective_cny == pytest.approx(25.0)
    assert "ch.cop" not in result.schedule


# --------------------------------------------------------------------------- starts, with the temperature


@pytest.mark.parametrize(("start_cost", "starts", "objective"), [(2.0, 2, 21.5), (10.0, 1, 30.625)])
def test_a_start_cost_weighs_cool_hours_against_another_start(start_cost: float, starts: int, objective: float) -> None:
    # Outdoor [15, 35, 15, 35, 35] degC, 60 kWh_th needed in each of the last two hours, chiller 60 kW_th with a
    # minimum load of 30, tank 120 kWh_th. Cold made at 15 degC costs 1 / 6.857 = 0.14583 kWh per kWh_th, at
    # 35 degC 0.25.
    # - two runs, hours 0 and 2 (both cool), 60 each: 120 * 0.14583 + 2 S = 17.5 + 2 S;
    # - one run over hours 0-2, the hot hour 1 at the minimum load: 90 * 0.14583 + 30 * 0.25 + S = 20.625 + S
    #   (a run of two hours has a hot hour at 60 or too little cold: 23.75 + S at best).
    # Two runs win below S = 3.125: S = 2 gives 21.5 (one run 22.625), S = 10 gives 30.625 (two runs 37.5).
    spec = chiller(
        cooling_capacity_kw=60.0,
        min_load_frac=0.5,
        start_cost_cny=start_cost,
        outdoor_temperature_c=[15.0, 35.0, 15.0, 35.0, 35.0],
    )
    result = solve(problem(5, spec, tank(120.0), demand([0.0, 0.0, 0.0, 60.0, 60.0])), EXACT)
    assert result.status == "optimal"
    assert sum(col(result, "ch.starts")) == pytest.approx(starts)
    assert result.kpis.objective_cny == pytest.approx(objective)
    assert result.kpis.cost_cny_by_component["start_up"] == pytest.approx(starts * start_cost)
    if result.kpis.unit_starts_by_asset is not None:  # starts per unit (role unit_start)
        assert result.kpis.unit_starts_by_asset.get("ch") == pytest.approx(starts)


def test_min_up_time_holds_with_the_temperature() -> None:
    # Min up 2 h, min load 30 kW_th, 60 kWh_th needed at hour 2 (35 degC), tank 120 kWh_th.
    # - start at hour 0 (15 degC): on at hours 0 and 1, 30 each (the minimum load), into the tank:
    #   30 / 6.857 + 30 / 4 = 4.375 + 7.5 = 11.875 kWh;
    # - start at hour 1 or 2 (35 degC): 60 at COP 4 = 15 kWh.
    spec = chiller(
        cooling_capacity_kw=60.0, min_load_frac=0.5, min_up_minutes=120.0, outdoor_temperature_c=[15.0, 35.0, 35.0]
    )
    result = solve(problem(3, spec, tank(120.0), demand([0.0, 0.0, 60.0])), EXACT)
    assert col(result, "ch.on") == [1.0, 1.0, 0.0]
    assert col(result, "ch.cooling_kw") == [30.0, 30.0, 0.0]
    assert result.kpis.objective_cny == pytest.approx(30 * 28 / (4 * 48) + 30 / 4)


# --------------------------------------------------------------------------- checks


def test_temperatures_are_bounded_and_consistent() -> None:
    with pytest.raises(ValidationError, match="greater than or equal to -50"):
        chiller(outdoor_temperature_c=[20.0, -80.0])
    with pytest.raises(ValidationError, match="less than or equal to 60"):
        chiller(rated_outdoor_temperature_c=95.0)  # Fahrenheit given by mistake
    with pytest.raises(ValidationError, match="lift"):
        chiller(min_condensing_temperature_c=5.0, evaporating_temperature_c=2.0)
    with pytest.raises(ValidationError, match="colder evaporator"):
        chiller(ice_cop=3.0, ice_evaporating_temperature_c=5.0)
    with pytest.raises(ValidationError, match="outdoor_temperature_c has 2 values, the horizon has 3 steps"):
        problem(3, chiller(outdoor_temperature_c=[20.0, 25.0]), demand([0.0, 0.0, 0.0]))
