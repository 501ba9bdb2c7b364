"""Issue 16 (points 2 and 4): what an attacker with a live server found, each refused at the edge with the limit named.

- a 272-byte YAML bomb (nested aliases) took the server past 8 GB: refused while composing, in well under a second;
- a load of 1e21 kW came back "optimal" at cost 0 (HiGHS reads 1e20 and above as infinite): refused by the unit's
  bound, and by the last guard before HiGHS if it got that far;
- a 10-year single horizon, 40,000 steps or a start on 9999-12-31 answered 500: a 422 naming the field and the limit;
- what a caller sends is parsed and run in the solver child, within a memory limit.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyomo.environ as pyo
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.solver_process import run_in_child
from optimizer import (
    AirDemandSpec,
    DispatchProblem,
    FractionTarget,
    GridSpec,
    LoadSpec,
    ObjectiveSpec,
    SolveOptions,
    Targets,
    liaoning_tou,
    solve,
)
from optimizer.errors import SpecError
from optimizer.limits import MAX_POWER_KW
from optimizer.model_guard import ModelNumberError
from optimizer.solve import solve_model
from scenarios.cli import app as cli_app
from scenarios.errors import ScenarioError
from scenarios.factory import factory_problem
from scenarios.loader import MAX_YAML_BYTES, YamlLimitError, load_scenario, parse_yaml
from tests.api_fixtures import HEADERS, api_client, create_site, small_site
from tests.test_api_scenarios import SCENARIO

LAUGHS = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(f"{b}: &{b} [{','.join([f'*{a}'] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi", strict=True)),
    ]
)
"""The billion laughs in YAML: nine lists of nine aliases to the list before, 9^9 (387 million) "lol"s."""
DAY_HORIZON = "horizon: {start: 2026-07-15, days: 1}"


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with api_client(tmp_path_factory.mktemp("limits")) as test_client:
        yield test_client


def run(client: TestClient, scenario: str, **extra: Any):  # type: ignore[no-untyped-def]
    return client.post("/v1/scenarios/run", json={"scenario": scenario, "variants": ["base"], **extra}, headers=HEADERS)


def refused(response: Any, *texts: str) -> None:
    """A 422 whose body names each of ``texts`` (the field and the limit), whatever the error envelope."""
    assert response.status_code == 422, response.text
    for text in texts:
        assert text in response.text, (text, response.text)


# --- YAML: one loader for the CLI and the API ------------------------------------------------------------------


def test_the_billion_laughs_is_refused_in_milliseconds_with_memory_flat() -> None:
    assert len(LAUGHS.encode()) < 400
    before = _maxrss_mb()
    started = time.perf_counter()
    with pytest.raises(YamlLimitError, match=r"expands to more than 1,000,000 nodes") as error:
        parse_yaml(LAUGHS, "laughs.yaml")
    assert time.perf_counter() - started < 1.0
    assert _maxrss_mb() - before < 50
    assert isinstance(error.value, ScenarioError)  # a typed error every door already renders
    assert str(error.value).startswith("laughs.yaml:")  # with the line of the node that went past the budget


def test_a_recursive_alias_and_an_oversized_document_are_refused(tmp_path: Path) -> None:
    with pytest.raises(YamlLimitError, match="refers to the node it is in"):
        parse_yaml("a: &a [1, *a]\n", "loop.yaml")
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * MAX_YAML_BYTES + "\n")
    started = time.perf_counter()
    with pytest.raises(YamlLimitError, match=f"at most {MAX_YAML_BYTES:,} are read"):
        load_scenario(big)
    assert time.perf_counter() - started < 1.0  # refused by its size, not parsed


def test_anchors_and_merge_keys_within_the_budget_still_load() -> None:
    data, _ = parse_yaml("base: &b {x: 1}\nother: {<<: *b, y: 2}\nboth: [*b, *b]\n", "ok.yaml")
    assert data == {"base": {"x": 1}, "other": {"x": 1, "y": 2}, "both": [{"x": 1}, {"x": 1}]}


def test_the_cli_refuses_the_bomb(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(LAUGHS)
    done = CliRunner().invoke(cli_app, ["validate", str(path)])
    assert done.exit_code == 1
    assert "expands to more than 1,000,000 nodes" in done.output


def test_the_api_refuses_the_bomb_and_stays_up(client: TestClient) -> None:
    started = time.perf_counter()
    refused(run(client, LAUGHS), "body.scenario", "1,000,000 nodes")
    assert time.perf_counter() - started < 10.0  # a child process: its start, not the bomb
    assert run(client, SCENARIO).status_code == 200


# --- numbers: bounded by physical sense, never infinite to HiGHS --------------------------------------------------


def test_a_load_of_1e21_kw_is_refused_naming_the_field_not_optimal(client: TestClient) -> None:
    bomb = SCENARIO.replace(
        "    - {kind: load, name: load, power_kw: $inputs.load}",
        "    - {kind: load, name: load, power_kw: $inputs.load}\n    - {kind: load, name: big, power_kw: 1e21}",
    )
    refused(run(client, bomb), "power_kw", "1e+07 kW")

    site = small_site()
    site["assets"][1]["power_kw"] = [200.0, 200.0, 200.0, 1e21] + [200.0] * 92
    response = client.post("/v1/sites", json=site, headers=HEADERS)
    refused(response, "1e+21 kW is beyond 1e+07 kW")
    assert any(f in response.text for f in ("assets[1].power_kw[3]", "assets[1].power_kw.3", "assets.1.power_kw.3"))

    site_id = create_site(client)
    body = {"date": "2026-07-15", "series": {"load.power_kw": [200.0, 200.0, 200.0, 1e21] + [200.0] * 92}}
    response = client.post(f"/v1/sites/{site_id}/dispatch", json=body, headers=HEADERS)
    refused(response, "1e+21 kW is beyond 1e+07 kW")
    assert any(f in response.text for f in ("body.series.load.power_kw[3]", "body.series.load.power_kw.3"))


def test_the_cli_names_the_field_and_the_bound(tmp_path: Path) -> None:
    path = tmp_path / "big_load.yaml"
    path.write_text(SCENARIO.replace("power_kw: $inputs.load}", "power_kw: 5.0e7}"))
    done = CliRunner().invoke(cli_app, ["validate", str(path)])
    assert done.exit_code == 1
    assert "site.load.power_kw: 5e+07 kW is beyond 1e+07 kW, the bound of a power" in done.output


def test_every_field_is_bounded_by_its_unit() -> None:
    with pytest.raises(ValueError, match=r"power_kw\.3 \(step 3\) 5e\+07 kW is beyond 1e\+07 kW") as error:
        LoadSpec(name="load", power_kw=[1.0, 2.0, 3.0, 5 * MAX_POWER_KW])
    cause = error.value.errors()[0]["ctx"]["error"]  # type: ignore[attr-defined]
    assert isinstance(cause, SpecError) and (cause.field, cause.step) == ("power_kw.3", 3)
    with pytest.raises(ValueError, match=r"tariff\.band_prices_cny_per_kwh\.sharp 37500 CNY/kWh is beyond 10000"):
        GridSpec(name="grid", import_limit_kw=10.0, tariff=liaoning_tou(2e4))
    with pytest.raises(ValueError, match=r"flow_m3_per_min\.1 \(step 1\) 1e\+13 is beyond 1e\+12, the bound of any"):
        AirDemandSpec(name="air", flow_m3_per_min=[1.0, 1e13])  # a unit without a bound of its own
    problem = factory_problem(days=1)
    with pytest.raises(ValueError, match=r"objective\.carbon_price_cny_per_tco2 1e\+09 CNY/tCO2 is beyond 1e\+07"):
        DispatchProblem.model_validate(
            {**problem.model_dump(), "objective": ObjectiveSpec(carbon_price_cny_per_tco2=1e9).model_dump()}
        )
    with pytest.raises(ValueError, match=r"targets\.green_share\.penalty_cny_per_kwh 1e\+06 CNY/kWh"):
        DispatchProblem.model_validate(
            {
                **problem.model_dump(),
                "targets": Targets(green_share=FractionTarget(min_frac=0.1, hard=False, penalty_cny_per_kwh=1e6)),
            }
        )


def test_the_last_guard_refuses_a_number_highs_would_read_as_infinite() -> None:
    model = pyo.ConcreteModel()
    model.x = pyo.Var(bounds=(0, None))
    model.demand = pyo.Constraint(expr=model.x >= 1e21)
    model.cost = pyo.Objective(expr=model.x)
    with pytest.raises(ModelNumberError, match=r"-?1e\+21 as the .* side of row 0: 1e\+15 or more in magnitude"):
        solve_model(model, SolveOptions())
    model.demand.deactivate()
    model.scaled = pyo.Constraint(expr=1e16 * model.x >= 1)
    with pytest.raises(ModelNumberError, match=r"coefficient of column 0 \(x\)"):
        solve_model(model, SolveOptions())

    problem = factory_problem(days=1)  # a spec changed after validation: only the guard stands between it and HiGHS
    load = next(a for a in problem.assets if a.kind == "load")
    load.power_kw = [1e21] * problem.horizon.n_steps  # type: ignore[attr-defined]
    with pytest.raises(ModelNumberError) as error:
        solve(problem, SolveOptions(time_limit_s=10))
    assert isinstance(error.value, SpecError)  # a typed issue: the scenario door and the API's child render it


# --- horizons and dates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("horizon", "texts"),
    [
        ("horizon: {start: 2026-07-15, days: 3650, rolling: false}", ("body.scenario.horizon", "35232 steps")),
        (
            "horizon: {start: '2026-07-15T00:00:00+08:00', n_steps: 40000}",
            ("body.scenario.horizon.n_steps", "35232"),
        ),
        ("horizon: {start: 9999-12-31, days: 1}", ("body.scenario.horizon.start", "2000-01-01 .. 2100-12-31")),
        ("horizon: {start: 2100-12-30, days: 5}", ("body.scenario.horizon", "2101-01-03", "2100-12-31")),
        ("horizon: {start: 2026-07-15, days: 3650}", ("body.scenario.horizon", "at most 5952 steps")),
    ],
    ids=["ten-year-horizon", "40000-steps", "9999-12-31", "past-2100", "ten-years-rolling"],
)
def test_horizons_beyond_the_limits_are_422_naming_the_limit(
    client: TestClient, horizon: str, texts: tuple[str, ...]
) -> None:
    started = time.perf_counter()
    refused(run(client, SCENARIO.replace(DAY_HORIZON, horizon)), *texts)
    assert time.perf_counter() - started < 10.0  # refused before anything is run


@pytest.mark.parametrize(
    ("body", "texts"),
    [
        ({"date": "9999-12-31"}, ("body.date", "2100-12-31")),
        ({"date": "1999-12-31"}, ("body.date", "2000-01-01")),
        ({"from": "9999-12-31T00:00:00+08:00"}, ("body.from", "2100-12-31")),
        ({"horizon": {"start": "2026-07-15T00:00:00+08:00", "n_steps": 40000}}, ("body.horizon.n_steps", "672")),
    ],
)
def test_dispatch_days_and_horizons_beyond_the_limits_are_422(
    client: TestClient, body: dict[str, Any], texts: tuple[str, ...]
) -> None:
    site_id = create_site(client)
    refused(client.post(f"/v1/sites/{site_id}/dispatch", json=body, headers=HEADERS), *texts)


# --- memory: the child's, never the service's ---------------------------------------------------------------------


def _address_space_mb() -> float:
    """This process's virtual memory [MB] (run in a solver child)."""
    status = Path(f"/proc/{os.getpid()}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmSize:"))
    return int(line.split()[1]) / 1024


def _allocate(megabytes: int) -> int:
    """Allocates ``megabytes`` MB and returns its length (run in a solver child)."""
    return len(bytearray(megabytes * 1024 * 1024))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_a_child_past_its_memory_limit_reports_memory_and_the_parent_is_untouched() -> None:
    baseline = run_in_child(_address_space_mb, (), 60)
    assert baseline.kind == "ok", baseline
    limit_mb = int(baseline.payload) + 512
    before = _maxrss_mb()
    over = run_in_child(_allocate, (1024,), 60, memory_mb=limit_mb)
    assert over.kind == "memory", over
    assert f"memory limit {limit_mb} MB" in over.payload
    within = run_in_child(_allocate, (16,), 60, memory_mb=limit_mb)
    assert (within.kind, within.payload) == ("ok", 16 * 1024 * 1024)
    assert _maxrss_mb() - before < 50
