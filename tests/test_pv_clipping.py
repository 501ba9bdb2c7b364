"""PV clipping at the inverter in the dispatch model (issue 19, point 4).

Hourly steps, a flat import price of 1 CNY/kWh and no export, so PV the load cannot use is curtailed. The forecast
is [100, 150, 80] kW against inverters of 120 kW AC: available [100, 120, 80], clipped [0, 30, 0].
"""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from optimizer import DispatchProblem, GridSpec, Horizon, LoadSpec, PvSpec, SolveOptions, solve

START = pd.Timestamp("2026-07-15 00:00", tz="Asia/Shanghai")
FORECAST = [100.0, 150.0, 80.0]


def problem(pv: PvSpec, load_kw: float = 50.0) -> DispatchProblem:
    grid = GridSpec(name="grid", import_limit_kw=1000.0, export_limit_kw=0.0, import_price_cny_per_kwh=1.0)
    horizon = Horizon(start=START.to_pydatetime(), step_minutes=60, n_steps=3)
    return DispatchProblem(horizon=horizon, assets=[grid, pv, LoadSpec(name="load", power_kw=load_kw)])


def col(result: object, column: str) -> list[float]:
    return result.schedule[column].round(6).tolist()  # type: ignore[attr-defined]


def test_power_above_the_inverter_rating_is_clipped_before_curtailment_counts() -> None:
    # Load 50 kW: output 50 each hour. Curtailment = available - output = [50, 70, 30] = 150 kWh, not the
    # 180 kWh the raw forecast would give: 30 kWh were clipped, which no plan could have used.
    result = solve(problem(PvSpec(name="pv", available_kw=FORECAST, inverter_ac_kw=120.0)), SolveOptions())
    assert col(result, "pv.available_kw") == [100.0, 120.0, 80.0]
    assert col(result, "pv.clipped_kw") == [0.0, 30.0, 0.0]
    assert col(result, "pv.output_kw") == [50.0, 50.0, 50.0]
    assert result.kpis.pv_available_kwh == pytest.approx(300.0)
    assert result.kpis.curtailment_kwh == pytest.approx(150.0)
    assert result.kpis.objective_cny == pytest.approx(0.0)  # the load is all PV
    # The baseline clips the same way.
    assert result.baseline_schedule["pv.available_kw"].tolist() == pytest.approx([100.0, 120.0, 80.0])
    assert result.baseline_kpis.curtailment_kwh == pytest.approx(150.0)


def test_the_inverter_limits_what_pv_can_supply() -> None:
    # Load 140 kW: PV gives at most 120 in hour 1, the grid the remaining 20 (without clipping PV would give all
    # 140): imports [40, 20, 60] = 120 CNY.
    result = solve(problem(PvSpec(name="pv", available_kw=FORECAST, inverter_ac_kw=120.0), load_kw=140.0))
    assert col(result, "pv.output_kw") == [100.0, 120.0, 80.0]
    assert col(result, "grid.import_kw") == [40.0, 20.0, 60.0]
    assert result.kpis.objective_cny == pytest.approx(120.0)
    unclipped = solve(problem(PvSpec(name="pv", available_kw=FORECAST), load_kw=140.0))
    assert unclipped.kpis.objective_cny == pytest.approx(40.0 + 0.0 + 60.0)


def test_pv_that_cannot_be_curtailed_delivers_the_clipped_power() -> None:
    # Load 150 kW, PV fixed at its available power: [100, 120, 80]; imports [50, 30, 70] = 150 CNY.
    pv = PvSpec(name="pv", available_kw=FORECAST, inverter_ac_kw=120.0, curtailable=False)
    result = solve(problem(pv, load_kw=150.0))
    assert col(result, "pv.output_kw") == [100.0, 120.0, 80.0]
    assert result.kpis.objective_cny == pytest.approx(150.0)


def test_without_a_rating_nothing_is_clipped() -> None:
    result = solve(problem(PvSpec(name="pv", available_kw=FORECAST)))
    assert col(result, "pv.available_kw") == FORECAST
    assert "pv.clipped_kw" not in result.schedule


def test_the_rating_is_bounded() -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        PvSpec(name="pv", available_kw=FORECAST, inverter_ac_kw=0.0)
    with pytest.raises(ValidationError, match="less than or equal to"):
        PvSpec(name="pv", available_kw=FORECAST, inverter_ac_kw=1e9)
