"""The README's main command, run as a user would (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest


def test_demo_writes_schedule_and_kpis(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "scenarios.cli", "demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "saving over the rule-based baseline" in completed.stdout
    payload = json.loads((tmp_path / "kpis.json").read_text())
    assert payload["status"] in ("optimal", "feasible")
    assert payload["schedule_source"] == "optimizer"
    # each written to 0.01 CNY from the exact value: the difference of two may be 0.01 off
    assert payload["saving_cny"] == pytest.approx(
        payload["baseline_kpis"]["energy_cost_cny"] - payload["kpis"]["energy_cost_cny"], abs=0.011
    )
    assert (tmp_path / "report.html").exists() and (tmp_path / "days.csv").exists()
    schedule = pd.read_csv(tmp_path / "schedule.csv", index_col="interval_start")
    assert len(schedule) == 96
    assert schedule.index[0] == "2026-07-15 00:00:00+08:00"
    assert {"grid.import_kw", "battery.soc_kwh", "chiller_1.power_kw", "gas_boiler.gas_nm3_per_h"} <= set(
        schedule.columns
    )
    assert payload["kpis"]["max_balance_residual_kw"] < 1e-6
    assert payload["kpis"]["pv_self_consumption_frac"] >= 0.70 - 1e-9


def test_demo_rejects_a_bad_date() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "scenarios.cli", "demo", "--date", "2026-02-30"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode != 0
    assert "2026-02-30" in completed.stdout + completed.stderr
