"""Cover cuts ("units needed" rows): hand-computed counts and LP bounds, and no change to any optimum.

Units as in test_compressors: rated flow 10 m3/min, 6 kW per m3/min, load/unload with unloaded fraction
0.2, so ``power = 12 * on + 4.8 * flow`` [kW]; hourly steps at 1 CNY/kWh, so a step costs its kW.
"""

from __future__ import annotations

import pyomo.environ as pyo
import pytest
from hypothesis import HealthCheck, given, settings

from optimizer import DispatchProblem
from optimizer.assets.compressors import AirReceiverSpec
from optimizer.cover_cuts import units_needed
from optimizer.model import build_model
from optimizer.solve import solve_model
from tests.test_compressors import EXACT, demand, fleets, problem, unit


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


def _lp_bound(prob: DispatchProblem, cover_cuts: bool) -> float:
    model = build_model(prob, cover_cuts=cover_cuts).model
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(model)
    report = solve_model(model, EXACT)
    assert report.status == "optimal"
    assert report.objective is not None
    return report.objective


def test_cut_closes_the_lp_gap_of_the_unloaded_power() -> None:
    # 15 m3/min from two units. MIP: both on, 24 + 72 = 96. The LP without the row runs 1.5 "units"
    # (on = flow / 10): 18 + 72 = 90; with it, on >= 2 and the LP bound is the optimum, 96.
    prob = problem(1, 1.0, unit("c1"), unit("c2"), demand(15.0))
    assert _lp_bound(prob, cover_cuts=False) == pytest.approx(90.0)
    assert _lp_bound(prob, cover_cuts=True) == pytest.approx(96.0)


def test_no_row_when_all_units_fall_short() -> None:
    # 25 m3/min cannot be met by 2 x 10: infeasible, and the diagnosis should name the air balance.
    built = build_model(problem(1, 1.0, unit("c1"), unit("c2"), demand(25.0)))
    assert built.model.component("compressed_air_units_needed") is None


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleets())
def test_cuts_change_no_optimum(case: tuple[DispatchProblem, list[object]]) -> None:
    prob, _ = case
    with_cuts = solve_model(build_model(prob, cover_cuts=True).model, EXACT)
    without = solve_model(build_model(prob, cover_cuts=False).model, EXACT)
    assert with_cuts.status == without.status == "optimal"
    assert with_cuts.objective == pytest.approx(without.objective, rel=1e-7, abs=1e-6)
