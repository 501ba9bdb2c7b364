"""Shared on/off (unit commitment) rules: start-ups, shut-downs, min up/down times.

Used by every switched unit (chillers, compressors, ...) so the rule is written
once. Tight formulation (Rajan and Takriti, 2005) for a group of ``N``
identical units (``N = 1``: one unit, ``on`` binary; ``N > 1``: ``on`` is the
integer number of units running):

    on[t] - on[t-1] = start[t] - stop[t]
    sum(start[k] for k in t-U+1..t) <= on[t]          (min up time U steps)
    sum(stop[k]  for k in t-D+1..t) <= N - on[t]      (min down time D steps)

For identical units the aggregated form is exact: any integer solution can be
split into per-unit schedules that each keep the minimum times (stop the units
that have run longest, start those that have rested longest). It is also much
easier to solve than ``N`` binaries per step, which the solver cannot tell
apart (symmetry).

``on[-1]`` is the initial state. Units that have been in it for ``s`` steps
count as started (stopped) ``s`` steps before the horizon: they enter the
windows above while those still reach into the horizon, so running units stay
on and resting units cannot start until their minimum is served, and a group
cannot swap a unit that rests too briefly for one that just stopped.

Also here, for the units that share them (boilers, heat pumps; a chiller or a plug-in may use them too):
:func:`add_switched_output` (on/off, output within ``[min_load, capacity] * on``, the ``on`` and ``starts``
columns, the start cost) and :func:`add_ramp_limits` (ramp limits in kW per hour that allow a start to reach the
minimum load and a stop from it), with the spec field types they read (:data:`StartCost`, :data:`MinTime`,
:data:`InitialMinutes`, :data:`RampRate`). Starts carry the role :data:`UNIT_START`, which the KPIs count per
asset (``Kpis.unit_starts_by_asset``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
import pyomo.core as pyo
from pydantic import Field

from optimizer.assets.base import BuildContext
from optimizer.errors import SpecError

UNIT_START = "unit_start"
"""Role of a unit's start count per step (``<name>.starts``); ``Kpis.unit_starts_by_asset`` sums it per asset."""

MAX_MIN_TIME_MINUTES = 7 * 24 * 60.0
"""Longest minimum up or down time accepted [min] (a week): anything longer is a maintenance plan, not a rule."""
MAX_START_COST_CNY = 1e6
"""Largest cost of one start accepted [CNY]."""

StartCost = Annotated[
    float,
    Field(
        ge=0.0,
        le=MAX_START_COST_CNY,
        allow_inf_nan=False,
        description="Cost per start (wear, staff, start-up losses not counted otherwise) [CNY]; 0: none.",
    ),
]
MinTime = Annotated[float, Field(ge=0.0, le=MAX_MIN_TIME_MINUTES, allow_inf_nan=False)]
"""A minimum up or down time [min], rounded up to whole steps; at most a week."""
InitialMinutes = Annotated[float, Field(ge=0.0, le=1e7, allow_inf_nan=False)]
"""Time already spent in the initial on/off state [min]."""
RampRate = Annotated[float, Field(gt=0.0, le=1e7, allow_inf_nan=False)]
"""A ramp limit [kW per hour of output change]."""


def minutes_to_steps(minutes: float, step_minutes: int) -> int:
    """A duration [min] as a whole number of steps, rounded up (at least 1)."""
    return max(1, math.ceil(minutes / step_minutes - 1e-9))


def steps_in_state(minutes: float | None, step_minutes: int) -> int | None:
    """Time already spent in the initial state as whole steps (rounded down); ``None`` stays "long enough"."""
    return None if minutes is None else math.floor(minutes / step_minutes + 1e-9)


@dataclass
class Commitment:
    """The Pyomo components of a unit's on/off state."""

    on: Any
    start: Any
    stop: Any


def add_commitment(
    block: pyo.Block,
    ctx: BuildContext,
    *,
    min_up_steps: int = 1,
    min_down_steps: int = 1,
    initial_on: bool | int = False,
    initial_steps_in_state: int | None = None,
    available: np.ndarray | None = None,
    units: int = 1,
) -> Commitment:
    """Adds ``on`` (binary, or integer 0..units), continuous ``start``/``stop`` and the min up/down rules.

    ``available[t] == 0`` forces the units off at step ``t``. ``initial_on`` is
    the number of units running before the horizon (``True``/``False`` for one
    unit); ``initial_steps_in_state`` (default: long enough) is how long that
    state has lasted.
    """
    steps = ctx.steps
    n = ctx.n_steps
    if units == 1:
        block.on = pyo.Var(steps, domain=pyo.Binary)
    else:
        block.on = pyo.Var(steps, domain=pyo.NonNegativeIntegers, bounds=(0, units))
    block.start = pyo.Var(steps, bounds=(0.0, units))  # integral at any integer on[] when starts cost
    block.stop = pyo.Var(steps, bounds=(0.0, units))
    prev0 = float(initial_on)
    if not 0 <= prev0 <= units:
        raise SpecError(
            f"{prev0:g} units on initially, but the group has {units}", asset=block.name, field="initial_units_on"
        )
    block.transition = pyo.Constraint(
        steps,
        rule=lambda b, t: b.on[t] - (prev0 if t == 0 else b.on[t - 1]) == b.start[t] - b.stop[t],
    )
    # Without a min up (down) rule nothing else keeps a continuous start (stop) at 0 on steps
    # without a change (start = stop = 0.5 would satisfy the transition): bound it by the state.
    if min_up_steps <= 1:
        block.start_only_when_on = pyo.Constraint(steps, rule=lambda b, t: b.start[t] <= b.on[t])
    if min_down_steps <= 1:
        block.stop_only_when_off = pyo.Constraint(steps, rule=lambda b, t: b.stop[t] <= units - b.on[t])
    in_state = initial_steps_in_state

    def carried(min_steps: int, t: int, count: float) -> float:
        """Units that changed state ``in_state`` steps before the horizon, still inside the window ending at t."""
        return count if in_state is not None and t <= min_steps - 1 - in_state else 0.0

    if min_up_steps > 1:
        block.min_up = pyo.Constraint(
            steps,
            rule=lambda b, t: (
                sum(b.start[k] for k in range(max(0, t - min_up_steps + 1), t + 1)) + carried(min_up_steps, t, prev0)
                <= b.on[t]
            ),
        )
    if min_down_steps > 1:
        block.min_down = pyo.Constraint(
            steps,
            rule=lambda b, t: (
                sum(b.stop[k] for k in range(max(0, t - min_down_steps + 1), t + 1))
                + carried(min_down_steps, t, units - prev0)
                <= units - b.on[t]
            ),
        )
    if in_state is not None:  # implied by the windows above; also covers min times of one step
        if prev0 > 0:  # running units finish their min up time
            for t in range(min(max(0, min_up_steps - in_state), n)):
                block.on[t].setlb(prev0)
        if prev0 < units:  # resting units finish their min down time
            for t in range(min(max(0, min_down_steps - in_state), n)):
                block.on[t].setub(prev0)
    if available is not None:
        for t in np.flatnonzero(np.asarray(available) <= 0.0):
            if (block.on[int(t)].lb or 0) > 0:
                raise SpecError(
                    f"must stay on at step {int(t)} (min up time) but is unavailable",
                    asset=block.name,
                    field="availability",
                    step=int(t),
                )
            block.on[int(t)].fix(0.0)
    return Commitment(block.on, block.start, block.stop)


def require_min_load(spec: Any, fields: tuple[str, ...]) -> None:
    """Raises :class:`SpecError` when one of ``fields`` (a start cost, start gas, minimum up/down time) is above 0
    but ``spec.min_load_frac`` is 0: a unit on at zero output (standby) would then never pay a start, and its
    minimum times would hold at zero output, so the field would change nothing the plant does."""
    given = [f for f in fields if getattr(spec, f) > 0]
    if given and spec.min_load_frac <= 0:
        raise SpecError(
            f"needs a minimum load with {', '.join(given)}: at zero output the unit could stay on (standby) and never "
            "start, so give the lowest output it runs at when firing",
            field="min_load_frac",
            related=tuple(given),
        )


OUTPUT_TOLERANCE_KW = 1e-6
"""A carried output above capacity by less than this [kW] is solver round-off."""


def require_output_within(spec: Any, field: str, capacity_field: str, unit: str = "kW_th") -> None:
    """Raises :class:`SpecError` when the initial output ``spec.<field>`` (the ramp limits' start) is above
    ``spec.<capacity_field>`` by more than solver round-off."""
    value, capacity = getattr(spec, field), getattr(spec, capacity_field)
    if value is not None and value > capacity + OUTPUT_TOLERANCE_KW:
        raise SpecError(
            f"{value:g} {unit} is above {capacity_field} {capacity:g}", field=field, related=(capacity_field,)
        )


def add_unit_output(spec: Any, block: pyo.Block, ctx: BuildContext, output: Any) -> Commitment:
    """:func:`add_switched_output` with the on/off fields of a switched unit's ``spec`` (``name``,
    ``capacity_kw``, ``min_load_frac``, ``min_up_minutes``, ``min_down_minutes``, ``initial_on``,
    ``initial_minutes_in_state``, ``start_cost_cny``; boilers and heat pumps have them all)."""
    step_minutes = ctx.horizon.step_minutes
    return add_switched_output(
        block,
        ctx,
        output,
        name=spec.name,
        capacity_kw=spec.capacity_kw,
        min_load_frac=spec.min_load_frac,
        min_up_steps=minutes_to_steps(spec.min_up_minutes, step_minutes),
        min_down_steps=minutes_to_steps(spec.min_down_minutes, step_minutes),
        initial_on=spec.initial_on,
        initial_steps_in_state=steps_in_state(spec.initial_minutes_in_state, step_minutes),
        start_cost_cny=spec.start_cost_cny,
    )


def add_switched_output(
    block: pyo.Block,
    ctx: BuildContext,
    output: Any,
    *,
    name: str,
    capacity_kw: float,
    min_load_frac: float,
    min_up_steps: int = 1,
    min_down_steps: int = 1,
    initial_on: bool = False,
    initial_steps_in_state: int | None = None,
    start_cost_cny: float = 0.0,
) -> Commitment:
    """A unit whose ``output[t]`` [kW] is ``0`` when off and in ``[min_load_frac, 1] * capacity_kw`` when on.

    Adds :func:`add_commitment`, ``block.max_when_on`` and (with a minimum load) ``block.min_when_on``; registers
    ``<name>.on`` and ``<name>.starts`` (role :data:`UNIT_START`) and the start cost (component ``"start_up"``,
    ``start_cost_cny`` per start). Without a minimum load the unit may read ``on`` at zero output (a unit on
    standby): only a start cost or a min up/down time then tells the two apart.
    """
    unit = add_commitment(
        block,
        ctx,
        min_up_steps=min_up_steps,
        min_down_steps=min_down_steps,
        initial_on=initial_on,
        initial_steps_in_state=initial_steps_in_state,
    )
    block.max_when_on = pyo.Constraint(ctx.steps, rule=lambda b, t: output[t] <= capacity_kw * unit.on[t])
    if min_load_frac > 0:
        low = min_load_frac * capacity_kw
        block.min_when_on = pyo.Constraint(ctx.steps, rule=lambda b, t: output[t] >= low * unit.on[t])
    ctx.add_flow(f"{name}.on", unit.on)
    ctx.add_flow(f"{name}.starts", unit.start, role=UNIT_START)
    if start_cost_cny > 0:
        # add_linear_cost multiplies by dt_h; a start is counted per step, not per hour.
        ctx.add_linear_cost("start_up", f"{name}.starts", np.full(ctx.n_steps, start_cost_cny / ctx.dt_h))
    return unit


def add_unit_ramp_limits(
    spec: Any,
    block: pyo.Block,
    ctx: BuildContext,
    output: Any,
    unit: Commitment | None,
    initial_kw: float | None,
    capacity_kw: float | None = None,
) -> None:
    """:func:`add_ramp_limits` with the ramp fields of a switched unit's ``spec`` (``ramp_up_kw_per_h``,
    ``ramp_down_kw_per_h``, ``initial_on``, ``min_load_frac`` and ``capacity_kw`` unless given; boilers, heat
    pumps and chillers have them all); ``initial_kw``: its output before the horizon (the spec's
    ``initial_heat_kw``, ``initial_cooling_kw``...)."""
    capacity = spec.capacity_kw if capacity_kw is None else capacity_kw
    add_ramp_limits(
        block,
        ctx,
        output,
        capacity_kw=capacity,
        up_kw_per_h=spec.ramp_up_kw_per_h,
        down_kw_per_h=spec.ramp_down_kw_per_h,
        initial_kw=initial_kw,
        unit=unit,
        initial_on=spec.initial_on,
        min_kw=spec.min_load_frac * capacity,
    )


def add_ramp_limits(
    block: pyo.Block,
    ctx: BuildContext,
    output: Any,
    *,
    capacity_kw: float,
    up_kw_per_h: float | None,
    down_kw_per_h: float | None,
    initial_kw: float | None = None,
    unit: Commitment | None = None,
    initial_on: bool = False,
    min_kw: float = 0.0,
) -> None:
    """Ramp limits on a unit's output [kW per hour], between consecutive steps' averages.

    Running, the output changes by at most ``rate * dt_h`` per step. A unit with on/off may jump from 0 to its
    minimum load when it starts, and from its minimum load to 0 when it stops (else a unit whose ramp in one
    step is below its minimum load could never start)::

        output[t] - output[t-1] <= up * dt_h   + max(0, min_kw - up * dt_h)   * start[t]
        output[t-1] - output[t] <= down * dt_h + max(0, min_kw - down * dt_h) * stop[t]

    ``output[-1]`` is ``initial_kw`` (the output carried from the previous period); unknown (None), step 0 is
    free, except for a unit with on/off that was off (its output was 0). A rate that covers the whole capacity
    in one step adds no row.
    """
    dt_h = ctx.dt_h
    previous0 = initial_kw
    if previous0 is None and unit is not None and not initial_on:
        previous0 = 0.0
    if previous0 is not None:
        previous0 = min(max(previous0, 0.0), capacity_kw)

    def limit(rate: float | None, changes: Any) -> tuple[float, float, Any] | None:
        if rate is None or rate * dt_h >= capacity_kw:
            return None
        return rate * dt_h, max(0.0, min_kw - rate * dt_h), changes

    def rows(spec: tuple[float, float, Any], rising: bool) -> pyo.Constraint:
        step, allowance, changes = spec

        def rule(_: pyo.Block, t: int) -> Any:
            before = previous0 if t == 0 else output[t - 1]
            if before is None:
                return pyo.Constraint.Skip
            change = output[t] - before if rising else before - output[t]
            extra = allowance * changes[t] if changes is not None and allowance > 0 else 0.0
            return change <= step + extra

        return pyo.Constraint(ctx.steps, rule=rule)

    up = limit(up_kw_per_h, None if unit is None else unit.start)
    down = limit(down_kw_per_h, None if unit is None else unit.stop)
    if up is not None:
        block.ramp_up = rows(up, rising=True)
    if down is not None:
        block.ramp_down = rows(down, rising=False)
