"""Compressors as practice runs them (issue 19, point 3): the VSD curve, load/unload cycling, sequencing.

Hand calculations use hourly steps (dt = 1 h) and a grid price of 1 CNY/kWh, so a step's cost is its kW. Every
unit has rated flow 10 m3/min and 6 kW per m3/min: 60 kW at full load.

- VSD, default curve (``power_curve.DEFAULT_VSD_CURVE``: (0, 0.13), (0.6, 0.58), (1, 1)):
  ``power = 60 * (0.13 + 0.75 f)`` for a flow fraction f up to 0.6, ``60 * (1.05 f - 0.05)`` above,
  i.e. 7.8 + 45 f and 63 f - 3 [kW].
- Load/unload, unloaded power 20 %: ``power = 12 * on + 48 * (y + loss)`` for a loaded share y.
  With ``cycle_loss_s`` 15 s and ``storage_m3`` 5 m3: ``k = 10 * 15 / (60 * 5) = 0.5`` and the loss, the cycle
  model ``k y (1 - y)`` interpolated at quarter loads, is ``min(0.375 d, 0.0625 + 0.125 d)`` for the distance d
  of y to the nearest whole unit: 0.09375 at y = 1/4 or 3/4, 0.125 at y = 1/2, i.e. 4.5 and 6 kW.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from optimizer import DispatchProblem, GridSpec, Horizon, SolveOptions, solve
from optimizer.assets.air import AirDemandSpec
from optimizer.assets.compressors import CompressorSpec
from optimizer.assets.power_curve import DEFAULT_VSD_CURVE, TYPICAL_CYCLE_LOSS_S, check_curve, cycling_coefficient

START = pd.Timestamp("2026-07-15 00:00", tz="Asia/Shanghai")
EXACT = SolveOptions(mip_rel_gap=0.0)
OLD_LINE = [(0.2, 0.25), (1.0, 1.0)]  # the former default VSD curve: specific power 1.25 x at 20 %, linear above
HELD_ON = {"initial_on": True, "initial_minutes_in_state": 0.0, "min_up_minutes": 120.0}  # must run at step 0


def hourly(n_steps: int) -> Horizon:
    return Horizon(start=START.to_pydatetime(), step_minutes=60, n_steps=n_steps)


def problem(n_steps: int, *assets: object, price: float | list[float] = 1.0) -> DispatchProblem:
    grid = GridSpec(name="grid", import_limit_kw=10_000.0, import_price_cny_per_kwh=price)
    return DispatchProblem(horizon=hourly(n_steps), assets=[grid, *assets])


def unit(name: str, **kwargs: object) -> CompressorSpec:
    kwargs.setdefault("rated_flow_m3_per_min", 10.0)
    kwargs.setdefault("specific_power_kw_per_m3_per_min", 6.0)
    return CompressorSpec(name=name, **kwargs)


def cycling(name: str, storage_m3: float = 5.0, **kwargs: object) -> CompressorSpec:
    """A load/unload unit with the typical cycle loss (15 s) against ``storage_m3`` of stored free air."""
    return unit(name, cycle_loss_s=TYPICAL_CYCLE_LOSS_S, storage_m3=storage_m3, **kwargs)


def demand(flow: float | list[float]) -> AirDemandSpec:
    return AirDemandSpec(name="air", flow_m3_per_min=flow)


def flows(result: object, *names: str) -> list[float]:
    schedule = result.schedule  # type: ignore[attr-defined]
    return [round(float(schedule[f"{n}.flow_m3_per_min"].iloc[0]), 6) for n in names]


# --------------------------------------------------------------------------- the VSD curve


def test_default_vsd_curve_has_the_data_sheet_shape() -> None:
    # Specific power relative to full load = power_frac / flow_frac:
    #   20 %: (0.13 + 0.15) / 0.2 = 1.40;  50 %: (0.13 + 0.375) / 0.5 = 1.01;  60 %: 0.58 / 0.6 = 0.9667;
    #   80 %: (0.58 + 1.05 * 0.2) / 0.8 = 0.9875;  100 %: 1.
    vsd = unit("v", control="vsd")
    check_curve(list(DEFAULT_VSD_CURVE), vsd.min_flow_frac)  # convex, from 0 to (1, 1)
    relative = {f: vsd.power_kw_at(1.0, 10.0 * f) / (60.0 * f) for f in (0.2, 0.5, 0.6, 0.8, 1.0)}
    assert relative == pytest.approx({0.2: 1.40, 0.5: 1.01, 0.6: 0.58 / 0.6, 0.8: 0.9875, 1.0: 1.0})
    # Rising at low flow, best near 60 %, and above the former straight default at low flow (1.25 x at 20 %).
    assert relative[0.2] > relative[0.5] > relative[0.6] < relative[0.8] < relative[1.0]
    assert unit("old", control="vsd", power_curve=OLD_LINE).power_kw_at(1.0, 2.0) / 12.0 == pytest.approx(1.25)


def test_an_explicit_curve_still_replaces_the_default() -> None:
    # The line through (0.2, 0.25) and (1, 1): 0.0625 + 0.9375 * 0.5 = 0.53125 of 60 kW at half flow.
    result = solve(problem(1, unit("v", control="vsd", power_curve=OLD_LINE), demand(5.0)))
    assert result.schedule["v.power_kw"].iloc[0] == pytest.approx(31.875)


# --------------------------------------------------------------------------- load/unload cycling


@pytest.mark.parametrize(
    ("flow", "power_kw"),
    [
        (10.0, 60.0),  # fully loaded: no cycles
        (7.5, 12.0 + 48.0 * (0.75 + 0.09375)),  # y = 3/4: 52.5 kW (ideal 48)
        (5.0, 12.0 + 48.0 * (0.5 + 0.125)),  # y = 1/2: 42 kW (ideal 36)
        (2.5, 12.0 + 48.0 * (0.25 + 0.09375)),  # y = 1/4: 28.5 kW (ideal 24)
    ],
)
def test_cycling_loss_by_hand(flow: float, power_kw: float) -> None:
    result = solve(problem(1, cycling("c"), demand(flow)), EXACT)
    assert result.status == "optimal"
    assert result.schedule["c.power_kw"].iloc[0] == pytest.approx(power_kw)
    assert result.kpis.objective_cny == pytest.approx(power_kw)
    assert cycling("c").power_kw_at(1.0, flow) == pytest.approx(power_kw)  # the baseline's formula


def test_a_unit_held_on_idle_blows_down_and_pays_only_its_unloaded_power() -> None:
    # Demand 0 at step 0, the unit must stay on (min up time): unloaded all hour, no cycles: 12 kW.
    result = solve(problem(1, cycling("c", **HELD_ON), demand(0.0)), EXACT)
    assert result.schedule["c.on"].iloc[0] == pytest.approx(1.0)
    assert result.schedule["c.power_kw"].iloc[0] == pytest.approx(12.0)


@pytest.mark.parametrize(
    ("storage_m3", "power_kw"),
    [
        # k = 10 * 15 / (60 V); half load pays k / 4 of 48 kW on top of the ideal 36 kW.
        (1.0, 36.0 + 48.0 * 0.25),  # k = 2.5, capped at 1: 48 kW
        (5.0, 36.0 + 48.0 * 0.125),  # k = 0.5: 42 kW
        (10.0, 36.0 + 48.0 * 0.0625),  # k = 0.25: 39 kW
        (100.0, 36.0 + 48.0 * 0.00625),  # k = 0.025: 36.3 kW, near the ideal line
    ],
)
def test_the_less_storage_the_larger_the_cycling_loss(storage_m3: float, power_kw: float) -> None:
    assert cycling_coefficient(10.0, storage_m3, 15.0) == pytest.approx(min(1.0, 2.5 / storage_m3))
    result = solve(problem(1, cycling("c", storage_m3=storage_m3), demand(5.0)), EXACT)
    assert result.schedule["c.power_kw"].iloc[0] == pytest.approx(power_kw)


def test_only_one_unit_of_a_group_cycles() -> None:
    # Two units, 15 m3/min: one loaded, one at half load. 2 * 12 + 48 * (1.5 + 0.125) = 102 kW
    # (both at 3/4 each would be 2 * 52.5 = 105 kW).
    group = cycling("g", units=2)
    result = solve(problem(1, group, demand(15.0)), EXACT)
    assert result.schedule["g.on"].iloc[0] == pytest.approx(2.0)
    assert result.schedule["g.power_kw"].iloc[0] == pytest.approx(102.0)
    assert group.power_kw_at(2.0, 15.0) == pytest.approx(102.0)
    assert result.baseline_schedule["g.power_kw"].iloc[0] == pytest.approx(60.0 + 42.0)  # in turn: 10 + 5


def _heat_assets() -> list[object]:
    from optimizer.assets import heat

    boiler = heat.GasBoilerSpec(
        name="boiler", capacity_kw=200.0, efficiency=1.0, gas_price_cny_per_nm3=10.0, gas_lhv_kwh_per_nm3=10.0
    )
    return [boiler, heat.HeatDemandSpec(name="hd", heat_kw=100.0)]


@pytest.mark.parametrize(("mode", "power_kw"), [("auto", 28.5), ("never", 30.0)])
def test_cycling_loss_stays_on_the_curve_when_heat_pays(mode: str, power_kw: float) -> None:
    # Electricity 0.1 CNY/kWh, boiler heat 1 CNY/kWh_th: each extra kWh of compressor power recovers 0.8 kWh_th
    # worth 0.8 CNY. At y = 1/4 the loss is 0.09375 (28.5 kW, see above); bounded from below only ("never") it
    # rises to its bound k / 4 = 0.125: 12 + 48 * (0.25 + 0.125) = 30 kW. "auto" (heat recovery) keeps it exact.
    spec = cycling("c", heat_recovery_frac=0.8, exact_power_curve=mode)
    result = solve(problem(1, spec, demand(2.5), *_heat_assets(), price=0.1), EXACT)
    assert result.schedule["c.power_kw"].iloc[0] == pytest.approx(power_kw)


def test_cycling_fields_are_checked() -> None:
    with pytest.raises(ValidationError, match="storage_m3"):
        unit("c", cycle_loss_s=15.0)  # the storage it cycles against is needed
    with pytest.raises(ValidationError, match="load_unload control only"):
        unit("v", control="vsd", cycle_loss_s=15.0, storage_m3=5.0)
    with pytest.raises(ValidationError, match="less than or equal to 120"):
        unit("c", cycle_loss_s=600.0, storage_m3=5.0)
    assert unit("c", storage_m3=5.0).cycling_coefficient == 0.0  # no cycle loss given: the ideal line


# --------------------------------------------------------------------------- sequencing


def test_free_units_the_vsd_trims_the_fixed_speed_unit_carries_the_base() -> None:
    # One load/unload unit and one VSD, 15 m3/min, either may stop.
    #   fixed loaded + VSD at 5:  60 + (7.8 + 45 * 0.5) = 90.3
    #   VSD loaded + fixed at 5:  60 + 42 = 102
    #   fixed at y in [0.9, 1], VSD at 1.5 - y in [0.5, 0.6]: 24 + 36 y + 7.8 + 45 (1.5 - y) = 99.3 - 9 y, least at
    #   y = 1; for y in [0.5, 0.9] (VSD above 0.6): 24 + 36 y + 63 (1.5 - y) - 3 = 115.5 - 27 y >= 91.2.
    result = solve(problem(1, cycling("fixed"), unit("vsd", control="vsd"), demand(15.0)), EXACT)
    assert flows(result, "fixed", "vsd") == [10.0, 5.0]
    assert result.kpis.objective_cny == pytest.approx(90.3)


def _fleet(curve: list[tuple[float, float]] | None, cycle: bool) -> DispatchProblem:
    """Two fixed-speed units (a group) and a VSD, all kept on by their min up time, 17 m3/min of air."""
    fixed = cycling("fixed", units=2, **HELD_ON) if cycle else unit("fixed", units=2, **HELD_ON)
    return problem(1, fixed, unit("vsd", control="vsd", power_curve=curve, **HELD_ON), demand(17.0))


@pytest.mark.parametrize(
    ("curve", "cycle", "fixed_flow", "vsd_flow", "cost"),
    [
        # The reported plan: the former straight VSD line and ideal load/unload. Both fixed units run (24 kW
        # unloaded), each m3/min on a fixed unit costs 4.8 kW, on the VSD 60 * 0.9375 / 10 = 5.625 kW: the fixed
        # units take 15, the VSD stays at its minimum 2. 24 + 4.8 * 15 + 60 * 0.25 = 111.
        (OLD_LINE, False, 15.0, 2.0, 111.0),
        # The data-sheet curve alone: the VSD is cheaper than a fixed unit (4.8 kW per m3/min) only up to 60 %
        # (4.5 kW per m3/min, 6.3 above), so the fixed units still trim a little: VSD at 6, fixed 11:
        # 24 + 4.8 * 11 + 60 * 0.58 = 111.6.
        (None, False, 11.0, 6.0, 111.6),
        # Curve and cycling loss: part-loading the second fixed unit costs 48 * 0.375 = 18 kW per unit of share
        # near whole units on top of 48 (6.6 kW per m3/min), more than the VSD's 6.3: one fixed unit loaded,
        # the other idle (blown down, 12 kW), the VSD trims at 7. 24 + 48 + (63 * 0.7 - 3) = 113.1.
        # Keeping the fixed unit trimming at 5 instead: 24 + 72 + 6 + 60 * 0.28 = 118.8.
        (None, True, 10.0, 7.0, 113.1),
    ],
)
def test_held_on_units_the_vsd_trims_once_part_load_costs_what_it_does(
    curve: list[tuple[float, float]] | None, cycle: bool, fixed_flow: float, vsd_flow: float, cost: float
) -> None:
    result = solve(_fleet(curve, cycle), EXACT)
    assert result.status == "optimal"
    assert flows(result, "fixed", "vsd") == pytest.approx([fixed_flow, vsd_flow])
    assert result.kpis.objective_cny == pytest.approx(cost)


# --------------------------------------------------------------------------- properties


@st.composite
def cycling_fleets(draw: st.DrawFn) -> DispatchProblem:
    n_steps = draw(st.integers(2, 4))
    units: list[object] = []
    for i in range(draw(st.integers(1, 2))):
        units.append(
            cycling(
                f"lu{i}",
                storage_m3=draw(st.sampled_from([1.0, 5.0, 40.0])),
                units=draw(st.integers(1, 3)),
                heat_recovery_frac=draw(st.sampled_from([0.0, 0.8])),
                min_up_minutes=draw(st.sampled_from([0.0, 120.0])),
            )
        )
    if draw(st.booleans()):
        units.append(unit("vsd", control="vsd", units=draw(st.integers(1, 2))))
    units.append(unit("backup", rated_flow_m3_per_min=60.0, specific_power_kw_per_m3_per_min=8.0))
    flow = draw(st.lists(st.floats(0.0, 50.0, allow_nan=False), min_size=n_steps, max_size=n_steps))
    price = draw(st.lists(st.sampled_from([0.3, 0.7, 1.2]), min_size=n_steps, max_size=n_steps))
    floor = 4.0 if any(getattr(u, "control", "") == "vsd" for u in units) else 0.0  # the VSD group's minimum
    return problem(n_steps, *units, demand([round(floor + f, 3) for f in flow]), price=price)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cycling_fleets())
def test_power_is_the_cycle_model_at_every_optimum(prob: DispatchProblem) -> None:
    """Whatever the fleet, each compressor's power in the plan is :meth:`CompressorSpec.power_kw_at` of its units
    running and its flow (the loss is exact at the optimum, or made exact where heat pays)."""
    result = solve(prob, EXACT)
    assert result.status == "optimal", result.report.message
    s = result.schedule
    for spec in prob.assets:
        if isinstance(spec, CompressorSpec):
            on, flow = s[f"{spec.name}.on"].round(6).to_numpy(), s[f"{spec.name}.flow_m3_per_min"].to_numpy()
            expected = [spec.power_kw_at(o, f) for o, f in zip(on, flow, strict=True)]
            assert np.allclose(s[f"{spec.name}.power_kw"], expected, atol=1e-5), spec.name


def test_a_diagnosis_names_the_grid_limit_not_a_cycling_row() -> None:
    # Two cycling units make 15 m3/min for 102 kW (see above); a grid 30 kW short is the setting named, the rows of
    # the cycling loss being definitions (optimizer.diagnose), never the thing to change.
    from optimizer.diagnose import diagnose_infeasibility

    grid = GridSpec(name="grid", import_limit_kw=72.0, import_price_cny_per_kwh=1.0)
    prob = DispatchProblem(horizon=hourly(1), assets=[grid, cycling("g", units=2), demand(15.0)])
    assert solve(prob, EXACT).status == "infeasible"
    diagnosis = diagnose_infeasibility(prob, EXACT)
    assert [(v.group, v.field) for v in diagnosis] == [("grid.import_kw", "import_limit_kw")]
    assert diagnosis[0].amount == pytest.approx(30.0, abs=1e-5)
