"""Air compressors, air receivers and compressed-air demand (issue 3, compressed-air bus).

Hand calculations use hourly steps (dt = 1 h) and a grid price per step, so the
cost of a step is price * kW. Unless a test says otherwise a unit has
rated flow 10 m3/min and 6 kW per m3/min, i.e. 60 kW at full load:

- load/unload, unloaded fraction 0.2: ``power = 12 * on + 48 * loaded_frac``
  = ``12 * on + 4.8 * flow`` [kW, flow in m3/min];
- an air receiver's level is in m3: ``level[t] = level[t-1] + (in - out) * 60 * dt_h``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from optimizer import DispatchProblem, GridSpec, Horizon, SolveOptions, solve
from optimizer.assets import REGISTRY
from optimizer.assets.air import AirDemandSpec, AirReceiverSpec
from optimizer.assets.commitment import minutes_to_steps
from optimizer.assets.compressors import CompressorSpec
from optimizer.model import build_model
from optimizer.solve import solve_model

START = pd.Timestamp("2026-07-15 00:00", tz="Asia/Shanghai")
EXACT = SolveOptions(mip_rel_gap=0.0)


def hourly(n_steps: int) -> Horizon:
    return Horizon(start=START.to_pydatetime(), step_minutes=60, n_steps=n_steps)


def grid(price: float | list[float]) -> GridSpec:
    return GridSpec(name="grid", import_limit_kw=10_000.0, import_price_cny_per_kwh=price)


def unit(name: str = "c1", **kwargs: object) -> CompressorSpec:
    kwargs.setdefault("rated_flow_m3_per_min", 10.0)
    kwargs.setdefault("specific_power_kw_per_m3_per_min", 6.0)
    return CompressorSpec(name=name, **kwargs)


def demand(flow: float | list[float]) -> AirDemandSpec:
    return AirDemandSpec(name="air", flow_m3_per_min=flow)


def problem(n_steps: int, price: float | list[float], *assets: object) -> DispatchProblem:
    return DispatchProblem(horizon=hourly(n_steps), assets=[grid(price), *assets])


def col(result: object, column: str) -> list[float]:
    return result.schedule[column].round(6).tolist()  # type: ignore[attr-defined]


def test_registered_kinds() -> None:
    for kind in ("compressor", "air_receiver", "air_demand"):
        assert kind in REGISTRY


# --------------------------------------------------------------------------- load/unload, min up/down


def test_load_unload_follows_demand_with_loaded_share() -> None:
    # Demand 5 m3/min for one hour: loaded share 0.5, power = 12 + 48 * 0.5 = 36 kW; price 1 -> 36 CNY.
    result = solve(problem(1, 1.0, unit(), demand(5.0)))
    assert result.status == "optimal"
    assert col(result, "c1.loaded_frac") == [0.5]
    assert col(result, "c1.flow_m3_per_min") == [5.0]
    assert result.schedule["c1.power_kw"].iloc[0] == pytest.approx(36.0)
    assert result.kpis.objective_cny == pytest.approx(36.0)


def test_min_up_time_prevents_cycling_every_step() -> None:
    # Demand [10, 0, 10, 0, 0, 0], price 1.
    # Free to cycle: on [1, 0, 1, 0, 0, 0], 60 + 60 = 120 kWh, 2 starts.
    # Min up 180 min = 3 steps: a start at step 0 keeps the unit on through step 2, unloaded at step 1
    # (12 kW): on [1, 1, 1, 0, 0, 0], 60 + 12 + 60 = 132 kWh, 1 start, 3 running hours.
    free = solve(problem(6, 1.0, unit(), demand([10, 0, 10, 0, 0, 0])))
    assert col(free, "c1.on") == [1, 0, 1, 0, 0, 0]
    assert free.kpis.import_kwh == pytest.approx(120.0)
    assert free.kpis.compressor_starts == pytest.approx(2.0)

    held = solve(problem(6, 1.0, unit(min_up_minutes=180), demand([10, 0, 10, 0, 0, 0])))
    assert held.status == "optimal"
    assert col(held, "c1.on") == [1, 1, 1, 0, 0, 0]
    assert col(held, "c1.power_kw") == [60, 12, 60, 0, 0, 0]
    assert held.kpis.import_kwh == pytest.approx(132.0)
    assert held.kpis.compressor_starts == pytest.approx(1.0)
    assert held.kpis.compressor_running_h == pytest.approx(3.0)


def test_min_down_time_keeps_unit_on_unloaded() -> None:
    # Demand [10, 0, 10], min down 120 min = 2 steps: stopping at step 1 would keep the unit off at
    # step 2 as well, so it stays on unloaded: 60 + 12 + 60 = 132 kWh (cycling would be 120).
    result = solve(problem(3, 1.0, unit(min_down_minutes=120), demand([10, 0, 10])))
    assert col(result, "c1.on") == [1, 1, 1]
    assert result.kpis.import_kwh == pytest.approx(132.0)


def test_minutes_round_up_to_steps_on_quarter_hours() -> None:
    # 20 min on 15-min steps -> 2 steps; demand [10, 0, 0, 0] must keep the unit on at step 1 (unloaded).
    horizon = Horizon(start=START.to_pydatetime(), step_minutes=15, n_steps=4)
    prob = DispatchProblem(horizon=horizon, assets=[grid(1.0), unit(min_up_minutes=20), demand([10, 0, 0, 0])])
    assert minutes_to_steps(20, 15) == 2
    result = solve(prob)
    assert col(result, "c1.on") == [1, 1, 0, 0]
    # 0.25 h * (60 + 12) kW = 18 kWh
    assert result.kpis.import_kwh == pytest.approx(18.0)


def test_initial_state_served_before_stopping() -> None:
    # On for 60 min before the horizon with a 180-min min up time: 2 more steps on (unloaded, 12 kW each),
    # then off at step 2 and restarted for the demand at step 3 (no start cost, so stopping in between
    # is cheaper): on [1, 1, 0, 1], 12 + 12 + 0 + 60 = 84 kWh, one start (the restart).
    spec = unit(min_up_minutes=180, initial_on=True, initial_minutes_in_state=60)
    result = solve(problem(4, 1.0, spec, demand([0, 0, 0, 10])))
    assert col(result, "c1.on") == [1, 1, 0, 1]
    assert result.kpis.import_kwh == pytest.approx(84.0)
    assert result.kpis.compressor_starts == pytest.approx(1.0)


# --------------------------------------------------------------------------- start cost, availability


@pytest.mark.parametrize(
    ("start_cost", "on", "starts", "objective"),
    [
        # Demand [10, 0, 10], price 1. Stop and restart: 120 kWh + 2 starts; stay on unloaded: 132 kWh + 1 start.
        # 20 CNY per start: 120 + 40 = 160 > 132 + 20 = 152 -> stays on.
        (20.0, [1, 1, 1], 1, 152.0),
        # 5 CNY per start: 120 + 10 = 130 < 132 + 5 = 137 -> restarts.
        (5.0, [1, 0, 1], 2, 130.0),
    ],
)
def test_start_cost_prevents_a_restart(start_cost: float, on: list[int], starts: int, objective: float) -> None:
    result = solve(problem(3, 1.0, unit(start_cost_cny=start_cost), demand([10, 0, 10])))
    assert col(result, "c1.on") == on
    assert result.kpis.objective_cny == pytest.approx(objective)
    assert result.kpis.compressor_starts == pytest.approx(starts)
    assert result.kpis.cost_cny_by_component["start_up"] == pytest.approx(start_cost * starts)


def test_availability_forces_a_unit_off() -> None:
    # A: 5 kW per m3/min (50 kW full, 10 kW unloaded); B: 7 (70 kW, 14 kW unloaded); demand 8 m3/min.
    # A at 8 m3/min: 10 + 40 * 0.8 = 42 kW; B: 14 + 56 * 0.8 = 58.8 kW. A is unavailable at step 1:
    # A on [1, 0, 1], B on [0, 1, 0]; cost 42 + 58.8 + 42 = 142.8.
    a = unit("a", specific_power_kw_per_m3_per_min=5.0, availability=[1, 0, 1])
    b = unit("b", specific_power_kw_per_m3_per_min=7.0)
    result = solve(problem(3, 1.0, a, b, demand(8.0)))
    assert col(result, "a.on") == [1, 0, 1]
    assert col(result, "b.on") == [0, 1, 0]
    assert result.kpis.objective_cny == pytest.approx(142.8)
    # The baseline (list order, A first) does the same here.
    assert result.baseline_schedule["a.on"].tolist() == [1, 0, 1]
    assert result.baseline_kpis.objective_cny == pytest.approx(142.8)


def test_unavailable_during_min_up_is_rejected() -> None:
    spec = unit(min_up_minutes=180, initial_on=True, initial_minutes_in_state=0, availability=[1, 0, 1])
    with pytest.raises(ValueError, match="min up time"):
        build_model(problem(3, 1.0, spec, demand(0.0)))


# --------------------------------------------------------------------------- VSD curve


def test_vsd_default_curve_at_half_flow() -> None:
    # Default curve (CAGI shape, power_curve.DEFAULT_VSD_CURVE): (0, 0.13), (0.6, 0.58), (1, 1), so
    # power_frac = 0.13 + 0.75 * flow_frac up to 60 % flow. Flow 5 of 10 m3/min: 0.13 + 0.375 = 0.505 of
    # 60 kW = 30.3 kW (the former default line through (0.2, 0.25) and (1, 1) gave 31.875 kW).
    result = solve(problem(1, 1.0, unit(control="vsd"), demand(5.0)))
    assert result.schedule["c1.power_kw"].iloc[0] == pytest.approx(30.3)
    assert "c1.loaded_frac" not in result.schedule


CURVE = [(0.2, 0.25), (0.6, 0.5), (1.0, 1.0)]  # slopes 0.625 then 1.25: convex


@pytest.mark.parametrize(
    ("flow", "power_kw"),
    [
        # 50 %: 0.25 + 0.625 * (0.5 - 0.2) = 0.4375 of 60 kW = 26.25 kW
        (5.0, 26.25),
        # 80 %: 0.5 + 1.25 * (0.8 - 0.6) = 0.75 of 60 kW = 45 kW
        (8.0, 45.0),
        # 20 % (the minimum): 0.25 * 60 = 15 kW
        (2.0, 15.0),
    ],
)
def test_vsd_piecewise_curve(flow: float, power_kw: float) -> None:
    result = solve(problem(1, 1.0, unit(control="vsd", power_curve=CURVE), demand(flow)))
    assert result.schedule["c1.power_kw"].iloc[0] == pytest.approx(power_kw)


def test_vsd_below_min_flow_is_infeasible_without_a_receiver() -> None:
    # 1 m3/min is below 20 % of 10 m3/min and there is nowhere to put the surplus.
    result = solve(problem(1, 1.0, unit(control="vsd"), demand(1.0)))
    assert result.status == "infeasible"


def test_power_curve_validation() -> None:
    with pytest.raises(ValidationError, match="not convex"):
        unit(control="vsd", power_curve=[(0.2, 0.25), (0.6, 0.8), (1.0, 1.0)])
    with pytest.raises(ValidationError, match=r"end at \(1.0, 1.0\)"):
        unit(control="vsd", power_curve=[(0.2, 0.25), (1.0, 0.9)])
    with pytest.raises(ValidationError, match="min_flow_frac"):
        unit(control="vsd", min_flow_frac=0.2, power_curve=[(0.3, 0.35), (1.0, 1.0)])
    with pytest.raises(ValidationError, match="within 0-1"):
        unit(control="vsd", power_curve=[(0.0, 1.2), (0.5, 1.05), (1.0, 1.0)])
    # min_flow_frac 1 (fixed full speed): the default curve still starts below it
    assert unit(control="vsd", min_flow_frac=1.0).power_kw_at(1.0, 10.0) == pytest.approx(60.0)
    with pytest.raises(ValidationError, match="vsd control only"):
        unit(power_curve=CURVE)
    with pytest.raises(ValidationError, match=r"availability .*must be 0"):
        unit(availability=[1, 0.5])


# --------------------------------------------------------------------------- heat recovery


def test_recovered_heat_is_dumped_without_heat_demand() -> None:
    # 10 m3/min, 60 kW, recovery 0.8: 48 kW recovered, all dumped (nothing else on the heat bus).
    result = solve(problem(2, 1.0, unit(heat_recovery_frac=0.8), demand(10.0)))
    assert col(result, "c1.recovered_heat_kw") == [48.0, 48.0]
    assert col(result, "c1.dumped_heat_kw") == [48.0, 48.0]
    assert result.kpis.recovered_heat_kwh == pytest.approx(96.0)
    assert result.kpis.dumped_heat_kwh == pytest.approx(96.0)
    assert result.kpis.max_balance_residual_kw < 1e-6


def test_no_heat_columns_without_recovery() -> None:
    result = solve(problem(1, 1.0, unit(), demand(10.0)))
    assert "c1.recovered_heat_kw" not in result.schedule
    assert result.kpis.recovered_heat_kwh is None


def _heat_module() -> object:
    from optimizer.assets import heat

    return heat


def test_recovered_heat_displaces_boiler_gas() -> None:
    # Compressor fully loaded: 60 kW, 48 kW_th recovered. Heat demand [30, 60] kW_th; boiler 90 % on
    # 10 kWh/Nm3 = 9 kWh_th per Nm3 at 3 CNY/Nm3.
    # Step 0: 48 >= 30 -> 18 dumped, no gas. Step 1: 48 < 60 -> boiler 12 kW_th = 4/3 Nm3 -> 4 CNY.
    # Objective = 2 * 60 kWh * 1 CNY + 4 = 124 CNY (without recovery: 90 kWh_th / 9 = 10 Nm3 -> 150).
    heat = _heat_module()
    boiler = heat.GasBoilerSpec(
        name="boiler", capacity_kw=200.0, efficiency=0.9, gas_price_cny_per_nm3=3.0, gas_lhv_kwh_per_nm3=10.0
    )
    heat_demand = heat.HeatDemandSpec(name="hd", heat_kw=[30.0, 60.0])
    result = solve(problem(2, 1.0, unit(heat_recovery_frac=0.8), demand(10.0), boiler, heat_demand), EXACT)
    assert result.status == "optimal"
    assert col(result, "c1.dumped_heat_kw") == [18.0, 0.0]
    assert col(result, "boiler.heat_kw") == [0.0, 12.0]
    assert result.kpis.objective_cny == pytest.approx(124.0)
    assert result.kpis.recovered_heat_kwh == pytest.approx(96.0)
    assert result.kpis.dumped_heat_kwh == pytest.approx(18.0)
    if hasattr(result.kpis, "gas_displaced_nm3"):  # heat KPIs: 96 - 18 = 78 kWh_th used / 9 = 8.667 Nm3
        assert result.kpis.gas_displaced_nm3 == pytest.approx(78.0 / 9.0)
        assert result.kpis.gas_use_nm3 == pytest.approx(4.0 / 3.0)
    without = solve(problem(2, 1.0, unit(), demand(10.0), boiler, heat_demand), EXACT)
    assert without.kpis.objective_cny == pytest.approx(150.0)
    # Baseline: the compressor's rule runs before the boiler's, so it displaces gas the same way.
    assert result.baseline_schedule["boiler.heat_kw"].tolist() == pytest.approx([0.0, 12.0])


@pytest.mark.parametrize(("mode", "power_kw"), [("auto", 26.25), ("never", 60.0)])
def test_vsd_power_stays_on_curve_when_heat_pays(mode: str, power_kw: float) -> None:
    # Electricity 0.1 CNY/kWh, boiler heat 1 CNY/kWh_th (10 CNY/Nm3, 100 %, 10 kWh/Nm3): 0.8 kWh_th per extra
    # kWh of compressor power is worth 0.8 CNY, so tangent cuts alone ("never") let power rise to the 60 kW
    # bound at 50 % flow. "auto" adds segment binaries: power stays on the curve, 26.25 kW (see above).
    heat = _heat_module()
    boiler = heat.GasBoilerSpec(
        name="boiler", capacity_kw=200.0, efficiency=1.0, gas_price_cny_per_nm3=10.0, gas_lhv_kwh_per_nm3=10.0
    )
    heat_demand = heat.HeatDemandSpec(name="hd", heat_kw=100.0)
    spec = unit(control="vsd", power_curve=CURVE, heat_recovery_frac=0.8, exact_power_curve=mode)
    result = solve(problem(1, 0.1, spec, demand(5.0), boiler, heat_demand), EXACT)
    assert result.schedule["c1.power_kw"].iloc[0] == pytest.approx(power_kw)


# --------------------------------------------------------------------------- air receiver


def test_receiver_shifts_air_by_its_capacity() -> None:
    # Price [0.5, 1.5], demand 5 m3/min, receiver 120 m3 starting empty, end >= start.
    # 120 m3 over a 60-min step is 2 m3/min: produce 7 then 3 m3/min.
    # Power 12 + 4.8 * 7 = 45.6 kW and 12 + 4.8 * 3 = 26.4 kW: cost 0.5 * 45.6 + 1.5 * 26.4 = 62.4
    # (without the receiver 36 kW both steps: 72; the saving 2 * 4.8 * (1.5 - 0.5) = 9.6).
    receiver = AirReceiverSpec(name="rx", capacity_m3=120.0, initial_level_frac=0.0, max_flow_m3_per_min=10.0)
    result = solve(problem(2, [0.5, 1.5], unit(), receiver, demand(5.0)))
    assert col(result, "c1.flow_m3_per_min") == [7.0, 3.0]
    assert col(result, "rx.level_m3") == [120.0, 0.0]
    assert result.kpis.objective_cny == pytest.approx(62.4)
    assert result.baseline_kpis.objective_cny == pytest.approx(72.0)
    assert result.baseline_schedule["rx.level_m3"].tolist() == [0.0, 0.0]


def test_receiver_on_quarter_hours() -> None:
    # 15-min steps: 30 m3 moves 2 m3/min for one step. Price [0.5, 1.5] -> flows 7, 3 as above.
    horizon = Horizon(start=START.to_pydatetime(), step_minutes=15, n_steps=2)
    receiver = AirReceiverSpec(name="rx", capacity_m3=30.0, initial_level_frac=0.0, max_flow_m3_per_min=10.0)
    prob = DispatchProblem(horizon=horizon, assets=[grid([0.5, 1.5]), unit(), receiver, demand(5.0)])
    result = solve(prob)
    assert col(result, "c1.flow_m3_per_min") == [7.0, 3.0]
    assert col(result, "rx.level_m3") == [30.0, 0.0]


# --------------------------------------------------------------------------- symmetry breaking


def _twins(order: bool, **kwargs: object) -> list[CompressorSpec]:
    return [unit(f"u{i}", order_identical_units=order, **kwargs) for i in (1, 2)]


def test_symmetry_breaking_staircase_keeps_optimum() -> None:
    # Demand [10, 15, 5, 20], price 1. Cost = 12 * unit-steps on + 4.8 * total flow.
    # Flow 50 m3/min-h -> 240; fewest unit-steps 1 + 2 + 1 + 2 = 6 -> 72; optimum 312.
    # Ordered (min up/down of one step): u1 on every step, u2 only where two are needed.
    air = demand([10, 15, 5, 20])
    ordered = solve(problem(4, 1.0, *_twins(True), air), EXACT)
    free = solve(problem(4, 1.0, *_twins(False), air), EXACT)
    assert ordered.kpis.objective_cny == pytest.approx(312.0)
    assert free.kpis.objective_cny == pytest.approx(312.0)
    assert col(ordered, "u1.on") == [1, 1, 1, 1]
    assert col(ordered, "u2.on") == [0, 1, 0, 1]
    model = build_model(problem(4, 1.0, *_twins(True), air)).model
    assert len(model.u2.after_identical_unit) == 4


def test_symmetry_breaking_allows_a_hand_over_with_min_up_time() -> None:
    # Min up 3 steps, demand [10, 10, 20, 10, 10]. Cheapest: one unit on steps 0-2, the other on 2-4
    # (6 unit-steps): 12 * 6 + 4.8 * 60 = 360. A per-step ordering on[u1] >= on[u2] would force u1 on all
    # five steps (8 unit-steps, 384), so with min up/down times the ordering is on running steps.
    air = demand([10, 10, 20, 10, 10])
    ordered = solve(problem(5, 1.0, *_twins(True, min_up_minutes=180), air), EXACT)
    free = solve(problem(5, 1.0, *_twins(False, min_up_minutes=180), air), EXACT)
    assert ordered.kpis.objective_cny == pytest.approx(360.0)
    assert free.kpis.objective_cny == pytest.approx(360.0)
    assert ordered.kpis.compressor_running_h == pytest.approx(6.0)
    model = build_model(problem(5, 1.0, *_twins(True, min_up_minutes=180), air)).model
    assert len(model.u2.after_identical_unit) == 1


def test_no_ordering_between_different_units() -> None:
    a, b = unit("a"), unit("b", specific_power_kw_per_m3_per_min=6.5)
    model = build_model(problem(2, 1.0, a, b, demand(5.0))).model
    assert not hasattr(model.b, "after_identical_unit")


# --------------------------------------------------------------------------- baseline


def test_baseline_loads_units_in_list_order() -> None:
    # Demand [15, 5]: the first unit takes up to its 10 m3/min, the second the rest.
    # a: [10, 5] -> 60 + 36 = 96 kWh; b: [5, 0] -> 36 kWh; total 132 kWh at price 1.
    result = solve(problem(2, 1.0, unit("a"), unit("b"), demand([15.0, 5.0])))
    base = result.baseline_schedule
    assert base["a.flow_m3_per_min"].tolist() == [10.0, 5.0]
    assert base["b.flow_m3_per_min"].tolist() == [5.0, 0.0]
    assert base["b.on"].tolist() == [1.0, 0.0]
    assert result.baseline_kpis.import_kwh == pytest.approx(132.0)
    assert result.baseline_kpis.compressor_starts == pytest.approx(2.0)
    assert result.baseline_kpis.max_balance_residual_kw < 1e-9


def test_baseline_keeps_min_up_time() -> None:
    # Same as the min-up test: baseline also keeps the unit on unloaded at step 1.
    result = solve(problem(6, 1.0, unit(min_up_minutes=180), demand([10, 0, 10, 0, 0, 0])))
    assert result.baseline_schedule["c1.on"].tolist() == [1, 1, 1, 0, 0, 0]
    assert result.baseline_kpis.import_kwh == pytest.approx(132.0)


# --------------------------------------------------------------------------- properties


@st.composite
def fleets(draw: st.DrawFn) -> tuple[DispatchProblem, list[CompressorSpec]]:
    n_steps = draw(st.integers(3, 6))
    step_minutes = draw(st.sampled_from([15, 30, 60]))
    n_units = draw(st.integers(1, 3))
    units = []
    for i in range(n_units):
        control = draw(st.sampled_from(["load_unload", "vsd"]))
        kwargs: dict[str, object] = {
            "rated_flow_m3_per_min": draw(st.sampled_from([5.0, 10.0, 20.0])),
            "specific_power_kw_per_m3_per_min": draw(st.sampled_from([5.5, 6.4, 7.0])),
            "control": control,
            "min_up_minutes": draw(st.sampled_from([0, 30, 60, 120])),
            "min_down_minutes": draw(st.sampled_from([0, 30, 60, 120])),
            "start_cost_cny": draw(st.sampled_from([0.0, 5.0])),
            "initial_on": draw(st.booleans()),
            "initial_minutes_in_state": draw(st.sampled_from([None, 0.0, 30.0])),
            "heat_recovery_frac": draw(st.sampled_from([0.0, 0.8])),
        }
        availability = draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n_steps, max_size=n_steps))
        if kwargs["initial_on"] and kwargs["initial_minutes_in_state"] is not None:
            # Available while the min up time carried in from before the horizon must be served.
            keep = minutes_to_steps(float(kwargs["min_up_minutes"]), step_minutes)  # type: ignore[arg-type]
            availability[:keep] = [1.0] * min(keep, n_steps)
        kwargs["availability"] = availability
        if control == "vsd":
            kwargs["power_curve"] = draw(st.sampled_from([None, CURVE]))
            kwargs["exact_power_curve"] = draw(st.sampled_from(["auto", "always"]))
        units.append(CompressorSpec(name=f"c{i}", **kwargs))
        if draw(st.booleans()):  # sometimes an identical twin (symmetry breaking)
            units.append(units[-1].model_copy(update={"name": f"c{i}twin"}))
    # A backup unit that can always follow any demand keeps every instance feasible; demand at least the
    # VSD minimum flows, so that a VSD kept on by its min up time has somewhere to send its air.
    floor = sum(u.min_flow_frac * u.rated_flow_m3_per_min for u in units if u.control == "vsd")
    flow = draw(st.lists(st.floats(0.0, 40.0, allow_nan=False), min_size=n_steps, max_size=n_steps))
    units.append(
        CompressorSpec(name="backup", rated_flow_m3_per_min=40.0 + floor, specific_power_kw_per_m3_per_min=8.0)
    )
    assets: list[object] = list(units)
    if draw(st.booleans()):
        assets.append(AirReceiverSpec(name="rx", capacity_m3=draw(st.sampled_from([20.0, 200.0]))))
    assets.append(AirDemandSpec(name="air", flow_m3_per_min=[round(floor + f, 3) for f in flow]))
    price = draw(st.lists(st.sampled_from([0.3, 0.7, 1.2]), min_size=n_steps, max_size=n_steps))
    horizon = Horizon(start=START.to_pydatetime(), step_minutes=step_minutes, n_steps=n_steps)
    return DispatchProblem(horizon=horizon, assets=[grid(price), *assets]), units


def _runs_ok(on: np.ndarray, initial_on: bool, in_state: int | None, up: int, down: int) -> bool:
    """Min up/down on the schedule: every run of equal states that does not reach the horizon end lasts
    at least the minimum; the run carried in from before the horizon lasts at least what remains of it."""
    initial = 1.0 if initial_on else 0.0
    runs: list[list[float]] = []  # [state, first step, length]
    for t, value in enumerate(on):
        if runs and runs[-1][0] == value:
            runs[-1][2] += 1
        else:
            runs.append([value, t, 1])
    remaining = None if in_state is None else (up if initial_on else down) - in_state
    if remaining is not None and remaining > 0 and runs[0][0] != initial:
        return False
    for i, (state, begin, length) in enumerate(runs):
        if i == 0 and state == initial:
            if remaining is None:
                continue
            needed = remaining
        else:
            needed = up if state == 1.0 else down
        if length < needed and begin + length < len(on):
            return False
    return True


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleets())
def test_random_fleets(case: tuple[DispatchProblem, list[CompressorSpec]]) -> None:
    prob, units = case
    result = solve(prob, EXACT)
    assert result.status == "optimal", result.report.message
    s = result.schedule
    assert result.kpis.max_balance_residual_kw < 1e-6
    # Air balance, written out.
    supply = sum(s[f"{u.name}.flow_m3_per_min"] for u in [*units])
    if "rx.level_m3" in s:
        supply = supply + s["rx.out_m3_per_min"] - s["rx.in_m3_per_min"]
        assert (s["rx.level_m3"] >= -1e-6).all()
        capacity = next(a.capacity_m3 for a in prob.assets if isinstance(a, AirReceiverSpec))
        assert (s["rx.level_m3"] <= capacity + 1e-6).all()
    assert np.allclose(supply, s["air.flow_m3_per_min"], atol=1e-6)
    step = prob.horizon.step_minutes
    starts = 0.0
    for u in units:
        on = s[f"{u.name}.on"].round(6).to_numpy()
        flow = s[f"{u.name}.flow_m3_per_min"].to_numpy()
        power = s[f"{u.name}.power_kw"].to_numpy()
        assert set(np.unique(on)) <= {0.0, 1.0}
        available = np.asarray(u.availability if isinstance(u.availability, list) else [u.availability] * len(on))
        assert not np.any((available == 0.0) & (on == 1.0)), u.name
        assert np.all(flow <= u.rated_flow_m3_per_min * on + 1e-6)
        if u.control == "vsd":
            assert np.all(flow >= u.min_flow_frac * u.rated_flow_m3_per_min * on - 1e-6)
        expected = [u.power_kw_at(o, f) for o, f in zip(on, flow, strict=True)]
        assert np.allclose(power, expected, atol=1e-5), u.name
        up = minutes_to_steps(u.min_up_minutes, step)
        down = minutes_to_steps(u.min_down_minutes, step)
        assert _runs_ok(on, u.initial_on, u.steps_in_initial_state(step), up, down), (u.name, on)
        previous = np.concatenate([[1.0 if u.initial_on else 0.0], on[:-1]])
        starts += float(np.sum((on == 1.0) & (previous == 0.0)))
        if u.heat_recovery_frac > 0:
            assert np.allclose(s[f"{u.name}.recovered_heat_kw"], u.heat_recovery_frac * power, atol=1e-6)
            assert np.allclose(s[f"{u.name}.dumped_heat_kw"], s[f"{u.name}.recovered_heat_kw"], atol=1e-6)
    assert result.kpis.compressor_starts == pytest.approx(starts, abs=1e-6)
    assert result.kpis.compressor_running_h == pytest.approx(
        sum(s[f"{u.name}.on"].sum() for u in units) * prob.horizon.dt_h, abs=1e-6
    )
    # Symmetry breaking does not change the optimum.
    unordered = DispatchProblem(
        horizon=prob.horizon,
        assets=[
            a.model_copy(update={"order_identical_units": False}) if isinstance(a, CompressorSpec) else a
            for a in prob.assets
        ],
    )
    assert solve(unordered, EXACT).kpis.objective_cny == pytest.approx(result.kpis.objective_cny, rel=1e-6, abs=1e-6)
    # The baseline respects availability too.
    for u in units:
        available = np.asarray(u.availability if isinstance(u.availability, list) else [u.availability] * len(s))
        assert not np.any((available == 0.0) & (result.baseline_schedule[f"{u.name}.on"].to_numpy() == 1.0))
    assert math.isfinite(result.baseline_kpis.objective_cny)


def test_start_is_integral_without_min_up_time() -> None:
    # With min up/down of one step nothing but start <= on and stop <= 1 - on keeps start = stop = 1 off
    # steps without a change. Unit on at every step from off: maximising the starts must give exactly 1.
    model = build_model(problem(4, 1.0, unit(), demand(10.0))).model
    for t in range(4):
        model.c1.on[t].fix(1.0)
    model.objective.deactivate()
    model.most_starts = pyo.Objective(expr=sum(model.c1.start[t] for t in range(4)), sense=pyo.maximize)
    assert solve_model(model, EXACT).status == "optimal"
    assert sum(model.c1.start[t].value for t in range(4)) == pytest.approx(1.0)


# --- groups of identical units (units=N) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("min_down_minutes", "start_cost", "on", "objective"),
    [
        # Two units kept on: 24 + 4.8 * (15, 5, 15) = 96, 48, 96.
        (120.0, 0.0, [2, 2, 2], 240.0),
        # One unit rests at step 1 (12 + 24 = 36) and restarts at step 2.
        (0.0, 0.0, [2, 1, 2], 228.0),
        # ... which still pays with a start cost of 5 (233 < 240).
        (0.0, 5.0, [2, 1, 2], 233.0),
    ],
)
def test_group_min_down_time_by_hand(
    min_down_minutes: float, start_cost: float, on: list[int], objective: float
) -> None:
    group = unit("c", units=2, min_down_minutes=min_down_minutes, start_cost_cny=start_cost, initial_on=True)
    result = solve(problem(3, 1.0, group, demand([15.0, 5.0, 15.0])), EXACT)
    assert col(result, "c.on") == on
    assert result.kpis.objective_cny == pytest.approx(objective)
    # Listing the two units one by one gives the same optimum.
    twins = [
        unit(f"c{i}", min_down_minutes=min_down_minutes, start_cost_cny=start_cost, initial_on=True) for i in (1, 2)
    ]
    assert solve(problem(3, 1.0, *twins, demand([15.0, 5.0, 15.0])), EXACT).kpis.objective_cny == pytest.approx(
        objective
    )


def test_group_initial_units_must_finish_min_up_time() -> None:
    # One of two units was started 1 h ago with a 3 h min up time: it runs (unloaded, 12 kW) for 2 more
    # steps although no air is needed; the resting unit stays off.
    group = unit("c", units=2, initial_units_on=1, min_up_minutes=180.0, initial_minutes_in_state=60.0)
    result = solve(problem(3, 1.0, group, demand(0.0)), EXACT)
    assert col(result, "c.on") == [1, 1, 0]
    assert result.kpis.objective_cny == pytest.approx(24.0)


def test_group_resting_unit_cannot_stand_in_for_one_that_just_stopped() -> None:
    # Found by the property below. One unit runs, the other has just stopped (0 min ago); min down 3 h.
    # The running unit must stop at step 1 (unavailable), so neither may start at step 2: the backup
    # (100 kW full load, 20 + 8 * flow) covers it. 36 + 0 + 60 = 96; swapping the units would give 72.
    group = unit(
        "c", units=2, initial_units_on=1, initial_minutes_in_state=0.0, min_down_minutes=180.0, availability=[1, 0, 1]
    )
    backup = unit("backup", specific_power_kw_per_m3_per_min=10.0)
    result = solve(problem(3, 1.0, group, backup, demand([5.0, 0.0, 5.0])), EXACT)
    assert col(result, "c.on") == [1, 0, 0]
    assert col(result, "backup.on") == [0, 0, 1]
    assert result.kpis.objective_cny == pytest.approx(96.0)


def test_group_fields_are_checked() -> None:
    with pytest.raises(ValidationError, match="initial_units_on"):
        unit(units=2, initial_units_on=3)
    with pytest.raises(ValidationError, match="units"):
        unit(units=0)


def test_group_baseline_is_its_units_in_turn() -> None:
    group = unit("c", units=2, control="vsd", min_up_minutes=120.0)
    twins = [unit(f"c{i}", control="vsd", min_up_minutes=120.0) for i in (1, 2)]
    flows = [15.0, 5.0, 0.0, 12.0]
    grouped = solve(problem(4, 1.0, group, demand(flows)), EXACT).baseline_schedule
    separate = solve(problem(4, 1.0, *twins, demand(flows)), EXACT).baseline_schedule
    for column in ("on", "start", "flow_m3_per_min", "power_kw"):
        assert np.allclose(grouped[f"c.{column}"], separate[f"c1.{column}"] + separate[f"c2.{column}"]), column


@st.composite
def groups(draw: st.DrawFn) -> tuple[DispatchProblem, DispatchProblem]:
    """A fleet with one group of identical units, and the same fleet with the group's units listed one by one."""
    n_steps = draw(st.integers(3, 6))
    step_minutes = draw(st.sampled_from([15, 30, 60]))
    control = draw(st.sampled_from(["load_unload", "vsd"]))
    n_units = draw(st.integers(2, 3))
    kwargs: dict[str, object] = {
        "rated_flow_m3_per_min": 10.0,
        "specific_power_kw_per_m3_per_min": draw(st.sampled_from([5.5, 7.0])),
        "control": control,
        "min_up_minutes": draw(st.sampled_from([0, 30, 60, 120])),
        "min_down_minutes": draw(st.sampled_from([0, 30, 60, 120])),
        "start_cost_cny": draw(st.sampled_from([0.0, 5.0])),
        "initial_minutes_in_state": draw(st.sampled_from([None, 0.0, 30.0])),
        "heat_recovery_frac": draw(st.sampled_from([0.0, 0.8])),
        "availability": draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n_steps, max_size=n_steps)),
    }
    if control == "vsd":
        kwargs["power_curve"] = draw(st.sampled_from([None, CURVE]))
        kwargs["exact_power_curve"] = draw(st.sampled_from(["auto", "always"]))
    initially_on = draw(st.integers(0, n_units))
    if initially_on and kwargs["initial_minutes_in_state"] is not None:
        keep = minutes_to_steps(float(kwargs["min_up_minutes"]), step_minutes)  # type: ignore[arg-type]
        kwargs["availability"][:keep] = [1.0] * min(keep, n_steps)  # type: ignore[index]
    group = CompressorSpec(name="g", units=n_units, initial_units_on=initially_on, **kwargs)
    listed = [CompressorSpec(name=f"g{i}", initial_on=i < initially_on, **kwargs) for i in range(n_units)]
    floor = n_units * 10.0 * 0.2 if control == "vsd" else 0.0
    flow = draw(st.lists(st.floats(0.0, 30.0, allow_nan=False), min_size=n_steps, max_size=n_steps))
    backup = CompressorSpec(name="backup", rated_flow_m3_per_min=30.0 + floor, specific_power_kw_per_m3_per_min=8.0)
    rest: list[object] = [backup, AirDemandSpec(name="air", flow_m3_per_min=[round(floor + f, 3) for f in flow])]
    if draw(st.booleans()):
        rest.append(AirReceiverSpec(name="rx", capacity_m3=draw(st.sampled_from([20.0, 200.0]))))
    price = draw(st.lists(st.sampled_from([0.3, 0.7, 1.2]), min_size=n_steps, max_size=n_steps))
    horizon = Horizon(start=START.to_pydatetime(), step_minutes=step_minutes, n_steps=n_steps)
    return (
        DispatchProblem(horizon=horizon, assets=[grid(price), group, *rest]),
        DispatchProblem(horizon=horizon, assets=[grid(price), *listed, *rest]),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(groups())
def test_group_equals_its_units_listed_one_by_one(case: tuple[DispatchProblem, DispatchProblem]) -> None:
    grouped_problem, listed_problem = case
    grouped, listed = solve(grouped_problem, EXACT), solve(listed_problem, EXACT)
    assert grouped.status == listed.status == "optimal", (grouped.report.message, listed.report.message)
    assert grouped.kpis.objective_cny == pytest.approx(listed.kpis.objective_cny, rel=1e-6, abs=1e-6)
    group = next(a for a in grouped_problem.assets if isinstance(a, CompressorSpec) and a.name == "g")
    s = grouped.schedule
    on = s["g.on"].round(6).to_numpy()
    assert set(np.unique(on)) <= set(range(group.units + 1))
    available = np.asarray(group.availability)
    assert not np.any((available == 0.0) & (on > 0))
    flow = s["g.flow_m3_per_min"].to_numpy()
    assert np.all(flow <= group.rated_flow_m3_per_min * on + 1e-6)
    expected = [group.power_kw_at(o, f) for o, f in zip(on, flow, strict=True)]
    assert np.allclose(s["g.power_kw"], expected, atol=1e-5)
    assert grouped.kpis.max_balance_residual_kw < 1e-6
