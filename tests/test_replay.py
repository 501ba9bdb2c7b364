"""The EMS replay (scenarios/replay.py): the execution rule by hand, the three strategies, the CLI command."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from optimizer import solve
from optimizer.dispatch import ColumnInfo
from optimizer.model import build_model
from scenarios.cli import app
from scenarios.loader import Case, load_scenario
from scenarios.pipeline import build_problem, case_periods
from scenarios.replay import DAY_AHEAD, INTRADAY, PERFECT_FORESIGHT, STRATEGIES, ReplayOptions, replay_case
from scenarios.replay_costs import evaluate_schedule
from scenarios.replay_execution import GridLimits, data_frame, execute_plan, grid_limits
from scenarios.replay_forecasts import (
    ActualData,
    CachedInputs,
    ForecastInputs,
    corrected_forecast,
    day_ahead_forecasts,
    forecast_inputs,
)

PV_DAY_KW = [0, 0, 0, 0, 0, 10, 40, 90, 140, 180, 200, 210, 210, 200, 180, 140, 90, 40, 10, 0, 0, 0, 0, 0]

# A small site on hourly steps: grid with a TOU tariff, export and a demand charge, PV, a load, a battery.
SITE = """\
site:
  name: replay test site
  assets:
    - kind: grid
      name: grid
      import_limit_kw: 2000
      export_limit_kw: 100
      tariff: {preset: liaoning, flat_price_cny_per_kwh: 0.62}
      export_price_cny_per_kwh: 0.3749
      demand_charge_cny_per_kw_month: 35
      month_to_date_peak_kw: 150
    - {kind: pv, name: roof, available_kw: $inputs.pv}
    - {kind: load, name: plant, power_kw: $inputs.load}
    - {kind: battery, name: battery, capacity_kwh: 400, charge_power_kw: 200, discharge_power_kw: 200}
solver: {mip_rel_gap: 0}
"""

# Forecast == actual: a flat load (the load model forecasts it exactly) and the same PV profile every day
# (persistence is exact).
STEADY = f"""\
name: steady
{SITE}
horizon: {{start: 2026-07-13, days: 2, step_minutes: 60}}
inputs:
  pv: {{values: {PV_DAY_KW}}}
  load: {{values: [120]}}
"""

# Real errors: the steel plant's 2018 meter data and the Shenyang typical-year PV (both bundled).
MEASURED = f"""\
name: measured
{SITE}
horizon: {{start: 2026-07-13, days: 3, step_minutes: 60}}
inputs:
  pv: {{csv: bundled:shenyang_tmy_hourly.csv, column: pv_fixed_kw_per_kwp, repeat: yearly, scale: 300}}
  load: {{csv: bundled:steel_load_2018_15min.csv, column: load_kw, repeat: yearly, align: weekday, scale: 1.0}}
"""

# The hand-checkable day: flat price 0.5 CNY/kWh, no PV, no storage, no demand charge.
FLAT = """\
name: flat
site:
  name: flat price site
  assets:
    - {kind: grid, name: grid, import_limit_kw: 1000, import_price_cny_per_kwh: 0.5}
    - {kind: load, name: plant, power_kw: $inputs.load}
horizon: {start: 2026-07-15, step_minutes: 60}
inputs:
  load: {values: [110]}
"""


def case_from(text: str, folder: Path, name: str) -> Case:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(path).base()


def totals(case: Case, every_minutes: int = 60) -> dict[str, float]:
    result = replay_case(case, ReplayOptions(every_minutes=every_minutes))
    return {s: t.total_cny for s, t in result.totals().items()}


# --- (a) the execution rule, by hand ---------------------------------------------------------------


def test_load_10_kw_above_plan_is_imported_and_priced(tmp_path: Path) -> None:
    """Planned for 100 kW, the plant draws 110 kW: import +10 kW, cost + 10 kW x 0.5 CNY/kWh x 24 h = +120 CNY."""
    case = case_from(FLAT, tmp_path, "flat")
    period = case_periods(case)[0]
    inputs = CachedInputs(case)
    forecast = pd.Series(100.0, index=period.horizon.index)
    plan = solve(build_problem(case, period, None, ForecastInputs(inputs, {"load": forecast})))
    assert plan.kpis.energy_cost_cny == pytest.approx(100 * 0.5 * 24)
    ctx = build_model(build_problem(case, period, None, inputs)).ctx
    done = execute_plan(plan.schedule, plan.columns, data_frame(ctx), grid_limits(ctx, plan.columns), ctx.dt_h)
    assert done.schedule["grid.import_kw"].tolist() == pytest.approx([110.0] * 24)
    assert done.load_deviation_kwh == pytest.approx(10 * 24)
    assert evaluate_schedule(done.schedule, ctx).energy_cost_cny == pytest.approx(1200 + 10 * 0.5 * 24)


ROLES = {
    "g.import_kw": ColumnInfo("electricity", 1.0, "grid_import"),
    "g.export_kw": ColumnInfo("electricity", -1.0, "grid_export"),
    "pv.available_kw": ColumnInfo(None, 1.0, "pv_available"),
    "pv.output_kw": ColumnInfo("electricity", 1.0, "pv_output"),
    "load.power_kw": ColumnInfo("electricity", -1.0, "electric_load"),
    "bat.discharge_kw": ColumnInfo("electricity", 1.0, "storage_discharge"),
}


def test_pv_keeps_the_planned_curtailment_and_a_surplus_beyond_the_export_limit_is_curtailed() -> None:
    """Two steps of 30 min, export limit 50 kW; the battery's setpoint is followed whatever happens.

    Step 0: planned PV 100 of 100 available, import 0, export 20, load 100, battery 20; actually 150 kW of
    PV: net = 0 - 20 + 0 - 50 = -70 kW, export 50, PV curtailed by 20 to 130 kW.
    Step 1: planned PV 90 of 100 (10 curtailed), import 30; actually 60 available and the load 5 kW lower:
    PV 50, net = 30 - 5 + 40 = 65 kW imported.
    """
    index = pd.date_range("2026-07-15", periods=2, freq="30min", tz="Asia/Shanghai")
    plan = pd.DataFrame(
        {
            "g.import_kw": [0.0, 30.0],
            "g.export_kw": [20.0, 0.0],
            "pv.available_kw": [100.0, 100.0],
            "pv.output_kw": [100.0, 90.0],
            "load.power_kw": [100.0, 140.0],
            "bat.discharge_kw": [20.0, 20.0],
        },
        index=index,
    )
    actual = pd.DataFrame({"pv.available_kw": [150.0, 60.0], "load.power_kw": [100.0, 135.0]}, index=index)
    limits = GridLimits(np.array([1000.0, 1000.0]), np.array([50.0, 50.0]))
    done = execute_plan(plan, ROLES, actual, limits, dt_h=0.5)
    assert done.schedule["pv.output_kw"].tolist() == pytest.approx([130.0, 50.0])
    assert done.schedule["g.export_kw"].tolist() == pytest.approx([50.0, 0.0])
    assert done.schedule["g.import_kw"].tolist() == pytest.approx([0.0, 65.0])
    assert done.schedule["bat.discharge_kw"].tolist() == [20.0, 20.0]
    assert done.extra_curtailment_kwh == pytest.approx(20 * 0.5)
    assert done.load_deviation_kwh == pytest.approx(-5 * 0.5)
    assert done.pv_deviation_kwh == pytest.approx((50 - 40) * 0.5)
    balance = (
        done.schedule["g.import_kw"]
        - done.schedule["g.export_kw"]
        + done.schedule["pv.output_kw"]
        + done.schedule["bat.discharge_kw"]
        - done.schedule["load.power_kw"]
    )
    assert balance.abs().max() == pytest.approx(0.0)


def test_intraday_correction_fades_from_the_last_hours_error() -> None:
    """Actual 20 kW above the forecast over the last hour: +20 at the re-plan, +20 e^-1 two hours later."""
    index = pd.date_range("2026-07-15", periods=24, freq="1h", tz="Asia/Shanghai")
    day_ahead = pd.Series(100.0, index=index)
    actual = pd.Series(120.0, index=index)
    corrected = corrected_forecast(day_ahead, actual, index[6], ReplayOptions())
    assert corrected.iloc[:6].tolist() == [100.0] * 6
    assert corrected.iloc[6] == pytest.approx(120.0)
    assert corrected.iloc[8] == pytest.approx(100 + 20 * np.exp(-1.0))
    pv = corrected_forecast(
        pd.Series([0.0, 50.0, 50.0], index=index[:3]),
        pd.Series(90.0, index=index[:3]),
        index[1],
        ReplayOptions(),
        upper=70.0,
    )
    assert pv.tolist() == [0.0, 70.0, pytest.approx(min(70.0, 50 + 40 * np.exp(-0.5)))]


# --- (b) forecast == actual: the three strategies cost the same ------------------------------------


def test_perfect_forecasts_make_the_three_strategies_equal(tmp_path: Path) -> None:
    case = case_from(STEADY, tmp_path, "steady")
    inputs = CachedInputs(case)
    actual = ActualData(inputs, case.scenario.site.tz, 60)
    day = dt.date(2026, 7, 13)
    forecasts = day_ahead_forecasts(case.scenario.site, actual, forecast_inputs(case.scenario.site), day, 28)
    for name, forecast in forecasts.items():
        assert forecast.to_numpy() == pytest.approx(actual.day(name, day).to_numpy())
    cost = totals(case)
    assert cost[DAY_AHEAD] == pytest.approx(cost[PERFECT_FORESIGHT], rel=1e-7)
    assert cost[INTRADAY] == pytest.approx(cost[PERFECT_FORESIGHT], rel=1e-7)


# --- (c) perfect foresight is never dearer than day-ahead --------------------------------------------


def test_perfect_foresight_costs_no_more_than_the_forecast_strategies(tmp_path: Path) -> None:
    case = case_from(MEASURED, tmp_path, "measured")
    result = replay_case(case, ReplayOptions(every_minutes=120))
    total = {s: t.total_cny for s, t in result.totals().items()}
    assert total[PERFECT_FORESIGHT] <= total[DAY_AHEAD] + 1e-6
    first = {d.strategy: d for d in result.days if d.date == "2026-07-13"}  # the same start state
    if first[DAY_AHEAD].unplaced_surplus_kwh == 0 and first[INTRADAY].unplaced_surplus_kwh == 0:
        assert first[PERFECT_FORESIGHT].total_cny <= first[DAY_AHEAD].total_cny + 1e-6
        assert first[PERFECT_FORESIGHT].total_cny <= first[INTRADAY].total_cny + 1e-6
    assert all(
        d.load_deviation_kwh == 0 and d.pv_deviation_kwh == 0 for d in result.days if d.strategy == PERFECT_FORESIGHT
    )
    assert {d.solves for d in result.days if d.strategy == INTRADAY} == {12}


# --- (d) the CLI command ---------------------------------------------------------------------------


def test_cli_replay_writes_csv_and_json(tmp_path: Path) -> None:
    path = tmp_path / "steady.yaml"
    path.write_text(STEADY, encoding="utf-8")
    out = tmp_path / "out"
    args = ["replay", str(path), "--start", "2026-07-14", "--end", "2026-07-15", "--every", "3h", "--out", str(out)]
    done = CliRunner().invoke(app, [*args, "--no-progress"])
    assert done.exit_code == 0, done.output
    table = pd.read_csv(out / "replay.csv")
    assert len(table) == 3 * 2 + 3
    assert set(table["strategy"]) == set(STRATEGIES)
    assert table.loc[table["date"] == "total", "solves"].tolist() == [2, 16, 2]
    assert (out / "replay.json").is_file()
    assert "perfect foresight <= intraday <= day-ahead holds" in done.output
