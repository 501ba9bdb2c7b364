"""The shipped scenario file ``shenyang_factory.yaml`` is the embedded full-factory default.

Run through the scenario pipeline it must build the problem the factory's former Python builder
(kept as the oracle in ``tests/factory_reference.py``) builds: the same assets, fields and input
series (PV, load, cooling, heat, compressed air), the
same horizon, targets and objective, and (solved) the same optimum. Checked for a summer day, a
winter day (other demand levels, the December sharp band) and the 7-day single horizon
(``rolling: false``; clock-time assets copied per day as ``<name>_d1`` .. ``_d7``).

The one difference by design: ``factory_problem`` rounds its PV forecast to 0.001 kW and the
scenario's weather input does not; the optimum moves by about 2e-8 of the cost (measured: -0.0002 CNY
on 10,854 CNY). The week is compared spec by spec and not solved (two solves of the week take
well over 20 s at a tight gap).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from optimizer import DispatchProblem, SolveOptions, solve
from scenarios.loader import Case, ScenarioDocument, load_scenario
from scenarios.overrides import apply
from scenarios.pipeline import build_problem, case_periods, with_dates
from scenarios.spec import ScenarioFile
from tests.factory_reference import factory_problem  # the Python-built oracle

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "examples" / "shenyang_factory.yaml"
SUMMER, WINTER = dt.date(2026, 7, 15), dt.date(2026, 12, 15)
CERTIFICATES_KWH_PER_DAY = 5000.0
PV_ROUNDING_KW = 5e-4  # factory_problem rounds PV to 0.001 kW
SERIES = {  # asset -> series field read from the scenario's inputs
    "pv_roof": "available_kw",
    "process_load": "power_kw",
    "process_cooling": "cooling_kw",
    "workshop_heat": "heat_kw",
    "compressed_air": "flow_m3_per_min",
}
OPTIONS = SolveOptions(time_limit_s=300, mip_rel_gap=1e-6)


@pytest.fixture(scope="module")
def document() -> ScenarioDocument:
    return load_scenario(EXAMPLE)


def scenario_case(document: ScenarioDocument, date: dt.date, days: int) -> Case:
    """The file's base case on ``days`` days from ``date``: day-ahead for one day, one horizon for several."""
    base = document.base()
    if days == 1:
        return with_dates(base, start=date, days=1)
    # One horizon over several days (as factory_problem(days=N) builds it). The file's certificate
    # volume is per day and the pipeline does not scale it with the horizon: set it to N days' worth.
    data = copy.deepcopy(document.raw)
    data["horizon"] = {"start": date.isoformat(), "days": days, "rolling": False, "step_minutes": 15}
    apply(data, "site.green_certificates.max_energy_kwh", CERTIFICATES_KWH_PER_DAY * days)
    return dataclasses.replace(base, scenario=ScenarioFile.model_validate(data), data=data)


def scenario_problem(document: ScenarioDocument, date: dt.date, days: int) -> DispatchProblem:
    case = scenario_case(document, date, days)
    periods = case_periods(case)
    assert len(periods) == 1 and periods[0].horizon.n_steps == 96 * days
    return build_problem(case, periods[0])


def by_name(problem: DispatchProblem) -> dict[str, dict[str, Any]]:
    return {asset.name: asset.model_dump() for asset in problem.assets}


def test_the_file_validates_with_the_cli() -> None:
    from typer.testing import CliRunner

    from scenarios.cli import app

    done = CliRunner().invoke(app, ["validate", str(EXAMPLE)])
    assert done.exit_code == 0, done.output
    assert "ok" in done.output


def test_the_demands_csv_is_what_its_script_makes() -> None:
    from scenarios.data.make_factory_demands import OUT, demands_year

    bundled = pd.read_csv(OUT, index_col="interval_start", parse_dates=True)
    made = demands_year()
    assert len(bundled) == 35_040 and list(bundled.columns) == list(made.columns)
    np.testing.assert_array_equal(bundled.index, made.index)
    np.testing.assert_array_equal(bundled.to_numpy(float), made.to_numpy(float))


@pytest.mark.parametrize(("date", "days"), [(SUMMER, 1), (WINTER, 1), (SUMMER, 7)], ids=["summer", "winter", "week"])
def test_same_problem_as_factory_problem(document: ScenarioDocument, date: dt.date, days: int) -> None:
    mine, ref = scenario_problem(document, date, days), factory_problem(date, days)
    assert mine.horizon.model_dump() == ref.horizon.model_dump()
    assert mine.targets.model_dump() == ref.targets.model_dump()
    assert mine.objective.model_dump() == ref.objective.model_dump()
    assert mine.currency == ref.currency
    ours, theirs = by_name(mine), by_name(ref)
    # same names (for the week: dryers_d1..d7, heat_treatment_d1..d7, forklifts_d1..d7), listed
    # asset by asset instead of day by day; the model is built kind by kind, so the order does not matter
    assert sorted(ours) == sorted(theirs)
    if days > 1:
        assert {f"{n}_d{d}" for n in ("dryers", "heat_treatment", "forklifts") for d in range(1, days + 1)} <= set(ours)
    for name, fields in theirs.items():
        assert ours[name].keys() == fields.keys(), name
        for field, expected in fields.items():
            got = ours[name][field]
            if SERIES.get(name) == field:
                got, expected = np.asarray(got, float), np.asarray(expected, float)
                assert got.shape == expected.shape == (96 * days,), (name, field)
                if name == "pv_roof":  # identical pvlib forecast, rounded to 0.001 kW by factory_problem only
                    np.testing.assert_allclose(got, expected, rtol=0, atol=PV_ROUNDING_KW + 1e-9)
                    np.testing.assert_array_equal(got.round(3), expected)
                    assert expected.max() > 500  # a real PV day, not zeros on both sides
                else:
                    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9, err_msg=f"{name}.{field}")
            else:
                assert got == expected, (name, field, got, expected)


@pytest.mark.parametrize("date", [SUMMER, WINTER], ids=["summer", "winter"])
def test_same_optimum_as_factory_problem(document: ScenarioDocument, date: dt.date) -> None:
    mine = solve(scenario_problem(document, date, 1), OPTIONS)
    ref = solve(factory_problem(date, 1), OPTIONS)
    assert mine.status == ref.status == "optimal"
    assert mine.report.objective is not None and ref.report.objective is not None
    # measured: 10,854.1718 vs 10,854.1720 CNY (summer), 12,423.4131 vs 12,423.4134 CNY (winter): the PV rounding
    assert mine.report.objective == pytest.approx(ref.report.objective, rel=1e-6)
    assert mine.kpis.energy_cost_cny == pytest.approx(ref.kpis.energy_cost_cny, rel=1e-6, abs=1e-3)
