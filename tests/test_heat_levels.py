"""Heat by temperature level: one bus per level, heat exchangers downward only, heat pumps up to their sink
temperature with a COP from the temperatures. Every optimum below is worked out by hand.

Common numbers (one-hour steps, so kW and kWh per step are the same figures):

- boilers: efficiency 0.9, LHV 10 kWh/Nm3 -> 9 kWh_th/Nm3; gas 3 CNY/Nm3 -> 1/3 = 0.33333 CNY/kWh_th;
- heat pump: COP 3 at 0.6 CNY/kWh -> 0.2 CNY/kWh_th, cheaper than gas.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from optimizer import DispatchProblem, DispatchResult, GridSpec, Horizon, solve
from optimizer.assets.boilers import GasBoilerSpec
from optimizer.assets.heat import HeatDemandSpec, HeatTankSpec, PurchasedHeatSpec
from optimizer.assets.heat_exchanger import HeatExchangerSpec
from optimizer.assets.heat_levels import DEFAULT_HEAT_LEVELS, HeatLevel, HeatLevelsSpec
from optimizer.assets.heat_pump import HeatPumpSpec, carnot_cop
from optimizer.buses import HEAT, bus_quantity, heat_bus, heat_level_of, is_heat_bus
from optimizer.errors import SpecError
from scenarios.loader import load_scenario
from scenarios.pipeline import run_case

T0 = pd.Timestamp("2026-01-15 00:00", tz="Asia/Shanghai")


def horizon(n_steps: int) -> Horizon:
    return Horizon(start=T0.to_pydatetime(), step_minutes=60, n_steps=n_steps)


def grid(price: float | list[float] = 0.6) -> GridSpec:
    return GridSpec(name="grid", import_limit_kw=10_000, import_price_cny_per_kwh=price)


def boiler(name: str = "boiler", **kw: object) -> GasBoilerSpec:
    args: dict[str, object] = {
        "name": name,
        "capacity_kw": 500,
        "efficiency": 0.9,
        "gas_lhv_kwh_per_nm3": 10.0,
        "gas_price_cny_per_nm3": 3.0,
    }
    return GasBoilerSpec(**(args | kw))


def problem(*assets: object, n_steps: int = 1, price: float | list[float] = 0.6) -> DispatchProblem:
    return DispatchProblem(horizon=horizon(n_steps), assets=[grid(price), *assets])


def solved(*assets: object, n_steps: int = 1, price: float | list[float] = 0.6) -> DispatchResult:
    result = solve(problem(*assets, n_steps=n_steps, price=price))
    assert result.status == "optimal"
    assert result.kpis.max_balance_residual_kw < 1e-6
    return result


def col(result: DispatchResult, column: str) -> np.ndarray:
    return result.schedule[column].to_numpy()


# --- buses ---------------------------------------------------------------------------------------------------------


def test_heat_bus_names() -> None:
    assert heat_bus(None) == heat_bus("heat") == HEAT == "heat"
    assert heat_bus("hot_water") == "heat_hot_water"
    assert is_heat_bus("heat") and is_heat_bus("heat_steam") and not is_heat_bus("cooling")
    assert heat_level_of("heat_steam") == "steam" and heat_level_of("electricity") is None
    assert bus_quantity("heat_hot_water") == "heat (hot water)" and bus_quantity("compressed_air") == "compressed air"


def test_without_levels_everything_stays_on_the_one_heat_bus() -> None:
    # Today's files: no level anywhere, one heat bus. The heat pump (0.2 CNY/kWh_th) serves the whole 150 kW_th:
    # 150 * 0.2 = 30 CNY.
    result = solved(
        HeatDemandSpec(name="process", heat_kw=150),
        HeatPumpSpec(name="hp", capacity_kw=200, cop=3.0),
        boiler(),
    )
    assert {result.columns[c].bus for c in ("process.heat_kw", "hp.heat_kw", "boiler.heat_kw")} == {"heat"}
    assert result.kpis.objective_cny == pytest.approx(30.0)


# --- a heat pump cannot serve steam --------------------------------------------------------------------------------


def test_heat_pump_cannot_serve_a_steam_demand_the_boiler_does() -> None:
    # Steam 100 kW_th, hot water 50 kW_th. The heat pump (hot water, 0.2 CNY/kWh_th) is cheaper than the steam
    # boiler (0.3333), but it only reaches the hot-water level: the boiler makes the 100 of steam (33.333 CNY),
    # the heat pump the 50 of hot water (10 CNY): 43.333 CNY. (On one bus, as before levels, the heat pump would
    # "make" all 150 for 30 CNY.)
    result = solved(
        HeatDemandSpec(name="steam_use", heat_kw=100, level="steam"),
        HeatDemandSpec(name="washing", heat_kw=50, level="hot_water"),
        HeatPumpSpec(name="hp", capacity_kw=200, cop=3.0, level="hot_water"),
        boiler(level="steam"),
    )
    assert col(result, "boiler.heat_kw") == pytest.approx([100])
    assert col(result, "hp.heat_kw") == pytest.approx([50])
    assert result.kpis.objective_cny == pytest.approx(43.3333, rel=1e-5)
    assert result.columns["boiler.heat_kw"].bus == "heat_steam"
    assert result.columns["hp.heat_kw"].bus == "heat_hot_water"
    assert result.columns["steam_use.heat_kw"].bus == "heat_steam"


def test_only_a_heat_pump_for_steam_is_infeasible_and_the_diagnosis_names_the_steam_balance() -> None:
    # Nothing on the steam level can supply the 100 kW_th: infeasible, and the steam balance is what fails, by
    # 100 kW_th in each step. The baseline leaves the same 2 * 100 = 200 kWh_th of steam unmet.
    result = solve(
        problem(
            HeatDemandSpec(name="steam_use", heat_kw=100, level="steam"),
            HeatPumpSpec(name="hp", capacity_kw=200, cop=3.0, level="hot_water"),
            n_steps=2,
        )
    )
    assert result.status == "infeasible"
    assert result.schedule_source == "fallback"
    assert {v.group for v in result.diagnosis} == {"heat_steam_balance"}
    assert [v.step for v in result.diagnosis] == [0, 1]
    assert all(v.kind == "balance" and v.amount == pytest.approx(100.0) for v in result.diagnosis)
    (shortfall,) = result.baseline_shortfalls
    assert (shortfall.bus, shortfall.quantity, shortfall.unit) == ("heat_steam", "heat (steam)", "kWh_th")
    assert shortfall.amount == pytest.approx(200.0)


def test_a_heat_pump_declared_on_steam_is_refused() -> None:
    # Steam is at 170 degC by default, above the heat pump's 90 degC reach.
    with pytest.raises(SpecError, match="above the heat pump's max_sink_temperature_c 90") as error:
        solve(
            problem(
                HeatDemandSpec(name="steam_use", heat_kw=100, level="steam"),
                HeatPumpSpec(name="hp", capacity_kw=200, cop=3.0, level="steam"),
            )
        )
    assert (error.value.asset, error.value.field) == ("hp", "level")


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(SpecError, match="'hotwater' is not a heat level of the site") as error:
        solve(problem(HeatDemandSpec(name="washing", heat_kw=50, level="hotwater"), boiler(level="hotwater")))
    assert (error.value.asset, error.value.field) == ("washing", "level")


# --- heat exchangers -----------------------------------------------------------------------------------------------


def test_heat_exchanger_passes_steam_down_to_hot_water_with_its_loss() -> None:
    # Steam 50 kW_th and hot water 95 kW_th, one steam boiler, an exchanger losing 5 %: the exchanger draws
    # 95 / 0.95 = 100 kW_th of steam, the boiler makes 50 + 100 = 150 kW_th: 150 / 9 = 16.667 Nm3/h, 50 CNY.
    # The baseline does the same (the exchanger passes the hot-water deficit up, then the boiler fires).
    result = solved(
        HeatDemandSpec(name="steam_use", heat_kw=50, level="steam"),
        HeatDemandSpec(name="washing", heat_kw=95, level="hot_water"),
        HeatExchangerSpec(name="prs", from_level="steam", to_level="hot_water", max_kw=200, loss_frac=0.05),
        boiler(level="steam"),
    )
    assert col(result, "prs.heat_in_kw") == pytest.approx([100])
    assert col(result, "prs.heat_out_kw") == pytest.approx([95])
    assert col(result, "boiler.heat_kw") == pytest.approx([150])
    assert col(result, "boiler.gas_nm3_per_h") == pytest.approx([150 / 9])
    assert result.kpis.objective_cny == pytest.approx(50.0)
    assert (result.columns["prs.heat_in_kw"].bus, result.columns["prs.heat_in_kw"].sign) == ("heat_steam", -1.0)
    assert (result.columns["prs.heat_out_kw"].bus, result.columns["prs.heat_out_kw"].sign) == ("heat_hot_water", 1.0)
    assert result.baseline_schedule["prs.heat_in_kw"].to_numpy() == pytest.approx([100])
    assert result.baseline_kpis.energy_cost_cny == pytest.approx(50.0)
    assert result.baseline_shortfalls == []


def test_heat_exchanger_limit_leaves_the_rest_to_purchased_hot_water() -> None:
    # Hot water 200 kW_th. Through the exchanger (at most 100 drawn, 5 % loss): 0.33333 / 0.95 = 0.35088 CNY per
    # kWh_th delivered, cheaper than district hot water at 180 CNY/GJ = 0.648 CNY/kWh_th: the exchanger runs at
    # its limit (100 in, 95 out), the district network gives the other 105.
    # Cost: 100 / 3 + 105 * 0.648 = 33.333 + 68.04 = 101.373 CNY.
    result = solved(
        HeatDemandSpec(name="washing", heat_kw=200, level="hot_water"),
        HeatExchangerSpec(name="hx", from_level="steam", to_level="hot_water", max_kw=100, loss_frac=0.05),
        boiler(level="steam"),
        PurchasedHeatSpec(name="district", max_kw=500, price_cny_per_gj=180, level="hot_water"),
    )
    assert col(result, "hx.heat_in_kw") == pytest.approx([100])
    assert col(result, "district.heat_kw") == pytest.approx([105])
    assert result.kpis.objective_cny == pytest.approx(101.3733, rel=1e-5)


def test_heat_exchangers_only_carry_heat_downward() -> None:
    upward = HeatExchangerSpec(name="hx", from_level="hot_water", to_level="steam", max_kw=100)
    with pytest.raises(SpecError, match="not hotter than 'steam' at 170 degC") as error:
        solve(problem(HeatDemandSpec(name="steam_use", heat_kw=10, level="steam"), boiler(level="hot_water"), upward))
    assert (error.value.asset, error.value.field) == ("hx", "from_level")
    with pytest.raises(ValidationError, match="an exchanger joins two levels"):
        HeatExchangerSpec(name="hx", from_level="steam", to_level="steam", max_kw=100)
    # The default level has no temperature unless the site gives it one: no direction to check.
    into_default = HeatExchangerSpec(name="hx", from_level="steam", to_level="heat", max_kw=100)
    with pytest.raises(SpecError, match="'heat' has no temperature"):
        solve(problem(HeatDemandSpec(name="space", heat_kw=10), boiler(level="steam"), into_default))


def test_baseline_serves_each_level_from_its_own_supplies_first() -> None:
    # Steam 50 and hot water 95 kW_th; a hot-water boiler at efficiency 0.8 (3 / 8 = 0.375 CNY/kWh_th) and the
    # steam route through the exchanger (0.33333 / 0.95 = 0.35088 CNY/kWh_th).
    # Optimum: all through the steam boiler, 150 / 3 = 50 CNY.
    # Baseline, level by level from the coldest: the hot-water boiler serves its level (95 * 0.375 = 35.625), the
    # exchanger has nothing left to pass up, the steam boiler serves the 50 of steam (16.667): 52.292 CNY.
    result = solved(
        HeatDemandSpec(name="steam_use", heat_kw=50, level="steam"),
        HeatDemandSpec(name="washing", heat_kw=95, level="hot_water"),
        HeatExchangerSpec(name="hx", from_level="steam", to_level="hot_water", max_kw=200, loss_frac=0.05),
        boiler("steam_boiler", level="steam"),
        boiler("water_boiler", level="hot_water", efficiency=0.8),
    )
    assert result.kpis.objective_cny == pytest.approx(50.0)
    assert col(result, "water_boiler.heat_kw") == pytest.approx([0], abs=1e-6)
    baseline = result.baseline_schedule
    assert baseline["water_boiler.heat_kw"].to_numpy() == pytest.approx([95])
    assert baseline["hx.heat_in_kw"].to_numpy() == pytest.approx([0])
    assert baseline["steam_boiler.heat_kw"].to_numpy() == pytest.approx([50])
    assert result.baseline_kpis.energy_cost_cny == pytest.approx(95 * 0.375 + 50 / 3)


# --- heat pump COP from the temperatures ---------------------------------------------------------------------------


def test_cop_falls_with_the_sink_temperature() -> None:
    # One heat pump model (Carnot fraction 0.5, outdoor air at 5 degC) on two levels, 100 kW_th each:
    # low_temp 45 degC: COP = 0.5 * 318.15 / 40 = 3.976875 -> 25.1454 kWh;
    # hot_water 80 degC: COP = 0.5 * 353.15 / 75 = 2.354333 -> 42.4749 kWh; at 1 CNY/kWh: 67.6203 CNY.
    def unit(name: str, level: str) -> HeatPumpSpec:
        return HeatPumpSpec(name=name, capacity_kw=200, carnot_frac=0.5, source_temperature_c=5.0, level=level)

    result = solved(
        HeatDemandSpec(name="floor", heat_kw=100, level="low_temp"),
        HeatDemandSpec(name="washing", heat_kw=100, level="hot_water"),
        unit("hp_low", "low_temp"),
        unit("hp_hot", "hot_water"),
        price=1.0,
    )
    assert col(result, "hp_low.cop") == pytest.approx([3.976875])
    assert col(result, "hp_hot.cop") == pytest.approx([2.354333], rel=1e-6)
    assert col(result, "hp_low.electricity_kw") == pytest.approx([25.14537], rel=1e-6)
    assert col(result, "hp_hot.electricity_kw") == pytest.approx([42.47487], rel=1e-6)
    assert result.kpis.objective_cny == pytest.approx(67.62024, rel=1e-6)


def test_cop_from_the_outdoor_temperature_moves_heat_to_the_mild_hour() -> None:
    # Hot water (80 degC) from a Carnot-fraction-0.5 heat pump; outdoor air 10 degC then -10 degC:
    # COP 0.5 * 353.15 / 70 = 2.52250, then 0.5 * 353.15 / 90 = 1.96194. Demand [0, 100] kW_th, a lossless
    # 200 kWh_th tank (empty at both ends), 1 CNY/kWh: heat made in the mild hour and stored:
    # 100 / 2.5225 = 39.6432 CNY, against 100 / 1.96194 = 50.9698 CNY made when needed (the baseline, tank idle).
    result = solved(
        HeatDemandSpec(name="washing", heat_kw=[0, 100], level="hot_water"),
        HeatPumpSpec(name="hp", capacity_kw=200, carnot_frac=0.5, source_temperature_c=[10, -10], level="hot_water"),
        HeatTankSpec(name="tank", capacity_kwh=200, charge_power_kw=150, discharge_power_kw=150, level="hot_water"),
        n_steps=2,
        price=1.0,
    )
    assert col(result, "hp.cop") == pytest.approx([2.5225, 1.961944], rel=1e-6)
    assert col(result, "hp.heat_kw") == pytest.approx([100, 0], abs=1e-6)
    assert result.kpis.objective_cny == pytest.approx(39.64321, rel=1e-6)
    assert result.baseline_kpis.energy_cost_cny == pytest.approx(50.96984, rel=1e-6)
    assert result.baseline_schedule["hp.cop"].to_numpy() == pytest.approx([2.5225, 1.961944], rel=1e-6)


def test_carnot_cop_is_bounded() -> None:
    # A source as warm as the sink: the lift is floored at 5 K (0.5 * 353.15 / 5 = 35.3) and the COP capped at 8.
    assert carnot_cop(0.5, 80.0, np.array([78.0, 90.0, 5.0]), 8.0) == pytest.approx([8.0, 8.0, 2.354333], rel=1e-6)
    with pytest.raises(ValidationError, match="give exactly one of cop or carnot_frac"):
        HeatPumpSpec(name="hp", capacity_kw=100, cop=3.0, carnot_frac=0.5, source_temperature_c=5.0)
    with pytest.raises(ValidationError, match="carnot_frac needs the heat source's temperature"):
        HeatPumpSpec(name="hp", capacity_kw=100, carnot_frac=0.5)
    with pytest.raises(ValidationError, match="must lie in"):
        HeatPumpSpec(name="hp", capacity_kw=100, carnot_frac=0.5, source_temperature_c=[5.0, -80.0])
    with pytest.raises(ValidationError, match="cop must be at most 20"):
        HeatPumpSpec(name="hp", capacity_kw=100, cop=25.0)


def test_a_site_heat_levels_entry_sets_the_temperatures() -> None:
    # The site's hot water at 95 degC: out of reach of a 90 degC heat pump; one rated for 100 degC runs at
    # COP 0.5 * 368.15 / 90 = 2.045278 from 5 degC air.
    levels = HeatLevelsSpec(levels=[HeatLevel(name="hot_water", temperature_c=95)])
    assert levels.name == "heat_levels" and DEFAULT_HEAT_LEVELS["hot_water"] == 80.0
    demand = HeatDemandSpec(name="washing", heat_kw=100, level="hot_water")

    def hp(**kw: object) -> HeatPumpSpec:
        args = {"name": "hp", "capacity_kw": 200, "carnot_frac": 0.5, "source_temperature_c": 5.0}
        return HeatPumpSpec(**(args | {"level": "hot_water"} | kw))

    with pytest.raises(SpecError, match="'hot_water' at 95 degC is above"):
        solve(problem(levels, demand, hp()))
    result = solved(levels, demand, hp(max_sink_temperature_c=100), price=1.0)
    assert col(result, "hp.cop") == pytest.approx([2.045278], rel=1e-6)
    with pytest.raises(ValidationError, match="each level once"):
        HeatLevelsSpec(levels=[HeatLevel(name="steam", temperature_c=150), HeatLevel(name="steam", temperature_c=160)])


# --- a scenario file ------------------------------------------------------------------------------------------------


SITE = """\
name: levels
site:
  name: s
  latitude: 41.8
  longitude: 123.4
  assets:
    - {kind: grid, name: grid, import_limit_kw: 1000, import_price_cny_per_kwh: 0.6}
    - kind: heat_levels
      levels: [{name: steam, temperature_c: 184}, {name: hot_water, temperature_c: 80}]
    - {kind: heat_demand, name: steam_use, heat_kw: 50, level: steam}
    - {kind: heat_demand, name: washing, heat_kw: 95, level: hot_water}
    - {kind: gas_boiler, name: boiler, capacity_kw: 500, efficiency: 0.9, gas_lhv_kwh_per_nm3: 10,
       gas_price_cny_per_nm3: 3, level: steam}
    - {kind: heat_exchanger, name: prs, from_level: steam, to_level: hot_water, max_kw: 200, loss_frac: 0.05}
    - {kind: heat_pump, name: hp, capacity_kw: 40, cop: 3, level: hot_water}
horizon: {start: 2026-01-15, days: 1, step_minutes: 60}
"""


def test_levels_in_a_scenario_file(tmp_path: Path) -> None:
    # Each hour: the heat pump gives 40 of the 95 kW_th of hot water (8 CNY), the exchanger the other 55 from
    # 55 / 0.95 = 57.895 kW_th of steam; the boiler makes 50 + 57.895 = 107.895 kW_th (35.965 CNY): 43.965 CNY an
    # hour, 1055.158 CNY a day.
    path = tmp_path / "levels.yaml"
    path.write_text(textwrap.dedent(SITE), encoding="utf-8")
    run = run_case(load_scenario(path).base())
    assert run.schedule["boiler.heat_kw"].to_numpy() == pytest.approx(np.full(24, 50 + 55 / 0.95))
    assert run.kpis.objective_cny == pytest.approx(24 * (8 + (50 + 55 / 0.95) / 3), rel=1e-6)
    assert run.flows["prs.heat_out_kw"].bus == "heat_hot_water"


def test_a_level_an_asset_cannot_reach_is_refused_at_its_file_line_before_any_solve(tmp_path: Path) -> None:
    """The heat-level rules are checked where the model is built; a scenario's check (``dispatch validate
    --deep``) and run both refuse the file at the heat pump's line, not with a traceback."""
    from scenarios.errors import ScenarioError
    from scenarios.loader import load_scenario
    from scenarios.pipeline import check_case, run_case

    file = tmp_path / "bad.yaml"
    file.write_text(
        "name: bad\n"
        "site:\n"
        "  name: bad\n"
        "  assets:\n"
        "    - {kind: grid, name: grid, import_limit_kw: 1000, import_price_cny_per_kwh: 0.5}\n"
        "    - {kind: heat_demand, name: steam, heat_kw: 100, level: steam}\n"
        "    - {kind: heat_pump, name: hp, capacity_kw: 200, cop: 3, level: steam}\n"
        "horizon: {start: 2026-07-15, days: 1}\n"
    )
    case = load_scenario(file).base()
    for step in (check_case, run_case):
        with pytest.raises(ScenarioError) as raised:
            step(case)
        [issue] = raised.value.issues
        assert issue.line == 7 and "max_sink_temperature_c" in issue.message
