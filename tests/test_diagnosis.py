"""Diagnosis of infeasible problems in comparable units (issue 15, point 5).

Each case is infeasible by construction for a known reason, computed by hand; the diagnosis must name that
reason first, in its own unit, with the asset and the spec field to change. Hourly steps, so kW for one step is
kWh. Compressor units as in ``tests/test_compressors.py``: rated 10 m3/min at 6 kW per m3/min, 60 kW at full load;
load/unload with unloaded fraction 0.2: ``power = 12 * on + 4.8 * flow`` [kW]; the default VSD curve
(0.2, 0.25)-(1, 1): ``power = 60 * (0.9375 * flow / 10 + 0.0625 * on)``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from optimizer import DispatchProblem, GridSpec, Horizon, SolveOptions, solve
from optimizer.assets.air import AirDemandSpec
from optimizer.assets.battery import BatterySpec
from optimizer.assets.compressors import CompressorSpec
from optimizer.assets.load import LoadSpec
from optimizer.assets.pv import PvSpec
from optimizer.diagnose import BALANCE_WEIGHT, Violation, diagnose_infeasibility
from optimizer.model import build_model
from optimizer.solve import solve_model

START = pd.Timestamp("2026-07-15 00:00", tz="Asia/Shanghai")
EXACT = SolveOptions(mip_rel_gap=0.0)


def problem(n_steps: int, *assets: object) -> DispatchProblem:
    horizon = Horizon(start=START.to_pydatetime(), step_minutes=60, n_steps=n_steps)
    return DispatchProblem(horizon=horizon, assets=list(assets))


def grid(import_limit_kw: float, **kwargs: object) -> GridSpec:
    return GridSpec(name="grid", import_limit_kw=import_limit_kw, import_price_cny_per_kwh=0.5, **kwargs)


def load(power_kw: float | list[float]) -> LoadSpec:
    return LoadSpec(name="load", power_kw=power_kw)


def battery(**kwargs: object) -> BatterySpec:
    """A lossless battery with the whole capacity usable, so levels are sums of powers times hours."""
    defaults: dict[str, object] = {
        "charge_efficiency": 1.0,
        "discharge_efficiency": 1.0,
        "soc_min_frac": 0.0,
        "soc_max_frac": 1.0,
    }
    return BatterySpec(name="battery", **(defaults | kwargs))


def compressor(name: str, control: str = "load_unload") -> CompressorSpec:
    # A VSD on one straight segment (an equality): the diagnosis's amounts stay exact to the last digits.
    curve = [(0.2, 0.25), (1.0, 1.0)] if control == "vsd" else None
    return CompressorSpec(
        name=name, rated_flow_m3_per_min=10.0, specific_power_kw_per_m3_per_min=6.0, control=control, power_curve=curve
    )


def feasible(p: DispatchProblem) -> bool:
    report = solve_model(build_model(p).model, EXACT)
    assert report.status in ("optimal", "infeasible"), report
    return report.status == "optimal"


def with_import_limit(p: DispatchProblem, import_limit_kw: float) -> DispatchProblem:
    assets = [a.model_copy(update={"import_limit_kw": import_limit_kw}) if a.kind == "grid" else a for a in p.assets]
    return p.model_copy(update={"assets": assets})


def named(violations: list[Violation]) -> list[tuple[str, int | None]]:
    return [(v.group, v.step) for v in violations]


# --- (a) the reported case: a grid import limit 30 kW short behind a compressor fleet --------------------------


@pytest.mark.parametrize(
    ("control", "compressors_kw"),
    [
        # 15 m3/min needs both units: 12 * 2 + 4.8 * 15 = 96 kW.
        ("load_unload", 96.0),
        # VSD on the line through (0.2, 0.25) and (1, 1): 60 * (0.9375 * 15 / 10 + 0.0625 * 2) = 91.875 kW.
        ("vsd", 91.875),
    ],
)
def test_grid_import_limit_30_kw_short_is_named_not_the_air_balance(control: str, compressors_kw: float) -> None:
    # Air 15 m3/min and 100 kW of other load at both steps; the grid gives 30 kW less than they need.
    needed_kw = compressors_kw + 100.0
    p = problem(
        2,
        grid(needed_kw - 30.0),
        compressor("c1", control),
        compressor("c2", control),
        AirDemandSpec(name="air", flow_m3_per_min=15.0),
        load(100.0),
    )
    assert not feasible(p)
    assert feasible(with_import_limit(p, needed_kw))  # the 30 kW are all that is missing
    diagnosis = diagnose_infeasibility(p, EXACT)
    assert named(diagnosis) == [("grid.import_kw", 0), ("grid.import_kw", 1)]
    first = diagnosis[0]
    assert (first.asset, first.field, first.bound, first.kind, first.unit) == (
        "grid",
        "import_limit_kw",
        "upper",
        "limit",
        "kW",
    )
    assert first.constraint == "grid.import_kw[0] upper bound (import_limit_kw)"
    assert [v.amount for v in diagnosis] == pytest.approx([30.0, 30.0], abs=1e-5)
    # Weighed as a fraction of the limit: 30 / (needed - 30).
    assert first.scale == pytest.approx(needed_kw - 30.0)
    assert first.weighted_amount == pytest.approx(30.0 / (needed_kw - 30.0), rel=1e-6)


def test_grid_limit_restated_on_steps_with_the_export_binary_is_one_setting() -> None:
    # Export pays more than import, so each step gets the exclusivity binary and the row
    # import <= limit * (1 - exporting): the limit is stated twice per step, and both name import_limit_kw.
    p = problem(
        2,
        grid(166.0, export_limit_kw=50.0, export_price_cny_per_kwh=0.6),
        compressor("c1"),
        compressor("c2"),
        AirDemandSpec(name="air", flow_m3_per_min=15.0),
        load(100.0),
    )
    diagnosis = diagnose_infeasibility(p, EXACT)
    assert {v.field for v in diagnosis} == {"import_limit_kw"}
    assert named(diagnosis)[0] == ("grid.import_kw", 0)
    assert {v.group for v in diagnosis} == {"grid.import_kw", "grid.import_when_not_exporting"}
    assert all(v.amount == pytest.approx(30.0, abs=1e-5) for v in diagnosis)


# --- (b) a battery end level out of reach ------------------------------------------------------------------------


def test_unreachable_battery_end_level_is_named_not_the_electricity_balance() -> None:
    # 100 kWh from 10 kWh (initial 0.1) to at least 90 kWh (end 0.9) in 2 h at 10 kW: at most 30 kWh, 60 short.
    # Charging faster would need the charge power at 40 kW (+30 kW, 3 times its 10 kW); the end level moves by
    # 60 of its 90 kWh.
    store = battery(
        capacity_kwh=100.0, charge_power_kw=10.0, discharge_power_kw=10.0, initial_soc_frac=0.1, end_soc_frac=0.9
    )
    p = problem(2, grid(1000.0), load(50.0), store)
    assert not feasible(p)
    diagnosis = diagnose_infeasibility(p, EXACT)
    assert named(diagnosis) == [("battery.end_level", None)]
    (end,) = diagnosis
    assert end.amount == pytest.approx(60.0, abs=1e-5)
    assert (end.unit, end.asset, end.field, end.kind, end.bound) == ("kWh", "battery", "end_soc_frac", "limit", None)
    assert end.weighted_amount == pytest.approx(60.0 / 90.0, rel=1e-6)


# --- (c) a load above the import limit ----------------------------------------------------------------------------


def test_load_above_import_limit_names_the_limit_at_its_step_through_solve() -> None:
    # Loads [50, 500, 80] behind 100 kW and nothing else: at step 1 (01:00) import must be 500, 400 above the limit.
    result = solve(problem(3, grid(100.0), load([50.0, 500.0, 80.0])), EXACT)
    assert result.status == "infeasible"
    assert [(v.group, v.step, v.timestamp) for v in result.diagnosis] == [
        ("grid.import_kw", 1, "2026-07-15T01:00:00+08:00")
    ]
    (limit,) = result.diagnosis
    assert limit.amount == pytest.approx(400.0, abs=1e-5)
    assert (limit.unit, limit.asset, limit.field) == ("kW", "grid", "import_limit_kw")
    assert limit.weight == pytest.approx(1.0 / 100.0)
    assert limit.weighted_amount == pytest.approx(4.0, rel=1e-6)


def test_a_limit_binding_at_several_steps_reports_each_steps_own_shortfall() -> None:
    # Loads [50, 500, 300] behind 100 kW, with a lossless 100 kWh battery at 50 kWh, 50 kW each way, ending at
    # 50 kWh or more. Step 0 charges the 50 kW the grid has spare (to 100 kWh); step 1 discharges 50 kW and still
    # needs 500 - 50 - 100 = 350 kW more than the limit; the battery is then back at 50 kWh and cannot give at
    # step 2, which needs 300 - 100 = 200 kW more. The setting (the limit) must move by 350; step 2 is reported
    # with its own 200, not with any value up to 350 that the first pass leaves free.
    p = problem(
        3,
        grid(100.0),
        load([50.0, 500.0, 300.0]),
        battery(capacity_kwh=100.0, charge_power_kw=50.0, discharge_power_kw=50.0, initial_soc_frac=0.5),
    )
    diagnosis = diagnose_infeasibility(p, EXACT)
    assert named(diagnosis) == [("grid.import_kw", 1), ("grid.import_kw", 2)]
    assert [v.amount for v in diagnosis] == pytest.approx([350.0, 200.0], abs=1e-5)
    assert [v.weighted_amount for v in diagnosis] == pytest.approx([3.5, 2.0], rel=1e-6)


@pytest.mark.parametrize(
    ("import_limit_kw", "capacity_kwh", "expected"),
    [
        # Load 1,030 kW behind 1,000 kW: the limit moves by 30 / 1,000 = 3 %; letting a 100 kWh battery end
        # 30 kWh below its 50 kWh start would be 30 / 50 = 60 %.
        (1000.0, 100.0, ("grid.import_kw", 0, "import_limit_kw")),
        # Load 70 kW behind 40 kW: the limit would move by 30 / 40 = 75 %; a 1,000 kWh battery ending 30 kWh
        # below its 500 kWh start is 30 / 500 = 6 %.
        (40.0, 1000.0, ("battery.end_level", None, "end_soc_frac")),
    ],
)
def test_the_setting_needing_the_least_change_for_its_size_is_named(
    import_limit_kw: float, capacity_kwh: float, expected: tuple[str, int | None, str]
) -> None:
    # One hour, 30 kW (30 kWh) missing; the battery could give it (100 kW) but must end where it started.
    p = problem(
        1,
        grid(import_limit_kw),
        load(import_limit_kw + 30.0),
        battery(capacity_kwh=capacity_kwh, charge_power_kw=100.0, discharge_power_kw=100.0, initial_soc_frac=0.5),
    )
    diagnosis = diagnose_infeasibility(p, EXACT)
    assert [(v.group, v.step, v.field) for v in diagnosis] == [expected]
    assert diagnosis[0].amount == pytest.approx(30.0, abs=1e-5)  # 30 kW at one step, or 30 kWh


# --- (d) where the balance is the thing to fix ------------------------------------------------------------------


def test_surplus_with_nowhere_to_go_stays_named_at_the_electricity_balance() -> None:
    # PV that cannot be curtailed gives 100 kW at step 1 to a 20 kW load; no export, no store: 80 kW too many.
    # No setting can take it, so the balance is named, as before.
    p = problem(2, grid(1000.0), load(20.0), PvSpec(name="pv", available_kw=[0.0, 100.0], curtailable=False))
    diagnosis = diagnose_infeasibility(p, EXACT)
    assert named(diagnosis) == [("electricity_balance", 1)]
    (balance,) = diagnosis
    assert balance.amount == pytest.approx(80.0, abs=1e-5)
    assert (balance.kind, balance.unit, balance.asset, balance.field) == ("balance", "kW", None, None)
    # Sized by the step's net demand (20 - 100 kW): 100 * 80 / 80.
    assert balance.weighted_amount == pytest.approx(BALANCE_WEIGHT, rel=1e-6)


def test_compressor_fleet_too_small_is_named_at_the_air_balance() -> None:
    # 25 m3/min from two 10 m3/min units: 5 m3/min short. Unit capacities are part of their on/off rules, not
    # settings: the bus they cannot cover is named, in m3/min (also what tests/test_implied_cuts.py expects).
    p = problem(1, grid(1000.0), compressor("c1"), compressor("c2"), AirDemandSpec(name="air", flow_m3_per_min=25.0))
    diagnosis = diagnose_infeasibility(p, EXACT)
    assert named(diagnosis) == [("compressed_air_balance", 0)]
    assert diagnosis[0].amount == pytest.approx(5.0, abs=1e-5)
    assert (diagnosis[0].kind, diagnosis[0].unit) == ("balance", "m3/min")


def test_violation_fields_added_are_optional() -> None:
    # Callers that build or format a Violation as before still can (scenarios.pipeline, the API presenter).
    v = Violation(constraint="electricity_balance[3]", group="electricity_balance", amount=12.5)
    assert (v.unit, v.kind, v.bound, v.asset, v.field, v.scale, v.weight, v.weighted_amount) == (None,) * 8
    assert f"{v.constraint} by {v.amount:.3g}" == "electricity_balance[3] by 12.5"
