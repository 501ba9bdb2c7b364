"""Heat bus: demand, gas boiler, heat pump, hot-water tank, purchased heat (hand-computed optima)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from optimizer import DispatchProblem, DispatchResult, GridSpec, Horizon, ObjectiveSpec, SolveOptions, solve
from optimizer.assets.air import AirDemandSpec
from optimizer.assets.compressors import CompressorSpec
from optimizer.assets.heat import (
    NATURAL_GAS_LHV_KWH_PER_NM3,
    GasBoilerSpec,
    HeatDemandSpec,
    HeatPumpSpec,
    HeatTankSpec,
    PurchasedHeatSpec,
)

T0 = pd.Timestamp("2026-07-15 00:00", tz="Asia/Shanghai")


def horizon(n_steps: int) -> Horizon:
    return Horizon(start=T0.to_pydatetime(), step_minutes=60, n_steps=n_steps)


def grid(price: float | list[float], factor: float = 0.5) -> GridSpec:
    return GridSpec(
        name="grid",
        import_limit_kw=10_000,
        import_price_cny_per_kwh=price,
        location_kgco2_per_kwh=factor,
        market_kgco2_per_kwh=factor,
    )


def boiler(**kw: object) -> GasBoilerSpec:
    args = {"name": "boiler", "capacity_kw": 200, "efficiency": 0.9, "gas_price_cny_per_nm3": 3.0}
    args["gas_lhv_kwh_per_nm3"] = 10.0
    args.update(kw)
    return GasBoilerSpec(**args)


def col(result: DispatchResult, column: str) -> np.ndarray:
    return result.schedule[column].to_numpy()


# --- heat pump vs boiler, and a carbon price that flips the choice ----------------------------


@pytest.mark.parametrize("carbon_price", [0.0, 1000.0])
def test_heat_pump_or_boiler_whichever_is_cheaper_per_kwh_th(carbon_price: float) -> None:
    # Demand 100 kW_th in each of 2 one-hour steps; heat pump and boiler 200 kW_th each.
    # Heat pump: electricity 0.9 CNY/kWh, COP 2.5 -> 0.9 / 2.5 = 0.36 CNY/kWh_th;
    #            grid 0.5 kgCO2/kWh -> 0.5 / 2.5 = 0.2 kgCO2/kWh_th.
    # Boiler:    gas 3.0 CNY/Nm3, efficiency 0.9, LHV 10 kWh/Nm3 -> 9 kWh_th/Nm3 -> 3 / 9 = 0.3333 CNY/kWh_th;
    #            2.162 kgCO2/Nm3 / 9 = 0.24022 kgCO2/kWh_th.
    # No carbon price: boiler (0.3333 < 0.36). All 200 kWh_th from gas: 200 / 9 = 22.222 Nm3, 66.667 CNY,
    #   22.222 * 2.162 = 48.044 kgCO2 from gas.
    # 1000 CNY/tCO2 (1 CNY/kg): heat pump 0.36 + 0.2 = 0.56 < boiler 0.3333 + 0.2402 = 0.5736 CNY/kWh_th.
    #   All from the heat pump: 80 kWh electricity, 72 CNY + 40 kgCO2 * 1 CNY/kg = 112 CNY.
    problem = DispatchProblem(
        horizon=horizon(2),
        assets=[
            grid(0.9),
            HeatDemandSpec(name="heat", heat_kw=100),
            HeatPumpSpec(name="hp", capacity_kw=200, cop=2.5),
            boiler(),
        ],
        objective=ObjectiveSpec(carbon_price_cny_per_tco2=carbon_price),
    )
    result = solve(problem)
    assert result.status == "optimal"
    kpis = result.kpis
    assert kpis.max_balance_residual_kw < 1e-6
    if carbon_price == 0:
        assert col(result, "boiler.heat_kw") == pytest.approx([100, 100])
        assert col(result, "hp.heat_kw") == pytest.approx([0, 0], abs=1e-6)
        assert col(result, "boiler.gas_nm3_per_h") == pytest.approx([100 / 9, 100 / 9])
        assert kpis.gas_use_nm3 == pytest.approx(22.2222, rel=1e-4)
        assert kpis.cost_cny_by_component["gas"] == pytest.approx(66.6667, rel=1e-4)
        assert kpis.objective_cny == pytest.approx(66.6667, rel=1e-4)
        assert kpis.emissions_market_kgco2_by_source["gas"] == pytest.approx(48.0444, rel=1e-4)
        assert kpis.emissions_location_kgco2_by_source["gas"] == pytest.approx(48.0444, rel=1e-4)
        assert kpis.emissions_market_kgco2_by_source["grid"] == pytest.approx(0.0, abs=1e-6)
    else:
        assert col(result, "hp.heat_kw") == pytest.approx([100, 100])
        assert col(result, "hp.electricity_kw") == pytest.approx([40, 40])
        assert col(result, "boiler.heat_kw") == pytest.approx([0, 0], abs=1e-6)
        assert kpis.gas_use_nm3 == pytest.approx(0.0, abs=1e-6)
        assert kpis.cost_cny_by_component["grid_energy"] == pytest.approx(72.0)
        assert kpis.cost_cny_by_component["carbon"] == pytest.approx(40.0)
        assert kpis.objective_cny == pytest.approx(112.0)
        assert kpis.emissions_market_kgco2_by_source["grid"] == pytest.approx(40.0)
        assert kpis.emissions_market_kgco2 == pytest.approx(40.0)
    # A boiler but no recovered heat: nothing displaced.
    assert kpis.gas_displaced_nm3 == pytest.approx(0.0, abs=1e-9)


def test_boiler_default_lhv_is_natural_gas() -> None:
    # 50 kW_th for one hour at efficiency 0.9 and the default LHV 9.97 kWh/Nm3:
    # 50 / (0.9 * 9.97) = 5.5724 Nm3, at 3.0 CNY/Nm3 = 16.717 CNY, 5.5724 * 2.162 = 12.048 kgCO2.
    spec = GasBoilerSpec(name="boiler", capacity_kw=100, efficiency=0.9, gas_price_cny_per_nm3=3.0)
    assert spec.gas_lhv_kwh_per_nm3 == NATURAL_GAS_LHV_KWH_PER_NM3 == 9.97
    problem = DispatchProblem(horizon=horizon(2), assets=[HeatDemandSpec(name="heat", heat_kw=[50, 0]), spec])
    result = solve(problem)
    assert col(result, "boiler.gas_nm3_per_h") == pytest.approx([5.57246, 0], rel=1e-4, abs=1e-9)
    assert result.kpis.cost_cny_by_component["gas"] == pytest.approx(16.7174, rel=1e-4)
    assert result.kpis.emissions_location_kgco2 == pytest.approx(12.0477, rel=1e-4)


# --- hot-water tank ----------------------------------------------------------------------------


def test_tank_shifts_heat_pump_to_the_cheap_step() -> None:
    # Prices [0.2, 1.0] CNY/kWh, COP [2, 4], demand [0, 100] kW_th, tank 200 kWh_th, 10 %/h standing loss,
    # empty at the start and end >= empty.
    # Direct in step 1: 100 / 4 * 1.0 = 25 CNY.
    # Through the tank: charge x in step 0, 0.9 x >= 100 in step 1 -> x = 111.11 kWh_th;
    #   electricity 111.11 / 2 = 55.556 kWh * 0.2 = 11.111 CNY per 100 kWh_th, i.e. 0.1111 < 0.25 CNY/kWh_th:
    #   all through the tank. Optimum 11.111 CNY. Baseline (tank idle): 25 CNY.
    problem = DispatchProblem(
        horizon=horizon(2),
        assets=[
            grid([0.2, 1.0]),
            HeatDemandSpec(name="heat", heat_kw=[0, 100]),
            HeatPumpSpec(name="hp", capacity_kw=200, cop=[2.0, 4.0]),
            HeatTankSpec(
                name="tank",
                capacity_kwh=200,
                charge_power_kw=150,
                discharge_power_kw=150,
                standing_loss_frac_per_h=0.1,
                initial_level_frac=0.0,
            ),
        ],
    )
    result = solve(problem)
    assert result.status == "optimal"
    assert result.kpis.max_balance_residual_kw < 1e-6
    assert col(result, "hp.heat_kw") == pytest.approx([111.111, 0], abs=1e-3)
    assert col(result, "tank.level_kwh") == pytest.approx([111.111, 0], abs=1e-3)
    assert col(result, "tank.discharge_kw") == pytest.approx([0, 100], abs=1e-6)
    assert result.kpis.energy_cost_cny == pytest.approx(11.1111, rel=1e-4)
    assert result.baseline_kpis.energy_cost_cny == pytest.approx(25.0)
    assert result.baseline_schedule["tank.charge_kw"].sum() == 0.0


# --- purchased heat ----------------------------------------------------------------------------


@pytest.mark.parametrize("price_cny_per_gj", [80.0, 120.0])
def test_purchased_heat_only_when_cheaper_than_the_boiler(price_cny_per_gj: float) -> None:
    # Boiler: 3 / (0.9 * 10) = 0.3333 CNY/kWh_th = 92.59 CNY/GJ, 60 kW_th; demand 100 kW_th for 2 h.
    # 80 CNY/GJ  (< 92.59): buy everything: 200 kWh_th = 0.72 GJ -> 57.6 CNY, 0.72 * 110 = 79.2 kgCO2 from heat.
    # 120 CNY/GJ (> 92.59): boiler at its 60 kW_th, buy 40 kW_th: gas 120 / 9 * 3 = 40 CNY,
    #   heat 80 kWh_th = 0.288 GJ -> 34.56 CNY and 31.68 kgCO2.
    problem = DispatchProblem(
        horizon=horizon(2),
        assets=[
            HeatDemandSpec(name="heat", heat_kw=100),
            boiler(capacity_kw=60),
            PurchasedHeatSpec(name="steam", max_kw=200, price_cny_per_gj=price_cny_per_gj),
        ],
    )
    result = solve(problem)
    kpis = result.kpis
    assert kpis.max_balance_residual_kw < 1e-6
    if price_cny_per_gj < 92.59:
        assert col(result, "steam.heat_kw") == pytest.approx([100, 100])
        assert col(result, "boiler.heat_kw") == pytest.approx([0, 0], abs=1e-6)
        assert kpis.cost_cny_by_component["heat"] == pytest.approx(57.6)
        assert kpis.emissions_market_kgco2_by_source["heat"] == pytest.approx(79.2)
    else:
        assert col(result, "steam.heat_kw") == pytest.approx([40, 40])
        assert col(result, "boiler.heat_kw") == pytest.approx([60, 60])
        assert kpis.cost_cny_by_component["heat"] == pytest.approx(34.56)
        assert kpis.cost_cny_by_component["gas"] == pytest.approx(40.0)
        assert kpis.emissions_market_kgco2_by_source["heat"] == pytest.approx(31.68)
        assert kpis.emissions_market_kgco2_by_source["gas"] == pytest.approx(120 / 9 * 2.162)


# --- boiler minimum load -----------------------------------------------------------------------


def test_boiler_min_load_forces_purchase_below_it() -> None:
    # Boiler 100 kW_th, min load 40 %, 0.3333 CNY/kWh_th; steam 200 CNY/GJ = 0.72 CNY/kWh_th; demand [20, 60].
    # Step 0: 20 kW_th is below the boiler's 40 kW_th minimum and nothing can absorb heat -> buy 20:
    #   20 * 0.72 = 14.4 CNY. Step 1: boiler 60 kW_th -> 20 CNY. Optimum 34.4 CNY.
    # (Without the minimum load the boiler would supply both: 80 / 3 = 26.67 CNY.)
    problem = DispatchProblem(
        horizon=horizon(2),
        assets=[
            HeatDemandSpec(name="heat", heat_kw=[20, 60]),
            boiler(capacity_kw=100, min_load_frac=0.4),
            PurchasedHeatSpec(name="steam", max_kw=100, price_cny_per_gj=200),
        ],
    )
    result = solve(problem)
    assert col(result, "boiler.heat_kw") == pytest.approx([0, 60], abs=1e-6)
    assert col(result, "boiler.on") == pytest.approx([0, 1], abs=1e-6)
    assert col(result, "steam.heat_kw") == pytest.approx([20, 0], abs=1e-6)
    assert result.kpis.objective_cny == pytest.approx(34.4)
    # Baseline: the boiler stays off below its minimum load, purchased heat takes the rest.
    assert result.baseline_schedule["boiler.heat_kw"].to_numpy() == pytest.approx([0, 60])
    assert result.baseline_schedule["steam.heat_kw"].to_numpy() == pytest.approx([20, 0])
    assert result.baseline_kpis.max_balance_residual_kw < 1e-9


# --- baseline order ----------------------------------------------------------------------------


def test_baseline_heat_pump_then_boiler_then_purchased_and_tank_idle() -> None:
    # Demand [100, 20]; heat pump 30, boiler 50, steam 100 kW_th (listed in reverse on purpose).
    # Step 0: heat pump 30, boiler 50, steam 20. Step 1: heat pump 20, the rest 0.
    # Tank idle: 50 kWh_th decays by 10 %/h -> [45, 40.5]. Heat pump electricity at COP 3: [10, 6.667].
    problem = DispatchProblem(
        horizon=horizon(2),
        assets=[
            grid(0.5),
            PurchasedHeatSpec(name="steam", max_kw=100, price_cny_per_gj=50),
            boiler(capacity_kw=50),
            HeatPumpSpec(name="hp", capacity_kw=30, cop=3.0),
            HeatTankSpec(
                name="tank",
                capacity_kwh=100,
                charge_power_kw=50,
                discharge_power_kw=50,
                standing_loss_frac_per_h=0.1,
                initial_level_frac=0.5,
                end_level_frac=0.0,
            ),
            HeatDemandSpec(name="heat", heat_kw=[100, 20]),
        ],
    )
    result = solve(problem)
    base = result.baseline_schedule
    assert base["hp.heat_kw"].to_numpy() == pytest.approx([30, 20])
    assert base["boiler.heat_kw"].to_numpy() == pytest.approx([50, 0])
    assert base["steam.heat_kw"].to_numpy() == pytest.approx([20, 0])
    assert base["tank.level_kwh"].to_numpy() == pytest.approx([45, 40.5])
    assert base["grid.import_kw"].to_numpy() == pytest.approx([10, 20 / 3])
    assert result.baseline_kpis.max_balance_residual_kw < 1e-9
    assert not result.baseline_warnings


def test_baseline_warns_when_heat_is_short() -> None:
    # Demand 100 kW_th, only a 60 kW_th boiler: the optimiser is infeasible, the baseline warns.
    problem = DispatchProblem(
        horizon=horizon(2), assets=[HeatDemandSpec(name="heat", heat_kw=100), boiler(capacity_kw=60)]
    )
    result = solve(problem)
    assert result.status == "infeasible"
    assert any("heat bus short at 2 steps" in w for w in result.baseline_warnings)
    assert any(v.group == "heat_balance" for v in result.diagnosis)


# --- recovered compressor heat displaces boiler gas --------------------------------------------


def test_recovered_heat_displaces_boiler_gas() -> None:
    # Compressor 10 m3/min at 6.4 kW per m3/min = 64 kW at full load, serving 10 m3/min in both steps;
    # 80 % recovered -> 51.2 kW_th. Heat demand 60 kW_th: boiler (0.9 x 10 = 9 kWh_th/Nm3) makes 8.8 kW_th.
    # Recovered heat used = 2 h x 51.2 = 102.4 kWh_th -> displaced gas 102.4 / 9 = 11.378 Nm3;
    # gas burnt 2 x 8.8 / 9 = 1.9556 Nm3; together 120 / 9 = 13.333 Nm3, the gas of a boiler-only plant.
    problem = DispatchProblem(
        horizon=horizon(2),
        assets=[
            grid(0.5),
            AirDemandSpec(name="air", flow_m3_per_min=10),
            CompressorSpec(name="comp", rated_flow_m3_per_min=10, heat_recovery_frac=0.8),
            HeatDemandSpec(name="heat", heat_kw=60),
            boiler(),
        ],
    )
    result = solve(problem)
    assert result.status == "optimal"
    for kpis in (result.kpis, result.baseline_kpis):
        assert kpis.max_balance_residual_kw < 1e-6
        assert kpis.gas_displaced_nm3 == pytest.approx(11.3778, rel=1e-4)
        assert kpis.gas_use_nm3 == pytest.approx(1.95556, rel=1e-4)
    assert col(result, "boiler.heat_kw") == pytest.approx([8.8, 8.8])


def test_gas_displaced_is_none_without_a_boiler() -> None:
    problem = DispatchProblem(
        horizon=horizon(2),
        assets=[
            HeatDemandSpec(name="heat", heat_kw=10),
            PurchasedHeatSpec(name="steam", max_kw=50, price_cny_per_gj=1),
        ],
    )
    kpis = solve(problem).kpis
    assert kpis.gas_displaced_nm3 is None
    assert kpis.gas_use_nm3 is None


# --- validation --------------------------------------------------------------------------------


def test_heat_pump_cop_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="cop"):
        HeatPumpSpec(name="hp", capacity_kw=10, cop=[3.0, 0.0])


def test_boiler_efficiency_range() -> None:
    with pytest.raises(ValidationError, match="efficiency"):
        boiler(efficiency=1.2)


def test_series_length_checked() -> None:
    with pytest.raises(ValidationError, match=r"hp\.cop has 3 values"):
        DispatchProblem(horizon=horizon(2), assets=[HeatPumpSpec(name="hp", capacity_kw=10, cop=[3, 3, 3])])


# --- properties ------------------------------------------------------------------------------


@st.composite
def heat_instances(draw: st.DrawFn) -> tuple[DispatchProblem, dict]:
    n = draw(st.integers(2, 6))
    values = st.floats(0.0, 100.0, allow_nan=False)
    demand = draw(st.lists(values, min_size=n, max_size=n))
    price = draw(st.lists(st.floats(-0.1, 1.5), min_size=n, max_size=n))
    cop = draw(st.lists(st.floats(1.5, 5.0), min_size=n, max_size=n))
    eff = draw(st.floats(0.5, 1.0))
    cap = draw(st.floats(1.0, 200.0))
    loss = draw(st.floats(0.0, 0.2))
    initial = draw(st.floats(0.0, 1.0))
    min_load = draw(st.sampled_from([0.0, 0.3]))
    assets = [
        grid(price),
        HeatDemandSpec(name="heat", heat_kw=demand),
        HeatPumpSpec(name="hp", capacity_kw=draw(st.floats(0.0, 80.0)) + 1e-3, cop=cop),
        boiler(capacity_kw=draw(st.floats(1.0, 80.0)), efficiency=eff, min_load_frac=min_load),
        PurchasedHeatSpec(name="steam", max_kw=300, price_cny_per_gj=draw(st.floats(0.0, 200.0))),
        HeatTankSpec(
            name="tank",
            capacity_kwh=cap,
            charge_power_kw=draw(st.floats(0.0, 60.0)) + loss * cap,  # enough to make up the standing loss
            discharge_power_kw=draw(st.floats(0.0, 60.0)),
            standing_loss_frac_per_h=loss,
            initial_level_frac=initial,
        ),
    ]
    carbon = draw(st.sampled_from([0.0, 500.0]))
    problem = DispatchProblem(
        horizon=horizon(n), assets=assets, objective=ObjectiveSpec(carbon_price_cny_per_tco2=carbon)
    )
    return problem, {"demand": np.array(demand), "cop": np.array(cop), "eff": eff, "cap": cap, "initial": initial}


@settings(max_examples=20, deadline=None)
@given(heat_instances())
def test_heat_properties(instance: tuple[DispatchProblem, dict]) -> None:
    problem, p = instance
    result = solve(problem, SolveOptions(mip_rel_gap=1e-9))
    assert result.status == "optimal"
    s = result.schedule
    assert result.kpis.max_balance_residual_kw < 1e-6
    supply = s["hp.heat_kw"] + s["boiler.heat_kw"] + s["steam.heat_kw"] + s["tank.discharge_kw"] - s["tank.charge_kw"]
    assert supply.to_numpy() == pytest.approx(p["demand"], abs=1e-6)
    assert (s["hp.electricity_kw"] * p["cop"]).to_numpy() == pytest.approx(s["hp.heat_kw"].to_numpy(), abs=1e-6)
    gas = s["boiler.gas_nm3_per_h"].to_numpy()
    assert gas * p["eff"] * 10.0 == pytest.approx(s["boiler.heat_kw"].to_numpy(), abs=1e-6)
    assert result.kpis.gas_use_nm3 == pytest.approx(gas.sum(), abs=1e-6)
    assert result.kpis.emissions_market_kgco2 == pytest.approx(
        sum(result.kpis.emissions_market_kgco2_by_source.values()), abs=1e-6
    )
    level = s["tank.level_kwh"].to_numpy()
    assert level.min() >= -1e-6
    assert level.max() <= p["cap"] + 1e-6
    assert level[-1] >= p["initial"] * p["cap"] - 1e-6
    heat = s["boiler.heat_kw"].to_numpy()
    on = s["boiler.on"].to_numpy() if "boiler.on" in s else None
    if on is not None:  # min load: 0 or at least 30 % of capacity
        cap = problem.assets[3].capacity_kw
        assert np.all((heat <= 1e-6) | (heat >= 0.3 * cap - 1e-6))
    # The baseline covers the same demand (purchased heat can take all of it) and never uses the tank.
    assert result.baseline_kpis.max_balance_residual_kw < 1e-6
    assert result.baseline_schedule["tank.charge_kw"].sum() == 0.0
