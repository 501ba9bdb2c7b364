"""Savings one can trust: over several days the rule-based baseline carries its own state (store levels, the
month-to-date peak), never the optimiser's, so the demand charge is billed once per month to each."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.loader import load_scenario
from scenarios.pipeline import run_case

SCENARIO = """\
name: peak
site:
  name: Peak test site
  tz: Asia/Shanghai
  assets:
    - {kind: grid, name: grid, import_limit_kw: 1000, import_price_cny_per_kwh: 0.5, demand_charge_cny_per_kw_month: 35}
    - {kind: load, name: plant, power_kw: $inputs.load}
    - {kind: battery, name: battery, capacity_kwh: 400, charge_power_kw: 150, discharge_power_kw: 150,
       initial_soc_frac: 0.5, soc_min_frac: 0.1, soc_max_frac: 0.9}
horizon: {start: 2026-07-15, days: 2}
inputs:
  load:  # hourly from midnight: 400 kW from 10:00 to 12:00, else 200 kW
    values: [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 400, 400,
             200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]
"""


def test_the_demand_charge_is_billed_once_per_month_to_the_optimiser_and_to_the_baseline(tmp_path: Path) -> None:
    """The load peaks at 400 kW for two hours each day. The rule-based baseline (no PV: its battery idles) imports
    400 kW at the peak on both days: 35 x 400 = 14,000 CNY for the month, all on day 1 and none on day 2 (its own
    month-to-date peak is 400 by then). The optimiser shaves the peak with the battery and is billed once too."""
    file = tmp_path / "peak.yaml"
    file.write_text(SCENARIO)
    run = run_case(load_scenario(file).base())
    base = [k.cost_cny_by_component.get("demand_charge", 0.0) for k in run.daily_baseline_kpis]
    ours = [k.cost_cny_by_component.get("demand_charge", 0.0) for k in run.daily_kpis]
    baseline_peak = float(run.baseline_schedule["grid.import_kw"].max())
    assert baseline_peak == pytest.approx(400.0)
    assert base == pytest.approx([14_000.0, 0.0], abs=0.01)
    assert sum(ours) == pytest.approx(35 * float(run.schedule["grid.import_kw"].max()), abs=0.01)
    assert float(run.schedule["grid.import_kw"].max()) < 400.0  # the battery shaved it
