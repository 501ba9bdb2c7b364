"""Heat pumps (kind ``heat_pump``): electricity in, heat out at a level, at a COP that depends on the temperatures.

``heat_kw[t]`` in ``[0, capacity]`` goes to the heat pump's level (``level``, default the heat bus);
``electricity_kw = heat_kw / cop[t]`` is drawn from the electricity bus. The COP is either given (``cop``: a
constant or a series, as measured or from a data sheet) or a fraction of the Carnot COP between the heat source
and the level it supplies (``carnot_frac`` with ``source_temperature_c``, e.g. the outdoor air temperature
forecast for an air-source unit)::

    cop[t] = min(max_cop, carnot_frac * T_sink / max(T_sink - T_source[t], 5 K))     (temperatures in kelvin)

with ``T_sink`` the level's temperature (:mod:`optimizer.assets.heat_levels`): the same unit supplying hot water
at 80 degC runs at a lower COP than at 45 degC, and in a cold hour than in a mild one. The 5 K floor on the lift
and ``max_cop`` keep the COP finite and plausible when the source is as warm as the sink.

A heat pump reaches at most ``max_sink_temperature_c`` (default 90 degC, a high-temperature industrial unit): a
level above it (steam) is refused, so steam comes from boilers (or purchased steam) only, and a heat pump's heat
never serves a steam demand.

Unit commitment (:func:`optimizer.assets.commitment.add_unit_output`), when a minimum load is given, with a
start cost and minimum up/down times if given (they need the minimum load: a unit on at zero output would never
pay a start): ``on[t]``, ``starts[t]`` costed at ``start_cost_cny``, minimum up/down times carried across midnight
(:class:`optimizer.state.CommitmentState`). Ramp limits (``ramp_up_kw_per_h``, ``ramp_down_kw_per_h``) as a gas
boiler's (:func:`optimizer.assets.commitment.add_ramp_limits`: a start may reach the minimum load in its first
step), from ``initial_heat_kw``, the last output carried across midnight.

Baseline: the heat pump covers its level's heat deficit first (up to capacity; below its minimum load it stays
off); its starts are counted; ramp limits are not applied by the rule.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyomo.core as pyo
from pydantic import Field, field_validator, model_validator

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
from optimizer.assets.heat_levels import LevelField, level_bus, level_of, level_temperature
from optimizer.assets.load import ELECTRIC_LOAD
from optimizer.baseline_state import BaselineState
from optimizer.buses import ELECTRICITY, heat_bus
from optimizer.errors import SpecError
from optimizer.types import FiniteFloat, Fraction, NonNegFloat, NonNegSeries, PositiveFloat, Series

KELVIN = 273.15
MIN_LIFT_K = 5.0
"""Smallest temperature lift the Carnot COP is computed with [K]: keeps it finite when the source is as warm as
the sink (the unit then runs at ``max_cop``)."""
DEFAULT_MAX_COP = 8.0
"""Default ceiling of a computed COP: air-source units seldom exceed 6-7 even at small lifts [est]."""
MAX_COP = 20.0
"""Largest COP accepted, given or as a ceiling."""
DEFAULT_MAX_SINK_TEMPERATURE_C = 90.0
"""Highest supply temperature of a heat pump by default [degC]: high-temperature industrial units reach 80-90
degC, standard air-source units 55-65 [est]. Steam (170 degC by default) is out of reach."""
MIN_SOURCE_TEMPERATURE_C = -50.0
MAX_SOURCE_TEMPERATURE_C = 100.0
"""Bounds of a heat source's temperature [degC]: outdoor air in a Liaoning winter to process waste heat."""


class HeatPumpSpec(AssetSpec):
    """A heat pump: electricity in, heat out at a coefficient of performance (given, or from the temperatures)."""

    kind: Literal["heat_pump"] = "heat_pump"
    ALTERNATIVES = (("cop", "carnot_frac"),)
    capacity_kw: PositiveFloat = Field(description="Heat output limit [kW_th].")
    cop: NonNegSeries | None = Field(
        None, description="Heat out per electricity in, a constant or one value per step (> 0); or carnot_frac."
    )
    level: LevelField = None
    carnot_frac: float | None = Field(
        None,
        gt=0.0,
        le=0.8,
        allow_inf_nan=False,
        description="COP as this fraction of the Carnot COP between source_temperature_c and the level's "
        "temperature (typically 0.4-0.55); instead of cop.",
    )
    source_temperature_c: Series | None = Field(
        None,
        description="Heat source temperature per step [degC], e.g. the outdoor air for an air-source unit; with "
        "carnot_frac.",
    )
    max_sink_temperature_c: FiniteFloat = Field(
        DEFAULT_MAX_SINK_TEMPERATURE_C,
        ge=20.0,
        le=200.0,
        description="Highest supply temperature it reaches [degC]; a level above it (steam) is refused.",
    )
    max_cop: FiniteFloat = Field(
        DEFAULT_MAX_COP, gt=1.0, le=MAX_COP, description="Ceiling of the COP computed from carnot_frac."
    )
    min_load_frac: Fraction = Field(
        0.0, description="Lowest output when on, as a fraction of capacity; above 0 adds an on/off binary per step."
    )
    start_cost_cny: StartCost = 0.0
    min_up_minutes: MinTime = Field(0.0, description="Shortest run once started [min]; 0: one step.")
    min_down_minutes: MinTime = Field(0.0, description="Shortest stop once stopped [min]; 0: one step.")
    initial_on: bool = Field(False, description="Running just before the horizon starts (a run at step 0 is no start).")
    initial_minutes_in_state: InitialMinutes | None = Field(
        None, description="How long the heat pump has been in its initial on/off state [min]; default: long enough."
    )
    ramp_up_kw_per_h: RampRate | None = Field(
        None, description="Largest rise of output per hour while running [kW_th/h]; none: no limit."
    )
    ramp_down_kw_per_h: RampRate | None = Field(
        None, description="Largest fall of output per hour while running [kW_th/h]; none: no limit."
    )
    initial_heat_kw: NonNegFloat | None = Field(
        None, description="Output just before the horizon starts [kW_th], for the ramp limits; default: unknown."
    )

    @field_validator("cop")
    @classmethod
    def _cop_positive(cls, value: float | list[float] | None) -> float | list[float] | None:
        values = [] if value is None else [value] if isinstance(value, (int, float)) else value
        if any(v <= 0 for v in values):
            raise ValueError("cop must be above 0 at every step (heat out per electricity in)")
        if any(v > MAX_COP for v in values):
            raise ValueError(f"cop must be at most {MAX_COP:g} at every step, got {max(values):g}")
        return value

    @field_validator("source_temperature_c")
    @classmethod
    def _source_in_range(cls, value: float | list[float] | None) -> float | list[float] | None:
        values = [] if value is None else [value] if isinstance(value, (int, float)) else value
        if values and (min(values) < MIN_SOURCE_TEMPERATURE_C or max(values) > MAX_SOURCE_TEMPERATURE_C):
            raise ValueError(
                f"must lie in [{MIN_SOURCE_TEMPERATURE_C:g}, {MAX_SOURCE_TEMPERATURE_C:g}] degC, got "
                f"{min(values):g} to {max(values):g}"
            )
        return value

    @model_validator(mode="after")
    def _starts_need_a_min_load(self) -> HeatPumpSpec:
        require_min_load(self, ("start_cost_cny", "min_up_minutes", "min_down_minutes"))
        return self

    @model_validator(mode="after")
    def _initial_output_fits(self) -> HeatPumpSpec:
        require_output_within(self, "initial_heat_kw", "capacity_kw")
        return self

    @model_validator(mode="after")
    def _one_cop_source(self) -> HeatPumpSpec:
        if (self.cop is None) == (self.carnot_frac is None):
            raise SpecError("give exactly one of cop or carnot_frac", field="cop", related=("carnot_frac",))
        if self.carnot_frac is not None and self.source_temperature_c is None:
            raise SpecError(
                "carnot_frac needs the heat source's temperature (e.g. $inputs.outdoor_temperature_c)",
                field="source_temperature_c",
                related=("carnot_frac",),
            )
        if self.cop is not None and self.source_temperature_c is not None:
            raise SpecError(
                "is only used with carnot_frac; with cop given it would be ignored",
                field="source_temperature_c",
                related=("cop",),
            )
        return self

    def needs_on_off(self, step_minutes: int) -> bool:
        """Whether the heat pump needs on/off binaries (else it is a continuous LP unit)."""
        return (
            self.min_load_frac > 0
            or self.start_cost_cny > 0
            or minutes_to_steps(self.min_up_minutes, step_minutes) > 1
            or minutes_to_steps(self.min_down_minutes, step_minutes) > 1
        )


def carnot_cop(carnot_frac: float, sink_c: float, source_c: np.ndarray, max_cop: float) -> np.ndarray:
    """``min(max_cop, carnot_frac * T_sink / max(T_sink - T_source, 5 K))`` per step (temperatures in kelvin)."""
    lift_k = np.maximum(sink_c - np.asarray(source_c, dtype=float), MIN_LIFT_K)
    return np.minimum(carnot_frac * (sink_c + KELVIN) / lift_k, max_cop)


def heat_pump_cop(spec: HeatPumpSpec, ctx: BuildContext) -> np.ndarray:
    """The COP per step, after checking that the heat pump can reach its level's temperature.

    Raises :class:`SpecError` on ``level`` for a level above ``max_sink_temperature_c`` (steam), and on
    ``carnot_frac`` when the level has no temperature (the default level without a declared one).
    """
    sink_c = level_temperature(spec, ctx)
    if sink_c is not None and sink_c > spec.max_sink_temperature_c:
        raise SpecError(
            f"{level_of(spec)!r} at {sink_c:g} degC is above the heat pump's max_sink_temperature_c "
            f"{spec.max_sink_temperature_c:g} degC: a heat pump cannot supply it (steam comes from boilers or a "
            "steam supply; a heat exchanger carries heat down to colder levels)",
            asset=spec.name,
            field="level",
            related=("max_sink_temperature_c",),
        )
    if spec.cop is not None:
        return ctx.series(spec.cop)
    assert spec.carnot_frac is not None and spec.source_temperature_c is not None
    if sink_c is None:
        raise SpecError(
            f"needs the temperature of its level {level_of(spec)!r}: give a level with one (level: hot_water) or "
            "the default level's temperature in a heat_levels entry",
            asset=spec.name,
            field="carnot_frac",
            related=("level",),
        )
    return carnot_cop(spec.carnot_frac, sink_c, ctx.series(spec.source_temperature_c), spec.max_cop)


def build_heat_pump(spec: HeatPumpSpec, ctx: BuildContext) -> None:
    n = spec.name
    bus = level_bus(spec, ctx)
    cop = heat_pump_cop(spec, ctx)
    step_minutes = ctx.horizon.step_minutes
    block = ctx.block(n)
    block.heat_kw = pyo.Var(ctx.steps, bounds=(0.0, spec.capacity_kw))
    block.electricity_kw = pyo.Var(ctx.steps, bounds=lambda _, t: (0.0, spec.capacity_kw / float(cop[t])))
    block.conversion = pyo.Constraint(ctx.steps, rule=lambda b, t: b.electricity_kw[t] * float(cop[t]) == b.heat_kw[t])
    unit: Commitment | None = None
    if spec.needs_on_off(step_minutes):
        unit = add_unit_output(spec, block, ctx, block.heat_kw)
    add_unit_ramp_limits(spec, block, ctx, block.heat_kw, unit, spec.initial_heat_kw)
    ctx.add_flow(f"{n}.heat_kw", block.heat_kw, bus=bus, sign=+1)
    if unit is not None:
        ctx.add_switched_supply(bus, f"{n}.heat_kw", unit.on, spec.capacity_kw)
    ctx.add_flow(f"{n}.electricity_kw", block.electricity_kw, bus=ELECTRICITY, sign=-1, role=ELECTRIC_LOAD)
    ctx.add_data(f"{n}.cop", cop)


def baseline_cop(spec: HeatPumpSpec, state: BaselineState) -> np.ndarray:
    """The COP per step as the build computed it (the baseline starts from the build's data columns, so a COP
    from the level's temperature is the model's own); a given ``cop`` without a build."""
    built = state.columns.get(f"{spec.name}.cop")
    if built is not None:
        return np.asarray(built, dtype=float)
    if spec.cop is None:
        raise ValueError(f"{spec.name}: a COP from carnot_frac is computed when the problem is built")
    return state.series(spec.cop)


def baseline_heat_pump(spec: HeatPumpSpec, state: BaselineState) -> None:
    """Rule: the heat pump covers its level's heat deficit first, up to its capacity (off below its minimum load)."""
    n = spec.name
    bus = heat_bus(spec.level)
    cop = baseline_cop(spec, state)
    heat = np.minimum(np.maximum(state.bus(bus), 0.0), spec.capacity_kw)
    heat = np.where(heat >= spec.min_load_frac * spec.capacity_kw - 1e-9, heat, 0.0)
    electricity = heat / cop
    if spec.needs_on_off(state.horizon.step_minutes):
        on = (heat > 0).astype(float)
        before = np.r_[1.0 if spec.initial_on else 0.0, on[:-1]]
        state.columns[f"{n}.on"] = on
        state.columns[f"{n}.starts"] = np.maximum(on - before, 0.0)
    state.columns[f"{n}.heat_kw"] = heat
    state.columns[f"{n}.electricity_kw"] = electricity
    state.columns[f"{n}.cop"] = cop
    state.bus(bus)[:] -= heat
    state.net_kw += electricity
