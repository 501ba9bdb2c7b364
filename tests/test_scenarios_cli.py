"""The scenario commands run as an engineer would: a real ``python -m scenarios.cli`` subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]

# Two days of a small site: PV from a CSV (one day, repeated daily), a load, a battery, a green contract.
SCENARIO = """\
name: short
description: a short what-if for the CLI test
site:
  name: CLI test site
  latitude: 41.73
  longitude: 123.45
  assets:
    - kind: grid
      name: grid
      import_limit_kw: 2000
      export_limit_kw: 500
      tariff: {preset: liaoning, flat_price_cny_per_kwh: 0.62}
      export_price_cny_per_kwh: 0.3749
      demand_charge_cny_per_kw_month: 35
      month_to_date_peak_kw: 900
    - {kind: pv, name: pv_roof, available_kw: $inputs.pv}
    - {kind: load, name: plant, power_kw: $inputs.load}
    - {kind: battery, name: battery, capacity_kwh: 500, charge_power_kw: 250, discharge_power_kw: 250}
    - {kind: green_contract, name: green, pricing: certificate, price_cny_per_kwh: 0.0056, max_energy_kwh: 3000}
  objective: {carbon_price_cny_per_tco2: 50}
horizon: {start: 2026-07-15, days: 2}
inputs:
  pv: {csv: profiles.csv, column: pv_kw, repeat: daily}
  load: {csv: profiles.csv, column: load_kw, repeat: daily}
variants:
  storage_plus_1mwh:
    description: "+1 MWh of storage"
    set:
      site.battery.capacity_kwh: {add: 1000}
      site.battery.charge_power_kw: 500
      site.battery.discharge_power_kw: 500
  green_plus_005:
    description: certificates 0.05 CNY/kWh dearer
    set:
      site.green.price_cny_per_kwh: {add: 0.05}
sweeps:
  battery:
    parameters:
      site.battery.capacity_kwh: [250, 500, 1000]
"""


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    day = pd.read_csv(ROOT / "scenarios" / "data" / "default_day_shenyang.csv")
    day.rename(columns={"pv_available_kw": "pv_kw"}).to_csv(folder / "profiles.csv", index=False)
    path = folder / "short.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def dispatch(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scenarios.cli", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def test_run_writes_schedule_kpis_and_report(scenario: Path, tmp_path: Path) -> None:
    done = dispatch("run", str(scenario), "--out", str(tmp_path), "--no-progress")
    assert done.returncode == 0, done.stderr
    schedule = pd.read_csv(tmp_path / "schedule.csv", index_col="interval_start")
    assert len(schedule) == 192
    assert schedule.index[0] == "2026-07-15 00:00:00+08:00" and schedule.index[96] == "2026-07-16 00:00:00+08:00"
    assert {"grid.import_kw", "battery.soc_kwh", "pv_roof.output_kw", "green.power_kw"} <= set(schedule.columns)
    baseline = pd.read_csv(tmp_path / "baseline_schedule.csv", index_col="interval_start")
    assert list(baseline.columns) == list(schedule.columns)
    payload = json.loads((tmp_path / "kpis.json").read_text())
    assert payload["periods"] == 2 and payload["fallback_periods"] == []
    assert payload["saving_cny"] == pytest.approx(  # each written to 0.01 CNY: a difference may be 0.01 off
        payload["baseline_kpis"]["energy_cost_cny"] - payload["kpis"]["energy_cost_cny"], abs=0.011
    )
    assert payload["kpis"]["max_balance_residual_kw"] < 1e-5
    assert [d["period"] for d in payload["days"]] == ["2026-07-15", "2026-07-16"]
    days = pd.read_csv(tmp_path / "days.csv")
    assert days["energy_cost"].sum() == pytest.approx(payload["kpis"]["energy_cost_cny"], abs=0.005 * (len(days) + 1))
    html = (tmp_path / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "Electricity dispatch" in html and "Storage levels" in html
    # one copy of plotly.js per output folder, beside the report: viewable offline, and the report stays small
    assert '<script type="text/javascript" src="plotly.min.js"' in html and len(html) < 300_000
    assert (tmp_path / "plotly.min.js").is_file()
    assert "energy cost" in done.stdout


def test_compare_writes_every_variant_and_the_comparison(scenario: Path, tmp_path: Path) -> None:
    done = dispatch("compare", str(scenario), "--out", str(tmp_path), "--days", "1", "--no-progress")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "comparison.csv")
    assert list(table["run"]) == ["base", "storage_plus_1mwh", "green_plus_005"]
    base = table.set_index("run")
    assert base.loc["base", "energy_cost_cny_vs_base"] == 0
    assert base.loc["storage_plus_1mwh", "objective_cny"] <= base.loc["base", "objective_cny"] + 1e-6
    assert base.loc["green_plus_005", "objective_cny"] >= base.loc["base", "objective_cny"] - 1e-6
    expected = base["energy_cost_cny"] - base.loc["base", "energy_cost_cny"]
    # every number is written to 0.01 CNY from its exact value: a difference of two may be 0.01 off
    assert base["energy_cost_cny_vs_base"].to_numpy() == pytest.approx(expected.to_numpy(), abs=0.011)
    assert base["saving_vs_rules_cny"].to_numpy() == pytest.approx(
        (base["rules_energy_cost_cny"] - base["energy_cost_cny"]).to_numpy(), abs=0.011
    )
    for label in ("base", "storage_plus_1mwh", "green_plus_005"):
        assert len(pd.read_csv(tmp_path / label / "schedule.csv")) == 96
        assert (tmp_path / label / "report.html").exists()
    html = (tmp_path / "comparison.html").read_text()
    assert "storage_plus_1mwh/report.html" in html and "Green share" in html
    runs = json.loads((tmp_path / "comparison.json").read_text())["runs"]
    assert [r["run"] for r in runs] == ["base", "storage_plus_1mwh", "green_plus_005"]


def test_sweep_validate_and_schema_in_process(scenario: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from scenarios.cli import app

    runner = CliRunner()
    out = tmp_path / "sweep"
    done = runner.invoke(app, ["sweep", str(scenario), "--out", str(out), "--days", "1", "--no-progress", "-j", "1"])
    assert done.exit_code == 0, done.output
    table = pd.read_csv(out / "sweep.csv")  # the base (the file as written) first, then the points by value
    assert list(table["run"]) == ["base", *[f"battery.capacity_kwh={v}" for v in (250, 500, 1000)]]
    assert list(table["param:site.battery.capacity_kwh"][1:]) == [250, 500, 1000]
    point = table.set_index("run").loc["battery.capacity_kwh=500"]  # the file's own battery: no change
    assert point["energy_cost_cny_vs_base"] == pytest.approx(0, abs=1.0)
    assert (out / "sweep.html").exists()

    assert runner.invoke(app, ["validate", str(scenario)]).exit_code == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text(SCENARIO.replace("capacity_kwh: 500,", "capacity_kwh: 500, soc_min_frac: 0.95,"))
    done = dispatch("validate", str(broken))  # a real process: exit code and stderr as a shell sees them
    assert done.returncode == 1
    line = SCENARIO.splitlines().index(next(s for s in SCENARIO.splitlines() if "kind: battery" in s)) + 1
    assert f"{broken}:{line}: site.battery.soc_min_frac: 0.95 is above soc_max_frac 0.9" in done.stderr

    done = runner.invoke(app, ["schema"])
    assert done.exit_code == 0 and json.loads(done.stdout)["title"] == "Dispatch scenario"
