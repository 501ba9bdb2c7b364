"""Compressed air: compressor units on the ``compressed_air`` bus (m3/min of free air).

Receivers and the site's air demand are in :mod:`optimizer.assets.air`.

Compressor unit (kind ``compressor``), on/off by the shared commitment rules
(min up/down times in minutes, rounded up to whole steps; availability; initial
state; a start cost per start). Full-load power is
``specific_power_kw_per_m3_per_min * rated_flow_m3_per_min``.

- ``load_unload`` (fixed speed): within a step (15 min) a real unit cycles
  between loaded (rated flow, full power) and unloaded (no air, a fraction of
  full power). The step average is modelled with a continuous loaded share
  ``loaded_frac`` in [0, on]::

      flow  = rated * loaded_frac
      power = full * (u * on + (1 - u) * (loaded_frac + cycling_loss))

  with ``u = unloaded_power_frac``, so a unit can also run on, unloaded, when
  its min up time keeps it on. ``cycling_loss`` is 0 by default (ideal
  load/unload, as with unlimited storage); with ``cycle_loss_s`` and
  ``storage_m3`` it is the sump blow-down and reloading lost at each
  load/unload cycle, most at half load and more the less air is stored
  (:mod:`optimizer.assets.power_curve`): a unit then runs fully loaded or
  unloaded where it can, and part-loads only where nothing else can trim.
- ``vsd`` (variable speed): ``min_flow_frac * rated * on <= flow <= rated * on``;
  power follows a convex piecewise-linear curve of (flow_frac, power_frac)
  breakpoints (default :data:`~optimizer.assets.power_curve.DEFAULT_VSD_CURVE`,
  the CAGI data-sheet shape: specific power rising at low flow). A single
  segment is an equality ``power = full * (a * flow / rated + b * on)``; several
  segments are tangent cuts ``power >= full * (a_i * flow / rated + b_i * on)``,
  exact at the optimum because power costs money. When extra electricity could
  pay (heat recovery credits it, or ``burning_energy_pays``), the cuts alone
  would let power exceed the curve, so segment binaries (one segment per step
  when on) put power exactly on the curve (``exact_power_curve="auto"``; the same
  flag makes a load/unload unit's cycling loss exact).
- Sequencing is not a rule: with the VSD curve rising at low flow and the
  cycling loss of part-loaded fixed-speed units, base-loading the fixed-speed
  units and trimming with the VSD is what costs least, so the plan does it.
- Pressure band: not modelled on its own. A fixed-speed unit that cycles runs on
  average about half its band above the pressure it loads at; each 0.1 bar costs
  about 0.7 % of power (1 % per 2 psi, the Compressed Air Challenge's rule; MEASUR's
  pressure correction ``kWAdjusted`` gives 0.8 % at 7 bar), so a 0.5 bar band adds
  about 2 % while the unit cycles. That is small next to the cycling loss (5-20 %
  of full-load power at half load with usual storage) and acts the same way (it
  makes part-loading a fixed-speed unit dearer), so it is left within
  ``cycle_loss_s``; the band's effect that matters to the plan, the air it stores,
  is ``storage_m3``. Base-loaded and VSD units run at the system pressure the
  data-sheet specific power is given at.
- Heat recovery: ``recovered_heat_kw = heat_recovery_frac * power_kw`` supplied
  to the heat bus of ``level`` (default the ``heat`` bus; ``hot_water``,
  ``low_temp`` or a site level, :mod:`optimizer.assets.heat_levels`);
  ``0 <= dumped_heat_kw <= recovered_heat_kw`` drawn from the same bus (the
  bypass), so unneeded heat can be wasted. The oil circuit of a screw unit runs at
  80-100 degC, so the recovered water reaches at most about
  :data:`MAX_RECOVERED_HEAT_TEMPERATURE_C` (90 degC): a hotter level (steam) is
  refused, and compressor heat never serves steam.
- Groups of identical units (``units=N``): one entry, ``on[t]`` an integer
  0..N, starts and the min up/down times in the aggregated form of
  :mod:`optimizer.assets.commitment`, flows and powers the group's totals and
  ``loaded_frac`` the loaded units' sum (0..N). This is exact (running units
  share the flow equally, which is cheapest on a convex curve), has one integer
  instead of N binaries per step and no symmetry between units that the solver
  cannot tell apart (full-factory day, median HiGHS time over 10 seeds: 0.86 s
  against 0.97 s with the units listed one by one; ``benchmarks/factory.py``).
- Symmetry breaking: a unit whose spec equals an earlier compressor's (all
  fields but the name) is ordered after the nearest such unit. With min up and
  min down of one step any schedule can be rearranged per step into a staircase
  (``on[previous, t] >= on[unit, t]``, which also has the fewest starts); with
  longer minimum times that is not valid (a hand-over between two units would be
  cut off), so the ordering is on running steps instead
  (``sum_t on[previous, t] >= sum_t on[unit, t]``, valid by swapping the two
  units' whole schedules). Disable with ``order_identical_units=False``.

Air receiver (kind ``air_receiver``): free air stored between the minimum and
maximum working pressure [m3], in and out flows on the bus, end level at least
(or exactly) the initial one by default.

Compressed-air demand (kind ``air_demand``): a series in m3/min that must be met.

Baseline rule: units follow the air demand in list order (the first unit is
loaded first, a group's units one after the other), honouring availability
and min up/down times; a VSD held on below its minimum flow makes surplus air
(warned); the receiver is not used; recovered heat serves its level's heat
deficit left when the unit's rule runs (before the heat supplies' rules) and
the rest is dumped.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyomo.core as pyo
from pydantic import Field, model_validator

from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.assets.commitment import add_commitment, minutes_to_steps, steps_in_state
from optimizer.assets.heat_levels import HeatLevelName, level_bus, level_of, level_temperature
from optimizer.assets.power_curve import (
    DEFAULT_VSD_CURVE,
    FLOW_TOLERANCE,
    CurveSegment,
    add_cycling_loss,
    add_vsd_curve,
    check_curve,
    curve_segments,
    cycling_coefficient,
    cycling_loss,
    make_cycling_loss_exact,
)
from optimizer.baseline_state import BaselineState
from optimizer.buses import COMPRESSED_AIR, ELECTRICITY, heat_bus
from optimizer.errors import SpecError
from optimizer.types import FiniteFloat, Fraction, NonNegFloat, NonNegSeries, PositiveFloat

COMPRESSOR_ON = "compressor_on"
COMPRESSOR_START = "compressor_start"
COMPRESSOR_POWER = "compressor_power"
RECOVERED_HEAT = "heat_recovered"  # the same role strings as optimizer.assets.heat.HEAT_RECOVERED / HEAT_DUMPED
DUMPED_HEAT = "heat_dumped"
MAX_RECOVERED_HEAT_TEMPERATURE_C = 90.0
"""Hottest level recovered compressor heat can supply [degC]: the oil circuit of a lubricated screw runs at
80-100 degC [2nd], so a heat-recovery kit delivers water at up to about 90 degC (Huatie's kit: water 30-60 degC,
air 40-80 degC [src]). Hot water (80 degC by default) and colder levels are within reach; steam is not."""


class CompressorSpec(AssetSpec):
    """An air compressor unit: fixed speed (load/unload) or variable speed (VSD)."""

    kind: Literal["compressor"] = "compressor"
    rated_flow_m3_per_min: PositiveFloat = Field(description="Rated free-air delivery at full load [m3/min].")
    specific_power_kw_per_m3_per_min: PositiveFloat = Field(
        6.4, description="Electric power per m3/min at full load [kW per m3/min]; typically 5-7."
    )
    control: Literal["load_unload", "vsd"] = Field(
        "load_unload", description="Fixed-speed load/unload control or variable-speed drive."
    )
    unloaded_power_frac: Fraction = Field(
        0.20, description="Load/unload: power when on but unloaded, as a fraction of full-load power (15-25 %)."
    )
    min_flow_frac: Fraction = Field(0.20, description="VSD: lowest flow when on, as a fraction of rated flow.")
    power_curve: list[tuple[FiniteFloat, FiniteFloat]] | None = Field(
        None,
        description=(
            "VSD: convex (flow_frac, power_frac) breakpoints, power as a fraction of full-load power, from at most "
            "min_flow_frac up to (1.0, 1.0); default (0, 0.13), (0.6, 0.58), (1, 1): the CAGI data-sheet shape, "
            "specific power 1.40 x the full-load value at 20 % flow, 0.97 x at 60 %."
        ),
    )
    cycle_loss_s: NonNegFloat = Field(
        0.0,
        le=120.0,
        description=(
            "Load/unload: energy lost per load/unload cycle (sump blow-down, reloading), in seconds of the "
            "difference between full-load and unloaded power [s]; 0: ideal load/unload, no cycling loss. About 15 "
            "for a lubricant-injected screw (MEASUR/AirMaster+ defaults: 40 s blow-down, 3 s reload). Needs "
            "storage_m3."
        ),
    )
    storage_m3: PositiveFloat | None = Field(
        None,
        le=1e6,
        description=(
            "Load/unload with cycle_loss_s: free air stored in the pressure band the unit cycles against, receivers "
            "and piping [m3] (an air receiver's capacity_m3 is this quantity). Less storage, more cycles per hour "
            "and a larger part-load loss."
        ),
    )
    min_up_minutes: NonNegFloat = Field(0.0, description="Minimum time on after a start [min].")
    min_down_minutes: NonNegFloat = Field(0.0, description="Minimum time off after a stop [min].")
    start_cost_cny: NonNegFloat = Field(0.0, description="Cost per start (wear) [CNY].")
    availability: NonNegSeries = Field(1.0, description="1 where the unit may run, 0 where it must be off, per step.")
    units: int = Field(
        1,
        ge=1,
        description=(
            "Identical units this entry describes, committed as a group: the schedule's on column counts the units "
            "running and flows and powers are the group's totals. Fewer integer variables and no symmetry between "
            "the units, so faster to solve than listing them one by one."
        ),
    )
    initial_on: bool = Field(False, description="Whether the unit (all units of a group) runs when the horizon starts.")
    initial_units_on: int | None = Field(
        None, ge=0, description="A group's units running when the horizon starts; default: all or none by initial_on."
    )
    initial_minutes_in_state: NonNegFloat | None = Field(
        None, description="How long the unit has been in its initial state [min]; default: long enough."
    )
    heat_recovery_frac: Fraction = Field(
        0.0, description="Recoverable heat as a fraction of electric power (0.7-0.9 with a recovery kit; 0: none)."
    )
    level: HeatLevelName | None = Field(
        None,
        description=(
            "The heat level the recovered heat goes to (hot_water, low_temp or one of the site's heat_levels); "
            "default: the default level heat, the one heat bus of a site without levels. At most about 90 degC "
            "(the oil circuit runs at 80-100 degC): a hotter level (steam) is refused."
        ),
    )
    order_identical_units: bool = Field(
        True, description="Order this unit after an earlier identical compressor (symmetry breaking)."
    )
    exact_power_curve: Literal["auto", "always", "never"] = Field(
        "auto",
        description=(
            "VSD with several curve segments, or load/unload with a cycling loss: when to put power exactly on the "
            "curve with binaries (auto: where extra power could pay, e.g. with heat recovery)."
        ),
    )

    @property
    def full_load_power_kw(self) -> float:
        return self.specific_power_kw_per_m3_per_min * self.rated_flow_m3_per_min

    @property
    def units_on_at_start(self) -> int:
        """Units running when the horizon starts."""
        if self.initial_units_on is not None:
            return self.initial_units_on
        return self.units if self.initial_on else 0

    @model_validator(mode="after")
    def _consistent(self) -> CompressorSpec:
        if self.initial_units_on is not None and self.initial_units_on > self.units:
            raise SpecError(f"{self.initial_units_on} exceeds units ({self.units})", field="initial_units_on")
        values = [self.availability] if isinstance(self.availability, (int, float)) else self.availability
        for t, value in enumerate(values):
            if value not in (0.0, 1.0):
                raise SpecError(
                    f"must be 0 (off) or 1 (may run) per step, got {value} at step {t}",
                    field="availability",
                    step=t,
                )
        if self.control == "load_unload":
            if self.power_curve is not None:
                raise SpecError(
                    "applies to vsd control only; load_unload uses unloaded_power_frac", field="power_curve"
                )
            if self.cycle_loss_s > 0 and self.storage_m3 is None:
                raise SpecError(
                    "is needed with cycle_loss_s: the free air stored in the pressure band the unit cycles "
                    "against (the air receivers' capacity_m3 and the piping)",
                    field="storage_m3",
                    related=("cycle_loss_s",),
                )
            return self
        if self.cycle_loss_s > 0:
            raise SpecError(
                "applies to load_unload control only; a VSD follows the demand without cycling", field="cycle_loss_s"
            )
        check_curve(self.curve_points(), self.min_flow_frac)
        return self

    def curve_points(self) -> list[tuple[float, float]]:
        """The VSD curve's breakpoints (:data:`DEFAULT_VSD_CURVE` when none are given)."""
        points = DEFAULT_VSD_CURVE if self.power_curve is None else self.power_curve
        return [(float(f), float(p)) for f, p in points]

    @property
    def cycling_coefficient(self) -> float:
        """k of the load/unload cycling loss ``k y (1 - y)`` [share of (full - unloaded) power]; 0 without one."""
        if self.control != "load_unload" or self.cycle_loss_s <= 0 or self.storage_m3 is None:
            return 0.0
        return cycling_coefficient(self.rated_flow_m3_per_min, self.storage_m3, self.cycle_loss_s)

    def curve_segments(self) -> list[CurveSegment]:
        """The curve's linear pieces over the operating range [min_flow_frac, 1]."""
        return curve_segments(self.curve_points(), self.min_flow_frac)

    def power_kw_at(self, on: float, flow_m3_per_min: float) -> float:
        """Electric power [kW] with ``on`` units running and delivering ``flow_m3_per_min`` together.

        As the model has it (for the baseline and checks): a group's running
        VSD units share the flow equally, which is cheapest on a convex curve;
        of a group's load/unload units only one cycles (the others run loaded
        or unloaded), which is cheapest with a cycling loss.
        """
        if on <= 0.0:
            return 0.0
        full = self.full_load_power_kw
        frac = flow_m3_per_min / (self.rated_flow_m3_per_min * on)
        if self.control == "load_unload":
            u, loaded = self.unloaded_power_frac, frac * on
            return full * (u * on + (1.0 - u) * (loaded + cycling_loss(self.cycling_coefficient, loaded)))
        flows, powers = zip(*self.curve_points(), strict=True)
        return on * full * float(np.interp(frac, flows, powers))

    def steps_in_initial_state(self, step_minutes: int) -> int | None:
        """Whole steps already spent in the initial state (rounded down), ``None`` for long enough."""
        return steps_in_state(self.initial_minutes_in_state, step_minutes)


def build_compressor(spec: CompressorSpec, ctx: BuildContext) -> None:
    n = spec.name
    block = ctx.block(n)
    step_minutes = ctx.horizon.step_minutes
    up = minutes_to_steps(spec.min_up_minutes, step_minutes)
    down = minutes_to_steps(spec.min_down_minutes, step_minutes)
    commitment = add_commitment(
        block,
        ctx,
        min_up_steps=up,
        min_down_steps=down,
        initial_on=spec.units_on_at_start,
        initial_steps_in_state=spec.steps_in_initial_state(step_minutes),
        available=ctx.series(spec.availability),
        units=spec.units,
    )
    on = commitment.on
    rated = spec.rated_flow_m3_per_min
    full = spec.full_load_power_kw
    block.flow_m3_per_min = pyo.Var(ctx.steps, bounds=(0.0, rated * spec.units))
    block.power_kw = pyo.Var(ctx.steps, bounds=(0.0, full * spec.units))
    flow, power = block.flow_m3_per_min, block.power_kw
    block.flow_when_on = pyo.Constraint(ctx.steps, rule=lambda b, t: flow[t] <= rated * on[t])

    ctx.add_flow(f"{n}.on", on, role=COMPRESSOR_ON)
    ctx.add_flow(f"{n}.start", commitment.start, role=COMPRESSOR_START)
    if spec.control == "load_unload":
        _add_load_unload(spec, block, ctx)
    else:
        add_vsd_curve(spec, block, ctx)
    ctx.add_flow(f"{n}.flow_m3_per_min", flow, bus=COMPRESSED_AIR, sign=+1)
    ctx.add_switched_supply(COMPRESSED_AIR, f"{n}.flow_m3_per_min", on, rated, spec.units)
    ctx.add_flow(f"{n}.power_kw", power, bus=ELECTRICITY, sign=-1, role=COMPRESSOR_POWER)
    if spec.start_cost_cny > 0:
        # add_linear_cost multiplies by dt_h: divide so that one start costs start_cost_cny.
        ctx.add_linear_cost("start_up", f"{n}.start", np.full(ctx.n_steps, spec.start_cost_cny / ctx.dt_h))

    if spec.heat_recovery_frac > 0:
        frac = spec.heat_recovery_frac
        bus = recovered_heat_bus(spec, ctx)
        block.recovered_heat_kw = pyo.Var(ctx.steps, bounds=(0.0, frac * full * spec.units))
        block.dumped_heat_kw = pyo.Var(ctx.steps, bounds=(0.0, frac * full * spec.units))
        block.heat_from_power = pyo.Constraint(ctx.steps, rule=lambda b, t: b.recovered_heat_kw[t] == frac * power[t])
        block.dump_within_recovered = pyo.Constraint(
            ctx.steps, rule=lambda b, t: b.dumped_heat_kw[t] <= b.recovered_heat_kw[t]
        )
        ctx.add_flow(f"{n}.recovered_heat_kw", block.recovered_heat_kw, bus=bus, sign=+1, role=RECOVERED_HEAT)
        ctx.add_flow(f"{n}.dumped_heat_kw", block.dumped_heat_kw, bus=bus, sign=-1, role=DUMPED_HEAT)

    ctx.finalizers.append(lambda c: _order_after_identical_unit(spec, block, c, up, down))


def recovered_heat_bus(spec: CompressorSpec, ctx: BuildContext) -> str:
    """The bus the recovered heat goes to, after checking that the site has the level and that compressor heat
    reaches it (at most :data:`MAX_RECOVERED_HEAT_TEMPERATURE_C`); raises :class:`SpecError` on ``level``."""
    temperature = level_temperature(spec, ctx)
    if temperature is not None and temperature > MAX_RECOVERED_HEAT_TEMPERATURE_C:
        raise SpecError(
            f"{level_of(spec)!r} at {temperature:g} degC is above what recovered compressor heat reaches "
            f"({MAX_RECOVERED_HEAT_TEMPERATURE_C:g} degC: the oil circuit runs at 80-100 degC); give hot_water, "
            "low_temp or a level of the site at most that hot",
            asset=spec.name,
            field="level",
            related=("heat_recovery_frac",),
        )
    return level_bus(spec, ctx)


def _add_load_unload(spec: CompressorSpec, block: pyo.Block, ctx: BuildContext) -> None:
    """Loaded share, and power from it with the cycling loss when the spec has one (see the module doc)."""
    n, u, k = spec.name, spec.unloaded_power_frac, spec.cycling_coefficient
    rated, full, on, flow, power = (
        spec.rated_flow_m3_per_min,
        spec.full_load_power_kw,
        block.on,
        block.flow_m3_per_min,
        block.power_kw,
    )
    block.loaded_frac = pyo.Var(ctx.steps, bounds=(0.0, spec.units))
    block.flow_from_loaded_share = pyo.Constraint(ctx.steps, rule=lambda b, t: flow[t] == rated * b.loaded_frac[t])
    ctx.add_flow(f"{n}.loaded_frac", block.loaded_frac)
    if k <= 0:
        block.power_from_loaded_share = pyo.Constraint(
            ctx.steps, rule=lambda b, t: power[t] == full * (u * on[t] + (1.0 - u) * b.loaded_frac[t])
        )
        return
    add_cycling_loss(block, ctx, k, spec.units)
    block.power_from_loaded_share = pyo.Constraint(
        ctx.steps,
        rule=lambda b, t: power[t] == full * (u * on[t] + (1.0 - u) * (b.loaded_frac[t] + b.cycling_loss[t])),
    )
    ctx.add_flow(f"{n}.cycling_loss_frac", block.cycling_loss)  # extra loaded share lost to cycling

    def finalize(c: BuildContext) -> None:
        mode = spec.exact_power_curve
        if mode == "always" or (mode == "auto" and (spec.heat_recovery_frac > 0 or c.energy_burning_pays())):
            make_cycling_loss_exact(block, c, k)

    ctx.finalizers.append(finalize)


def _order_after_identical_unit(spec: CompressorSpec, block: pyo.Block, ctx: BuildContext, up: int, down: int) -> None:
    """Symmetry breaking against the nearest earlier compressor with the same spec (see the module doc)."""
    if not spec.order_identical_units:
        return
    mine = spec.model_dump(exclude={"name"})
    previous = None
    for other in ctx.problem.assets:
        if other is spec:
            break
        if isinstance(other, CompressorSpec) and other.model_dump(exclude={"name"}) == mine:
            previous = other
    if previous is None:
        return
    previous_on = ctx.model.component(previous.name).on
    if up == 1 and down == 1:
        block.after_identical_unit = pyo.Constraint(ctx.steps, rule=lambda b, t: previous_on[t] >= b.on[t])
    else:
        block.after_identical_unit = pyo.Constraint(
            expr=sum(previous_on[t] for t in ctx.steps) >= sum(block.on[t] for t in ctx.steps)
        )


def baseline_compressor(spec: CompressorSpec, state: BaselineState) -> None:
    """Rule: each unit in turn takes as much of the remaining air deficit as it can, within its on/off rules."""
    air = state.bus(COMPRESSED_AIR)
    on, start, flow, power = (np.zeros(state.horizon.n_steps) for _ in range(4))
    surplus_steps = 0
    for unit in range(spec.units):
        unit_on, unit_start, unit_flow, unit_surplus = _baseline_unit(spec, state, air, unit < spec.units_on_at_start)
        on += unit_on
        start += unit_start
        flow += unit_flow
        power += np.array([spec.power_kw_at(o, f) for o, f in zip(unit_on, unit_flow, strict=True)])
        air -= unit_flow
        surplus_steps += unit_surplus
    n = spec.name
    state.columns[f"{n}.on"] = on
    state.columns[f"{n}.start"] = start
    if spec.control == "load_unload":
        state.columns[f"{n}.loaded_frac"] = flow / spec.rated_flow_m3_per_min
    state.columns[f"{n}.flow_m3_per_min"] = flow
    state.columns[f"{n}.power_kw"] = power
    state.net_kw += power
    if surplus_steps:
        state.warnings.append(
            f"the rule-based baseline runs {n} making more air than needed at {surplus_steps} steps "
            "(held by its minimum flow or minimum up time): the baseline spends some electricity on air nobody uses"
        )
    if spec.heat_recovery_frac > 0:
        recovered = spec.heat_recovery_frac * power
        heat = state.bus(heat_bus(spec.level))
        dumped = np.clip(recovered - heat, 0.0, recovered)
        heat -= recovered - dumped
        state.columns[f"{n}.recovered_heat_kw"] = recovered
        state.columns[f"{n}.dumped_heat_kw"] = dumped


def _baseline_unit(
    spec: CompressorSpec, state: BaselineState, air_deficit: np.ndarray, initially_on: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """One unit's rule run: on, start and flow per step, and the steps where it makes surplus air."""
    n_steps = state.horizon.n_steps
    step_minutes = state.horizon.step_minutes
    up = minutes_to_steps(spec.min_up_minutes, step_minutes)
    down = minutes_to_steps(spec.min_down_minutes, step_minutes)
    available = state.series(spec.availability) > 0.0
    rated = spec.rated_flow_m3_per_min
    low = spec.min_flow_frac * rated if spec.control == "vsd" else 0.0
    on, start, flow = (np.zeros(n_steps) for _ in range(3))
    was_on = initially_on
    in_state = spec.steps_in_initial_state(step_minutes)
    steps_in_state = max(up, down) if in_state is None else in_state
    surplus_steps = 0
    for t in range(n_steps):
        deficit = max(0.0, float(air_deficit[t]))
        must_run = was_on and steps_in_state < up
        must_rest = (not was_on) and steps_in_state < down
        is_on = bool(available[t]) and not must_rest and (must_run or deficit > FLOW_TOLERANCE)
        if is_on:
            flow[t] = min(rated, max(low, deficit))
            surplus_steps += int(flow[t] > deficit + FLOW_TOLERANCE)
            on[t] = 1.0
            start[t] = 0.0 if was_on else 1.0
        steps_in_state = steps_in_state + 1 if is_on == was_on else 1
        was_on = is_on
    return on, start, flow, surplus_steps
