"""Windows across midnight: a site's clock-time window whose end is at or before its start ends the next day.

A day-ahead period ends at midnight, so the day plans the evening part of its window (cut at midnight, with at
least what the morning cannot deliver at full power) and carries what is still owed, like a battery's SOC, to the
next day, which must deliver it before the window's end. Every optimum below is worked out by hand.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer import Horizon
from optimizer.tariff import TouPeriod, TouTariff
from scenarios.errors import ScenarioError
from scenarios.loader import load_scenario
from scenarios.pipeline import build_problem, case_periods, run_case
from tests.api_fixtures import HEADERS, api_client, create_site, small_site

TZ = "Asia/Shanghai"
DAY1, DAY2 = "2026-07-15", "2026-07-16"

# Prices: flat 0.8 CNY/kWh, valley 0.3 CNY/kWh in the VALLEY window (local clock times, across midnight).
SITE = """\
name: night-shift
horizon:
  start: 2026-07-15
  days: 2
  step_minutes: {step}
  rolling: {rolling}
site:
  name: Night shift
  latitude: 41.8
  longitude: 123.4
  assets:
    - kind: grid
      name: grid
      import_limit_kw: 1000
      tariff:
        band_prices_cny_per_kwh: {{flat: 0.8, valley: 0.3}}
        default_band: flat
        periods: [{{band: valley, start: "{valley_from}", end: "{valley_to}"}}]
{asset}
"""

FLEET = """\
    - kind: fleet_charging
      name: forklifts
      energy_kwh: 300
      max_power_kw: 100
      charging_efficiency: 1.0
      available_from: "{start}"
      available_until: "{end}"
"""

DRYER = """\
    - kind: energy_window_load
      name: dryer
      energy_kwh: 250
      max_power_kw: 100
      window_start: "22:00"
      window_end: "02:00"
"""


def scenario(
    tmp_path: Path,
    asset: str,
    *,
    step: int = 60,
    rolling: bool = True,
    valley: tuple[str, str] = ("23:00", "07:00"),
    extra: str = "",
) -> Path:
    text = SITE.format(step=step, rolling=str(rolling).lower(), valley_from=valley[0], valley_to=valley[1], asset=asset)
    path = tmp_path / "night.yaml"
    path.write_text(text + textwrap.dedent(extra))
    return path


def energy(schedule: pd.DataFrame, column: str, start: str, end: str) -> float:
    """Energy of a power column over the local times ``[start, end)`` [kWh]."""
    index = pd.DatetimeIndex(schedule.index)
    step_h = (index[1] - index[0]).total_seconds() / 3600
    inside = (index >= pd.Timestamp(start, tz=TZ)) & (index < pd.Timestamp(end, tz=TZ))
    return float(schedule[column].to_numpy()[inside].sum() * step_h)


def test_fleet_waits_for_the_night_valley_and_the_next_day_delivers_what_was_carried(tmp_path: Path) -> None:
    case = load_scenario(scenario(tmp_path, FLEET.format(start="22:00", end="06:00"))).base()
    periods = case_periods(case)
    # Day 1's window 22:00 to 06:00 on 16 July, cut at midnight: after midnight 6 h x 100 kW = 600 kWh can still be
    # charged, so at least max(0, 300 - 600) = 0 and at most 300 kWh before midnight.
    [day1_fleet] = [a for a in build_problem(case, periods[0]).assets if a.name == "forklifts"]
    assert day1_fleet.available_until == pd.Timestamp(f"{DAY2} 00:00", tz=TZ)
    assert (day1_fleet.min_energy_kwh, day1_fleet.energy_kwh) == (0.0, 300.0)
    run = run_case(case)
    s = run.schedule
    # Day 1 (prices 0.8 at 22:00, 0.3 at 23:00) sees no reason to charge: nothing before midnight, cost 0.
    assert energy(s, "forklifts.power_kw", f"{DAY1} 00:00", f"{DAY2} 00:00") == pytest.approx(0.0, abs=1e-6)
    assert run.daily_kpis[0].energy_cost_cny == pytest.approx(0.0, abs=1e-6)
    # Carried: 300 kWh due by 06:00 on day 2, all in the valley (00:00-06:00 at 0.3): 300 x 0.3 = 90 CNY.
    assert energy(s, "forklifts.power_kw", f"{DAY2} 00:00", f"{DAY2} 06:00") == pytest.approx(300.0, abs=1e-6)
    # Day 2's own window (22:00-24:00, cut again) charges nothing either; the window of day 1 got 0 + 300 = 300 kWh.
    assert energy(s, "forklifts.power_kw", f"{DAY2} 06:00", f"{DAY2} 23:59") == pytest.approx(0.0, abs=1e-6)
    assert run.daily_kpis[1].energy_cost_cny == pytest.approx(90.0, abs=1e-6)
    assert (s["forklifts.power_kw"] <= 100.0 + 1e-6).all()
    # The baseline charges at full power from 22:00: 100 x 0.8 + 100 x 0.3 = 110 CNY on day 1, 300 - 200 = 100 kWh
    # carried; day 2: 100 kWh at 00:00 (30 CNY), and its own evening 22:00-24:00 again (110 CNY) = 140 CNY.
    b = run.baseline_schedule["forklifts.power_kw"]
    assert b.loc[f"{DAY1} 22:00" : f"{DAY1} 23:00"].tolist() == pytest.approx([100.0, 100.0])
    assert b.loc[f"{DAY2} 00:00" : f"{DAY2} 05:00"].tolist() == pytest.approx([100.0, 0, 0, 0, 0, 0])
    assert run.daily_baseline_kpis[0].energy_cost_cny == pytest.approx(110.0, abs=1e-6)
    assert run.daily_baseline_kpis[1].energy_cost_cny == pytest.approx(140.0, abs=1e-6)


def test_fleet_with_too_short_a_morning_must_charge_before_midnight(tmp_path: Path) -> None:
    # Plugged in 21:00 to 01:00, 15-minute steps: after midnight 1 h x 100 kW = 100 kWh, so day 1 must charge at
    # least 300 - 100 = 200 kWh before midnight (at most 3 h x 100 = 300 kWh). Cheapest 200 kWh on day 1:
    # 23:00-24:00 in the valley at full power (100 kWh x 0.3 = 30) and 100 kWh at flat (x 0.8 = 80): 110 CNY.
    case = load_scenario(scenario(tmp_path, FLEET.format(start="21:00", end="01:00"), step=15)).base()
    run = run_case(case)
    s = run.schedule
    assert energy(s, "forklifts.power_kw", f"{DAY1} 21:00", f"{DAY1} 23:00") == pytest.approx(100.0, abs=1e-6)
    assert energy(s, "forklifts.power_kw", f"{DAY1} 23:00", f"{DAY2} 00:00") == pytest.approx(100.0, abs=1e-6)
    assert energy(s, "forklifts.power_kw", f"{DAY1} 00:00", f"{DAY1} 21:00") == pytest.approx(0.0, abs=1e-6)
    assert run.daily_kpis[0].energy_cost_cny == pytest.approx(110.0, abs=1e-6)
    # Carried 300 - 200 = 100 kWh, due by 01:00: 100 kW in all four quarter-hours (30 CNY); the window got 300 kWh.
    morning = s.loc[f"{DAY2} 00:00" : f"{DAY2} 00:45", "forklifts.power_kw"]
    assert morning.tolist() == pytest.approx([100.0] * 4, abs=1e-6)
    # Day 2 = the carried 30 CNY + its own evening, the same 110 CNY as day 1's = 140 CNY.
    assert run.daily_kpis[1].energy_cost_cny == pytest.approx(140.0, abs=1e-6)


def test_flexible_load_across_midnight_day_ahead_and_over_one_two_day_horizon(tmp_path: Path) -> None:
    # 250 kWh between 22:00 and 02:00 at up to 100 kW; valley 0.3 from 23:00 to 01:00, else 0.8 (hourly steps).
    # Day-ahead: after midnight 2 h x 100 = 200 kWh, so at least 250 - 200 = 50 kWh before midnight. Day 1 draws
    # just that, at 23:00 (50 x 0.3 = 15 CNY); day 2 must draw the carried 200 kWh at 100 kW at 00:00 (0.3) and
    # 01:00 (0.8): 30 + 80 = 110 CNY, plus its own evening's 50 kWh at 23:00 (15 CNY) = 125 CNY.
    rolling = run_case(load_scenario(scenario(tmp_path, DRYER, valley=("23:00", "01:00"))).base())
    s = rolling.schedule["dryer.power_kw"]
    assert s.loc[f"{DAY1} 22:00" : f"{DAY2} 01:00"].tolist() == pytest.approx([0, 50, 100, 100], abs=1e-6)
    assert rolling.daily_kpis[0].energy_cost_cny == pytest.approx(15.0, abs=1e-6)
    assert rolling.daily_kpis[1].energy_cost_cny == pytest.approx(125.0, abs=1e-6)
    # One horizon over both days: day 1's window lies inside, all 250 kWh in one solve: both valley hours at full
    # power (23:00, 00:00: 200 x 0.3 = 60) and 50 kWh at 0.8 (22:00 or 01:00: 40) = 100 CNY; day 2's window is cut
    # at the horizon end: 50 kWh at 23:00 (15 CNY). Total 115 CNY, 25 less than day-ahead (15 + 125 = 140).
    whole = run_case(load_scenario(scenario(tmp_path, DRYER, rolling=False, valley=("23:00", "01:00"))).base())
    w = whole.schedule
    assert energy(w, "dryer_d1.power_kw", f"{DAY1} 22:00", f"{DAY2} 02:00") == pytest.approx(250.0, abs=1e-6)
    valley = w.loc[f"{DAY1} 23:00" : f"{DAY2} 00:00", "dryer_d1.power_kw"]
    assert valley.tolist() == pytest.approx([100, 100], abs=1e-6)
    assert energy(w, "dryer_d2.power_kw", f"{DAY2} 22:00", f"{DAY2} 23:00") == pytest.approx(0.0, abs=1e-6)
    assert w.loc[f"{DAY2} 23:00", "dryer_d2.power_kw"] == pytest.approx(50.0, abs=1e-6)
    assert whole.kpis.energy_cost_cny == pytest.approx(115.0, abs=1e-6)


def test_the_initial_state_puts_the_previous_evenings_window_on_the_first_day(tmp_path: Path) -> None:
    # 120 kWh still owed at midnight by the window that began on 14 July, due by 06:00: the first day charges it
    # in its valley hours (00:00-06:00 at 0.3: 36 CNY) and its own evening nothing (as in the first test).
    extra = """\
    initial_state:
      forklifts: {carried_energy_kwh: 120}
    """
    case = load_scenario(scenario(tmp_path, FLEET.format(start="22:00", end="06:00"), extra=extra)).base()
    run = run_case(case)
    s = run.schedule
    assert energy(s, "forklifts.power_kw", f"{DAY1} 00:00", f"{DAY1} 06:00") == pytest.approx(120.0, abs=1e-6)
    assert energy(s, "forklifts.power_kw", f"{DAY1} 06:00", f"{DAY2} 00:00") == pytest.approx(0.0, abs=1e-6)
    assert run.daily_kpis[0].energy_cost_cny == pytest.approx(36.0, abs=1e-6)


def test_carried_energy_needs_a_window_in_progress(tmp_path: Path) -> None:
    """Energy owed at midnight by a window that ends the same evening (08:00-12:00) is a mistake, named at its line."""
    extra = """\
    initial_state:
      forklifts: {carried_energy_kwh: 120}
    """
    case = load_scenario(scenario(tmp_path, FLEET.format(start="08:00", end="12:00"), extra=extra)).base()
    with pytest.raises(ScenarioError) as raised:
        build_problem(case, case_periods(case)[0])
    [issue] = raised.value.issues
    assert "initial_state" in str(issue) and "carried_energy_kwh" in str(issue)
    assert "window in progress" in str(issue) and "08:00 to 12:00" in str(issue)


@pytest.mark.parametrize("step_minutes", [15, 60])
def test_a_valley_across_midnight_prices_both_sides_of_it(step_minutes: int) -> None:
    # Valley 22:00-06:00 at 0.3, else the default flat 0.8: 23:00 and 05:00 are valley, 07:00 is flat.
    tariff = TouTariff(
        band_prices_cny_per_kwh={"flat": 0.8, "valley": 0.3},
        default_band="flat",
        periods=[TouPeriod(band="valley", start=dt.time(22), end=dt.time(6))],
    )
    horizon = Horizon.day(dt.date(2026, 7, 15), TZ, step_minutes)
    prices = tariff.prices(horizon)
    bands = tariff.bands(horizon.index)
    for clock, band, price in (("23:00", "valley", 0.3), ("05:00", "valley", 0.3), ("07:00", "flat", 0.8)):
        when = pd.Timestamp(f"{DAY1} {clock}", tz=TZ)
        assert (bands[when], prices[when]) == (band, pytest.approx(price))
    per_hour = prices.groupby(prices.index.hour).mean()
    assert per_hour.tolist() == pytest.approx([0.3] * 6 + [0.8] * 16 + [0.3] * 2)  # 00-06 and 22-24 valley


def test_the_api_accepts_a_window_across_midnight_and_carries_it_to_the_next_day(tmp_path: Path) -> None:
    # Liaoning's valley is 22:00-05:00, so charging is cheapest at night either side of midnight. 270 kWh stored at
    # 90 % by 02:00, at most 100 kW: after midnight 2 h x 100 x 0.9 = 180 kWh, so at least 270 - 180 = 90 kWh stored
    # (100 kWh drawn) before midnight, and the day plan draws just that, between 22:00 and 24:00.
    site = small_site()
    fleet = {"kind": "fleet_charging", "name": "forklifts", "energy_kwh": 270, "max_power_kw": 100}
    site["assets"].append(fleet | {"available_from": "22:00", "available_until": "02:00"})
    with api_client(tmp_path) as client:
        site_id = create_site(client, site)
        response = client.post(f"/v1/sites/{site_id}/dispatch", json={"date": DAY1}, headers=HEADERS)
        assert response.status_code == 201, response.text
        power = np.array([r["forklifts.power_kw"] for r in response.json()["schedule"]])
        assert power[88:].sum() * 0.25 == pytest.approx(100.0, abs=1e-2)  # 22:00-24:00
        assert power[:88].sum() == pytest.approx(0.0, abs=1e-6) and power.max() <= 100.0 + 1e-6
        # The next day starts from that plan: 270 - 90 = 180 kWh owed, due by 02:00: 180 / 0.9 = 200 kWh drawn in 2 h,
        # 100 kW in all eight quarter-hours.
        response = client.post(f"/v1/sites/{site_id}/dispatch", json={"date": DAY2}, headers=HEADERS)
        assert response.status_code == 201, response.text
        plan = response.json()
        assert plan["sources"]["initial_state.forklifts.carried_energy_kwh"]["origin"] == "previous-plan"
        power = np.array([r["forklifts.power_kw"] for r in plan["schedule"]])
        assert power[:8].tolist() == pytest.approx([100.0] * 8, abs=1e-2)
        assert power[8:88].sum() == pytest.approx(0.0, abs=1e-6)
