"""What the command line prints, read as a user reads it: in a pipe or an 80-column terminal.

- ``dispatch demo`` says which site and day it solved, the status, the cost, where its files went (``out/demo``
  by default, with an HTML report) and how to open the report;
- every help text gives its unit;
- ``dispatch validate`` lists every problem of every variant and sweep point in one pass;
- comparison and sweep tables fit 80 columns with every name whole, sweep points named by their values and
  compared with the file as written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]

# One day of a small site; variants whose names share a long prefix (a table that cuts names would show the same
# stub twice), two of them broken the same way in the broken copy.
SCENARIO = """\
name: narrow
description: tables in an 80-column terminal
site:
  name: Narrow test site
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
horizon: {start: 2026-07-15, days: 1}
inputs:
  pv: {csv: profiles.csv, column: pv_kw, repeat: daily}
  load: {csv: profiles.csv, column: load_kw, repeat: daily}
variants:
  storage_extension_with_more_power:
    set:
      site.battery.capacity_kwh: {add: 1000}
      site.battery.charge_power_kw: 500
  storage_extension_with_less_power:
    set:
      site.battery.capacity_kwh: {add: 1000}
      site.battery.charge_power_kw: 125
  storage_extension_without_export:
    set:
      site.grid.export_limit_kw: 0
sweeps:
  battery:
    parameters:
      site.battery.capacity_kwh: [250, 500, 1000]
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("narrow")
    day = pd.read_csv(ROOT / "scenarios" / "data" / "default_day_shenyang.csv")
    day.rename(columns={"pv_available_kw": "pv_kw"}).to_csv(folder / "profiles.csv", index=False)
    (folder / "narrow.yaml").write_text(SCENARIO, encoding="utf-8")
    return folder


def dispatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m scenarios.cli`` with its output piped, as in CI or ``| less``: no COLUMNS, not a terminal."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-m", "scenarios.cli", *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env
    )


def words(text: str) -> str:
    """The text with line breaks and runs of spaces as single spaces (wrapped lines read as one)."""
    return " ".join(text.split())


def header_names(output: str) -> list[list[str]]:
    """The column headers of each rich table in ``output``, a wrapped header's lines joined."""
    tables: list[list[str]] = []
    rows: list[list[str]] | None = None
    for line in output.splitlines():
        if line.startswith("┏"):
            rows = []
        elif line.startswith("┡") and rows is not None:
            columns = zip(*rows, strict=True)
            tables.append(["".join(part for part in column if part) for column in columns])
            rows = None
        elif rows is not None and line.startswith("┃"):
            rows.append([cell.strip() for cell in line.strip("┃").split("┃")])
    return tables


def long_lines(output: str, width: int = 80) -> list[str]:
    """Lines wider than ``width``, but for the report's address (a URL is not broken)."""
    return [line for line in output.splitlines() if len(line) > width and "file://" not in line]


def test_demo_says_what_it_did_and_writes_a_report_by_default(tmp_path: Path) -> None:
    done = dispatch("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = words(done.stdout)
    assert "Site: Shenyang factory" in text and "41.73° N, 123.45° E, Asia/Shanghai" in text
    assert "Day: 2026-07-15 (Wednesday), 96 steps of 15 min" in text
    assert "Result: optimal; energy cost" in text and "less than the rule-based baseline" in text
    folder = Path("out") / "demo"
    assert f"wrote {folder}/: schedule.csv" in text and "report.html" in text
    assert f"open the report: python -m webbrowser {folder / 'report.html'}" in text
    assert (tmp_path / folder / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert len(pd.read_csv(tmp_path / folder / "schedule.csv")) == 96
    payload = json.loads((tmp_path / folder / "kpis.json").read_text())
    assert payload["site"]["name"].startswith("Shenyang factory") and payload["status"] == "optimal"
    # the baseline's notes say what the rule did and why it matters, once (no "baseline: baseline ...")
    assert "baseline: baseline" not in text
    assert "the rule-based baseline runs chiller_2 below its min load at" in text
    assert "not a feasible plan there" in text
    assert not long_lines(done.stdout)


def test_every_help_text_gives_its_unit() -> None:
    from typer.testing import CliRunner

    from scenarios.cli import app

    runner = CliRunner()
    texts = {}
    for command in ("demo", "run", "compare", "sweep", "replay", "validate", "schema", "serve"):
        done = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"}, terminal_width=200)
        assert done.exit_code == 0, done.output
        texts[command] = words(done.output)
        assert " ." not in texts[command], texts[command]  # a unit in [brackets] is eaten by the help's markup
    assert "Solver time limit, in seconds." in texts["demo"]
    assert "as a fraction (1e-4 = 0.01 %)" in texts["demo"]
    assert "Number of days in one horizon" in texts["demo"]
    for command in ("run", "compare", "sweep"):
        assert "Number of parallel solver processes" in texts[command]
        assert "Number of days from --start" in texts[command]
        assert "(YYYY-MM-DD)" in texts[command]
    assert "a duration (1h, 30min, 2h)" in texts["replay"]


def test_validate_lists_every_broken_variant_and_sweep_point(folder: Path) -> None:
    broken = folder / "broken.yaml"
    text = SCENARIO.replace("charge_power_kw: 500\n", "charge_power_kw: 500\n      site.battery.soc_max_frac: 0.05\n")
    text = text.replace("charge_power_kw: 125\n", "charge_power_kw: 125\n      site.battery.soc_max_frac: 0.05\n")
    text = text.replace("export_limit_kw: 0\n", "export_limit_kw: -1\n")
    text = text.replace("[250, 500, 1000]", "[250, -500, 1000, -3]")
    broken.write_text(text, encoding="utf-8")
    done = dispatch("validate", broken.name, cwd=folder)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.startswith("error ")]
    soc = [line for line in lines if "0.1 is above soc_max_frac 0.05" in line]
    # both variants that lower soc_max_frac, on one line (the same problem at the same line of the file)
    assert len(soc) == 1 and soc[0].startswith("error broken.yaml:")
    assert soc[0].endswith("(in storage_extension_with_more_power, storage_extension_with_less_power)")
    assert any("site.grid.export_limit_kw: -1" in line and "storage_extension_without_export" in line for line in lines)
    assert any(line.endswith("(in sweep battery at battery.capacity_kwh=-500)") for line in lines)
    assert any(line.endswith("(in sweep battery at battery.capacity_kwh=-3)") for line in lines)
    assert len(lines) == 4
    assert "broken.yaml: 4 problem(s); checked the base, 3 variant(s), 4 sweep point(s)" in done.stderr

    done = dispatch("validate", "narrow.yaml", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "narrow.yaml: ok (the base, 3 variant(s), 3 sweep point(s), 1 period(s) per run)" in done.stdout


def test_compare_table_fits_80_columns_with_whole_names(folder: Path) -> None:
    done = dispatch("compare", "narrow.yaml", "--out", "compare", "--no-progress", "-j", "1", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert not long_lines(done.stdout), long_lines(done.stdout)
    assert "…" not in done.stdout
    names = [name for table in header_names(done.stdout) for name in table]
    assert names[0] == "KPI" and "base" in names
    variants = ["storage_extension_with_more_power", "storage_extension_with_less_power"]
    variants.append("storage_extension_without_export")
    assert set(variants) <= set(names)
    assert "changes vs base, the file as written" in words(done.stdout)
    rows = [line for line in done.stdout.splitlines() if line.startswith("│ energy cost")]
    assert rows and all(line.count("│") >= 3 for line in rows)  # a value per run, one line each


def test_sweep_is_labelled_by_value_against_the_file_as_written(folder: Path) -> None:
    done = dispatch("sweep", "narrow.yaml", "--out", "sweep", "--no-progress", "-j", "1", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert not long_lines(done.stdout), long_lines(done.stdout)
    text = words(done.stdout)
    assert "sweep battery of battery.capacity_kwh" in text and "changes vs base, the file as written" in text
    (headers,) = header_names(done.stdout)
    assert headers == ["KPI", "base", "250", "500", "1000"]
    table = pd.read_csv(folder / "sweep" / "sweep.csv").set_index("run")
    assert list(table.index) == [
        "base",
        "battery.capacity_kwh=250",
        "battery.capacity_kwh=500",
        "battery.capacity_kwh=1000",
    ]
    assert table.loc["base", "energy_cost_cny_vs_base"] == 0
    # 500 kWh is the file's own battery: the same problem as the base, so no change against it (not against 250)
    assert table.loc["battery.capacity_kwh=500", "energy_cost_cny_vs_base"] == pytest.approx(0, abs=1.0)
    assert table.loc["battery.capacity_kwh=250", "energy_cost_cny_vs_base"] > 0
