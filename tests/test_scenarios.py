"""What-if scenarios: file format, errors, inputs, variants, sweeps, rolling runs with state carried across midnight."""

from __future__ import annotations

import itertools
import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from optimizer import Kpis
from scenarios.errors import ScenarioError
from scenarios.inputs import Inputs
from scenarios.kpis import combine_kpis
from scenarios.loader import load_scenario
from scenarios.overrides import OverrideError, apply
from scenarios.parallel import run_cases
from scenarios.pipeline import build_problem, case_periods, check_case, run_case, with_dates
from scenarios.rolling import carried_state
from scenarios.spec import ScenarioFile, json_schema

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "scenarios" / "examples").glob("*.yaml"))
SCHEMA_FILE = ROOT / "scenarios" / "schema" / "scenario.schema.json"

# A tiny site: constant 100 kW load, a 100 kWh / 50 kW lossless battery, hourly prices 0.2 (00-06) and 1.0,
# a demand charge of 1 CNY/kW-month. Every optimum below is computed by hand.
TINY = """\
name: tiny
site:
  name: Tiny test site
  latitude: 41.8
  longitude: 123.4
  assets:
    - kind: grid
      name: grid
      import_limit_kw: 1000
      import_price_cny_per_kwh: $inputs.price
      demand_charge_cny_per_kw_month: 1.0
    - kind: load
      name: load
      power_kw: 100
    - kind: battery
      name: battery
      capacity_kwh: 100
      charge_power_kw: 50
      discharge_power_kw: 50
      charge_efficiency: 1.0
      discharge_efficiency: 1.0
      soc_min_frac: 0.0
      soc_max_frac: 1.0
      initial_soc_frac: 0.2
      end_soc_frac: 0.8
horizon:
  start: 2026-07-15
  days: 2
  step_minutes: 60
inputs:
  price:
    values: [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
variants:
  bigger:
    description: twice the battery
    set:
      site.battery.capacity_kwh: {scale: 2}
      site.battery.charge_power_kw: 100
sweeps:
  size:
    parameters:
      site.battery.capacity_kwh: [25, 50, 100, 200, 400]
"""


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line of ``text`` that contains ``needle``."""
    return next(k for k, line in enumerate(text.splitlines(), start=1) if needle in line)


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write(tmp_path, TINY)


# --- the file format -----------------------------------------------------------------------------


def test_shipped_schema_is_up_to_date() -> None:
    assert json.loads(SCHEMA_FILE.read_text()) == json_schema(), "run: dispatch schema --out " + str(SCHEMA_FILE)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_schema_round_trip(path: Path) -> None:
    scenario = load_scenario(path).scenario
    dumped = yaml.safe_dump(scenario.model_dump(mode="json"))
    assert ScenarioFile.model_validate(yaml.safe_load(dumped)) == scenario


def test_the_seed_examples_with_variants_and_sweeps() -> None:
    seeds = {
        "lingyun",
        "huishan_dairy",
        "taike",
        "shenyang_machine_tool",
        "valeo_shenyang",
        "huaxing",
        "dayao",
        "huatie",
    }
    assert {p.stem for p in EXAMPLES} >= seeds
    for path in EXAMPLES:
        scenario = load_scenario(path).scenario
        assert len(scenario.variants) >= 2 and len(scenario.sweeps) >= 1, path.stem


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_validates_and_runs(path: Path) -> None:
    document = load_scenario(path)
    for case in document.cases():  # every variant and sweep point: first day built, inputs read for the range
        assert check_case(case) >= 1
    (run,) = run_cases([with_dates(document.base(), days=1)], jobs=1, show_progress=False)
    assert run.ok, run.fallback_days
    assert run.kpis.max_balance_residual_kw < 1e-5
    assert len(run.schedule) == 96
    assert all(d.status in ("optimal", "feasible") for d in run.days)
    assert np.isfinite(run.kpis.energy_cost_cny) and run.kpis.import_kwh + run.kpis.pv_output_kwh > 0


def test_clock_times_and_tariff_presets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        name: clock
        site:
          name: s
          latitude: 41.8
          longitude: 123.4
          assets:
            - {kind: grid, name: grid, import_limit_kw: 500, tariff: {preset: liaoning, flat_price_cny_per_kwh: 0.6}}
            - {kind: fleet_charging, name: forklifts, energy_kwh: 90, max_power_kw: 50,
               available_from: "00:00", available_until: 07:30}
            - {kind: energy_window_load, name: dryers, energy_kwh: 100, max_power_kw: 50,
               window_start: 08:00, window_end: 20:00}
        horizon: {start: 2026-07-15, days: 2, rolling: false}
        """,
    )
    case = load_scenario(path).base()
    (period,) = case_periods(case)
    problem = build_problem(case, period)
    names = [a.name for a in problem.assets]
    assert names == ["grid", "forklifts_d1", "forklifts_d2", "dryers_d1", "dryers_d2"]  # one window per day
    dryers_d2 = problem.assets[4]
    assert pd.Timestamp(dryers_d2.window_end) == pd.Timestamp("2026-07-16 20:00", tz="Asia/Shanghai")
    prices = problem.assets[0].import_prices(problem.horizon)
    assert prices.max() == pytest.approx(0.6 * 1.875) and prices.min() == pytest.approx(0.3)


# --- errors name the file, the line and the field ---------------------------------------------------


BROKEN = """\
name: broken
site:
  name: Broken site
  latitude: 41.8
  longitude: 123.4
  assets:
    - kind: grid
      name: grid
      import_limit_kw: 1000
      tariff: {preset: liaoning}
    - kind: battery
      name: battery
      capacity_kwh: 100
      charge_power_kw: 50
      discharge_power_kw: 50
      soc_min_frac: 0.95
      soc_max_frac: 0.9
    - kind: load
      name: load
      power_kw: $inputs.load
horizon:
  start: 2026-07-15
inputs:
  load: {csv: missing.csv, column: load_kw}
variants:
  negative:
    set:
      site.battery.capacity_kwh: -5
  typo:
    set:
      site.batery.capacity_kwh: 5
"""


def _issues(error: ScenarioError) -> list[str]:
    return [str(i) for i in error.issues]


def test_cross_field_error_points_at_the_field_line(tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN)
    with pytest.raises(ScenarioError) as caught:  # cross-field checks run when the file loads
        load_scenario(path)
    lines = _issues(caught.value)
    file = str(path)
    assert f"{file}:16: site.battery.soc_min_frac: 0.95 is above soc_max_frac 0.9" in lines
    fixed = write(tmp_path, BROKEN.replace("soc_min_frac: 0.95", "soc_min_frac: 0.1"))
    with pytest.raises(ScenarioError) as caught:
        check_case(load_scenario(fixed).base())
    assert any(line.startswith(f"{fixed}:24: inputs.load.csv: file not found") for line in _issues(caught.value))


def test_variant_errors_point_at_the_override(tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN.replace("soc_min_frac: 0.95", "soc_min_frac: 0.1"))
    document = load_scenario(path)
    with pytest.raises(ScenarioError) as caught:
        document.variant("negative")
    (line,) = _issues(caught.value)
    assert line.startswith(f"{path}:28: site.battery.capacity_kwh: -5: input should be greater than 0")
    assert line.endswith("(in negative)")
    with pytest.raises(ScenarioError) as caught:
        document.variant("typo")
    (line,) = _issues(caught.value)
    where = f"{path}:31: variants.typo.set.site.batery.capacity_kwh"
    assert line == f"{where}: no asset named 'batery' (assets: grid, battery, load)"


def test_schema_errors_name_line_and_field(tmp_path: Path) -> None:
    text = BROKEN.replace("      soc_max_frac: 0.9\n", "      soc_max_frac: 0.9\n      capacty: 3\n").replace(
        "$inputs.load", "$inputs.lod"
    )
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    lines = _issues(caught.value)
    assert f"{path}:18: site.battery.capacty: unknown field 'capacty' (did you mean 'capacity_kwh'?)" in lines
    assert f"{path}:21: site.load.power_kw: no input named 'lod' (inputs: load)" in lines


def test_yaml_syntax_and_missing_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nsite: [unclosed\n", "syntax.yaml")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert _issues(caught.value)[0].startswith(f"{path}:3: not valid YAML")
    path = write(tmp_path, "name: x\nsite:\n  name: s\n  latitude: 95\n  longitude: 1\n  assets: []\n", "missing.yaml")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    lines = _issues(caught.value)
    assert f"{path}:4: site.latitude: 95: input should be less than or equal to 90" in lines
    assert any(line.startswith(f"{path}:1: horizon: is required") for line in lines)


def test_series_of_the_wrong_sign_names_input_and_time(tmp_path: Path) -> None:
    text = TINY.replace("      power_kw: 100", "      power_kw: $inputs.price").replace(
        "[0.2, 0.2, 0.2", "[-0.2, 0.2, 0.2"
    )
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        check_case(load_scenario(path).base())
    (line,) = _issues(caught.value)
    assert line == (
        f"{path}:{line_of(text, 'power_kw: $inputs.price')}: site.load.power_kw: -0.2: input should be greater than "
        "or equal to 0 (from $inputs.price at step 0 (2026-07-15 00:00))"
    )


# --- overrides --------------------------------------------------------------------------------------


def test_dotted_paths_address_assets_by_name() -> None:
    data = {"site": {"assets": [{"name": "grid"}, {"name": "battery", "capacity_kwh": 1000, "x": [1.0, 2.0]}]}}
    assert apply(data, "site.battery.capacity_kwh", {"add": 2000}) == ("site", "assets", 1, "capacity_kwh")
    assert data["site"]["assets"][1]["capacity_kwh"] == 3000
    apply(data, "site.battery.x", {"scale": 2})
    assert data["site"]["assets"][1]["x"] == [2.0, 4.0]
    apply(data, "site.targets.green_share.min_frac", 0.6)
    assert data["site"]["targets"] == {"green_share": {"min_frac": 0.6}}
    with pytest.raises(OverrideError, match="no asset named 'batery'"):
        apply(data, "site.batery.capacity_kwh", 1)
    with pytest.raises(OverrideError, match="is a value"):
        apply(data, "site.battery.capacity_kwh.kwh", 1)


# --- inputs -----------------------------------------------------------------------------------------


def test_csv_inputs_hold_average_and_repeat(tmp_path: Path) -> None:
    hours = pd.date_range("2018-01-01", "2018-12-31 23:00", freq="h")
    pd.DataFrame({"t": hours.strftime("%Y-%m-%d %H:%M"), "v": np.arange(len(hours), dtype=float)}).to_csv(
        tmp_path / "year.csv", index=False
    )
    pd.DataFrame({"time": ["00:00", "12:00"], "v": [1.0, 3.0]}).to_csv(tmp_path / "day.csv", index=False)
    text = TINY.replace(
        "inputs:\n",
        "inputs:\n"
        "  year: {csv: year.csv, column: v, repeat: yearly}\n"
        "  weekday: {csv: year.csv, column: v, repeat: yearly, align: weekday}\n"
        "  day: {csv: day.csv, column: v, repeat: daily, scale: 2, offset: 1}\n",
    )
    inputs = Inputs(load_scenario(write(tmp_path, text)).base())
    quarter = pd.date_range("2026-03-01", periods=8, freq="15min", tz="Asia/Shanghai")
    start = (pd.Timestamp("2018-03-01") - pd.Timestamp("2018-01-01")) // pd.Timedelta(hours=1)
    assert inputs.values("year", quarter).tolist() == [start] * 4 + [start + 1] * 4  # held over quarter-hours
    two_hours = pd.date_range("2026-03-01", periods=2, freq="2h", tz="Asia/Shanghai")
    assert inputs.values("year", two_hours).tolist() == [start + 0.5, start + 2.5]  # averaged
    # 2026-03-01 is a Sunday; 2018-03-04 is the nearest Sunday to 2018-03-01
    assert inputs.values("weekday", quarter[:1])[0] == start + 3 * 24
    noon = pd.date_range("2026-07-15 11:00", periods=3, freq="h", tz="Asia/Shanghai")
    assert inputs.values("day", noon).tolist() == [3.0, 7.0, 7.0]
    new_year = pd.date_range("2026-12-31 23:00", periods=2, freq="h", tz="Asia/Shanghai")
    assert inputs.values("year", new_year) == pytest.approx([len(hours) - 1, 0])  # wraps around the reference year


def test_input_that_does_not_cover_the_run(tmp_path: Path) -> None:
    pd.DataFrame({"t": ["2026-07-15 00:00", "2026-07-15 12:00"], "v": [1.0, 2.0]}).to_csv(
        tmp_path / "short.csv", index=False
    )
    text = TINY.replace("      power_kw: 100", "      power_kw: $inputs.short").replace(
        "inputs:\n", "inputs:\n  short: {csv: short.csv, column: v}\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        check_case(load_scenario(path).base())
    (line,) = _issues(caught.value)
    where = line_of(text, "  short:")
    assert line.startswith(f"{path}:{where}: inputs.short.repeat: short.csv covers 2026-07-15 00:00:00+08:00 to")


# --- variants, sweeps, rolling runs -------------------------------------------------------------------


def test_rolling_two_days_carries_soc_and_peak_across_midnight(tiny: Path) -> None:
    run = run_case(load_scenario(tiny).base())
    soc = run.schedule["battery.soc_kwh"]
    day1, day2 = run.schedule.loc["2026-07-15"], run.schedule.loc["2026-07-16"]
    # Day 1 by hand: charge 80 kWh in the six cheap hours at 80/6 kW each (a flat 113.3 kW peak), discharge
    # 20 kWh at 1.0, end at the 80 kWh target: 680 kWh x 0.2 + 1,780 kWh x 1.0 = 1,916 CNY; peak 113.3 kW.
    assert soc.loc["2026-07-15 23:00"] == pytest.approx(80.0, abs=1e-6)
    assert run.daily_kpis[0].cost_cny_by_component["grid_energy"] == pytest.approx(1916.0, abs=1e-6)
    assert run.daily_kpis[0].cost_cny_by_component["demand_charge"] == pytest.approx(100 / 6 * 0.8 + 100, abs=1e-6)
    # Day 2 starts at 80 kWh (not the file's 20): midnight balance and only 20 kWh to buy cheaply.
    first = day2.iloc[0]
    assert first["battery.soc_kwh"] == pytest.approx(80.0 + first["battery.charge_kw"] - first["battery.discharge_kw"])
    assert (day2["battery.charge_kw"] - day2["battery.discharge_kw"]).sum() == pytest.approx(0.0, abs=1e-6)
    assert run.daily_kpis[1].cost_cny_by_component["grid_energy"] == pytest.approx(620 * 0.2 + 1780 * 1.0, abs=1e-6)
    # the month-to-date peak (113.3 kW) was carried: day 2 may import up to it and pays no demand charge
    assert day2["grid.import_kw"].max() <= day1["grid.import_kw"].max() + 1e-6
    assert run.daily_kpis[1].cost_cny_by_component.get("demand_charge", 0.0) == pytest.approx(0.0, abs=1e-6)
    assert run.kpis.energy_cost_cny == pytest.approx(sum(k.energy_cost_cny for k in run.daily_kpis))


def test_month_to_date_peak_resets_on_a_new_month(tiny: Path) -> None:
    case = with_dates(load_scenario(tiny).base(), start=pd.Timestamp("2026-07-31").date(), days=2)
    run = run_case(case)
    # 1 August: a new month, so the day's own peak (100 kW + 20 kWh / 6 h) is charged
    assert run.days[1].period == "2026-08-01"
    assert run.daily_kpis[1].cost_cny_by_component["demand_charge"] == pytest.approx(100 + 20 / 6, abs=1e-6)


def test_switched_units_carry_state_and_time_in_state(tiny: Path) -> None:
    case = load_scenario(tiny).base()
    periods = case_periods(case)
    problem = build_problem(case, periods[0]).model_copy()
    from optimizer import ChillerSpec, CompressorSpec

    unit = CompressorSpec(name="c1", rated_flow_m3_per_min=10, min_up_minutes=60, initial_on=True)
    chiller = ChillerSpec(name="ch", cooling_capacity_kw=100, chilled_water_cop=5, min_down_minutes=120)
    problem = problem.model_copy(update={"assets": [*problem.assets, unit, chiller]})
    on = np.zeros(24)
    on[20:] = 1.0  # on for the last 4 hours
    schedule = pd.DataFrame(
        {"c1.on": on, "ch.on": 1.0 - on, "battery.soc_kwh": np.full(24, 55.0), "grid.import_kw": np.full(24, 90.0)},
        index=problem.horizon.index,
    )
    state = carried_state(problem, schedule, periods[1].horizon.index[0], problem)
    assert state["c1"] == {"initial_on": True, "initial_minutes_in_state": 240.0}
    assert state["ch"] == {"initial_on": False, "initial_minutes_in_state": 240.0}
    assert state["battery"] == {"initial_soc_frac": 0.55, "end_soc_frac": 0.8}
    assert state["grid"] == {"month_to_date_peak_kw": 90.0}


def test_a_group_carries_its_units_running(tiny: Path) -> None:
    case = load_scenario(tiny).base()
    periods = case_periods(case)
    from optimizer import CompressorSpec

    group = CompressorSpec(name="g", units=3, rated_flow_m3_per_min=10, min_up_minutes=60, initial_on=True)
    problem = build_problem(case, periods[0])
    problem = problem.model_copy(update={"assets": [*problem.assets, group]})
    on = np.full(24, 3.0)
    on[22:] = 2.0  # one unit stopped for the last 2 hours
    schedule = pd.DataFrame({"g.on": on}, index=problem.horizon.index)
    state = carried_state(problem, schedule, periods[1].horizon.index[0], problem)
    assert state["g"] == {"initial_on": True, "initial_units_on": 2, "initial_minutes_in_state": 120.0}
    nxt = group.model_copy(update=state["g"])
    assert nxt.units_on_at_start == 2


def test_variant_and_sweep_counts_and_monotonic_storage_value(tmp_path: Path) -> None:
    # end SOC = initial SOC (20 %), so a bigger battery adds options and never forces a purchase
    document = load_scenario(write(tmp_path, TINY.replace("end_soc_frac: 0.8", "end_soc_frac: 0.2")))
    runs = run_cases(document.variants(), jobs=1, show_progress=False)
    assert [r.label for r in runs] == ["base", "bigger"]
    assert runs[1].kpis.objective_cny <= runs[0].kpis.objective_cny + 1e-6
    points = document.sweep("size")
    assert len(points) == 5 and [p.parameters["site.battery.capacity_kwh"] for p in points] == [25, 50, 100, 200, 400]
    sweep = run_cases([with_dates(p, days=1) for p in points], jobs=2, show_progress=False)  # small: runs here
    assert [r.label for r in sweep] == [f"size[{i}]" for i in range(5)]
    costs = [r.kpis.objective_cny for r in sweep]
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(costs)), costs  # more storage never costs more
    assert costs[-1] < costs[0]


def test_split_months_runs_each_month_from_the_file_state(tiny: Path) -> None:
    case = with_dates(load_scenario(tiny).base(), start=pd.Timestamp("2026-07-30").date(), days=4)
    (sequential,) = run_cases([case], jobs=1, show_progress=False)
    (split,) = run_cases([case], jobs=2, show_progress=False, split_months=True)
    assert [d.period for d in split.days] == [d.period for d in sequential.days]
    # August starts from the file's 20 kWh instead of the carried 80 kWh: it buys 60 kWh more at 0.2 CNY
    assert split.daily_kpis[2].energy_cost_cny - sequential.daily_kpis[2].energy_cost_cny == pytest.approx(
        60 * 0.2 + 10, abs=1e-6
    )
    assert split.daily_kpis[0].energy_cost_cny == pytest.approx(sequential.daily_kpis[0].energy_cost_cny)


def test_combined_kpis_recompute_shares_from_energies() -> None:
    def kpis(pv: float, export: float, imported: float) -> Kpis:
        return Kpis(
            cost_cny_by_component={"grid_energy": imported},
            energy_cost_cny=imported,
            objective_cny=imported,
            emissions_location_kgco2=0.5 * imported,
            emissions_market_kgco2=0.6 * imported,
            consumption_kwh=imported + pv - export,
            import_kwh=imported,
            export_kwh=export,
            green_contract_kwh=0.0,
            pv_available_kwh=pv,
            pv_output_kwh=pv,
            curtailment_kwh=0.0,
            pv_self_consumption_frac=(pv - export) / pv,
            green_share_frac=(pv - export) / (imported + pv - export),
            peak_import_kw=imported / 10,
            max_balance_residual_kw=0.0,
        )

    total = combine_kpis([kpis(100, 50, 100), kpis(300, 0, 100)])
    assert total.pv_self_consumption_frac == pytest.approx(350 / 400)  # not the mean of 0.5 and 1.0
    assert total.green_share_frac == pytest.approx(350 / 550)
    assert total.peak_import_kw == 10 and total.energy_cost_cny == 200


def test_weather_and_history_inputs_through_forecasting(tmp_path: Path) -> None:
    pytest.importorskip("forecasting.pv")
    epw = ROOT / "forecasting" / "data" / "CHN_Liaoning.Shenyang.543420_CSWD.epw"
    if not epw.exists():
        pytest.skip("the forecasting package's typical year is not bundled here")
    path = write(
        tmp_path,
        f"""\
        name: forecasts
        site:
          name: s
          latitude: 41.73
          longitude: 123.45
          pv_arrays:
            - {{name: roof, dc_kwp: 500, mount: {{kind: fixed, tilt_deg: 30}}}}
          assets:
            - {{kind: grid, name: grid, import_limit_kw: 2000, tariff: {{preset: liaoning}}}}
            - {{kind: pv, name: pv, available_kw: $inputs.pv}}
            - {{kind: load, name: load, power_kw: $inputs.load}}
        horizon: {{start: 2018-07-16, days: 2}}
        inputs:
          pv: {{weather: {epw}}}
          load: {{history: bundled:steel_load_2018_15min.csv, column: load_kw}}
        """,
    )
    run = run_case(load_scenario(path).base())
    assert [d.status for d in run.days] == ["optimal", "optimal"]
    pv = run.schedule["pv.available_kw"]
    assert pv.max() <= 500 and pv.between_time("20:00", "03:00").max() == 0.0 and pv.sum() / 4 > 1000
    # the load forecast for each day uses only the history before it (day-ahead, no peeking)
    assert run.schedule["load.power_kw"].min() >= 0 and run.schedule["load.power_kw"].sum() > 0


def test_the_site_load_model_drives_history_inputs(tmp_path: Path) -> None:
    """``site.load_model``: seasonal naive repeats last week's meter values; a shutdown day changes the profile."""
    pytest.importorskip("forecasting.load")
    template = """\
        name: load_model
        site:
          name: s
          load_model: {model}
          assets:
            - {{kind: grid, name: grid, import_limit_kw: 100000, tariff: {{preset: liaoning}}}}
            - {{kind: load, name: load, power_kw: $inputs.load}}
        horizon: {{start: 2018-07-16, days: 1}}
        inputs:
          load: {{history: bundled:steel_load_2018_15min.csv, column: load_kw}}
        """

    def forecast(model: str) -> np.ndarray:
        case = load_scenario(write(tmp_path, template.format(model=model))).base()
        problem = build_problem(case, case_periods(case)[0])
        return np.asarray(problem.assets[1].power_kw, dtype=float)

    meter = pd.read_csv(ROOT / "scenarios" / "data" / "steel_load_2018_15min.csv")
    stamps = pd.to_datetime(meter.iloc[:, 0])
    week_before = meter.loc[(stamps >= "2018-07-09") & (stamps < "2018-07-10"), "load_kw"].to_numpy(dtype=float)
    assert forecast("{method: seasonal_naive}") == pytest.approx(week_before)
    profile = forecast("{}")
    shut = forecast("{shutdown_days: [2018-07-16]}")  # the Monday becomes a day off: another day type's profile
    assert profile.shape == shut.shape == (96,)
    assert np.abs(profile - shut).max() > 1.0


def test_a_variant_that_sets_a_price_series_drops_the_tariff() -> None:
    from scenarios.overrides import apply

    data = {
        "site": {"assets": [{"kind": "grid", "name": "grid", "import_limit_kw": 100, "tariff": {"preset": "liaoning"}}]}
    }
    apply(data, "site.grid.import_price_cny_per_kwh", 0.5)
    assert data["site"]["assets"][0] == {
        "kind": "grid",
        "name": "grid",
        "import_limit_kw": 100,
        "import_price_cny_per_kwh": 0.5,
    }
