"""Flexible loads: energy-window loads, block loads, fleet charging (hand-computed optima)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from optimizer import DispatchProblem, DispatchResult, GridSpec, Horizon, SolveOptions, solve
from optimizer.assets.fleet_charging import FleetChargingSpec
from optimizer.assets.flexible_load import BlockLoadSpec, EnergyWindowLoadSpec

T0 = pd.Timestamp("2026-07-15 00:00", tz="Asia/Shanghai")
PRICES = [0.9, 0.5, 0.3, 0.7, 0.2, 0.8]  # CNY/kWh for the steps starting 00:00 .. 05:00


def horizon(n_steps: int) -> Horizon:
    return Horizon(start=T0.to_pydatetime(), step_minutes=60, n_steps=n_steps)


def at(hours: float) -> dt.datetime:
    return (T0 + pd.Timedelta(hours=hours)).to_pydatetime()


def grid(price: list[float]) -> GridSpec:
    return GridSpec(name="grid", import_limit_kw=10_000, import_price_cny_per_kwh=price)


def run(*assets: object, prices: list[float] = PRICES) -> DispatchResult:
    problem = DispatchProblem(horizon=horizon(len(prices)), assets=[grid(prices), *assets])
    result = solve(problem, SolveOptions(mip_rel_gap=1e-9))
    assert result.status == "optimal"
    assert result.kpis.max_balance_residual_kw < 1e-6
    assert result.baseline_kpis.max_balance_residual_kw < 1e-6
    return result


def col(result: DispatchResult, column: str) -> np.ndarray:
    return result.schedule[column].to_numpy()


# --- block load --------------------------------------------------------------------------------


def test_block_load_starts_at_the_cheapest_feasible_step() -> None:
    # Profile [100, 40] kW, start between 01:00 and 03:00 (steps 1-3); prices 0.9 0.5 0.3 0.7 0.2 0.8.
    #   start 1: 100*0.5 + 40*0.3 = 62
    #   start 2: 100*0.3 + 40*0.7 = 58   <- cheapest
    #   start 3: 100*0.7 + 40*0.2 = 78
    # (Starting at step 4 would cost 100*0.2 + 40*0.8 = 52, but it is outside the window.)
    # Baseline starts at the earliest start: 62.
    result = run(BlockLoadSpec(name="batch", profile_kw=[100, 40], earliest_start=at(1), latest_start=at(3)))
    assert col(result, "batch.start") == pytest.approx([0, 0, 1, 0, 0, 0], abs=1e-6)
    assert col(result, "batch.power_kw") == pytest.approx([0, 0, 100, 40, 0, 0], abs=1e-6)
    assert result.kpis.energy_cost_cny == pytest.approx(58.0)
    assert result.baseline_schedule["batch.power_kw"].to_numpy() == pytest.approx([0, 100, 40, 0, 0, 0])
    assert result.baseline_kpis.energy_cost_cny == pytest.approx(62.0)
    assert result.saving_cny == pytest.approx(4.0)


# --- energy-window load ------------------------------------------------------------------------


def test_energy_window_load_fills_the_cheapest_steps_of_its_window() -> None:
    # 150 kWh between 01:00 and 05:00 (steps 1-4, prices 0.5 0.3 0.7 0.2), at most 80 kW.
    # Cheapest first: step 4 (0.2) 80 kWh, step 2 (0.3) 70 kWh -> 16 + 21 = 37 CNY.
    # Step 0 (0.9) and step 5 (0.8) are outside the window.
    # Baseline: 80 kW from 01:00, then 70 kW -> 80*0.5 + 70*0.3 = 61 CNY.
    load = EnergyWindowLoadSpec(name="dryer", energy_kwh=150, window_start=at(1), window_end=at(5), max_power_kw=80)
    result = run(load)
    assert col(result, "dryer.power_kw") == pytest.approx([0, 0, 70, 0, 80, 0], abs=1e-6)
    assert result.kpis.energy_cost_cny == pytest.approx(37.0)
    assert result.baseline_schedule["dryer.power_kw"].to_numpy() == pytest.approx([0, 80, 70, 0, 0, 0])
    assert result.baseline_kpis.energy_cost_cny == pytest.approx(61.0)


def test_energy_window_load_with_min_power_when_on() -> None:
    # 100 kWh in steps 1-4, 50..80 kW when on. Without the minimum: 80 @ 0.2 + 20 @ 0.3 = 22 CNY.
    # With it, 20 kW is not allowed and one step cannot hold 100 kWh, so two steps of at least 50:
    #   steps 4 and 2: min 0.2 x4 + 0.3 x2 with x4 + x2 = 100, 50 <= x <= 80 -> x2 = 50, x4 = 50: 25 CNY.
    load = EnergyWindowLoadSpec(
        name="dryer", energy_kwh=100, window_start=at(1), window_end=at(5), max_power_kw=80, min_power_kw=50
    )
    result = run(load)
    assert col(result, "dryer.power_kw") == pytest.approx([0, 0, 50, 0, 50, 0], abs=1e-6)
    assert col(result, "dryer.on") == pytest.approx([0, 0, 1, 0, 1, 0], abs=1e-6)
    assert result.kpis.energy_cost_cny == pytest.approx(25.0)


# --- fleet charging ----------------------------------------------------------------------------


def test_fleet_charges_by_the_deadline_in_the_cheapest_available_steps() -> None:
    # Forklifts plugged in 01:00-06:00, need 90 kWh stored by 04:00 (steps 1-3: 0.5 0.3 0.7),
    # charging efficiency 0.9 -> 100 kWh from the grid, at most 60 kW.
    # Cheapest first: step 2 60 kWh (18 CNY), step 1 40 kWh (20 CNY) -> 38 CNY.
    # Step 4 (0.2) is after the deadline and not used.
    # Baseline: 60 kW from 01:00, then 40 -> 60*0.5 + 40*0.3 = 42 CNY.
    fleet = FleetChargingSpec(
        name="forklifts",
        energy_kwh=90,
        max_power_kw=60,
        available_from=at(1),
        available_until=at(6),
        deadline=at(4),
        charging_efficiency=0.9,
    )
    result = run(fleet)
    assert col(result, "forklifts.power_kw") == pytest.approx([0, 40, 60, 0, 0, 0], abs=1e-6)
    assert result.kpis.energy_cost_cny == pytest.approx(38.0)
    assert result.baseline_schedule["forklifts.power_kw"].to_numpy() == pytest.approx([0, 60, 40, 0, 0, 0])
    assert result.baseline_kpis.energy_cost_cny == pytest.approx(42.0)


def test_fleet_deadline_defaults_to_departure() -> None:
    # Same fleet without a deadline: it may charge until 06:00; 100 kWh from the grid:
    # step 4 (0.2) 60 + step 2 (0.3) 40 -> 12 + 12 = 24 CNY.
    fleet = FleetChargingSpec(
        name="ev", energy_kwh=90, max_power_kw=60, available_from=at(1), available_until=at(6), charging_efficiency=0.9
    )
    result = run(fleet)
    assert col(result, "ev.power_kw") == pytest.approx([0, 0, 40, 0, 60, 0], abs=1e-6)
    assert result.kpis.energy_cost_cny == pytest.approx(24.0)


# --- validation --------------------------------------------------------------------------------


def test_energy_above_max_power_times_window_is_rejected() -> None:
    # 4 h x 80 kW = 320 kWh < 500 kWh.
    with pytest.raises(ValidationError, match=r"energy_kwh 500.* 320 kWh"):
        EnergyWindowLoadSpec(name="dryer", energy_kwh=500, window_start=at(1), window_end=at(5), max_power_kw=80)


def test_fleet_energy_above_what_can_be_charged_is_rejected() -> None:
    # 3 h x 60 kW x 0.9 = 162 kWh < 170 kWh.
    with pytest.raises(ValidationError, match=r"energy_kwh 170.* 162 kWh"):
        FleetChargingSpec(
            name="ev", energy_kwh=170, max_power_kw=60, available_from=at(1), available_until=at(4), deadline=at(4)
        )


def test_window_outside_the_horizon_is_rejected() -> None:
    load = EnergyWindowLoadSpec(name="dryer", energy_kwh=10, window_start=at(4), window_end=at(7), max_power_kw=80)
    with pytest.raises(ValidationError, match=r"dryer\.window_end .* outside the horizon"):
        DispatchProblem(horizon=horizon(6), assets=[grid(PRICES), load])


def test_window_off_the_step_grid_is_rejected() -> None:
    load = EnergyWindowLoadSpec(name="dryer", energy_kwh=10, window_start=at(1.5), window_end=at(4), max_power_kw=80)
    with pytest.raises(ValidationError, match=r"window_start .* is not on a step boundary"):
        DispatchProblem(horizon=horizon(6), assets=[grid(PRICES), load])


def test_block_profile_must_fit_from_the_latest_start() -> None:
    # Steps 5 and 6 from a 05:00 start: the horizon ends at 06:00.
    block = BlockLoadSpec(name="batch", profile_kw=[100, 40], earliest_start=at(1), latest_start=at(5))
    with pytest.raises(ValidationError, match=r"latest_start .* no room for the 2-step profile_kw"):
        DispatchProblem(horizon=horizon(6), assets=[grid(PRICES), block])


def test_block_latest_before_earliest_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"latest_start .* is before earliest_start"):
        BlockLoadSpec(name="batch", profile_kw=[1], earliest_start=at(3), latest_start=at(1))


def test_energy_not_reachable_with_min_power_is_rejected() -> None:
    # 50..60 kW in whole 1-h steps: one step 50-60 kWh, two steps 100-120 kWh; 70 kWh fits neither.
    load = EnergyWindowLoadSpec(
        name="dryer", energy_kwh=70, window_start=at(0), window_end=at(6), max_power_kw=60, min_power_kw=50
    )
    with pytest.raises(ValidationError, match="energy_kwh 70 cannot be drawn with min_power_kw 50"):
        DispatchProblem(horizon=horizon(6), assets=[grid(PRICES), load])


def test_naive_timestamps_are_rejected() -> None:
    with pytest.raises(ValidationError, match="window_start"):
        EnergyWindowLoadSpec(
            name="dryer", energy_kwh=1, window_start=dt.datetime(2026, 7, 15, 1), window_end=at(5), max_power_kw=80
        )


# --- properties ------------------------------------------------------------------------------


def greedy_cost(prices: np.ndarray, mask: np.ndarray, energy_kwh: float, max_kw: float) -> float:
    """Cheapest cost of ``energy_kwh`` in the masked 1-h steps at most ``max_kw`` each (fill cheapest first)."""
    cost, left = 0.0, energy_kwh
    for t in sorted(np.flatnonzero(mask), key=lambda t: prices[t]):
        take = min(max_kw, left)
        cost += take * prices[t]
        left -= take
    return cost


@st.composite
def flexible_instances(draw: st.DrawFn) -> dict:
    n = draw(st.integers(3, 8))
    prices = np.array(draw(st.lists(st.floats(0.0, 1.5), min_size=n, max_size=n)))
    a = draw(st.integers(0, n - 1))
    b = draw(st.integers(a + 1, n))
    max_kw = draw(st.floats(1.0, 100.0))
    window_energy = draw(st.floats(0.0, 1.0)) * max_kw * (b - a)
    length = draw(st.integers(1, n))
    profile = draw(st.lists(st.floats(0.0, 100.0), min_size=length, max_size=length))
    earliest = draw(st.integers(0, n - length))
    latest = draw(st.integers(earliest, n - length))
    f0 = draw(st.integers(0, n - 1))
    f1 = draw(st.integers(f0 + 1, n))
    eff = draw(st.floats(0.5, 1.0))
    fleet_kw = draw(st.floats(1.0, 100.0))
    fleet_energy = draw(st.floats(0.0, 1.0)) * fleet_kw * (f1 - f0) * eff
    return {
        "prices": prices,
        "window": (a, b),
        "max_kw": max_kw,
        "window_energy": window_energy,
        "profile": np.array(profile),
        "starts": (earliest, latest),
        "fleet": (f0, f1),
        "eff": eff,
        "fleet_kw": fleet_kw,
        "fleet_energy": fleet_energy,
    }


@settings(max_examples=20, deadline=None)
@given(flexible_instances())
def test_flexible_load_properties(p: dict) -> None:
    n = len(p["prices"])
    (a, b), (earliest, latest), (f0, f1) = p["window"], p["starts"], p["fleet"]
    result = run(
        EnergyWindowLoadSpec(
            name="dryer", energy_kwh=p["window_energy"], window_start=at(a), window_end=at(b), max_power_kw=p["max_kw"]
        ),
        BlockLoadSpec(
            name="batch", profile_kw=p["profile"].tolist(), earliest_start=at(earliest), latest_start=at(latest)
        ),
        FleetChargingSpec(
            name="ev",
            energy_kwh=p["fleet_energy"],
            max_power_kw=p["fleet_kw"],
            available_from=at(f0),
            available_until=at(f1),
            charging_efficiency=p["eff"],
        ),
        prices=p["prices"].tolist(),
    )
    steps = np.arange(n)
    prices = p["prices"]
    for schedule in (result.schedule, result.baseline_schedule):
        # Energy-window load: exactly its energy, within [0, max] inside the window, 0 outside.
        dryer = schedule["dryer.power_kw"].to_numpy()
        inside = (steps >= a) & (steps < b)
        assert dryer.sum() == pytest.approx(p["window_energy"], rel=1e-6, abs=1e-6)
        assert np.all(np.abs(dryer[~inside]) <= 1e-9)
        assert np.all((dryer >= -1e-7) & (dryer <= p["max_kw"] + 1e-6))  # HiGHS primal tolerance
        # Block load: started exactly once, in its window, power = the profile from that start.
        start = schedule["batch.start"].to_numpy()
        assert start.sum() == pytest.approx(1.0, abs=1e-6)
        s = int(np.argmax(start))
        assert earliest <= s <= latest
        expected = np.zeros(n)
        expected[s : s + len(p["profile"])] = p["profile"]
        assert schedule["batch.power_kw"].to_numpy() == pytest.approx(expected, abs=1e-6)
        # Fleet: exactly its energy stored, only while available.
        ev = schedule["ev.power_kw"].to_numpy()
        available = (steps >= f0) & (steps < f1)
        assert ev.sum() * p["eff"] == pytest.approx(p["fleet_energy"], rel=1e-6, abs=1e-6)
        assert np.all(np.abs(ev[~available]) <= 1e-9)
        assert np.all(ev <= p["fleet_kw"] + 1e-6)
    # Optimality, load by load (their costs are independent): the greedy fill and the best start. The energies hold
    # to 1e-6 kWh (above), so the costs to 1e-6 kWh at the highest price: an energy of 7e-7 kWh that HiGHS
    # rounds to none is 1.07e-6 CNY at 1.5 CNY/kWh.
    s = result.schedule
    cost_tolerance = 1e-6 * max(1.0, float(prices.max()))
    assert float(np.dot(prices, s["dryer.power_kw"])) == pytest.approx(
        greedy_cost(prices, inside, p["window_energy"], p["max_kw"]), rel=1e-6, abs=cost_tolerance
    )
    assert float(np.dot(prices, s["ev.power_kw"])) == pytest.approx(
        greedy_cost(prices, available, p["fleet_energy"] / p["eff"], p["fleet_kw"]), rel=1e-6, abs=cost_tolerance
    )
    block_costs = [float(np.dot(prices[k : k + len(p["profile"])], p["profile"])) for k in range(earliest, latest + 1)]
    assert float(np.dot(prices, s["batch.power_kw"])) == pytest.approx(min(block_costs), rel=1e-6, abs=1e-6)
    assert result.kpis.energy_cost_cny <= result.baseline_kpis.energy_cost_cny + 1e-6


def test_explicit_times_that_end_before_they_start_are_refused_with_the_clock_time_hint() -> None:
    """A spec's own times are instants, so 06:00 before 22:00 the same day is wrong; the error says that a site's clock
    times may cross midnight (tests/test_midnight_windows.py plans such windows)."""
    with pytest.raises(ValidationError) as raised:
        FleetChargingSpec(
            name="forklifts", energy_kwh=100, max_power_kw=50, available_from=at(22), available_until=at(6)
        )
    [error] = raised.value.errors()
    assert error["loc"] == () and "must be after available_from" in error["msg"]
    assert '"22:00" to "06:00" ends at 06:00 the next morning' in error["msg"]
    with pytest.raises(ValidationError, match="clock times: those may cross midnight"):
        EnergyWindowLoadSpec(name="dryer", energy_kwh=10, window_start=at(5), window_end=at(5), max_power_kw=80)
