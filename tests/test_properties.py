"""Property tests on random small dispatch problems.

Every problem drawn here is feasible by construction: the import limit covers the
largest load, a battery may stay idle (its end SOC target is at most its initial
SOC, its reserve at most its initial SOC, no standing loss), green contracts have
no minimum energy, and every target is soft. The KPIs are recomputed from the
schedule columns and the problem's own inputs, independently of the optimiser.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import (
    BatterySpec,
    DispatchProblem,
    EmissionCap,
    FractionTarget,
    GreenContractSpec,
    GridSpec,
    Horizon,
    LoadSpec,
    ObjectiveSpec,
    PvSpec,
    SolveOptions,
    Targets,
    solve,
)

START = pd.Timestamp("2026-07-15 00:00", tz="Asia/Shanghai")  # <= 12 h horizons stay inside one month
EXACT = SolveOptions(mip_rel_gap=0.0)  # compare optima without the default 1e-4 MIP gap
TOL = 1e-6
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _num(lo: float, hi: float, places: int = 2) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False).map(lambda x: round(x, places))


@dataclass(frozen=True)
class Shape:
    """Which optional parts a drawn problem may have."""

    battery: bool | None = None  # True: always, False: never, None: maybe
    end_at_soc_min: bool = False  # battery end target = SOC floor (the rule-based baseline always meets it)
    reserve: bool = True
    hard_targets: bool = False


@st.composite
def problems(draw: st.DrawFn, shape: Shape | None = None) -> DispatchProblem:
    shape = shape or Shape()
    n = draw(st.integers(2, 12))
    step_minutes = draw(st.sampled_from([15, 30, 60]))

    def series(lo: float, hi: float, places: int = 2) -> list[float]:
        return draw(st.lists(_num(lo, hi, places), min_size=n, max_size=n))

    load_kw = series(0.0, 400.0)
    assets: list[object] = [LoadSpec(name="load", power_kw=load_kw)]

    has_pv = draw(st.booleans())
    pv_kw = series(0.0, 500.0) if has_pv else [0.0] * n

    export_limit = draw(st.one_of(st.just(0.0), _num(1.0, 500.0)))
    grid_args: dict[str, object] = {
        "name": "grid",
        "import_limit_kw": max(load_kw) + draw(_num(0.0, 300.0)),
        "import_price_cny_per_kwh": series(0.05, 1.5, 3),
        "export_limit_kw": export_limit,
        "location_kgco2_per_kwh": draw(_num(0.3, 0.9, 3)),
        "market_kgco2_per_kwh": draw(_num(0.3, 0.9, 3)),
    }
    if export_limit > 0:
        grid_args["export_price_cny_per_kwh"] = series(-0.1, 1.0, 3)
    if draw(st.booleans()):
        grid_args["demand_charge_cny_per_kw_month"] = draw(_num(1.0, 40.0))
        grid_args["month_to_date_peak_kw"] = draw(_num(0.0, 400.0))
    assets.insert(0, GridSpec(**grid_args))

    if has_pv:
        # Non-curtailable PV only where the surplus can always be exported, so the problem stays feasible.
        curtailable = draw(st.booleans()) if export_limit >= max(pv_kw) else True
        assets.append(PvSpec(name="pv", available_kw=pv_kw, curtailable=curtailable))

    with_battery = draw(st.booleans()) if shape.battery is None else shape.battery
    if with_battery:
        soc_min = draw(_num(0.0, 0.3))
        soc_max = draw(_num(0.7, 1.0))
        initial = draw(_num(soc_min, soc_max))
        if shape.end_at_soc_min:
            end, rule = soc_min, ">="
        else:
            end = draw(st.one_of(st.none(), _num(soc_min, initial)))
            rule = draw(st.sampled_from([">=", "=="])) if end is None else ">="
        battery_args: dict[str, object] = {
            "name": "battery",
            "capacity_kwh": draw(_num(10.0, 500.0)),
            "charge_power_kw": draw(_num(0.0, 300.0)),
            "discharge_power_kw": draw(_num(0.0, 300.0)),
            "charge_efficiency": draw(_num(0.7, 1.0, 3)),
            "discharge_efficiency": draw(_num(0.7, 1.0, 3)),
            "soc_min_frac": soc_min,
            "soc_max_frac": soc_max,
            "initial_soc_frac": initial,
            "end_soc_frac": end,
            "end_soc_rule": rule,
            "degradation_cost_cny_per_kwh": draw(st.one_of(st.just(0.0), _num(0.0, 0.1, 3))),
        }
        if shape.reserve and draw(st.booleans()):
            battery_args["reserve_soc_frac"] = draw(_num(soc_min, initial))
            battery_args["reserve_hours"] = draw(st.lists(st.integers(0, 11), max_size=4, unique=True))
        assets.append(BatterySpec(**battery_args))

    if draw(st.booleans()):
        max_energy = draw(st.one_of(st.none(), _num(0.0, 2000.0)))
        assets.append(
            GreenContractSpec(
                name="green",
                pricing=draw(st.sampled_from(["ppa", "certificate"])),
                price_cny_per_kwh=draw(_num(0.0, 1.5, 3)),
                max_kw=draw(st.one_of(st.none(), _num(0.0, 300.0))),
                max_energy_kwh=max_energy,
            )
        )

    def soft_fraction() -> FractionTarget | None:
        if not draw(st.booleans()):
            return None
        return FractionTarget(min_frac=draw(_num(0.0, 1.0)), hard=False, penalty_cny_per_kwh=draw(_num(0.0, 3.0)))

    cap = None
    if draw(st.booleans()):
        cap = EmissionCap(
            max_kgco2=draw(_num(0.0, 2000.0)),
            accounting=draw(st.sampled_from(["location", "market"])),
            hard=False,
            penalty_cny_per_kgco2=draw(_num(0.0, 2.0)),
        )
    targets = Targets(pv_self_consumption=soft_fraction(), green_share=soft_fraction(), emission_cap=cap)
    objective = ObjectiveSpec(
        carbon_price_cny_per_tco2=draw(st.one_of(st.just(0.0), _num(0.0, 300.0))),
        carbon_accounting=draw(st.sampled_from(["location", "market"])),
    )
    return DispatchProblem(
        horizon=Horizon(start=START.to_pydatetime(), step_minutes=step_minutes, n_steps=n),
        assets=assets,
        targets=targets,
        objective=objective,
    )


# --------------------------------------------------------------------------- helpers


def _asset(problem: DispatchProblem, kind: str):
    found = [a for a in problem.assets if a.kind == kind]
    return found[0] if found else None


def _series(value: float | list[float], n: int) -> np.ndarray:
    return np.full(n, float(value)) if isinstance(value, (int, float)) else np.asarray(value, dtype=float)


def _column(schedule: pd.DataFrame, name: str) -> np.ndarray:
    return schedule[name].to_numpy() if name in schedule else np.zeros(len(schedule))


def _solve(problem: DispatchProblem):
    result = solve(problem, EXACT)
    assert result.status == "optimal", result.report
    assert result.schedule_source == "optimizer"
    return result


def expected_costs(problem: DispatchProblem, schedule: pd.DataFrame) -> dict[str, float]:
    """Every cost bucket recomputed from the schedule and the problem's inputs (not the schedule's price columns)."""
    n, dt_h = problem.horizon.n_steps, problem.horizon.dt_h
    grid: GridSpec = _asset(problem, "grid")
    price = _series(grid.import_price_cny_per_kwh, n)
    imports = _column(schedule, "grid.import_kw")
    exports = _column(schedule, "grid.export_kw")
    green = _column(schedule, "green.power_kw")
    output = _column(schedule, "pv.output_kw")
    pv = _asset(problem, "pv")
    available = _series(pv.available_kw, n) if pv else np.zeros(n)

    costs = {"grid_energy": float(price @ imports) * dt_h}
    costs["export_revenue"] = -float(_series(grid.export_price_cny_per_kwh, n) @ exports) * dt_h
    if grid.demand_charge_cny_per_kw_month > 0:
        costs["demand_charge"] = grid.demand_charge_cny_per_kw_month * max(
            0.0, imports.max() - grid.month_to_date_peak_kw
        )
    bat = _asset(problem, "battery")
    if bat is not None:
        throughput = _column(schedule, "battery.charge_kw") + _column(schedule, "battery.discharge_kw")
        costs["degradation"] = bat.degradation_cost_cny_per_kwh * throughput.sum() * dt_h
    contract = _asset(problem, "green_contract")
    if contract is not None:
        costs["green_contract"] = float(_series(contract.price_cny_per_kwh, n) @ green) * dt_h
        if contract.pricing == "ppa":
            costs["grid_energy"] -= float(price @ green) * dt_h
    emissions = {
        "location": grid.location_kgco2_per_kwh * imports.sum() * dt_h,
        "market": grid.market_kgco2_per_kwh * (imports - green).sum() * dt_h,
    }
    carbon = problem.objective
    costs["carbon"] = carbon.carbon_price_cny_per_tco2 / 1000.0 * emissions[carbon.carbon_accounting]

    targets, penalty = problem.targets, 0.0
    self_used = (output.sum() - exports.sum()) * dt_h
    if targets.pv_self_consumption is not None and available.sum() > 0:
        t = targets.pv_self_consumption
        penalty += t.penalty_cny_per_kwh * max(0.0, t.min_frac * available.sum() * dt_h - self_used)
    if targets.green_share is not None:
        t = targets.green_share
        consumption = imports.sum() * dt_h + self_used
        penalty += t.penalty_cny_per_kwh * max(0.0, t.min_frac * consumption - self_used - green.sum() * dt_h)
    if targets.emission_cap is not None:
        cap = targets.emission_cap
        penalty += cap.penalty_cny_per_kgco2 * max(0.0, emissions[cap.accounting] - cap.max_kgco2)
    costs["penalty"] = penalty
    costs["_location_kgco2"] = emissions["location"]
    costs["_market_kgco2"] = emissions["market"]
    return costs


def approx(value: object) -> object:
    return pytest.approx(value, rel=1e-6, abs=TOL)


# --------------------------------------------------------------------------- properties


@PROPERTY_SETTINGS
@given(problems())
def test_optimal_schedule_respects_every_bound(problem: DispatchProblem) -> None:
    r = _solve(problem)
    s, n, dt_h = r.schedule, problem.horizon.n_steps, problem.horizon.dt_h
    assert len(s) == n
    assert not s.isna().any().any()

    grid: GridSpec = _asset(problem, "grid")
    imports = s["grid.import_kw"].to_numpy()
    assert np.all(imports >= -TOL)
    assert np.all(imports <= grid.import_limit_kw + TOL)
    if grid.export_limit_kw > 0:
        exports = s["grid.export_kw"].to_numpy()
        assert np.all(exports >= -TOL)
        assert np.all(exports <= grid.export_limit_kw + TOL)
    else:
        assert "grid.export_kw" not in s

    pv = _asset(problem, "pv")
    if pv is not None:
        available = _series(pv.available_kw, n)
        output = s["pv.output_kw"].to_numpy()
        assert np.all(output >= -TOL)
        assert np.all(output <= available + TOL)
        if not pv.curtailable:
            assert output == approx(available)

    bat: BatterySpec | None = _asset(problem, "battery")
    if bat is not None:
        cap = bat.capacity_kwh
        charge, discharge = s["battery.charge_kw"].to_numpy(), s["battery.discharge_kw"].to_numpy()
        soc = s["battery.soc_kwh"].to_numpy()
        assert np.all(charge >= -TOL)
        assert np.all(discharge >= -TOL)
        assert np.all(charge <= bat.charge_power_kw + TOL)
        assert np.all(discharge <= bat.discharge_power_kw + TOL)
        assert np.all(soc >= bat.soc_min_frac * cap - TOL)
        assert np.all(soc <= bat.soc_max_frac * cap + TOL)
        # soc is the content at the END of each step.
        before = np.r_[bat.initial_soc_frac * cap, soc[:-1]]
        expected = before + (bat.charge_efficiency * charge - discharge / bat.discharge_efficiency) * dt_h
        assert soc == approx(expected)
        end = (bat.initial_soc_frac if bat.end_soc_frac is None else bat.end_soc_frac) * cap
        if bat.end_soc_rule == "==":
            assert soc[-1] == approx(end)
        else:
            assert soc[-1] >= end - TOL
        if bat.reserve_hours and bat.reserve_soc_frac > bat.soc_min_frac:
            in_reserve = np.isin(problem.horizon.index.hour, bat.reserve_hours)
            assert np.all(soc[in_reserve] >= bat.reserve_soc_frac * cap - TOL)

    contract = _asset(problem, "green_contract")
    if contract is not None:
        green = s["green.power_kw"].to_numpy()
        assert np.all(green >= -TOL)
        assert np.all(green <= imports + TOL)
        if contract.max_kw is not None:
            assert np.all(green <= contract.max_kw + TOL)
        if contract.max_energy_kwh is not None:
            assert green.sum() * dt_h <= contract.max_energy_kwh + TOL


@PROPERTY_SETTINGS
@given(problems())
def test_electricity_balances_in_every_step(problem: DispatchProblem) -> None:
    r = _solve(problem)
    s = r.schedule
    supply = _column(s, "grid.import_kw") + _column(s, "pv.output_kw") + _column(s, "battery.discharge_kw")
    demand = _column(s, "load.power_kw") + _column(s, "grid.export_kw") + _column(s, "battery.charge_kw")
    assert np.max(np.abs(supply - demand)) < TOL
    assert r.kpis.max_balance_residual_kw < TOL
    assert s["load.power_kw"].to_numpy() == approx(_series(_asset(problem, "load").power_kw, problem.horizon.n_steps))


@PROPERTY_SETTINGS
@given(problems())
def test_kpis_match_costs_recomputed_from_the_schedule(problem: DispatchProblem) -> None:
    r = _solve(problem)
    expected = expected_costs(problem, r.schedule)
    location, market = expected.pop("_location_kgco2"), expected.pop("_market_kgco2")
    reported = r.kpis.cost_cny_by_component
    assert set(reported) <= set(expected)
    for bucket, value in expected.items():
        assert reported.get(bucket, 0.0) == approx(value), bucket
    cash = sum(v for k, v in expected.items() if k not in ("carbon", "penalty"))
    assert r.kpis.energy_cost_cny == approx(cash)
    assert r.kpis.objective_cny == approx(sum(expected.values()))
    assert r.kpis.emissions_location_kgco2 == approx(location)
    assert r.kpis.emissions_market_kgco2 == approx(market)

    dt_h, s = problem.horizon.dt_h, r.schedule
    imports, exports = _column(s, "grid.import_kw"), _column(s, "grid.export_kw")
    output, available = _column(s, "pv.output_kw"), _column(s, "pv.available_kw")
    assert r.kpis.import_kwh == approx(imports.sum() * dt_h)
    assert r.kpis.export_kwh == approx(exports.sum() * dt_h)
    assert r.kpis.peak_import_kw == approx(imports.max())
    assert r.kpis.curtailment_kwh == approx((available - output).sum() * dt_h)
    if available.sum() > 0:
        assert r.kpis.pv_self_consumption_frac == approx((output - exports).sum() / available.sum())
    else:
        assert r.kpis.pv_self_consumption_frac is None
    consumption = (imports + output - exports).sum() * dt_h
    assert r.kpis.consumption_kwh == approx(consumption)
    if consumption > 0:
        green_used = (output - exports + _column(s, "green.power_kw")).sum() * dt_h
        assert r.kpis.green_share_frac == approx(green_used / consumption)


@PROPERTY_SETTINGS
@given(problems())
def test_solver_objective_equals_kpi_objective(problem: DispatchProblem) -> None:
    r = _solve(problem)
    assert r.report.objective == pytest.approx(r.kpis.objective_cny, rel=1e-6, abs=1e-6)
    assert r.report.best_bound is not None
    assert r.report.best_bound <= r.report.objective + 1e-6 * (1.0 + abs(r.report.objective))


@PROPERTY_SETTINGS
@given(problems(Shape(end_at_soc_min=True, reserve=False)))
def test_optimum_is_never_worse_than_the_rule_based_baseline(problem: DispatchProblem) -> None:
    # Condition under which the comparison is meaningful: the baseline schedule is a feasible point of
    # the model. With end SOC target = SOC floor, no reserve hours, only soft targets, no minimum contract
    # energy and an import limit above every load, it is; that is asserted first, then the comparison.
    r = _solve(problem)
    base, n = r.baseline_schedule, problem.horizon.n_steps
    grid: GridSpec = _asset(problem, "grid")
    assert r.baseline_kpis.max_balance_residual_kw < TOL
    assert np.all(base["grid.import_kw"].to_numpy() <= grid.import_limit_kw + TOL)
    bat = _asset(problem, "battery")
    if bat is not None:
        soc = base["battery.soc_kwh"].to_numpy()
        assert np.all(soc >= bat.soc_min_frac * bat.capacity_kwh - TOL)
        assert np.all(soc <= bat.soc_max_frac * bat.capacity_kwh + TOL)
    assert len(base) == n
    assert r.kpis.objective_cny <= r.baseline_kpis.objective_cny + TOL * (1.0 + abs(r.baseline_kpis.objective_cny))


@PROPERTY_SETTINGS
@given(problems(Shape(battery=True)), _num(1.0, 3.0))
def test_more_battery_capacity_never_raises_the_optimal_cost(problem: DispatchProblem, factor: float) -> None:
    # Holds because every SOC level is a fraction of capacity, the end target is at most the initial SOC,
    # the reserve is at most the initial SOC and there is no standing loss: the small battery's flows,
    # run on the big battery from its (larger) initial content, stay within every SOC bound.
    small = _solve(problem)
    bat: BatterySpec = _asset(problem, "battery")
    bigger = BatterySpec(**{**bat.model_dump(), "capacity_kwh": bat.capacity_kwh * factor})
    assets = [bigger if a.kind == "battery" else a for a in problem.assets]
    big = _solve(problem.model_copy(update={"assets": assets}))
    assert big.kpis.objective_cny <= small.kpis.objective_cny + TOL * (1.0 + abs(small.kpis.objective_cny))
