"""Forecasts feed the optimiser: a Shenyang day from the bundled typical year and a metered history."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting import forecast_load, forecast_pv, shenyang_default_site, shenyang_typical_weather, weekends_only
from optimizer import (
    BatterySpec,
    DispatchProblem,
    GridSpec,
    Horizon,
    LoadSpec,
    PvSpec,
    SolveOptions,
    liaoning_tou,
    solve,
)


def test_forecasts_drive_a_dispatch_problem() -> None:
    horizon = Horizon.day("2026-07-15", "Asia/Shanghai")
    pv = forecast_pv(shenyang_default_site(), shenyang_typical_weather(horizon), horizon)
    days = pd.date_range("2026-06-01", "2026-07-14", freq="D")
    hours = np.arange(96) / 4
    shift = np.where((hours >= 8) & (hours < 20), 700.0, 250.0)
    values = np.concatenate([shift if d.weekday() < 5 else np.full(96, 250.0) for d in days])
    index = pd.date_range("2026-06-01", periods=len(values), freq="15min", tz="Asia/Shanghai")
    load = forecast_load(pd.Series(values, index=index, name="load_kw"), horizon, calendar=weekends_only())
    np.testing.assert_allclose(load.to_numpy(), shift)  # a Wednesday like every weekday before it
    problem = DispatchProblem(
        name="forecast-driven",
        horizon=horizon,
        assets=[
            GridSpec(name="grid", import_limit_kw=2000.0, tariff=liaoning_tou(0.62)),
            PvSpec(name="pv_roof", available_kw=pv["total_kw"].to_numpy()),
            LoadSpec(name="factory_load", power_kw=load.to_numpy()),
            BatterySpec(name="battery", capacity_kwh=500.0, charge_power_kw=250.0, discharge_power_kw=250.0),
        ],
    )
    result = solve(problem, SolveOptions(time_limit_s=30, mip_rel_gap=1e-4))
    assert result.status == "optimal"
    assert result.schedule.index.equals(horizon.index)
    assert result.schedule["pv_roof.output_kw"].sum() / 4 > 3000.0  # kWh of a July day on 1,500 kWp
