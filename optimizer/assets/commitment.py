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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo

from optimizer.assets.base import BuildContext
from optimizer.errors import SpecError


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
