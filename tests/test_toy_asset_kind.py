"""A new asset kind added from outside the package works through every door without touching another file.

The toy kind ``toy_heater`` (defined only here) is an electric heater filling a small heat store: it must draw
``energy_kwh`` in each period, at most ``max_kw``, and its store level (``LevelState``) carries from day to day.
With a grid whose import price is 0.3 CNY/kWh from 00:00 to 12:00 and 1.2 CNY/kWh after, the optimum draws the
energy in the cheap half only: objective = 20 kWh x 0.3 CNY/kWh = 6.0 CNY per day.

The live API server loads the kind as an operator would, with ``DISPATCH_PLUGINS=tests.test_toy_asset_kind:register``:
the service registers it at start, and every solver child process before it compiles.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import httpx
import numpy as np
import pyomo.environ as pyo
import pytest
from pydantic import Field

from optimizer.assets import AssetType, register_asset_kind, unregister_asset_kind
from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.assets.load import ELECTRIC_LOAD
from optimizer.assets.storage import StoreColumns, StoreLimits, add_store
from optimizer.baseline_state import BaselineState
from optimizer.buses import ELECTRICITY
from optimizer.state import LevelState
from optimizer.types import Fraction, NonNegFloat, PositiveFloat

KIND = "toy_heater"
CHEAP, DEAR = 0.3, 1.2  # CNY/kWh, 00:00-12:00 and 12:00-24:00
ENERGY_KWH, MAX_KW, CAPACITY_KWH, INITIAL_FRAC = 20.0, 10.0, 60.0, 0.2
DAY = "2026-07-15"


class ToyHeaterSpec(AssetSpec):
    """An electric heater filling a heat store: ``energy_kwh`` per period, at most ``max_kw``."""

    kind: Literal["toy_heater"] = "toy_heater"
    max_kw: PositiveFloat = Field(description="Heater power limit [kW].")
    energy_kwh: NonNegFloat = Field(description="Energy to draw within the horizon [kWh].")
    capacity_kwh: PositiveFloat = Field(description="Heat store size [kWh].")
    initial_level_frac: Fraction = Field(0.0, description="Store content at the start, fraction of capacity.")
    end_level_frac: Fraction | None = Field(None, description="Store content at least this at the end.")


COLUMNS = StoreColumns(charge="power_kw", discharge="release_kw")  # the heater fills the store; nothing releases


def _limits(spec: ToyHeaterSpec) -> StoreLimits:
    end = spec.initial_level_frac if spec.end_level_frac is None else spec.end_level_frac
    return StoreLimits(
        charge_max=spec.max_kw,
        discharge_max=0.0,
        level_min=0.0,
        level_max=spec.capacity_kwh,
        initial=spec.initial_level_frac * spec.capacity_kwh,
        end=end * spec.capacity_kwh,
    )


def build_toy_heater(spec: ToyHeaterSpec, ctx: BuildContext) -> None:
    """The shared store (bounds, balance, end rule, columns) plus the energy the heater must draw."""
    block = ctx.block(spec.name)
    power, _, _ = add_store(
        block,
        ctx,
        _limits(spec),
        charge_bus=ELECTRICITY,
        discharge_bus=ELECTRICITY,
        columns=COLUMNS,
        roles=(ELECTRIC_LOAD, None),
    )
    block.energy = pyo.Constraint(expr=sum(power[t] for t in ctx.steps) * ctx.dt_h == spec.energy_kwh)


def baseline_toy_heater(spec: ToyHeaterSpec, state: BaselineState) -> None:
    """Rule: the energy spread evenly over the horizon."""
    n = state.horizon.n_steps
    power = np.full(n, min(spec.max_kw, spec.energy_kwh / (n * state.dt_h)))
    state.columns[f"{spec.name}.power_kw"] = power
    state.columns[f"{spec.name}.release_kw"] = np.zeros(n)
    initial = spec.initial_level_frac * spec.capacity_kwh
    state.columns[f"{spec.name}.level_kwh"] = initial + np.cumsum(power) * state.dt_h
    state.net_kw += power


TOY = AssetType(
    ToyHeaterSpec,
    build_toy_heater,
    baseline_toy_heater,
    state=(LevelState("level_kwh", "capacity_kwh", "initial_level_frac", "end_level_frac"),),
)


def register() -> None:
    """The plug-in entry point (``DISPATCH_PLUGINS=tests.test_toy_asset_kind:register``)."""
    register_asset_kind(KIND, TOY)


@pytest.fixture
def toy_kind() -> Iterator[None]:
    register()
    yield
    unregister_asset_kind(KIND)


SITE: dict[str, Any] = {
    "name": "toy site",
    "tz": "Asia/Shanghai",
    "assets": [
        {"kind": "grid", "name": "grid", "import_limit_kw": 100, "import_price_cny_per_kwh": "$inputs.price"},
        {"kind": KIND, "name": "heater", "max_kw": MAX_KW, "energy_kwh": ENERGY_KWH, "capacity_kwh": CAPACITY_KWH},
    ],
}
PRICE_HOURLY = [CHEAP] * 12 + [DEAR] * 12
PRICE_STEPS = [CHEAP] * 48 + [DEAR] * 48  # 96 quarter-hours of 2026-07-15 (Asia/Shanghai, no DST)
INITIAL_STATE = {"heater": {"initial_level_frac": INITIAL_FRAC}}
OPTIMUM = ENERGY_KWH * CHEAP  # 6.0 CNY per day: every kWh in the cheap half


def _scenario_yaml() -> str:
    import yaml

    scenario = {
        "name": "toy",
        "site": SITE,
        "horizon": {"start": DAY, "days": 2, "step_minutes": 15, "rolling": True},
        "inputs": {"price": {"values": PRICE_HOURLY}},
        "initial_state": INITIAL_STATE,
        "solver": {"mip_rel_gap": 1e-6, "time_limit_s": 20},
    }
    return yaml.safe_dump(scenario, sort_keys=False)


def _check_day(schedule: Any, first_level_kwh: float) -> None:
    """Only cheap steps draw, the energy is drawn in full, the store fills from ``first_level_kwh``."""
    power = np.asarray(schedule["heater.power_kw"], dtype=float)
    level = np.asarray(schedule["heater.level_kwh"], dtype=float)
    assert len(power) == 96
    assert np.all(power[48:] <= 1e-6), "the heater draws in the expensive half"
    assert np.all(power <= MAX_KW + 1e-6)
    assert power.sum() * 0.25 == pytest.approx(ENERGY_KWH, abs=1e-6)
    assert level[0] == pytest.approx(first_level_kwh + power[0] * 0.25, abs=1e-6)
    assert level[-1] == pytest.approx(first_level_kwh + ENERGY_KWH, abs=1e-6)


def test_toy_kind_in_a_scenario_file_rolls_over_two_days(toy_kind: None, tmp_path: Path) -> None:
    from scenarios.loader import load_scenario
    from scenarios.pipeline import run_case

    path = tmp_path / "toy.yaml"
    path.write_text(_scenario_yaml(), encoding="utf-8")
    run = run_case(load_scenario(path).base())

    assert [d.status for d in run.days] == ["optimal", "optimal"]
    assert [d.schedule_source for d in run.days] == ["optimizer", "optimizer"]
    assert [d.objective_cny for d in run.days] == pytest.approx([OPTIMUM, OPTIMUM], abs=1e-6)
    assert len(run.schedule) == 192
    day1, day2 = run.schedule.iloc[:96], run.schedule.iloc[96:]
    _check_day(day1, INITIAL_FRAC * CAPACITY_KWH)  # 12 kWh -> 32 kWh
    _check_day(day2, INITIAL_FRAC * CAPACITY_KWH + ENERGY_KWH)  # carried: 32 kWh (frac 0.533) -> 52 kWh
    grid_cost = float((run.schedule["grid.import_kw"] * 0.25 * np.r_[PRICE_STEPS, PRICE_STEPS]).sum())
    assert grid_cost == pytest.approx(2 * OPTIMUM, abs=1e-6)


def test_toy_site_is_stored_by_the_api_in_process(toy_kind: None, tmp_path: Path) -> None:
    """The API process (parent) accepts the registered kind and gives the site back unchanged."""
    from scenarios.site import Site
    from tests.api_fixtures import HEADERS, api_client, create_site

    with api_client(tmp_path) as client:
        site_id = create_site(client, SITE)
        spec = client.get(f"/v1/sites/{site_id}", headers=HEADERS).json()["spec"]
    assert Site.model_validate(spec) == Site.model_validate(SITE)
    assert spec["assets"][1]["kind"] == KIND


def test_toy_kind_dispatched_by_a_live_server(tmp_path: Path) -> None:
    """POST /v1/sites + POST /v1/sites/{id}/dispatch: the solver child knows the kind, the optimum is 6.0 CNY."""
    from tests.api_fixtures import HEADERS, Server

    carried = (INITIAL_FRAC * CAPACITY_KWH + ENERGY_KWH) / CAPACITY_KWH  # day 2's initial level from the rolling run
    plugin = {"DISPATCH_PLUGINS": "tests.test_toy_asset_kind:register"}
    server = Server(tmp_path / "toy.sqlite", tmp_path / "toy-server.log", env=plugin)
    with server, httpx.Client(base_url=server.url, timeout=60, headers=HEADERS) as client:
        response = client.post("/v1/sites", json=SITE)
        assert response.status_code == 201, response.text
        site_id = response.json()["id"]
        for day, state, first_level in (
            (DAY, INITIAL_STATE, INITIAL_FRAC * CAPACITY_KWH),
            ("2026-07-16", {"heater": {"initial_level_frac": carried, "end_level_frac": INITIAL_FRAC}}, 32.0),
        ):
            body = {
                "date": day,
                "inputs": {"price": PRICE_STEPS},
                "initial_state": state,
                "solver": {"mip_rel_gap": 1e-6, "time_limit_s": 20},
            }
            response = client.post(f"/v1/sites/{site_id}/dispatch", json=body)
            assert response.status_code == 201, response.text
            out = response.json()
            assert out["status"] == "optimal", out["message"]
            assert out["solver"]["objective"] == pytest.approx(OPTIMUM, abs=1e-6)
            rows = out["schedule"]
            _check_day({c: [r[c] for r in rows] for c in ("heater.power_kw", "heater.level_kwh")}, first_level)


def test_a_plugin_that_cannot_be_loaded_is_named() -> None:
    from optimizer.assets import load_asset_plugins

    with pytest.raises(ValueError, match="'no_such_module:register' cannot be loaded"):
        load_asset_plugins(["no_such_module:register"])
    with pytest.raises(ValueError, match=r"'tests\.test_toy_asset_kind:no_such_function' cannot be loaded"):
        load_asset_plugins(["tests.test_toy_asset_kind:no_such_function"])
