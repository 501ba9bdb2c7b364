"""Implied cuts: cover cuts ("units needed" rows) and the grid's flow-through rows.

Hand-computed counts and LP bounds, and no change to any optimum on random problems.

Units as in test_compressors: rated flow 10 m3/min, 6 kW per m3/min, load/unload with unloaded fraction
0.2, so ``power = 12 * on + 4.8 * flow`` [kW]; hourly steps at 1 CNY/kWh, so a step costs its kW.
"""

from __future__ import annotations

import pyomo.environ as pyo
import pytest
from hypothesis import HealthCheck, given, settings

from optimizer import DispatchProblem, GridSpec, Horizon, LoadSpec
from optimizer.assets.air import AirReceiverSpec
from optimizer.cover_cuts import units_needed
from optimizer.model import build_model
from optimizer.solve import solve_model
from tests.test_compressors import EXACT, START, demand, fleets, problem, unit
from tests.test_properties import problems


@pytest.mark.parametrize(
    ("need", "count"),
    [(73.0, 4), (68.0, 3), (48.0, 2), (48.5, 3), (38.0, 2), (24.0, 1), (0.0, 0), (-5.0, 0), (88.5, None)],
)
def test_units_needed_by_hand(need: float, count: int | None) -> None:
    # The factory's fleet: 24 + 24 + 20 + 20 = 88 m3/min; the largest units first.
    assert units_needed(need, [20.0, 24.0, 20.0, 24.0]) == count


def test_rows_follow_the_need_left_by_the_receiver() -> None:
    # A 60 m3 receiver on hourly steps gives at most 60 / 60 = 1 m3/min: 15 - 1 = 14 needs both units,
    # 5 - 1 = 4 needs one, nothing is needed at 0.
    rx = AirReceiverSpec(name="rx", capacity_m3=60.0)
    built = build_model(problem(3, 1.0, unit("c1"), unit("c2"), rx, demand([15.0, 5.0, 0.0])))
    rows = built.model.compressed_air_units_needed
    assert sorted(rows) == [0, 1]
    assert [pyo.value(rows[t].lower) for t in (0, 1)] == [2.0, 1.0]
    # A group counts its units.
    grouped = build_model(problem(3, 1.0, unit("g", units=2), rx, demand([15.0, 5.0, 0.0])))
    assert [pyo.value(grouped.model.compressed_air_units_needed[t].lower) for t in (0, 1)] == [2.0, 1.0]


def _lp_bound(prob: DispatchProblem, implied_cuts: bool) -> float:
    model = build_model(prob, implied_cuts=implied_cuts).model
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(model)
    report = solve_model(model, EXACT)
    assert report.status == "optimal"
    assert report.objective is not None
    return report.objective


def test_cut_closes_the_lp_gap_of_the_unloaded_power() -> None:
    # 15 m3/min from two units. MIP: both on, 24 + 72 = 96. The LP without the row runs 1.5 "units"
    # (on = flow / 10): 18 + 72 = 90; with it, on >= 2 and the LP bound is the optimum, 96.
    prob = problem(1, 1.0, unit("c1"), unit("c2"), demand(15.0))
    assert _lp_bound(prob, implied_cuts=False) == pytest.approx(90.0)
    assert _lp_bound(prob, implied_cuts=True) == pytest.approx(96.0)


def test_no_row_when_all_units_fall_short() -> None:
    # 25 m3/min cannot be met by 2 x 10: infeasible, and the diagnosis should name the air balance.
    built = build_model(problem(1, 1.0, unit("c1"), unit("c2"), demand(25.0)))
    assert built.model.component("compressed_air_units_needed") is None


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleets())
def test_cuts_change_no_optimum(case: tuple[DispatchProblem, list[object]]) -> None:
    prob, _ = case
    with_cuts = solve_model(build_model(prob, implied_cuts=True).model, EXACT)
    without = solve_model(build_model(prob, implied_cuts=False).model, EXACT)
    assert with_cuts.status == without.status == "optimal"
    assert with_cuts.objective == pytest.approx(without.objective, rel=1e-7, abs=1e-6)


# --- grid: export from on-site supplies, import to on-site draws ---------------------------------------------


def test_grid_rows_stop_the_lp_buying_and_selling_at_once() -> None:
    # One hour, a 100 kW load, import 0.3 and export 0.4 CNY/kWh, limits 1,000 kW: the binary is needed.
    # MIP: import 100, cost 30. LP without the rows: exporting = 0.45 lets it import 550 and export 450,
    # 0.3 * 550 - 0.4 * 450 = -15. With them export <= on-site supplies = 0, and the LP bound is 30.
    grid = GridSpec(
        name="grid",
        import_limit_kw=1000.0,
        export_limit_kw=1000.0,
        import_price_cny_per_kwh=0.3,
        export_price_cny_per_kwh=0.4,
    )
    horizon = Horizon(start=START.to_pydatetime(), step_minutes=60, n_steps=1)
    prob = DispatchProblem(horizon=horizon, assets=[grid, LoadSpec(name="load", power_kw=100.0)])
    assert _lp_bound(prob, implied_cuts=False) == pytest.approx(-15.0)
    assert _lp_bound(prob, implied_cuts=True) == pytest.approx(30.0)
    rows = build_model(prob).model.grid
    assert sorted(rows.export_from_site) == sorted(rows.import_to_site) == [0]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_grid_rows_change_no_optimum(prob: DispatchProblem) -> None:
    with_cuts = solve_model(build_model(prob, implied_cuts=True).model, EXACT)
    without = solve_model(build_model(prob, implied_cuts=False).model, EXACT)
    assert with_cuts.status == without.status
    if without.status == "optimal":
        assert with_cuts.objective == pytest.approx(without.objective, rel=1e-7, abs=1e-6)
