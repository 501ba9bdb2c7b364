"""Compressor heat recovery at a heat level: recovered heat (at most ~90 degC) feeds hot water, never steam.

Hand calculations use one-hour steps and one compressor loaded at 10 m3/min x 6 kW per m3/min = 60 kW, heat
recovery 0.8 -> 48 kW_th recovered. Electricity 1 CNY/kWh: 60 CNY an hour for the compressor. Boilers: efficiency
0.9 on 10 kWh/Nm3 = 9 kWh_th/Nm3 at 3 CNY/Nm3 -> 1/3 CNY per kWh_th.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer import DispatchProblem, DispatchResult, GridSpec, Horizon, SolveOptions, solve
from optimizer.assets.air import AirDemandSpec
from optimizer.assets.boilers import GasBoilerSpec
from optimizer.assets.compressors import MAX_RECOVERED_HEAT_TEMPERATURE_C, CompressorSpec
from optimizer.assets.heat import HeatDemandSpec
from optimizer.assets.heat_exchanger import HeatExchangerSpec
from optimizer.assets.heat_levels import HeatLevel, HeatLevelsSpec
from optimizer.errors import SpecError
from scenarios.errors import ScenarioError
from scenarios.loader import load_scenario
from scenarios.pipeline import run_case

T0 = pd.Timestamp("2026-01-15 00:00", tz="Asia/Shanghai")
EXACT = SolveOptions(mip_rel_gap=0.0)


def compressor(**kw: object) -> CompressorSpec:
    args: dict[str, object] = {
        "name": "c1",
        "rated_flow_m3_per_min": 10.0,
        "specific_power_kw_per_m3_per_min": 6.0,
        "heat_recovery_frac": 0.8,
    }
    return CompressorSpec(**(args | kw))


def steam_boiler() -> GasBoilerSpec:
    return GasBoilerSpec(
        name="boiler",
        capacity_kw=500,
        efficiency=0.9,
        gas_lhv_kwh_per_nm3=10.0,
        gas_price_cny_per_nm3=3.0,
        level="steam",
    )


def problem(*assets: object) -> DispatchProblem:
    horizon = Horizon(start=T0.to_pydatetime(), step_minutes=60, n_steps=1)
    grid = GridSpec(name="grid", import_limit_kw=10_000, import_price_cny_per_kwh=1.0)
    return DispatchProblem(horizon=horizon, assets=[grid, AirDemandSpec(name="air", flow_m3_per_min=10.0), *assets])


def solved(*assets: object) -> DispatchResult:
    result = solve(problem(*assets), EXACT)
    assert result.status == "optimal"
    assert result.kpis.max_balance_residual_kw < 1e-6
    return result


def col(result: DispatchResult, column: str) -> np.ndarray:
    return result.schedule[column].to_numpy()


def test_recovered_heat_feeds_hot_water_never_steam() -> None:
    # Steam 100 kW_th, hot water 30 kW_th; the compressor's 48 kW_th go to hot water: 30 used, 18 dumped. The steam
    # boiler makes all 100 kW_th of steam: 100 / 9 x 3 = 33.333 CNY; with the compressor's 60 CNY, 93.333 CNY.
    # (On one heat bus the recovered heat would also "serve" steam: the boiler would make 130 - 48 = 82 kW_th.)
    result = solved(
        compressor(level="hot_water"),
        HeatDemandSpec(name="steam_use", heat_kw=100, level="steam"),
        HeatDemandSpec(name="washing", heat_kw=30, level="hot_water"),
        steam_boiler(),
    )
    assert col(result, "c1.recovered_heat_kw") == pytest.approx([48])
    assert col(result, "c1.dumped_heat_kw") == pytest.approx([18])
    assert col(result, "boiler.heat_kw") == pytest.approx([100])
    assert result.kpis.objective_cny == pytest.approx(60 + 100 / 3, rel=1e-6)
    assert result.columns["c1.recovered_heat_kw"].bus == "heat_hot_water"
    assert result.columns["c1.dumped_heat_kw"].bus == "heat_hot_water"
    # The baseline: the compressor's rule serves the hot-water deficit, the steam boiler its own level.
    baseline = result.baseline_schedule
    assert baseline["c1.dumped_heat_kw"].to_numpy() == pytest.approx([18])
    assert baseline["boiler.heat_kw"].to_numpy() == pytest.approx([100])
    assert result.baseline_shortfalls == []


def test_recovered_heat_saves_steam_only_through_the_hot_water_it_replaces() -> None:
    # Steam 100, hot water 60 kW_th; hot water comes from the compressor (48) and a pressure-reducing station
    # losing 5 %: 12 / 0.95 = 12.632 kW_th of steam drawn. The boiler makes 112.632 kW_th: 37.544 CNY, plus 60.
    # The baseline does the same: the compressor's rule first, the station passes the other 12 up to the boiler.
    result = solved(
        compressor(level="hot_water"),
        HeatDemandSpec(name="steam_use", heat_kw=100, level="steam"),
        HeatDemandSpec(name="washing", heat_kw=60, level="hot_water"),
        HeatExchangerSpec(name="prs", from_level="steam", to_level="hot_water", max_kw=200, loss_frac=0.05),
        steam_boiler(),
    )
    assert col(result, "c1.dumped_heat_kw") == pytest.approx([0], abs=1e-6)
    assert col(result, "prs.heat_in_kw") == pytest.approx([12 / 0.95])
    assert col(result, "boiler.heat_kw") == pytest.approx([100 + 12 / 0.95])
    assert result.kpis.objective_cny == pytest.approx(60 + (100 + 12 / 0.95) / 3, rel=1e-6)
    assert result.baseline_schedule["boiler.heat_kw"].to_numpy() == pytest.approx([100 + 12 / 0.95])
    assert result.baseline_kpis.energy_cost_cny == pytest.approx(60 + (100 + 12 / 0.95) / 3, rel=1e-6)


def test_without_a_level_recovered_heat_stays_on_the_one_heat_bus() -> None:
    # Files written before levels: the heat bus as before (a 30 kW_th demand, 18 dumped).
    result = solved(compressor(), HeatDemandSpec(name="space", heat_kw=30))
    assert result.columns["c1.recovered_heat_kw"].bus == "heat"
    assert col(result, "c1.dumped_heat_kw") == pytest.approx([18])


def test_a_level_hotter_than_compressor_heat_is_refused() -> None:
    demand = HeatDemandSpec(name="steam_use", heat_kw=100, level="steam")
    with pytest.raises(SpecError, match="'steam' at 170 degC is above what recovered compressor heat reaches") as error:
        solve(problem(compressor(level="steam"), demand, steam_boiler()))
    assert (error.value.asset, error.value.field) == ("c1", "level")
    # A site's hot water at 95 degC is out of reach too; its low-temperature loop is not.
    levels = HeatLevelsSpec(levels=[HeatLevel(name="hot_water", temperature_c=95)])
    assert MAX_RECOVERED_HEAT_TEMPERATURE_C == 90.0
    washing = HeatDemandSpec(name="washing", heat_kw=30, level="hot_water")
    with pytest.raises(SpecError, match="'hot_water' at 95 degC") as error:
        solve(problem(levels, compressor(level="hot_water"), washing))
    assert error.value.field == "level"
    floor = HeatDemandSpec(name="floor", heat_kw=30, level="low_temp")
    assert col(solved(levels, compressor(level="low_temp"), floor), "c1.dumped_heat_kw") == pytest.approx([18])


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(SpecError, match="'hotwater' is not a heat level of the site") as error:
        solve(problem(compressor(level="hotwater")))
    assert (error.value.asset, error.value.field) == ("c1", "level")


SITE = """\
name: recovery
site:
  name: s
  latitude: 41.8
  longitude: 123.4
  assets:
    - {kind: grid, name: grid, import_limit_kw: 1000, import_price_cny_per_kwh: 1.0}
    - {kind: air_demand, name: air, flow_m3_per_min: 10}
    - {kind: compressor, name: c1, rated_flow_m3_per_min: 10, specific_power_kw_per_m3_per_min: 6,
       heat_recovery_frac: 0.8, level: LEVEL}
    - {kind: heat_demand, name: steam_use, heat_kw: 100, level: steam}
    - {kind: heat_demand, name: washing, heat_kw: 30, level: hot_water}
    - {kind: gas_boiler, name: boiler, capacity_kw: 500, efficiency: 0.9, gas_lhv_kwh_per_nm3: 10,
       gas_price_cny_per_nm3: 3, level: steam}
horizon: {start: 2026-01-15, days: 1, step_minutes: 60}
"""


def test_a_level_in_a_scenario_file(tmp_path: Path) -> None:
    # Hot water: each hour as the first test, 60 + 33.333 CNY; 24 hours. Steam is refused when the day is built, at
    # the compressor's line of the file.
    path = tmp_path / "recovery.yaml"
    path.write_text(textwrap.dedent(SITE).replace("LEVEL", "hot_water"), encoding="utf-8")
    run = run_case(load_scenario(path).base())
    assert run.kpis.objective_cny == pytest.approx(24 * (60 + 100 / 3), rel=1e-6)
    assert run.flows["c1.recovered_heat_kw"].bus == "heat_hot_water"
    assert run.schedule["boiler.heat_kw"].to_numpy() == pytest.approx(np.full(24, 100.0))
    path.write_text(textwrap.dedent(SITE).replace("LEVEL", "steam"), encoding="utf-8")
    with pytest.raises(ScenarioError, match="above what recovered compressor heat reaches") as error:
        run_case(load_scenario(path).base())
    [issue] = error.value.issues
    assert issue.line == 10 and issue.field.endswith(".level")
