"""Tiny dispatch problems whose optimum is worked out by hand in each test.

Conventions used in the hand calculations:

- hourly steps (dt = 1 h), so kW and kWh per step are the same number;
- ``battery.soc_kwh[t]`` is the content at the END of step ``t``:
  ``soc[t] = soc[t-1] + 0.9 * charge[t] - discharge[t] / 0.9`` for efficiencies 0.9/0.9;
- a 0.9/0.9 battery returns 0.81 kWh per kWh charged;
- grid emission factors are set explicitly: location 0.5, market 0.6 kgCO2/kWh.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from optimizer import (
    BatterySpec,
    DispatchProblem,
    EmissionCap,
    FractionTarget,
    GreenContractSpec,
    GridSpec,
    Horizon,
    LoadSpec,
    ObjectiveSpec,
    PvSpec,
    SolveOptions,
    TargetProgress,
    Targets,
    liaoning_tou,
    solve,
)

SHANGHAI = "Asia/Shanghai"
BERLIN = "Europe/Berlin"
START = pd.Timestamp("2026-07-15 00:00", tz=SHANGHAI)
LOCATION_FACTOR = 0.5
MARKET_FACTOR = 0.6


# --------------------------------------------------------------------------- helpers


def hourly(n_steps: int, start: pd.Timestamp = START, tz: str | None = None) -> Horizon:
    return Horizon(start=start.to_pydatetime(), step_minutes=60, n_steps=n_steps, tz=tz)


def grid(price: float | list[float] | None = None, **kwargs: object) -> GridSpec:
    kwargs.setdefault("import_limit_kw", 1000.0)
    kwargs.setdefault("location_kgco2_per_kwh", LOCATION_FACTOR)
    kwargs.setdefault("market_kgco2_per_kwh", MARKET_FACTOR)
    if price is not None:
        kwargs["import_price_cny_per_kwh"] = price
    return GridSpec(name="grid", **kwargs)


def battery(**kwargs: object) -> BatterySpec:
    spec: dict[str, object] = {
        "name": "battery",
        "capacity_kwh": 100.0,
        "charge_power_kw": 50.0,
        "discharge_power_kw": 50.0,
        "charge_efficiency": 0.9,
        "discharge_efficiency": 0.9,
        "soc_min_frac": 0.0,
        "soc_max_frac": 1.0,
        "initial_soc_frac": 0.0,
        "end_soc_frac": 0.0,
    }
    spec.update(kwargs)
    return BatterySpec(**spec)


def load(power: float | list[float]) -> LoadSpec:
    return LoadSpec(name="load", power_kw=power)


def problem(horizon: Horizon | int, *assets: object, **kwargs: object) -> DispatchProblem:
    if isinstance(horizon, int):
        horizon = hourly(horizon)
    return DispatchProblem(horizon=horizon, assets=list(assets), **kwargs)


def col(result, column: str) -> np.ndarray:
    return result.schedule[column].to_numpy()


def solved(p: DispatchProblem):
    result = solve(p)
    assert result.status == "optimal", result.report
    assert result.schedule_source == "optimizer"
    assert result.kpis.max_balance_residual_kw < 1e-6
    return result


def approx(value: object) -> object:
    return pytest.approx(value, rel=1e-6, abs=1e-6)


# --------------------------------------------------------------------------- battery


def test_battery_arbitrage_charges_at_cheap_and_discharges_at_expensive_price() -> None:
    # Prices 0.3 then 1.0, load 0 then 100. A kWh charged at 0.3 returns 0.81 kWh worth 0.81 > 0.3: cycle fully.
    # Step 0: charge at the 50 kW limit -> soc 0.9 * 50 = 45 kWh (cap 100 not binding).
    # Step 1: discharge 45 * 0.9 = 40.5 kW (< 50 kW limit), end soc 0 (end_soc_frac 0).
    # Import: [50, 100 - 40.5 = 59.5]. Cost 0.3 * 50 + 1.0 * 59.5 = 74.5.
    # Baseline (no PV: battery never charges): import [0, 100], cost 100 -> saving 25.5.
    r = solved(problem(2, grid([0.3, 1.0]), load([0.0, 100.0]), battery()))
    assert col(r, "battery.charge_kw") == approx([50.0, 0.0])
    assert col(r, "battery.discharge_kw") == approx([0.0, 40.5])
    assert col(r, "battery.soc_kwh") == approx([45.0, 0.0])
    assert col(r, "grid.import_kw") == approx([50.0, 59.5])
    assert r.kpis.objective_cny == approx(74.5)
    assert r.kpis.cost_cny_by_component["grid_energy"] == approx(74.5)
    assert r.baseline_kpis.objective_cny == approx(100.0)
    assert r.saving_cny == approx(25.5)
    # Pure LP: nothing rewards burning energy, so no charge/discharge binaries.
    # Variables: import, charge, discharge, soc per step = 8; constraints: balance x2, level x2, end soc = 5.
    assert r.report.size is not None
    assert (r.report.size.variables, r.report.size.binaries, r.report.size.constraints) == (8, 0, 5)


def test_battery_stays_idle_when_spread_does_not_cover_losses() -> None:
    # 0.5 -> 0.55: one kWh bought at 0.5 returns 0.81 kWh worth 0.81 * 0.55 = 0.4455 < 0.5: no cycling.
    # Cost = 0.55 * 100 = 55.
    r = solved(problem(2, grid([0.5, 0.55]), load([0.0, 100.0]), battery()))
    assert col(r, "battery.charge_kw") == approx([0.0, 0.0])
    assert col(r, "battery.discharge_kw") == approx([0.0, 0.0])
    assert r.kpis.objective_cny == approx(55.0)


def test_battery_cycles_just_above_the_loss_break_even_spread() -> None:
    # Break-even later price = 0.5 / 0.81 = 0.6173. At 0.62: 0.81 * 0.62 = 0.5022 > 0.5, so cycle fully:
    # charge 50, discharge 40.5; cost = 0.5 * 50 + 0.62 * (100 - 40.5) = 25 + 36.89 = 61.89 (< 62 idle).
    r = solved(problem(2, grid([0.5, 0.62]), load([0.0, 100.0]), battery()))
    assert col(r, "battery.charge_kw") == approx([50.0, 0.0])
    assert r.kpis.objective_cny == approx(25.0 + 0.62 * 59.5)


def test_degradation_cost_suppresses_marginal_arbitrage() -> None:
    # Same prices as the arbitrage case. Wear w per kWh on charge and on discharge (AC side).
    # Profit per kWh charged: 0.81 * 1.0 - 0.3 - w * (1 + 0.81) = 0.51 - 1.81 w, zero at w = 0.2818.
    # w = 0.30: idle, cost 100, no degradation cost.
    r = solved(problem(2, grid([0.3, 1.0]), load([0.0, 100.0]), battery(degradation_cost_cny_per_kwh=0.30)))
    assert col(r, "battery.charge_kw") == approx([0.0, 0.0])
    assert r.kpis.objective_cny == approx(100.0)
    assert r.kpis.cost_cny_by_component.get("degradation", 0.0) == approx(0.0)
    # w = 0.25: full cycle, wear = 0.25 * (50 + 40.5) = 22.625, total = 74.5 + 22.625 = 97.125.
    r = solved(problem(2, grid([0.3, 1.0]), load([0.0, 100.0]), battery(degradation_cost_cny_per_kwh=0.25)))
    assert col(r, "battery.charge_kw") == approx([50.0, 0.0])
    assert r.kpis.cost_cny_by_component["degradation"] == approx(22.625)
    assert r.kpis.objective_cny == approx(97.125)


def test_end_soc_at_least_binds_when_energy_is_valuable() -> None:
    # end_soc_frac 0.2 with '>=': keep 20 kWh at the end. Charge 50 in step 0 (soc 45),
    # discharge (45 - 20) * 0.9 = 22.5 kW in step 1. Cost = 0.3 * 50 + 1.0 * (100 - 22.5) = 92.5.
    r = solved(problem(2, grid([0.3, 1.0]), load([0.0, 100.0]), battery(end_soc_frac=0.2, end_soc_rule=">=")))
    assert col(r, "battery.soc_kwh") == approx([45.0, 20.0])
    assert col(r, "battery.discharge_kw") == approx([0.0, 22.5])
    assert r.kpis.objective_cny == approx(92.5)


@pytest.mark.parametrize(
    ("rule", "charge_kw", "end_soc_kwh"),
    [
        # '>=': a negative price pays for every kWh drawn: charge at the 50 kW limit -> soc 45 >= 20.
        (">=", 50.0, 45.0),
        # '==': the end soc must be exactly 20 kWh -> charge 20 / 0.9 = 22.222 kW.
        ("==", 20.0 / 0.9, 20.0),
    ],
)
def test_end_soc_rule_at_least_versus_exactly(rule: str, charge_kw: float, end_soc_kwh: float) -> None:
    # One hour at import price -0.1, no load: cost = -0.1 * charge.
    r = solved(problem(1, grid(-0.1), load(0.0), battery(end_soc_frac=0.2, end_soc_rule=rule)))
    assert col(r, "battery.charge_kw") == approx([charge_kw])
    assert col(r, "battery.soc_kwh") == approx([end_soc_kwh])
    assert r.kpis.objective_cny == approx(-0.1 * charge_kw)


@pytest.mark.parametrize(
    "horizon",
    [
        hourly(2),
        # Same local clock times given as a UTC start with the local zone: reserve hours are LOCAL hours.
        hourly(2, start=pd.Timestamp("2026-07-14 16:00", tz="UTC"), tz=SHANGHAI),
    ],
    ids=["local-start", "utc-start-local-tz"],
)
def test_reserve_soc_is_held_in_reserve_hours(horizon: Horizon) -> None:
    # Prices [1.0, 0.5], load 100 both hours, battery starts at 50 kWh, may end empty.
    # Without reserve: discharge all 50 kWh in the dear hour 0 -> 45 kW AC; cost = 55 + 50 = 105.
    free = solved(problem(horizon, grid([1.0, 0.5]), load(100.0), battery(initial_soc_frac=0.5)))
    assert col(free, "battery.discharge_kw") == approx([45.0, 0.0])
    assert free.kpis.objective_cny == approx(105.0)
    # Reserve 30 kWh during local hour 0: step 0 may only use 20 kWh -> 18 kW; step 1 uses 30 kWh -> 27 kW.
    # Cost = 1.0 * (100 - 18) + 0.5 * (100 - 27) = 82 + 36.5 = 118.5.
    held = solved(
        problem(
            horizon,
            grid([1.0, 0.5]),
            load(100.0),
            battery(initial_soc_frac=0.5, reserve_soc_frac=0.3, reserve_hours=[0]),
        )
    )
    assert col(held, "battery.soc_kwh") == approx([30.0, 0.0])
    assert col(held, "battery.discharge_kw") == approx([18.0, 27.0])
    assert held.kpis.objective_cny == approx(118.5)


def test_reserve_soc_holds_from_the_start_of_a_reserved_hour() -> None:
    # Prices [1.0, 0.5, 0.5], load 100, battery starts at 50 kWh, may end empty, reserve 30 kWh in hour 1.
    # The reserve holds at 01:00 (end of step 0) too, so step 0 may only use 20 kWh -> 18 kW AC;
    # the remaining 30 kWh go in step 2 -> 27 kW AC (recharging in hour 1 to refill after a full
    # discharge would need 50 kWh at the 01:00 boundary, which the reserve forbids).
    # Cost = 1.0 * (100 - 18) + 0.5 * 100 + 0.5 * (100 - 27) = 82 + 50 + 36.5 = 168.5.
    r = solved(
        problem(
            3,
            grid([1.0, 0.5, 0.5]),
            load(100.0),
            battery(initial_soc_frac=0.5, reserve_soc_frac=0.3, reserve_hours=[1]),
        )
    )
    assert col(r, "battery.soc_kwh") == approx([30.0, 30.0, 0.0])
    assert col(r, "battery.discharge_kw") == approx([18.0, 0.0, 27.0])
    assert r.kpis.objective_cny == approx(168.5)


def test_self_discharge_decays_stored_energy() -> None:
    # 10 %/h standing loss: charge 50 -> 45 kWh at end of step 0; step 1 starts with 45 * 0.9 = 40.5 kWh,
    # discharged fully -> 40.5 * 0.9 = 36.45 kW. Cycling pays: 0.3 per kWh in, 0.729 * 1.0 out.
    # Cost = 0.3 * 50 + 1.0 * (100 - 36.45) = 15 + 63.55 = 78.55.
    r = solved(problem(2, grid([0.3, 1.0]), load([0.0, 100.0]), battery(self_discharge_frac_per_h=0.1)))
    assert col(r, "battery.discharge_kw") == approx([0.0, 36.45])
    assert r.kpis.objective_cny == approx(78.55)


# --------------------------------------------------------------------------- demand charge


def test_demand_charge_flattens_the_peak() -> None:
    # Loads [100, 300], flat 0.5, demand charge 10 CNY/kW-month, no metered peak yet.
    # Charge c in step 0 and return 0.81 c in step 1: imports [100 + c, 300 - 0.81 c].
    # Each kW of peak costs 10 while a cycled kW costs only 0.5 * 0.19 in losses, so flatten:
    # 100 + c = 300 - 0.81 c -> c = 200 / 1.81 = 110.497, peak Y = 210.497.
    # Energy = 0.5 * (400 + 0.19 c) = 210.497; demand = 10 * Y = 2104.972.
    c = 200.0 / 1.81
    peak = 100.0 + c
    r = solved(
        problem(
            2,
            grid(0.5, demand_charge_cny_per_kw_month=10.0),
            load([100.0, 300.0]),
            battery(capacity_kwh=200.0, charge_power_kw=200.0, discharge_power_kw=200.0),
        )
    )
    assert col(r, "grid.import_kw") == approx([peak, peak])
    assert col(r, "battery.charge_kw") == approx([c, 0.0])
    assert r.kpis.peak_import_kw == approx(peak)
    assert r.kpis.cost_cny_by_component["demand_charge"] == approx(10.0 * peak)
    assert r.kpis.cost_cny_by_component["grid_energy"] == approx(0.5 * (400.0 + 0.19 * c))
    assert r.kpis.objective_cny == approx(0.5 * (400.0 + 0.19 * c) + 10.0 * peak)


def test_month_to_date_peak_above_loads_means_no_demand_charge_and_no_shaving() -> None:
    # Metered peak 400 kW > both loads: the plan raises nothing, so no demand charge; cycling only loses.
    r = solved(
        problem(
            2,
            grid(0.5, demand_charge_cny_per_kw_month=10.0, month_to_date_peak_kw=400.0),
            load([100.0, 300.0]),
            battery(capacity_kwh=200.0, charge_power_kw=200.0, discharge_power_kw=200.0),
        )
    )
    assert col(r, "battery.charge_kw") == approx([0.0, 0.0])
    assert r.kpis.cost_cny_by_component["demand_charge"] == approx(0.0)
    assert r.kpis.objective_cny == approx(0.5 * 400.0)
    assert r.report.objective == approx(200.0)  # the objective's constant (-10 * 400) is accounted for


def test_shaving_stops_at_the_month_to_date_peak() -> None:
    # Metered peak 250 kW: only the 50 kW above it costs (10 * 50 = 500), shaving below 250 saves nothing.
    # Shave step 1 to exactly 250: 0.81 c = 50 -> c = 61.728; energy = 0.5 * (400 + 0.19 c) = 205.864.
    c = 50.0 / 0.81
    r = solved(
        problem(
            2,
            grid(0.5, demand_charge_cny_per_kw_month=10.0, month_to_date_peak_kw=250.0),
            load([100.0, 300.0]),
            battery(capacity_kwh=200.0, charge_power_kw=200.0, discharge_power_kw=200.0),
        )
    )
    assert col(r, "grid.import_kw") == approx([100.0 + c, 250.0])
    assert r.kpis.cost_cny_by_component["demand_charge"] == approx(0.0)
    assert r.kpis.objective_cny == approx(0.5 * (400.0 + 0.19 * c))


def test_demand_charge_is_per_local_calendar_month() -> None:
    # Steps at 2026-07-31 23:00 and 2026-08-01 00:00 Shanghai time (both 2026-07-31 in UTC).
    # Loads [200, 100]. July: 10 * (200 - metered 150) = 500. August starts from 0: 10 * 100 = 1000.
    # Energy 0.5 * 300 = 150. Total 1650.
    start = pd.Timestamp("2026-07-31 23:00", tz=SHANGHAI)
    r = solved(
        problem(
            hourly(2, start=start),
            grid(0.5, demand_charge_cny_per_kw_month=10.0, month_to_date_peak_kw=150.0),
            load([200.0, 100.0]),
        )
    )
    assert r.kpis.cost_cny_by_component["demand_charge"] == approx(1500.0)
    assert r.kpis.objective_cny == approx(1650.0)
    assert r.report.objective == approx(1650.0)


# --------------------------------------------------------------------------- TOU tariff

# liaoning_tou(0.6): sharp 1.125, peak 0.9, flat 0.6, valley 0.3 [CNY/kWh].
JULY_QUARTER_HOURS = [
    ("00:00", 0.3),
    ("04:45", 0.3),
    ("05:00", 0.6),
    ("07:15", 0.6),
    ("07:30", 0.9),
    ("10:15", 0.9),
    ("10:30", 0.6),
    ("11:15", 0.6),
    ("11:30", 0.3),
    ("12:15", 0.3),
    ("12:30", 0.6),
    ("15:45", 0.6),
    ("16:00", 0.9),
    ("16:45", 0.9),
    ("17:00", 1.125),
    ("18:45", 1.125),
    ("19:00", 0.9),
    ("20:45", 0.9),
    ("21:00", 0.6),
    ("21:45", 0.6),
    ("22:00", 0.3),
    ("23:45", 0.3),
]


@pytest.mark.parametrize(("clock", "price"), JULY_QUARTER_HOURS)
def test_liaoning_tou_quarter_hour_prices_in_july(clock: str, price: float) -> None:
    prices = liaoning_tou(0.6).prices(Horizon.day("2026-07-15", SHANGHAI))
    assert prices.at[pd.Timestamp(f"2026-07-15 {clock}", tz=SHANGHAI)] == approx(price)


@pytest.mark.parametrize("month", range(1, 13))
def test_liaoning_sharp_band_only_in_jan_jul_aug_dec(month: int) -> None:
    # 17:30 lies in peak 16:00-21:00; sharp 17:00-19:00 overrides it only in months 1, 7, 8, 12.
    prices = liaoning_tou(0.6).prices(Horizon.day(f"2026-{month:02d}-15", SHANGHAI))
    expected = 1.125 if month in (1, 7, 8, 12) else 0.9
    assert prices.at[pd.Timestamp(f"2026-{month:02d}-15 17:30", tz=SHANGHAI)] == approx(expected)
    assert prices.at[pd.Timestamp(f"2026-{month:02d}-15 19:30", tz=SHANGHAI)] == approx(0.9)


def test_liaoning_hourly_steps_average_the_bands_they_straddle() -> None:
    # 07:00-08:00: 30 min flat 0.6 + 30 min peak 0.9 -> 0.75.   10:00-11:00: peak then flat -> 0.75.
    # 11:00-12:00: flat then valley -> 0.45.                   12:00-13:00: valley then flat -> 0.45.
    # July day mean: valley 8 h, peak 6 h, sharp 2 h, flat 8 h:
    #   (8 * 0.3 + 6 * 0.9 + 2 * 1.125 + 8 * 0.6) / 24 = 14.85 / 24 = 0.61875.
    prices = liaoning_tou(0.6).prices(Horizon.day("2026-07-15", SHANGHAI, step_minutes=60)).to_numpy()
    assert len(prices) == 24
    assert prices[7] == approx(0.75)
    assert prices[10] == approx(0.75)
    assert prices[11] == approx(0.45)
    assert prices[12] == approx(0.45)
    assert prices[17] == approx(1.125)
    assert prices[4] == approx(0.3)
    assert prices[5] == approx(0.6)
    assert prices.mean() == approx(14.85 / 24)


def test_tariff_prices_reach_the_schedule_and_the_cost() -> None:
    # Load 100 kW 07:00-09:00 with an hourly horizon starting at 07:00: prices [0.75, 0.9]; cost 165.
    r = solved(problem(hourly(2, start=START + pd.Timedelta(hours=7)), grid(tariff=liaoning_tou(0.6)), load(100.0)))
    assert col(r, "grid.import_price_cny_per_kwh") == approx([0.75, 0.9])
    assert r.kpis.objective_cny == approx(165.0)


# --------------------------------------------------------------------------- PV, export


def test_pv_surplus_is_curtailed_when_export_is_forbidden() -> None:
    # PV 100, load 30, no export: output 30, curtail 70 kWh, nothing imported, cost 0.
    r = solved(problem(1, grid(0.5), load(30.0), PvSpec(name="pv", available_kw=100.0)))
    assert col(r, "pv.output_kw") == approx([30.0])
    assert col(r, "grid.import_kw") == approx([0.0])
    assert r.kpis.curtailment_kwh == approx(70.0)
    assert r.kpis.objective_cny == approx(0.0)


@pytest.mark.parametrize(
    ("export_limit", "export_price", "export_kw", "curtailed"),
    [
        (1000.0, 0.2, 70.0, 0.0),  # all 70 kW of surplus sold: revenue 14
        (50.0, 0.2, 50.0, 20.0),  # limit 50: sell 50 (revenue 10), curtail 20
        (1000.0, -0.1, 0.0, 70.0),  # negative price: curtail rather than pay for exporting
    ],
)
def test_pv_surplus_is_exported_when_it_pays(
    export_limit: float, export_price: float, export_kw: float, curtailed: float
) -> None:
    r = solved(
        problem(
            1,
            grid(0.5, export_limit_kw=export_limit, export_price_cny_per_kwh=export_price),
            load(30.0),
            PvSpec(name="pv", available_kw=100.0),
        )
    )
    assert col(r, "grid.export_kw") == approx([export_kw])
    assert r.kpis.curtailment_kwh == approx(curtailed)
    assert r.kpis.objective_cny == approx(-export_price * export_kw)


def test_no_simultaneous_import_and_export_when_export_pays_at_least_the_import_price() -> None:
    # Import 0.5 throughout, export [0.5, 0.6, 0.7], limits 1000/1000, PV [100, 100, 0], load [30, 30, 50].
    # Physically: export the 70 kW surplus in steps 0 and 1, import the 50 kW load in step 2.
    # Objective = -0.5 * 70 - 0.6 * 70 + 0.5 * 50 = -35 - 42 + 25 = -52.
    assets = (
        grid(0.5, export_limit_kw=1000.0, export_price_cny_per_kwh=[0.5, 0.6, 0.7]),
        load([30.0, 30.0, 50.0]),
        PvSpec(name="pv", available_kw=[100.0, 100.0, 0.0]),
    )
    r = solved(problem(3, *assets))
    imports, exports = col(r, "grid.import_kw"), col(r, "grid.export_kw")
    assert imports * exports == approx([0.0, 0.0, 0.0])
    assert exports == approx([70.0, 70.0, 0.0])
    assert r.kpis.objective_cny == approx(-52.0)
    assert r.report.size is not None
    assert r.report.size.binaries == 3  # one per step where export price >= import price
    # Check that the binary matters: with exclusivity switched off the LP buys to resell.
    # Step 1: import 930 + PV surplus 70 = export 1000 -> 0.6 * 1000 - 0.5 * 930 = 135.
    # Step 2: import 1000, export 950 -> 0.7 * 950 - 0.5 * 1000 = 165.   Step 0: prices equal, 35.
    # Objective = -35 - 135 - 165 = -335.
    free_grid = grid(
        0.5, export_limit_kw=1000.0, export_price_cny_per_kwh=[0.5, 0.6, 0.7], exclusive_import_export="never"
    )
    free = solved(problem(3, free_grid, *assets[1:]))
    assert free.kpis.objective_cny == approx(-335.0)


# --------------------------------------------------------------------------- green contracts


def test_cheap_ppa_is_taken_up_to_its_power_limit() -> None:
    # Grid 0.5, PPA 0.4 up to 30 kW, load 100: take 30 kW of PPA.
    # grid_energy = 0.5 * (100 - 30) = 35, green_contract = 0.4 * 30 = 12, total 47.
    # Market emissions 0.6 * (100 - 30) = 42; location emissions unchanged 0.5 * 100 = 50.
    ppa = GreenContractSpec(name="ppa", pricing="ppa", price_cny_per_kwh=0.4, max_kw=30.0)
    r = solved(problem(1, grid(0.5), load(100.0), ppa))
    assert col(r, "ppa.power_kw") == approx([30.0])
    assert col(r, "grid.import_kw") == approx([100.0])
    assert r.kpis.cost_cny_by_component["grid_energy"] == approx(35.0)
    assert r.kpis.cost_cny_by_component["green_contract"] == approx(12.0)
    assert r.kpis.objective_cny == approx(47.0)
    assert r.kpis.emissions_market_kgco2 == approx(42.0)
    assert r.kpis.emissions_location_kgco2 == approx(50.0)
    assert r.kpis.green_share_frac == approx(0.3)


def test_min_energy_forces_an_expensive_ppa() -> None:
    # PPA 0.6 > grid 0.5, but 40 kWh must be taken over two hours of 100 kW load: extra 0.1 * 40 = 4.
    # Cost = 0.5 * 200 + 4 = 104. Market emissions 0.6 * 160 = 96, location 0.5 * 200 = 100.
    ppa = GreenContractSpec(name="ppa", pricing="ppa", price_cny_per_kwh=0.6, min_energy_kwh=40.0)
    r = solved(problem(2, grid(0.5), load(100.0), ppa))
    assert col(r, "ppa.power_kw").sum() == approx(40.0)
    assert r.kpis.green_contract_kwh == approx(40.0)
    assert r.kpis.objective_cny == approx(104.0)
    assert r.kpis.emissions_market_kgco2 == approx(96.0)
    assert r.kpis.emissions_location_kgco2 == approx(100.0)


def test_green_certificates_are_a_premium_on_top_of_the_grid_price() -> None:
    # Certificates: grid price paid as usual (0.5 * 100 = 50) plus premium 0.01 on the 50 kWh minimum.
    # Total 50.5; market emissions 0.6 * (100 - 50) = 30.
    gec = GreenContractSpec(name="gec", pricing="certificate", price_cny_per_kwh=0.01, min_energy_kwh=50.0)
    r = solved(problem(1, grid(0.5), load(100.0), gec))
    assert r.kpis.cost_cny_by_component["grid_energy"] == approx(50.0)
    assert r.kpis.cost_cny_by_component["green_contract"] == approx(0.5)
    assert r.kpis.objective_cny == approx(50.5)
    assert r.kpis.emissions_market_kgco2 == approx(30.0)


# --------------------------------------------------------------------------- targets


def test_hard_pv_self_consumption_target_forces_charging_instead_of_exporting() -> None:
    # PV [100, 0], load [20, 40]; export pays 0.5 in step 0 (0 in step 1), import 0.3.
    # Battery: charge eff 0.9, discharge eff 1.0, 100 kW / 100 kWh, starts and may end empty.
    # Without a target storing a PV kWh loses 0.5 of export and saves 0.9 * 0.3 = 0.27 -> export 80:
    #   objective = -0.5 * 80 + 0.3 * 40 = -28.
    # With 50 % self-consumption: 50 kWh of the 100 must not be exported; the load takes 20,
    # so Z = 50 - 20 = 30 kW goes into the battery (soc 27), export 50, step 1 discharges 27, imports 13:
    #   objective = -0.5 * 50 + 0.3 * 13 = -21.1.
    def build(targets: Targets) -> DispatchProblem:
        return problem(
            2,
            grid(0.3, export_limit_kw=1000.0, export_price_cny_per_kwh=[0.5, 0.0]),
            load([20.0, 40.0]),
            PvSpec(name="pv", available_kw=[100.0, 0.0]),
            battery(charge_power_kw=100.0, discharge_power_kw=100.0, discharge_efficiency=1.0),
            targets=targets,
        )

    free = solved(build(Targets()))
    assert free.kpis.objective_cny == approx(-28.0)
    r = solved(build(Targets(pv_self_consumption=FractionTarget(min_frac=0.5))))
    assert col(r, "battery.charge_kw") == approx([30.0, 0.0])
    assert col(r, "grid.export_kw") == approx([50.0, 0.0])
    assert col(r, "battery.discharge_kw") == approx([0.0, 27.0])
    assert r.kpis.pv_self_consumption_frac == approx(0.5)
    assert r.kpis.objective_cny == approx(-21.1)


def test_soft_pv_self_consumption_target_reports_its_exact_shortfall() -> None:
    # PV 100 for one hour, load 20, no storage: at most 20 kWh can be self-consumed (curtailing does not help).
    # Target 50 % -> required 50, achieved 20, shortfall 30, penalty 2.0 * 30 = 60.
    # Surplus 80 exported at 0.5 -> revenue 40. Objective = -40 + 60 = 20, money paid -40.
    r = solved(
        problem(
            1,
            grid(0.5, export_limit_kw=1000.0, export_price_cny_per_kwh=0.5),
            load(20.0),
            PvSpec(name="pv", available_kw=100.0),
            targets=Targets(pv_self_consumption=FractionTarget(min_frac=0.5, hard=False, penalty_cny_per_kwh=2.0)),
        )
    )
    (shortfall,) = r.kpis.target_shortfalls
    assert shortfall.target == "pv_self_consumption"
    assert shortfall.required == approx(50.0)
    assert shortfall.achieved == approx(20.0)
    assert shortfall.shortfall == approx(30.0)
    assert r.kpis.cost_cny_by_component["penalty"] == approx(60.0)
    assert r.kpis.energy_cost_cny == approx(-40.0)
    assert r.kpis.objective_cny == approx(20.0)
    assert r.targets_relaxed


@pytest.mark.parametrize(
    ("target", "ppa_kw", "objective", "shortfall"),
    [
        # Hard 30 %: 30 kWh of PPA at 0.1 extra -> 50 + 3 = 53.
        (FractionTarget(min_frac=0.3), 30.0, 53.0, 0.0),
        # Soft, penalty 0.2 > 0.1 extra: still buy 30 kWh -> 53, no shortfall.
        (FractionTarget(min_frac=0.3, hard=False, penalty_cny_per_kwh=0.2), 30.0, 53.0, 0.0),
        # Soft, penalty 0.05 < 0.1 extra: buy none, shortfall 30, penalty 1.5 -> 51.5.
        (FractionTarget(min_frac=0.3, hard=False, penalty_cny_per_kwh=0.05), 0.0, 51.5, 30.0),
    ],
)
def test_green_share_target(target: FractionTarget, ppa_kw: float, objective: float, shortfall: float) -> None:
    # Load 100, grid 0.5, unlimited PPA at 0.6: every green kWh costs 0.1 more than grid power.
    ppa = GreenContractSpec(name="ppa", pricing="ppa", price_cny_per_kwh=0.6)
    r = solved(problem(1, grid(0.5), load(100.0), ppa, targets=Targets(green_share=target)))
    assert col(r, "ppa.power_kw") == approx([ppa_kw])
    assert r.kpis.objective_cny == approx(objective)
    assert r.kpis.target_shortfalls[0].shortfall == approx(shortfall)
    assert r.kpis.green_share_frac == approx(ppa_kw / 100.0)


@pytest.mark.parametrize(
    ("cap", "ppa_kw", "objective", "excess"),
    [
        # Hard market cap 30 kg: uncovered import <= 30 / 0.6 = 50 -> PPA 50, cost 50 + 0.1 * 50 = 55.
        (EmissionCap(max_kgco2=30.0), 50.0, 55.0, 0.0),
        # Soft at 0.1 CNY/kg: a PPA kWh costs 0.1 to save 0.6 kg = 0.06 of penalty -> pay the penalty:
        # emissions 60, excess 30 kg, penalty 3 -> 53.
        (EmissionCap(max_kgco2=30.0, hard=False, penalty_cny_per_kgco2=0.1), 0.0, 53.0, 30.0),
        # Soft at 1.0 CNY/kg: 0.6 > 0.1 -> buy 50 kWh of PPA as with the hard cap.
        (EmissionCap(max_kgco2=30.0, hard=False, penalty_cny_per_kgco2=1.0), 50.0, 55.0, 0.0),
    ],
)
def test_emission_cap(cap: EmissionCap, ppa_kw: float, objective: float, excess: float) -> None:
    ppa = GreenContractSpec(name="ppa", pricing="ppa", price_cny_per_kwh=0.6)
    r = solved(problem(1, grid(0.5), load(100.0), ppa, targets=Targets(emission_cap=cap)))
    assert col(r, "ppa.power_kw") == approx([ppa_kw])
    assert r.kpis.objective_cny == approx(objective)
    assert r.kpis.emissions_market_kgco2 == approx(0.6 * (100.0 - ppa_kw))
    (shortfall,) = r.kpis.target_shortfalls
    assert shortfall.unit == "kgCO2"
    assert shortfall.shortfall == approx(excess)
    assert r.kpis.cost_cny_by_component.get("penalty", 0.0) == approx(cap.penalty_cny_per_kgco2 * excess)


@pytest.mark.parametrize(
    ("carbon_price", "accounting", "ppa_kw", "energy_cost", "carbon_cost"),
    [
        # 100 CNY/t = 0.1 CNY/kg: grid costs 0.5 + 0.1 * 0.6 = 0.56 > PPA 0.55 -> all PPA, 55 paid, carbon 0.
        (100.0, "market", 100.0, 55.0, 0.0),
        # 50 CNY/t: grid 0.5 + 0.05 * 0.6 = 0.53 < 0.55 -> grid, 50 paid, carbon 0.05 * 60 kg = 3.
        (50.0, "market", 0.0, 50.0, 3.0),
        # Location accounting: a PPA does not lower location emissions -> grid, carbon 0.1 * 50 kg = 5.
        (100.0, "location", 0.0, 50.0, 5.0),
    ],
)
def test_carbon_price_chooses_between_grid_and_a_dearer_ppa(
    carbon_price: float, accounting: str, ppa_kw: float, energy_cost: float, carbon_cost: float
) -> None:
    ppa = GreenContractSpec(name="ppa", pricing="ppa", price_cny_per_kwh=0.55)
    objective = ObjectiveSpec(carbon_price_cny_per_tco2=carbon_price, carbon_accounting=accounting)
    r = solved(problem(1, grid(0.5), load(100.0), ppa, objective=objective))
    assert col(r, "ppa.power_kw") == approx([ppa_kw])
    assert r.kpis.energy_cost_cny == approx(energy_cost)
    assert r.kpis.cost_cny_by_component.get("carbon", 0.0) == approx(carbon_cost)
    assert r.kpis.objective_cny == approx(energy_cost + carbon_cost)


# --------------------------------------------------------------------------- infeasible problems


def test_infeasible_load_above_import_limit_falls_back_with_a_diagnosis() -> None:
    # Loads [50, 500, 80] behind a 100 kW connection: only step 1 (01:00) cannot balance, by 400 kW. The setting
    # to change is the grid's import limit (the diagnosis relaxes it before the balance; tests/test_diagnosis.py).
    r = solve(problem(3, grid(0.5, import_limit_kw=100.0), load([50.0, 500.0, 80.0])))
    assert r.status == "infeasible"
    assert r.schedule_source == "fallback"
    assert [(v.group, v.step, v.timestamp, v.field) for v in r.diagnosis] == [
        ("grid.import_kw", 1, "2026-07-15T01:00:00+08:00", "import_limit_kw")
    ]
    assert r.diagnosis[0].amount == approx(400.0)
    # The fallback is the rule-based baseline: import the whole deficit (beyond the limit, with a warning).
    pd.testing.assert_frame_equal(r.schedule, r.baseline_schedule)
    assert col(r, "grid.import_kw") == approx([50.0, 500.0, 80.0])
    assert r.kpis.objective_cny == approx(0.5 * 630.0)
    assert any("import_limit" in w for w in r.baseline_warnings)


def test_infeasible_hard_green_share_is_diagnosed() -> None:
    # No green source at all: share 0 < 50 %; least violation = 0.5 * 100 kWh = 50 (no per-step index).
    r = solve(problem(1, grid(0.5), load(100.0), targets=Targets(green_share=FractionTarget(min_frac=0.5))))
    assert r.status == "infeasible"
    assert r.schedule_source == "fallback"
    assert [(v.group, v.step, v.timestamp) for v in r.diagnosis] == [("targets.green_share", None, None)]
    assert r.diagnosis[0].amount == approx(50.0)


def test_infeasible_location_cap_cannot_be_met_with_a_ppa() -> None:
    # Location accounting ignores contracts: 0.5 * 100 = 50 kg > cap 30 -> violated by 20 kg.
    ppa = GreenContractSpec(name="ppa", price_cny_per_kwh=0.6)
    cap = EmissionCap(max_kgco2=30.0, accounting="location")
    r = solve(problem(1, grid(0.5), load(100.0), ppa, targets=Targets(emission_cap=cap)))
    assert r.status == "infeasible"
    assert [v.group for v in r.diagnosis] == ["targets.emission_cap"]
    assert r.diagnosis[0].amount == approx(20.0)


# --------------------------------------------------------------------------- DST


def test_horizon_day_counts_quarter_hours_across_dst() -> None:
    assert Horizon.day("2026-03-29", BERLIN).n_steps == 92  # spring forward: 23 h
    assert Horizon.day("2026-10-25", BERLIN).n_steps == 100  # fall back: 25 h
    assert Horizon.day("2026-03-29", SHANGHAI).n_steps == 96
    assert Horizon.day("2026-03-29", BERLIN, step_minutes=60).n_steps == 23
    index = Horizon.day("2026-03-29", BERLIN).index
    assert index[7] == pd.Timestamp("2026-03-29 01:45", tz=BERLIN)
    assert index[8] == pd.Timestamp("2026-03-29 03:00", tz=BERLIN)  # 02:00-03:00 does not exist


def test_problem_on_the_spring_dst_day_solves_with_92_values() -> None:
    # 100 kW for 23 hours on the Liaoning tariff at 0.6 (March: no sharp band), local clock hours:
    # valley 00,01,03,04 + 22,23 + 11:30-12:30 = 7 h at 0.3 = 2.1; peak 07:30-10:30 + 16-21 = 8 h at 0.9 = 7.2;
    # flat 23 - 7 - 8 = 8 h at 0.6 = 4.8. Cost = 100 * (2.1 + 7.2 + 4.8) = 1410.
    horizon = Horizon.day("2026-03-29", BERLIN)
    r = solved(problem(horizon, grid(tariff=liaoning_tou(0.6)), load([100.0] * 92)))
    assert len(r.schedule) == 92
    assert r.kpis.import_kwh == approx(2300.0)
    assert r.kpis.objective_cny == approx(1410.0)
    with pytest.raises(ValidationError, match=r"power_kw has 96 values, the horizon has 92 steps"):
        problem(horizon, grid(0.5), load([100.0] * 96))


# --------------------------------------------------------------------------- validation


def _field_errors(error: ValidationError) -> set[str]:
    return {str(part) for e in error.errors() for part in e["loc"]}


@pytest.mark.parametrize(
    "series",
    [[1.0, math.nan, 3.0, 4.0], np.array([1.0, 2.0, np.nan, 4.0]), pd.Series([1.0, 2.0, 3.0, math.inf])],
    ids=["list", "ndarray", "series-inf"],
)
def test_non_finite_series_value_is_rejected_naming_the_field(series: object) -> None:
    with pytest.raises(ValidationError) as info:
        LoadSpec(name="load", power_kw=series)
    assert "power_kw" in _field_errors(info.value)
    assert "finite" in str(info.value)


def test_series_of_wrong_length_is_rejected_with_field_and_lengths() -> None:
    with pytest.raises(ValidationError, match=r"pv\.available_kw has 3 values, the horizon has 4"):
        problem(4, grid(0.5), PvSpec(name="pv", available_kw=[1.0, 2.0, 3.0]))


def test_naive_start_is_rejected() -> None:
    with pytest.raises(ValidationError, match="tz-aware") as info:
        Horizon(start=dt.datetime(2026, 7, 15), n_steps=4)
    assert "start" in _field_errors(info.value)


def test_soc_window_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match=r"soc_min_frac 0\.8 is above soc_max_frac 0\.2"):
        battery(soc_min_frac=0.8, soc_max_frac=0.2, initial_soc_frac=0.5, end_soc_frac=None)


@pytest.mark.parametrize("field", ["charge_efficiency", "discharge_efficiency"])
@pytest.mark.parametrize("value", [0.0, 1.01, -0.5])
def test_efficiency_must_be_in_zero_one(field: str, value: float) -> None:
    with pytest.raises(ValidationError) as info:
        battery(**{field: value})
    assert field in _field_errors(info.value)


def test_efficiency_of_exactly_one_is_accepted() -> None:
    assert battery(charge_efficiency=1.0, discharge_efficiency=1.0).charge_efficiency == 1.0


def test_duplicate_asset_names_are_rejected() -> None:
    with pytest.raises(ValidationError, match=r"asset names must be unique, repeated: \['grid'\]"):
        problem(2, grid(0.5), LoadSpec(name="grid", power_kw=1.0))


def test_grid_needs_exactly_one_price_source() -> None:
    with pytest.raises(ValidationError, match="exactly one of tariff or import_price"):
        GridSpec(name="grid", import_limit_kw=1.0)
    with pytest.raises(ValidationError, match="exactly one of tariff or import_price"):
        GridSpec(name="grid", import_limit_kw=1.0, import_price_cny_per_kwh=0.5, tariff=liaoning_tou())


# --------------------------------------------------------------------------- KPIs and the baseline


def test_solver_objective_equals_kpi_objective() -> None:
    # A problem with every cost bucket: energy, export revenue, demand charge (with a constant from the
    # metered peak), degradation, green contract, carbon and a soft-target penalty.
    r = solved(
        problem(
            4,
            grid(
                [0.3, 0.9, 1.2, 0.5],
                export_limit_kw=200.0,
                export_price_cny_per_kwh=0.35,
                demand_charge_cny_per_kw_month=20.0,
                month_to_date_peak_kw=60.0,
            ),
            load([80.0, 120.0, 150.0, 90.0]),
            PvSpec(name="pv", available_kw=[0.0, 150.0, 100.0, 20.0]),
            battery(degradation_cost_cny_per_kwh=0.01),
            GreenContractSpec(name="ppa", price_cny_per_kwh=0.45, max_kw=40.0),
            targets=Targets(green_share=FractionTarget(min_frac=0.9, hard=False, penalty_cny_per_kwh=0.5)),
            objective=ObjectiveSpec(carbon_price_cny_per_tco2=80.0),
        )
    )
    assert r.report.objective == pytest.approx(r.kpis.objective_cny, rel=1e-6)
    assert r.kpis.objective_cny == pytest.approx(sum(r.kpis.cost_cny_by_component.values()), rel=1e-9)
    assert r.report.mip_gap is not None
    assert r.report.mip_gap <= SolveOptions().mip_rel_gap
    assert r.kpis.max_balance_residual_kw < 1e-6
    assert set(r.kpis.cost_cny_by_component) >= {
        "grid_energy",
        "export_revenue",
        "demand_charge",
        "degradation",
        "green_contract",
        "carbon",
    }


def test_rule_based_baseline_hand_case() -> None:
    # PV [100, 0], load [40, 60], no export, empty battery (50 kW, 0.9/0.9).
    # Step 0: surplus 60 -> charge min(60, 50) = 50 (soc 45), the other 10 kW are curtailed (output 90).
    # Step 1: deficit 60 -> discharge min(60, 50, 45 * 0.9 = 40.5) = 40.5 (soc 0), import 19.5.
    r = solved(problem(2, grid(1.0), load([40.0, 60.0]), PvSpec(name="pv", available_kw=[100.0, 0.0]), battery()))
    base = r.baseline_schedule
    assert base["battery.charge_kw"].to_numpy() == approx([50.0, 0.0])
    assert base["battery.discharge_kw"].to_numpy() == approx([0.0, 40.5])
    assert base["battery.soc_kwh"].to_numpy() == approx([45.0, 0.0])
    assert base["pv.output_kw"].to_numpy() == approx([90.0, 0.0])
    assert base["grid.import_kw"].to_numpy() == approx([0.0, 19.5])
    assert r.baseline_kpis.objective_cny == approx(19.5)
    assert r.baseline_kpis.curtailment_kwh == approx(10.0)
    assert r.baseline_kpis.max_balance_residual_kw < 1e-9
    assert list(base.columns) == list(r.schedule.columns)
    assert r.baseline_warnings == []  # curtailable PV absorbs the 10 kW the rule cannot place
    # Here the rule is optimal: the optimiser cannot beat it.
    assert r.kpis.objective_cny == approx(19.5)


# --------------------------------------------------------------------------- regressions
# Bugs this suite found (fixed in 74eebb4): storage could burn energy by charging and discharging in one
# step when something other than the grid price rewarded consumption, and certificate-covered import
# was missing from the import options that decide where import and export must be exclusive.


def test_certificate_with_carbon_price_no_simultaneous_import_export() -> None:
    # Import 0.5, export 0.55, certificate premium 0.01, carbon 200 CNY/t on the 0.6 market factor.
    # Certificate-covered import costs 0.51 < export 0.55, so buying to resell pays unless forbidden.
    # Physical optimum: cover the 100 kW load with certificates (0.51 < 0.5 + 0.2 * 0.6 = 0.62), nothing
    # exported: objective = 0.51 * 100 = 51.
    gec = GreenContractSpec(name="gec", pricing="certificate", price_cny_per_kwh=0.01)
    r = solved(
        problem(
            1,
            grid(0.5, export_limit_kw=1000.0, export_price_cny_per_kwh=0.55),
            load(100.0),
            gec,
            objective=ObjectiveSpec(carbon_price_cny_per_tco2=200.0),
        )
    )
    assert col(r, "grid.import_kw") * col(r, "grid.export_kw") == approx([0.0])
    assert r.kpis.objective_cny == approx(51.0)


def test_green_share_target_cannot_be_met_by_simultaneous_charge_and_discharge() -> None:
    # PV [100, 0], load [50, 100], battery 10 kWh, 60 kW, efficiencies 0.5/0.5, no export, grid 0.5.
    # Physically the best share: load 50 + charge 20 kW (fills 10 kWh) of PV self-used = 70 kWh,
    # step 1 gets 5 kW back and imports 95: share = 70 / (95 + 70) = 0.424 < 0.5 -> infeasible.
    # (Charging 60 kW for the whole hour leaves no time to discharge, so no in-step cycling either.)
    r = solve(
        problem(
            2,
            grid(0.5),
            load([50.0, 100.0]),
            PvSpec(name="pv", available_kw=[100.0, 0.0]),
            battery(
                capacity_kwh=10.0,
                charge_power_kw=60.0,
                discharge_power_kw=60.0,
                charge_efficiency=0.5,
                discharge_efficiency=0.5,
            ),
            targets=Targets(green_share=FractionTarget(min_frac=0.5)),
        )
    )
    if r.schedule_source == "optimizer":
        assert col(r, "battery.charge_kw") * col(r, "battery.discharge_kw") == approx([0.0, 0.0])
    assert r.status == "infeasible"


def test_negative_ppa_price_no_simultaneous_charge_and_discharge() -> None:
    # Load 10, battery 10 kWh / 50 kW, 0.9/0.9, empty at start, may end full; PPA at -0.1, grid 0.5.
    # Physically: fill the battery (10 / 0.9 = 11.11 kW) and cover everything with the PPA:
    # import 21.11 kW, grid_energy 0, green_contract -0.1 * 21.11 -> objective -2.111.
    # (The same problem with a -0.1 GRID price is handled correctly: see the companion assertion.)
    r = solved(
        problem(
            1,
            grid(0.5),
            load(10.0),
            battery(capacity_kwh=10.0, end_soc_frac=0.0),
            GreenContractSpec(name="ppa", price_cny_per_kwh=-0.1),
        )
    )
    assert col(r, "battery.charge_kw") * col(r, "battery.discharge_kw") == approx([0.0])
    assert r.kpis.objective_cny == approx(-0.1 * (10.0 + 10.0 / 0.9))


def test_negative_grid_price_no_simultaneous_charge_and_discharge() -> None:
    # Companion of the test above, with the negative price on the grid: objective -0.1 * 21.11 = -2.111.
    r = solved(problem(1, grid(-0.1), load(10.0), battery(capacity_kwh=10.0)))
    assert col(r, "battery.charge_kw") * col(r, "battery.discharge_kw") == approx([0.0])
    assert col(r, "battery.charge_kw") == approx([10.0 / 0.9])
    assert r.kpis.objective_cny == approx(-0.1 * (10.0 + 10.0 / 0.9))


def test_negative_export_price_no_simultaneous_charge_and_discharge() -> None:
    # PV 100 (not curtailable), load 10, export costs 0.2/kWh, battery 10 kWh / 50 kW, 0.9/0.9, empty.
    # Physically: charge 10 / 0.9 = 11.11 kW, export 100 - 10 - 11.11 = 78.89 kW at -0.2 -> objective 15.778.
    r = solved(
        problem(
            1,
            grid(0.5, export_limit_kw=1000.0, export_price_cny_per_kwh=-0.2),
            load(10.0),
            PvSpec(name="pv", available_kw=100.0, curtailable=False),
            battery(capacity_kwh=10.0),
        )
    )
    assert col(r, "battery.charge_kw") * col(r, "battery.discharge_kw") == approx([0.0])
    assert r.kpis.objective_cny == approx(0.2 * (90.0 - 10.0 / 0.9))


def test_optional_series_lengths_are_checked() -> None:
    # An optional series (grid price given per step) of the wrong length names the asset, field and lengths.
    with pytest.raises(ValidationError, match=r"grid\.import_price_cny_per_kwh has 3 values, the horizon has 4"):
        DispatchProblem(
            horizon=hourly(4),
            assets=[GridSpec(name="grid", import_limit_kw=100.0, import_price_cny_per_kwh=[0.5, 0.6, 0.7]), load(1.0)],
        )


def test_self_consumption_target_over_a_morning_already_done() -> None:
    # One hour: PV 100 kW, no load, export pays 0.4, a battery may take the PV (no other value, no cost).
    # 70 % hard over the horizon alone: 70 kWh must not be exported -> charge 70, export 30.
    # With the morning done (PV 100 kWh available, all 100 self-consumed), over both: 0.7 * 200 = 140 required,
    # 100 done -> 40 in this hour: charge 40, export 60, objective -0.4 * 60 = -24.
    def build(so_far: TargetProgress | None) -> DispatchProblem:
        return problem(
            1,
            grid(0.5, export_limit_kw=1000.0, export_price_cny_per_kwh=0.4),
            PvSpec(name="pv", available_kw=100.0),
            battery(charge_power_kw=100.0, discharge_power_kw=100.0),
            targets=Targets(pv_self_consumption=FractionTarget(min_frac=0.7), so_far=so_far),
        )

    alone = solved(build(None))
    assert col(alone, "grid.export_kw") == approx([30.0])
    done = solved(build(TargetProgress(pv_available_kwh=100.0, pv_output_kwh=100.0)))
    assert col(done, "grid.export_kw") == approx([60.0])
    assert done.kpis.objective_cny == approx(-24.0)
    (shortfall,) = done.kpis.target_shortfalls  # reported over the morning and the hour
    assert (shortfall.required, shortfall.achieved) == (approx(140.0), approx(140.0))
