"""Start-up: ``dispatch`` and the API import only what the command needs (behaviour, not timing).

Each check runs a fresh interpreter and reads ``sys.modules`` after the import or the command: heavy packages a
command does not use must not be loaded (pvlib, scipy: PV forecasts; plotly, jinja2: HTML reports; SQLAlchemy: the
service's database; openpyxl: the annual workbook; dask/distributed: ``--cluster``; the optimizer, Pyomo and pandas:
solving).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

REPORTS = ["plotly", "jinja2"]
PV = ["pvlib", "scipy"]
DATABASE = ["sqlalchemy"]
WORKBOOK = ["openpyxl"]
CLUSTER = ["dask", "distributed"]
SOLVING = ["optimizer", "pyomo", "pandas", "highspy"]
TEST_TOOLS = ["hypothesis", "pytest"]

_PROBE = """
import json, sys
{code}
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}})))
"""


def _loaded(code: str, cwd: Path = ROOT) -> set[str]:
    """The top-level packages loaded after running ``code`` in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(code=code)], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_cli_module_loads_no_heavy_package() -> None:
    """``import scenarios.cli`` (what ``dispatch --help`` pays) loads typer and rich, not what commands need."""
    loaded = _loaded("import scenarios.cli")
    assert loaded.isdisjoint(REPORTS + PV + DATABASE + WORKBOOK + CLUSTER + SOLVING + TEST_TOOLS), loaded & set(
        REPORTS + PV + DATABASE + WORKBOOK + CLUSTER + SOLVING + TEST_TOOLS
    )


def test_help_loads_no_heavy_package() -> None:
    code = """
from scenarios.cli import app
try:
    app(["--help"])
except SystemExit:
    pass
"""
    loaded = _loaded(code)
    assert loaded.isdisjoint(REPORTS + PV + DATABASE + WORKBOOK + CLUSTER + SOLVING), loaded


@pytest.fixture
def one_day(tmp_path: Path) -> Path:
    """A one-day scenario with inline inputs: grid, PV, a load and a battery (no weather file, no database)."""
    values = [0.0] * 7 + [150.0, 400.0, 600.0, 700.0, 700.0, 650.0, 500.0, 300.0, 100.0] + [0.0] * 8
    path = tmp_path / "one_day.yaml"
    path.write_text(
        f"""
name: one_day
site:
  name: one day
  tz: Asia/Shanghai
  assets:
    - {{kind: grid, name: grid, import_limit_kw: 2000, export_limit_kw: 0,
        tariff: {{preset: liaoning, flat_price_cny_per_kwh: 0.6}}}}
    - {{kind: pv, name: pv, available_kw: $inputs.pv}}
    - {{kind: load, name: load, power_kw: $inputs.load}}
    - {{kind: battery, name: battery, capacity_kwh: 400, charge_power_kw: 200, discharge_power_kw: 200}}
horizon: {{start: 2026-07-15, days: 1, step_minutes: 15}}
inputs:
  pv: {{values: {values}}}
  load: {{values: {[300.0] * 8 + [650.0] * 10 + [300.0] * 6}}}
"""
    )
    return path


def test_dispatch_run_of_one_day_loads_what_it_needs_only(one_day: Path, tmp_path: Path) -> None:
    """``dispatch run`` solves and writes the HTML report (the optimizer, plotly, jinja2), but a file with inline
    inputs needs no pvlib, no database, no workbook (no ``--annual``) and no cluster."""
    code = f"""
from scenarios.cli import app
try:
    app(["run", {str(one_day)!r}, "--no-progress", "--out", {str(tmp_path / "out")!r}])
except SystemExit as exit:
    assert not exit.code, exit.code
"""
    loaded = _loaded(code)
    assert {"optimizer", "pyomo", "plotly", "jinja2"} <= loaded  # it did solve and write the report
    assert loaded.isdisjoint(PV + DATABASE + WORKBOOK + CLUSTER + TEST_TOOLS), loaded & set(
        PV + DATABASE + WORKBOOK + CLUSTER + TEST_TOOLS
    )
    assert (tmp_path / "out" / "report.html").exists()


def test_the_api_loads_no_pv_report_workbook_or_cluster_package() -> None:
    """The API's app imports its database layer, not pvlib (only forecasts need it), plotly, openpyxl or Dask."""
    loaded = _loaded("import api.app")
    assert "sqlalchemy" in loaded
    assert loaded.isdisjoint(PV + REPORTS + WORKBOOK + CLUSTER + TEST_TOOLS), loaded & set(
        PV + REPORTS + WORKBOOK + CLUSTER + TEST_TOOLS
    )


def test_forecasting_modules_load_pvlib_only_when_they_model_pv() -> None:
    assert "pvlib" not in _loaded("import forecasting.metrics, forecasting.specs")
    assert "pvlib" in _loaded("from forecasting import forecast_pv")
