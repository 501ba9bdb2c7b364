"""Gas boilers (kind ``gas_boiler``): heat from gas at a level, with the plant's start-up rules.

``heat_kw[t]`` in ``[0, capacity]`` goes to the boiler's level (``level``: steam or hot water, default the heat
bus); gas ``gas_nm3_per_h = heat_kw / (efficiency * lhv) + start_gas_nm3 * starts / dt_h``, costed at the gas
price (component ``"gas"``) and emitting (source ``"gas"``) per Nm3, start-up gas included.

Unit commitment (the shared rules of :mod:`optimizer.assets.commitment`), when a minimum load is given, with a
start cost, start gas and minimum up/down times if given (they need the minimum load: a boiler on at zero output
would never pay a start): ``on[t]`` binary, output in ``[min_load, capacity] * on``, ``starts[t]`` costed at
``start_cost_cny`` each (component ``"start_up"``) and burning ``start_gas_nm3`` (purge and warm-up: a firing
that lasts 15 minutes costs the same purge as one that lasts all night), minimum up/down times. Ramp limits
(``ramp_up_kw_per_h``, ``ramp_down_kw_per_h``) hold between consecutive steps; a start may reach the minimum load
in its first step. ``initial_on``, ``initial_minutes_in_state`` and ``initial_heat_kw`` carry across midnight in
rolling runs (:class:`optimizer.state.CommitmentState`). Without any of these fields the boiler is the continuous
LP unit it always was.

Baseline: the boiler covers its level's remaining heat deficit up to capacity; below the minimum load it stays
off (the rest is left to later rules or reported unmet), and a deficit just above its capacity leaves the next
unit its minimum load. Its starts are counted and burn their start gas; ramp limits and minimum up/down times are
not applied by the rule (a warning says where it breaks them).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyomo.core as pyo
from pydantic import Field, model_validator

from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.assets.commitment import (
    Commitment,
    InitialMinutes,
    MinTime,
    RampRate,
    StartCost,
    add_unit_output,
    add_unit_ramp_limits,
    minutes_to_steps,
    require_min_load,
    require_output_within,
)
from optimizer.assets.heat_levels import LevelField, level_bus
from optimizer.baseline_state import BaselineState
from optimizer.buses import heat_bus
from optimizer.types import Efficiency, Fraction, NonNegFloat, NonNegSeries, PositiveFloat

GAS_USE = "gas_use_nm3_per_h"
"""Role of a gas consumption flow [Nm3/h]; the KPIs sum it to ``gas_use_nm3``."""
GAS_DISPLACEMENT_KWH_TH_PER_NM3 = "gas_displacement_kwh_th_per_nm3"
"""Key in ``BuildContext.scalars``: useful heat per Nm3 of the first gas boiler (efficiency x LHV)."""

NATURAL_GAS_LHV_KWH_PER_NM3 = 9.97
"""Lower heating value of natural gas, about 35.9 MJ/Nm3 [kWh/Nm3]: a typical value (the issue's default);
use the supplier's gas quality figure when known."""
NATURAL_GAS_KGCO2_PER_NM3 = 2.162
"""Natural gas combustion, 21.62 tCO2 per 10^4 Nm3 (Chinese accounting guidelines, secondary source)."""
MAX_START_GAS_NM3 = 1e4
"""Largest gas burnt by one start accepted [Nm3]."""


class GasBoilerSpec(AssetSpec):
    """A gas-fired boiler (hot water or steam) feeding its heat level."""

    kind: Literal["gas_boiler"] = "gas_boiler"
    capacity_kw: PositiveFloat = Field(description="Rated heat output [kW_th].")
    efficiency: Efficiency = Field(description="Heat out per heat of gas in, on the lower heating value (0, 1].")
    gas_price_cny_per_nm3: NonNegSeries = Field(description="Gas price per normal cubic metre [CNY/Nm3].")
    level: LevelField = None
    gas_lhv_kwh_per_nm3: PositiveFloat = Field(
        NATURAL_GAS_LHV_KWH_PER_NM3,
        description="Gas lower heating value [kWh/Nm3]; default 9.97 (natural gas, about 35.9 MJ/Nm3, typical).",
    )
    location_kgco2_per_nm3: NonNegFloat = Field(
        NATURAL_GAS_KGCO2_PER_NM3, description="Combustion emissions, location-based [kgCO2/Nm3]."
    )
    market_kgco2_per_nm3: NonNegFloat = Field(
        NATURAL_GAS_KGCO2_PER_NM3, description="Combustion emissions, market-based [kgCO2/Nm3]."
    )
    min_load_frac: Fraction = Field(
        0.0, description="Lowest output when on, as a fraction of capacity; above 0 adds an on/off binary per step."
    )
    start_cost_cny: StartCost = 0.0
    start_gas_nm3: NonNegFloat = Field(
        0.0,
        le=MAX_START_GAS_NM3,
        description="Gas burnt by one start (purge, warm-up) [Nm3], costed at the gas price and emitting; 0: none.",
    )
    min_up_minutes: MinTime = Field(0.0, description="Shortest run once started [min]; 0: one step.")
    min_down_minutes: MinTime = Field(0.0, description="Shortest stop once stopped [min]; 0: one step.")
    ramp_up_kw_per_h: RampRate | None = Field(
        None, description="Largest rise of output per hour while running [kW_th/h]; none: no limit."
    )
    ramp_down_kw_per_h: RampRate | None = Field(
        None, description="Largest fall of output per hour while running [kW_th/h]; none: no limit."
    )
    initial_on: bool = Field(False, description="Firing just before the horizon starts (a run at step 0 is no start).")
    initial_minutes_in_state: InitialMinutes | None = Field(
        None, description="How long the boiler has been in its initial on/off state [min]; default: long enough."
    )
    initial_heat_kw: NonNegFloat | None = Field(
        None, description="Output just before the horizon starts [kW_th], for the ramp limits; default: unknown."
    )

    @model_validator(mode="after")
    def _starts_need_a_min_load(self) -> GasBoilerSpec:
        require_min_load(self, ("start_cost_cny", "start_gas_nm3", "min_up_minutes", "min_down_minutes"))
        return self

    @model_validator(mode="after")
    def _initial_output_fits(self) -> GasBoilerSpec:
        require_output_within(self, "initial_heat_kw", "capacity_kw")
        return self

    @property
    def heat_kwh_per_nm3(self) -> float:
        """Useful heat per Nm3 of gas [kWh_th/Nm3]."""
        return self.efficiency * self.gas_lhv_kwh_per_nm3

    def needs_on_off(self, step_minutes: int) -> bool:
        """Whether the boiler needs on/off binaries (else it is a continuous LP unit)."""
        return (
            self.min_load_frac > 0
            or self.start_cost_cny > 0
            or self.start_gas_nm3 > 0
            or minutes_to_steps(self.min_up_minutes, step_minutes) > 1
            or minutes_to_steps(self.min_down_minutes, step_minutes) > 1
        )


def build_gas_boiler(spec: GasBoilerSpec, ctx: BuildContext) -> None:
    n = spec.name
    bus = level_bus(spec, ctx)
    step_minutes = ctx.horizon.step_minutes
    block = ctx.block(n)
    block.heat_kw = pyo.Var(ctx.steps, bounds=(0.0, spec.capacity_kw))
    block.gas_nm3_per_h = pyo.Var(ctx.steps, bounds=(0.0, None))
    per_nm3 = spec.heat_kwh_per_nm3
    unit: Commitment | None = None
    if spec.needs_on_off(step_minutes):
        unit = add_unit_output(spec, block, ctx, block.heat_kw)
    if unit is not None and spec.start_gas_nm3 > 0:
        start_gas_per_h = spec.start_gas_nm3 / ctx.dt_h  # one start's gas spread over its step [Nm3/h]
        starts = unit.start
        block.gas_use = pyo.Constraint(
            ctx.steps, rule=lambda b, t: b.gas_nm3_per_h[t] == b.heat_kw[t] / per_nm3 + start_gas_per_h * starts[t]
        )
    else:
        block.gas_use = pyo.Constraint(ctx.steps, rule=lambda b, t: b.gas_nm3_per_h[t] * per_nm3 == b.heat_kw[t])
    add_unit_ramp_limits(spec, block, ctx, block.heat_kw, unit, spec.initial_heat_kw)
    ctx.add_flow(f"{n}.heat_kw", block.heat_kw, bus=bus, sign=+1)
    if unit is not None:
        ctx.add_switched_supply(bus, f"{n}.heat_kw", unit.on, spec.capacity_kw)
    ctx.add_flow(f"{n}.gas_nm3_per_h", block.gas_nm3_per_h, role=GAS_USE)
    ctx.add_linear_cost("gas", f"{n}.gas_nm3_per_h", ctx.series(spec.gas_price_cny_per_nm3))
    ctx.add_emission("location", "gas", f"{n}.gas_nm3_per_h", np.full(ctx.n_steps, spec.location_kgco2_per_nm3))
    ctx.add_emission("market", "gas", f"{n}.gas_nm3_per_h", np.full(ctx.n_steps, spec.market_kgco2_per_nm3))
    ctx.scalars.setdefault(GAS_DISPLACEMENT_KWH_TH_PER_NM3, per_nm3)


def baseline_gas_boiler(spec: GasBoilerSpec, state: BaselineState) -> None:
    """Rule: cover the level's remaining heat deficit up to capacity; below the minimum load the boiler stays off.

    When the deficit exceeds the capacity by less than the minimum load, the boiler leaves that minimum load to
    the next unit (lead and lag boilers share the load so that both can run); starts burn their start gas. Ramp
    limits and minimum up/down times are not applied: the rule follows the demand as a plant without an
    optimiser would try to, and a warning says where that breaks them.
    """
    n = spec.name
    bus = heat_bus(spec.level)
    n_steps = state.horizon.n_steps
    dt_h = state.dt_h
    deficit = np.maximum(state.bus(bus), 0.0)
    low = spec.min_load_frac * spec.capacity_kw
    heat = np.minimum(deficit, spec.capacity_kw)
    share = (deficit > spec.capacity_kw) & (deficit - spec.capacity_kw < low) & (deficit - low >= low)
    heat = np.where(share, deficit - low, heat)
    heat = np.where(heat >= low - 1e-9, heat, 0.0)
    starts = np.zeros(n_steps)
    if spec.needs_on_off(state.horizon.step_minutes):
        on = (heat > 0).astype(float)
        before = np.r_[1.0 if spec.initial_on else 0.0, on[:-1]]
        starts = np.maximum(on - before, 0.0)
        state.columns[f"{n}.on"] = on
        state.columns[f"{n}.starts"] = starts
        _warn_broken_min_times(spec, state, on)
    _warn_broken_ramps(spec, state, heat)
    state.columns[f"{n}.heat_kw"] = heat
    state.columns[f"{n}.gas_nm3_per_h"] = heat / spec.heat_kwh_per_nm3 + spec.start_gas_nm3 * starts / dt_h
    state.bus(bus)[:] -= heat


def _warn_broken_ramps(spec: GasBoilerSpec, state: BaselineState, heat: np.ndarray) -> None:
    """A warning when the baseline moves the boiler's output faster than its ramp limits (a start may reach the
    minimum load at once, a stop may drop from it)."""
    low = spec.min_load_frac * spec.capacity_kw
    first = spec.initial_heat_kw
    if first is None:  # as the model: a unit with on/off that was off had no output; else unknown
        first = 0.0 if spec.needs_on_off(state.horizon.step_minutes) and not spec.initial_on else np.nan
    before = np.r_[first, heat[:-1]]
    for field, rate, change, edge in (
        ("ramp_up_kw_per_h", spec.ramp_up_kw_per_h, heat - before, before <= 0),
        ("ramp_down_kw_per_h", spec.ramp_down_kw_per_h, before - heat, heat <= 0),
    ):
        if rate is None:
            continue
        allowed = np.where(edge, max(rate * state.dt_h, low), rate * state.dt_h)
        broken = int(np.sum(np.nan_to_num(change, nan=0.0) > allowed + 1e-9))
        if broken:
            state.warnings.append(
                f"the rule-based baseline moves {spec.name} faster than its {field} at {broken} steps (it follows "
                "the heat demand): a simple rule to compare against, not a feasible plan there"
            )


def _warn_broken_min_times(spec: GasBoilerSpec, state: BaselineState, on: np.ndarray) -> None:
    """A warning when the baseline's on/off breaks the boiler's minimum up or down time."""
    step_minutes = state.horizon.step_minutes
    rules = {
        "min_up_minutes": (minutes_to_steps(spec.min_up_minutes, step_minutes), 1.0),
        "min_down_minutes": (minutes_to_steps(spec.min_down_minutes, step_minutes), 0.0),
    }
    for field, (steps, value) in rules.items():
        if steps <= 1:
            continue
        runs = _inner_runs(on, value)
        short = [length for length in runs if length < steps]
        if short:
            state.warnings.append(
                f"the rule-based baseline keeps {spec.name} {'on' if value else 'off'} for less than its {field} "
                f"{len(short)} times (it follows the heat demand): a simple rule, not a feasible plan there"
            )


def _inner_runs(on: np.ndarray, value: float) -> list[int]:
    """Lengths of the runs of ``value`` that begin inside the horizon and end inside it (a run cut by either
    end of the horizon is not counted: its length outside is unknown)."""
    runs: list[int] = []
    length = 0
    started_inside = False
    for t, v in enumerate(on):
        if v == value:
            if length == 0:
                started_inside = t > 0
            length += 1
        else:
            if length and started_inside:
                runs.append(length)
            length = 0
    return runs
