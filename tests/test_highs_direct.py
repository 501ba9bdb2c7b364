"""The direct path to HiGHS (``optimizer.linear_form`` + ``optimizer.highs_direct``) against the persistent one.

Both paths must hand HiGHS the same model: the compiled arrays are compared with the model Pyomo's persistent
interface builds row by row (same columns in the same order, same rows, coefficients, bounds, costs and the
objective's constant). HiGHS then solves the same model the same way, so objectives, schedules, KPIs, statuses and
terminations agree; the random problems check the compiler on expression shapes the asset modules may write.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import TerminationCondition

from optimizer import (
    BatterySpec,
    DispatchProblem,
    FractionTarget,
    GreenContractSpec,
    GridSpec,
    Horizon,
    LoadSpec,
    PvSpec,
    SolveOptions,
    Targets,
    solve,
)
from optimizer.assets.air import AirDemandSpec
from optimizer.assets.compressors import CompressorSpec
from optimizer.dispatch import extract_schedule, solve_relaxed
from optimizer.linear_form import LinearArrays, NotLinearError, compile_linear
from optimizer.model import build_model
from optimizer.solve import INTERFACE_ENV, Interface, SolverReport, _report, default_interface, solve_model
from tests.test_properties import problems

START = pd.Timestamp("2026-07-15 00:00", tz="Asia/Shanghai")
EXACT = SolveOptions(mip_rel_gap=0.0)
REL = 1e-6
INTERFACES: tuple[Interface, Interface] = ("direct", "persistent")


# --------------------------------------------------------------------------- helpers


def hourly(n_steps: int) -> Horizon:
    return Horizon(start=START.to_pydatetime(), step_minutes=60, n_steps=n_steps)


def grid(price: float | list[float], **kwargs: object) -> GridSpec:
    kwargs.setdefault("import_limit_kw", 1000.0)
    kwargs.setdefault("location_kgco2_per_kwh", 0.5)
    kwargs.setdefault("market_kgco2_per_kwh", 0.6)
    return GridSpec(name="grid", import_price_cny_per_kwh=price, **kwargs)


def battery(**kwargs: object) -> BatterySpec:
    spec: dict[str, object] = {
        "name": "battery",
        "capacity_kwh": 100.0,
        "charge_power_kw": 50.0,
        "discharge_power_kw": 50.0,
        "charge_efficiency": 0.9,
        "discharge_efficiency": 0.9,
        "soc_min_frac": 0.0,
        "soc_max_frac": 1.0,
        "initial_soc_frac": 0.0,
        "end_soc_frac": 0.0,
    }
    return BatterySpec(**(spec | kwargs))


def load(power: float | list[float]) -> LoadSpec:
    return LoadSpec(name="load", power_kw=power)


def problem(n_steps: int, *assets: object, **kwargs: object) -> DispatchProblem:
    return DispatchProblem(horizon=hourly(n_steps), assets=list(assets), **kwargs)


@dataclass
class Solved:
    report: SolverReport
    schedule: pd.DataFrame | None


def solved_by(interface: Interface, p: DispatchProblem, options: SolveOptions = EXACT) -> Solved:
    built = build_model(p)
    report = solve_model(built.model, options, interface=interface)
    assert report.interface == interface, report.interface_note
    schedule = extract_schedule(built.ctx) if report.status in ("optimal", "feasible") else None
    return Solved(report, schedule)


def assert_same(direct: Solved, persistent: Solved, *, schedule: bool = True) -> None:
    """Same status, termination, objective (1e-6 relative), bound and, with ``schedule``, the same values."""
    a, b = direct.report, persistent.report
    assert (a.status, a.termination, a.message) == (b.status, b.termination, b.message)
    if b.objective is None:
        assert a.objective is None
    else:
        assert a.objective == pytest.approx(b.objective, rel=REL, abs=REL)
    if b.best_bound is None or not math.isfinite(b.best_bound):
        assert a.best_bound == b.best_bound
    else:
        assert a.best_bound == pytest.approx(b.best_bound, rel=REL, abs=REL)
    assert a.size == b.size
    if schedule and persistent.schedule is not None:
        assert direct.schedule is not None
        pd.testing.assert_frame_equal(direct.schedule, persistent.schedule, rtol=REL, atol=REL)


def persistent_lp(model: pyo.ConcreteModel) -> object:
    """The model Pyomo's persistent interface builds in HiGHS (its ``_solver_model``: there is no public door)."""
    solver = SolverFactory("highs")
    solver.solve(model, load_solutions=False, raise_exception_on_nonoptimal_result=False, time_limit=1e-3)
    return solver._solver_model.getLp()


def assert_same_highs_model(arrays: LinearArrays, lp: object) -> None:
    """The compiled arrays are the persistent interface's HiGHS model, number for number."""
    assert (arrays.n_cols, arrays.n_rows) == (lp.num_col_, lp.num_row_)
    np.testing.assert_array_equal(arrays.col_cost, lp.col_cost_)
    np.testing.assert_array_equal(arrays.col_lower, lp.col_lower_)
    np.testing.assert_array_equal(arrays.col_upper, lp.col_upper_)
    np.testing.assert_array_equal(arrays.row_lower, lp.row_lower_)
    np.testing.assert_array_equal(arrays.row_upper, lp.row_upper_)
    integrality = np.array([int(v) for v in lp.integrality_] or np.zeros(arrays.n_cols), dtype=np.int32)
    np.testing.assert_array_equal(arrays.integrality, integrality)
    assert arrays.offset == lp.offset_
    rows = np.repeat(np.arange(arrays.n_rows), np.diff(arrays.a_start))
    ours = _triples(rows, arrays.a_index, arrays.a_value)
    matrix = lp.a_matrix_  # HiGHS keeps its matrix column-wise
    start = np.array(matrix.start_, dtype=int)
    columns = np.repeat(np.arange(arrays.n_cols), np.diff(start))
    theirs = _triples(np.array(matrix.index_, dtype=int), columns, np.array(matrix.value_, dtype=float))
    for our, their in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(our, their)


def _triples(rows: np.ndarray, columns: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, ...]:
    """A sparse matrix's (row, column, value) triples, sorted by row and column."""
    order = np.lexsort((columns, rows))
    return rows[order], np.asarray(columns)[order], np.asarray(values)[order]


@pytest.fixture(scope="module")
def factory_day() -> DispatchProblem:
    from scenarios.factory import factory_problem

    return factory_problem()


@pytest.fixture
def interface_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.delenv(INTERFACE_ENV, raising=False)
    yield monkeypatch


# --------------------------------------------------------------------------- the same model reaches HiGHS


def _reference(lp: bool) -> DispatchProblem:
    from benchmarks.core import reference_problem

    return reference_problem(96, lp=lp)


@pytest.mark.parametrize("lp", [True, False], ids=["reference LP", "reference MILP"])
def test_compiled_arrays_are_the_persistent_interfaces_highs_model(lp: bool) -> None:
    built = build_model(_reference(lp))
    assert_same_highs_model(compile_linear(built.model), persistent_lp(built.model))


def test_factory_day_compiles_to_the_persistent_interfaces_model(factory_day: DispatchProblem) -> None:
    built = build_model(factory_day)
    arrays = compile_linear(built.model)
    assert arrays.is_mip
    assert arrays.offset != 0.0  # the factory's objective has a constant: it must reach HiGHS
    assert_same_highs_model(arrays, persistent_lp(built.model))


# --------------------------------------------------------------------------- dispatch problems, both paths

CASES = {
    # hand-computed optima of tests/test_hand_computed.py, a few of each kind
    "battery arbitrage": lambda: problem(4, grid([0.2, 0.2, 1.0, 1.0]), battery(), load([20.0, 20.0, 20.0, 20.0])),
    "no arbitrage below the loss break-even": lambda: problem(2, grid([0.5, 0.6]), battery(), load(10.0)),
    "demand charge": lambda: problem(
        3,
        grid(0.5, demand_charge_cny_per_kw_month=50.0, month_to_date_peak_kw=0.0),
        battery(initial_soc_frac=0.5, end_soc_frac=0.0),
        load([100.0, 300.0, 100.0]),
    ),
    "pv export and curtailment": lambda: problem(
        3,
        grid(0.8, export_limit_kw=30.0, export_price_cny_per_kwh=0.3),
        PvSpec(name="pv", available_kw=[0.0, 120.0, 60.0]),
        load(40.0),
    ),
    "ppa and a soft green share": lambda: problem(
        2,
        grid(0.5),
        GreenContractSpec(name="ppa", price_cny_per_kwh=0.6, max_kw=30.0),
        load(100.0),
        targets=Targets(green_share=FractionTarget(min_frac=0.5, hard=False, penalty_cny_per_kwh=0.05)),
    ),
    # a MILP: exclusive charge/discharge binaries and a compressor's on/off with a minimum up time
    "binaries: exclusive battery": lambda: problem(
        4, grid([-0.1, 0.3, 1.0, -0.2]), battery(exclusive_charge_discharge="always"), load(20.0)
    ),
    "binaries: compressor minimum up time": lambda: problem(
        6,
        GridSpec(name="grid", import_limit_kw=10_000.0, import_price_cny_per_kwh=1.0),
        CompressorSpec(name="c1", rated_flow_m3_per_min=10.0, specific_power_kw_per_m3_per_min=6.0, min_up_minutes=180),
        AirDemandSpec(name="air", flow_m3_per_min=[10, 0, 10, 0, 0, 0]),
    ),
    # degenerate in the valley (import and export both at 0.30): the same model gives the same vertex
    "reference LP, 96 steps": lambda: _reference(True),
    "reference MILP, 96 steps": lambda: _reference(False),
}


@pytest.mark.parametrize("make", CASES.values(), ids=CASES.keys())
def test_direct_and_persistent_agree(make: object) -> None:
    p = make()  # type: ignore[operator]
    direct, persistent = (solved_by(interface, p) for interface in INTERFACES)
    assert direct.report.status == "optimal"
    assert_same(direct, persistent)


def test_infeasible_maps_to_the_same_status_and_termination() -> None:
    p = problem(3, grid(0.5, import_limit_kw=100.0), load([50.0, 500.0, 80.0]))
    direct, persistent = (solved_by(interface, p) for interface in INTERFACES)
    assert direct.report.status == "infeasible"
    assert direct.report.termination in ("provenInfeasible", "infeasibleOrUnbounded")
    assert direct.report.objective is None
    assert_same(direct, persistent)


@pytest.mark.parametrize("interface", INTERFACES)
def test_time_limit_without_a_solution(interface: Interface, factory_day: DispatchProblem) -> None:
    built = build_model(factory_day)
    report = solve_model(built.model, SolveOptions(time_limit_s=1e-3), interface=interface)
    assert report.termination == "maxTimeLimit"
    assert (report.status, report.message, report.objective) == ("error", "no solution: maxTimeLimit", None)


@pytest.mark.parametrize("interface", INTERFACES)
def test_time_limit_with_or_without_an_incumbent(interface: Interface, factory_day: DispatchProblem) -> None:
    # Where HiGHS stands after 0.5 s depends on the machine: each outcome must be reported consistently.
    built = build_model(factory_day)
    report = solve_model(built.model, SolveOptions(time_limit_s=0.5, mip_rel_gap=0.0), interface=interface)
    if report.status == "feasible":
        assert report.termination == "maxTimeLimit"
        assert report.message == "stopped by maxTimeLimit with a feasible solution"
        assert report.objective is not None and report.mip_gap is not None and report.mip_gap >= 0.0
        schedule = extract_schedule(built.ctx)
        assert schedule.notna().all().all()
    elif report.status == "error":
        assert (report.termination, report.objective) == ("maxTimeLimit", None)
    else:
        assert (report.status, report.termination) == ("optimal", "convergenceCriteriaSatisfied")


def test_a_stop_with_a_solution_is_feasible_without_one_an_error() -> None:
    stopped = _report(TerminationCondition.maxTimeLimit, True, 10.0, 9.0)
    assert (stopped.status, stopped.message, stopped.objective) == (
        "feasible",
        "stopped by maxTimeLimit with a feasible solution",
        10.0,
    )
    assert stopped.mip_gap == pytest.approx(0.1)
    empty = _report(TerminationCondition.maxTimeLimit, False, None, -math.inf)
    assert (empty.status, empty.message, empty.objective, empty.mip_gap) == (
        "error",
        "no solution: maxTimeLimit",
        None,
        None,
    )


def test_full_factory_day_through_solve(factory_day: DispatchProblem, interface_env: pytest.MonkeyPatch) -> None:
    results = {}
    for interface in INTERFACES:
        interface_env.setenv(INTERFACE_ENV, interface)
        results[interface] = solve(factory_day, SolveOptions(mip_rel_gap=1e-4, random_seed=0))
        assert results[interface].report.interface == interface
    direct, persistent = results["direct"], results["persistent"]
    assert direct.status == persistent.status == "optimal"
    assert direct.report.objective == pytest.approx(persistent.report.objective, rel=REL)
    # the objective's constant is in the report as in the KPIs: both add up the same cost terms
    assert direct.report.objective == pytest.approx(direct.kpis.objective_cny, rel=REL, abs=REL)
    pd.testing.assert_frame_equal(direct.schedule, persistent.schedule, rtol=REL, atol=REL)
    assert direct.kpis.objective_cny == pytest.approx(persistent.kpis.objective_cny, rel=REL)
    assert direct.kpis.cost_cny_by_component == pytest.approx(persistent.kpis.cost_cny_by_component, rel=REL, abs=REL)


def test_diagnosis_and_relaxation_agree(interface_env: pytest.MonkeyPatch) -> None:
    infeasible = problem(3, grid(0.5, import_limit_kw=100.0), battery(), load([50.0, 500.0, 80.0]))
    relaxable = problem(
        4, grid([0.2, 0.2, 1.0, 1.0]), battery(exclusive_charge_discharge="always"), load([20.0, 20.0, 20.0, 20.0])
    )
    diagnoses, relaxed = {}, {}
    for interface in INTERFACES:
        interface_env.setenv(INTERFACE_ENV, interface)
        result = solve(infeasible)
        assert result.status == "infeasible"
        diagnoses[interface] = [(v.group, v.step, v.field, round(v.amount, 6)) for v in result.diagnosis]
        report, schedule, _ = solve_relaxed(relaxable)
        assert report.interface == interface and report.status == "optimal"
        relaxed[interface] = (report.objective, schedule)
    assert diagnoses["direct"] == diagnoses["persistent"]
    assert [v[:3] for v in diagnoses["direct"]] == [("grid.import_kw", 1, "import_limit_kw")]
    assert relaxed["direct"][0] == pytest.approx(relaxed["persistent"][0], rel=REL)
    pd.testing.assert_frame_equal(relaxed["direct"][1], relaxed["persistent"][1], rtol=REL, atol=REL)


def test_interface_follows_the_environment(interface_env: pytest.MonkeyPatch) -> None:
    assert default_interface() == "direct"
    interface_env.setenv(INTERFACE_ENV, "persistent")
    assert default_interface() == "persistent"
    built = build_model(CASES["battery arbitrage"]())
    report = solve_model(built.model, EXACT)
    assert (report.interface, report.status) == ("persistent", "optimal")
    interface_env.setenv(INTERFACE_ENV, "anything else")
    assert default_interface() == "direct"


def test_report_times_the_hand_over_and_the_load() -> None:
    built = build_model(CASES["battery arbitrage"]())
    report = solve_model(built.model, EXACT, interface="direct")
    assert report.highs_seconds is not None and report.handover_seconds is not None and report.load_seconds is not None
    assert report.solve_seconds >= report.highs_seconds + report.handover_seconds + report.load_seconds - 1e-9
    assert report.solver_version.count(".") == 2


# --------------------------------------------------------------------------- the compiler on plain Pyomo models


def _both(build: object) -> tuple[pyo.ConcreteModel, SolverReport, pyo.ConcreteModel, SolverReport]:
    """``build()`` twice, solved once by each interface."""
    direct_model, persistent_model = build(), build()  # type: ignore[operator]
    return (
        direct_model,
        solve_model(direct_model, EXACT, interface="direct"),
        persistent_model,
        solve_model(persistent_model, EXACT, interface="persistent"),
    )


def _shapes() -> pyo.ConcreteModel:
    """Every expression shape the walk knows, a constant in the objective and a maximisation."""
    m = pyo.ConcreteModel()
    m.I = pyo.RangeSet(0, 2)
    m.x = pyo.Var(m.I, bounds=(0, 10))
    m.y = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 7))
    m.z = pyo.Var(initialize=2.0)
    m.z.fix()
    m.p = pyo.Param(initialize=3.0, mutable=True)
    m.e = pyo.Expression(expr=m.x[0] + 2 * m.x[1])
    m.ranged = pyo.Constraint(expr=pyo.inequality(1.0, m.x[0] + m.x[1] - 0.5 * m.x[0], 6.0))  # x[0] twice: merged
    m.lhs_constant = pyo.Constraint(expr=m.x[2] + m.z >= 4.0)  # a fixed variable: its value goes to the bound
    m.both_sides = pyo.Constraint(expr=m.e <= m.p * m.y - (m.x[2] / 4.0))
    m.product = pyo.Constraint(expr=(m.x[0] - m.x[1]) * 2.0 + m.p * m.x[2] == 5.0)
    m.negation = pyo.Constraint(expr=-(m.x[1] + m.y) >= -12.0)
    m.skipped = pyo.Constraint(expr=m.x[0] <= 100.0)
    m.skipped.deactivate()
    m.objective = pyo.Objective(expr=3 * m.x[0] + m.x[1] + m.e + 2.5 * m.y - m.x[2] + 7.0 + m.z, sense=pyo.maximize)
    return m


def test_expression_shapes_and_objective_constant() -> None:
    direct_model, direct, persistent_model, persistent = _both(_shapes)
    assert direct.interface == "direct" and direct.interface_note == ""
    assert direct.status == persistent.status == "optimal"
    assert direct.objective == pytest.approx(persistent.objective, rel=REL)
    assert direct.objective == pytest.approx(pyo.value(direct_model.objective), rel=REL)  # 7 + z included
    for name in ("x", "y"):
        for index, var in getattr(direct_model, name).items():
            assert var.value == pytest.approx(getattr(persistent_model, name)[index].value, abs=1e-7)
    assert direct_model.z.value == 2.0
    arrays = compile_linear(_shapes())
    assert arrays.n_rows == 5  # the ranged constraint is one row; the deactivated one none
    assert arrays.sense == -1 and arrays.offset == pytest.approx(9.0)
    assert_same_highs_model(arrays, persistent_lp(_shapes()))


def test_bounds_from_a_parameter_are_read_one_by_one() -> None:
    def build() -> pyo.ConcreteModel:
        m = pyo.ConcreteModel()
        m.cap = pyo.Param(initialize=4.0, mutable=True)
        m.x = pyo.Var([0, 1], bounds=(0, m.cap))  # not a plain number: the bulk read gives way
        m.y = pyo.Var(domain=pyo.Binary)
        m.c = pyo.Constraint(expr=m.x[0] + m.x[1] <= 6 + m.y)
        m.objective = pyo.Objective(expr=-m.x[0] - 2 * m.x[1] + 0.5 * m.y)
        return m

    arrays = compile_linear(build())
    np.testing.assert_array_equal(arrays.col_upper, [4.0, 4.0, 1.0])
    np.testing.assert_array_equal(arrays.integrality, [0, 0, 1])
    assert_same_highs_model(arrays, persistent_lp(build()))
    direct_model, direct, _, persistent = _both(build)
    assert direct.objective == pytest.approx(persistent.objective, rel=REL) == -10.5
    assert [direct_model.x[0].value, direct_model.x[1].value] == pytest.approx([3.0, 4.0])


def test_a_model_without_an_objective_is_a_feasibility_problem() -> None:
    def build() -> pyo.ConcreteModel:
        m = pyo.ConcreteModel()
        m.x = pyo.Var(bounds=(0, 4))
        m.c = pyo.Constraint(expr=m.x >= 1.5)
        return m

    direct_model, direct, _, persistent = _both(build)
    assert direct.status == persistent.status == "optimal"
    assert direct.objective is persistent.objective is None
    assert 1.5 - 1e-9 <= direct_model.x.value <= 4.0


def _empty() -> pyo.ConcreteModel:
    m = pyo.ConcreteModel()
    m.objective = pyo.Objective(expr=5.0)
    return m


def _all_fixed() -> pyo.ConcreteModel:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(initialize=2.0)
    m.x.fix()
    m.c = pyo.Constraint(expr=m.x >= 1)
    m.objective = pyo.Objective(expr=3 * m.x + 1)
    return m


def _infeasible_by_a_fixed_variable() -> pyo.ConcreteModel:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(initialize=2.0)
    m.x.fix()
    m.y = pyo.Var(bounds=(0, 1))
    m.c = pyo.Constraint(expr=m.x + m.y >= 5)
    m.objective = pyo.Objective(expr=m.y)
    return m


def _unbounded() -> pyo.ConcreteModel:
    m = pyo.ConcreteModel()
    m.x = pyo.Var()
    m.c = pyo.Constraint(expr=m.x >= 1)
    m.objective = pyo.Objective(expr=-m.x)
    return m


@pytest.mark.parametrize(
    ("build", "status", "termination"),
    [
        (_empty, "error", "unknown"),
        (_all_fixed, "optimal", "convergenceCriteriaSatisfied"),
        (_infeasible_by_a_fixed_variable, "infeasible", "provenInfeasible"),
        (_unbounded, "feasible", "unbounded"),
    ],
    ids=["empty", "all fixed", "infeasible by a fixed variable", "unbounded"],
)
def test_edge_cases_are_reported_alike(build: object, status: str, termination: str) -> None:
    _, direct, _, persistent = _both(build)
    assert (direct.interface, persistent.interface) == INTERFACES
    assert (direct.status, direct.termination) == (status, termination)
    assert (direct.status, direct.termination, direct.message, direct.objective, direct.best_bound) == (
        persistent.status,
        persistent.termination,
        persistent.message,
        persistent.objective,
        persistent.best_bound,
    )


def test_a_nonlinear_model_takes_the_persistent_path_with_the_reason() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 4))
    m.y = pyo.Var(bounds=(0, 4))
    m.c = pyo.Constraint(expr=m.x * m.y <= 2.0)
    m.objective = pyo.Objective(expr=m.x)
    with pytest.raises(NotLinearError, match=r"c: nonlinear term"):
        compile_linear(m)
    report = solve_model(m, EXACT, interface="direct")
    assert report.interface == "persistent"
    assert report.interface_note.startswith("direct interface not used: c: nonlinear term")
    assert report.status == "error"  # HiGHS cannot take it either: a report, not an exception


def test_an_unknown_component_takes_the_persistent_path() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var([0, 1], bounds=(0, 1))
    m.sos = pyo.SOSConstraint(var=m.x, sos=1)
    m.objective = pyo.Objective(expr=-m.x[0] - m.x[1])
    report = solve_model(m, EXACT, interface="direct")
    assert report.interface == "persistent"
    assert "SOSConstraint" in report.interface_note


# --------------------------------------------------------------------------- random problems

RANDOM = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@given(p=problems())
@RANDOM
def test_random_dispatch_problems_agree(p: DispatchProblem) -> None:
    direct, persistent = (solved_by(interface, p) for interface in INTERFACES)
    assert_same(direct, persistent)


_coefficient = st.integers(-6, 6).map(lambda c: c / 2)


@st.composite
def linear_models(draw: st.DrawFn) -> tuple[dict[str, object], bool]:
    """A random bounded model (LP or MILP) as data, feasible at a drawn point, and whether to maximise."""
    n = draw(st.integers(1, 5))
    lower = draw(st.lists(st.integers(-5, 0), min_size=n, max_size=n))
    upper = [lo + draw(st.integers(0, 8)) for lo in lower]
    integer = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    fixed = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    point = [draw(st.integers(lo, hi)) for lo, hi in zip(lower, upper, strict=True)]
    rows = []
    for _ in range(draw(st.integers(0, 5))):
        coefs = draw(st.lists(_coefficient, min_size=n, max_size=n).filter(any))  # a row, not a constant
        shape = draw(st.sampled_from(["sum", "scaled", "negated", "divided", "both sides", "named"]))
        relation = draw(st.sampled_from(["==", "<=", ">=", "ranged"]))
        slack = draw(st.integers(0, 3))
        rows.append((coefs, shape, relation, slack))
    cost = draw(st.lists(_coefficient, min_size=n, max_size=n))
    data = {"lower": lower, "upper": upper, "integer": integer, "fixed": fixed, "point": point, "rows": rows}
    return data | {"cost": cost, "constant": draw(_coefficient)}, draw(st.booleans())


def _model(data: dict[str, object], maximise: bool) -> pyo.ConcreteModel:
    n = len(data["lower"])  # type: ignore[arg-type]
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(n))
    for j, var in m.x.items():
        var.setlb(data["lower"][j])  # type: ignore[index]
        var.setub(data["upper"][j])  # type: ignore[index]
        if data["integer"][j]:  # type: ignore[index]
            var.domain = pyo.Integers
        if data["fixed"][j]:  # type: ignore[index]
            var.fix(data["point"][j])  # type: ignore[index]
    m.rows = pyo.ConstraintList()
    for k, (coefs, shape, relation, slack) in enumerate(data["rows"]):  # type: ignore[attr-defined]
        at_point = sum(c * x for c, x in zip(coefs, data["point"], strict=True))  # type: ignore[arg-type]
        body = sum(c * m.x[j] for j, c in enumerate(coefs))
        rhs: object = 0.0
        if shape == "scaled":
            body = (body + 1.0) * 2.0
            at_point = (at_point + 1.0) * 2.0
        elif shape == "negated":
            body, at_point = -(body - 1.0), -(at_point - 1.0)
        elif shape == "divided":
            body, at_point = body / 2.0, at_point / 2.0
        elif shape == "both sides":
            rhs = m.x[k % n] - 1.0
            at_point -= data["point"][k % n] - 1.0  # type: ignore[index]
        elif shape == "named":
            m.add_component(f"e{k}", pyo.Expression(expr=body))
            body = m.component(f"e{k}")
        if shape == "both sides":
            relations = {"==": body == rhs + at_point, "<=": body <= rhs + at_point + slack}
            relations |= {">=": body >= rhs + at_point - slack, "ranged": body - rhs <= at_point + slack}
        else:
            relations = {"==": body == at_point, "<=": body <= at_point + slack, ">=": at_point - slack <= body}
            relations["ranged"] = pyo.inequality(at_point - slack, body, at_point + slack)
        m.rows.add(relations[relation])
    objective = sum(c * m.x[j] for j, c in enumerate(data["cost"])) + data["constant"]  # type: ignore[arg-type]
    m.objective = pyo.Objective(expr=objective, sense=pyo.maximize if maximise else pyo.minimize)
    return m


@given(drawn=linear_models())
@RANDOM
def test_random_linear_models_agree(drawn: tuple[dict[str, object], bool]) -> None:
    data, maximise = drawn
    direct_model, direct, _, persistent = _both(lambda: _model(data, maximise))
    assert direct.interface == "direct"
    assert direct.status == persistent.status == "optimal"  # bounded, and feasible at the drawn point
    assert direct.termination == persistent.termination
    assert direct.objective == pytest.approx(persistent.objective, rel=REL, abs=REL)
    assert direct.objective == pytest.approx(pyo.value(direct_model.objective), rel=REL, abs=1e-6)
    for con in direct_model.rows.values():  # the loaded values satisfy every row
        body = pyo.value(con.body)
        assert con.lower is None or body >= pyo.value(con.lower) - 1e-6
        assert con.upper is None or body <= pyo.value(con.upper) + 1e-6
    assert_same_highs_model(compile_linear(_model(data, maximise)), persistent_lp(_model(data, maximise)))
