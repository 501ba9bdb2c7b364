"""Shared on/off (unit commitment) rules: start-ups, shut-downs, min up/down times.

Used by every switched unit (chillers, compressors, ...) so the rule is written
once. Tight formulation (Rajan and Takriti, 2005):

    on[t] - on[t-1] = start[t] - stop[t]
    sum(start[k] for k in t-U+1..t) <= on[t]          (min up time U steps)
    sum(stop[k]  for k in t-D+1..t) <= 1 - on[t]      (min down time D steps)

``on[-1]`` is the initial state; a unit that has been in its initial state for
fewer than U (D) steps keeps it until the minimum is served.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo

from optimizer.assets.base import BuildContext


def minutes_to_steps(minutes: float, step_minutes: int) -> int:
    """A duration [min] as a whole number of steps, rounded up (at least 1)."""
    return max(1, math.ceil(minutes / step_minutes - 1e-9))


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
    initial_on: bool = False,
    initial_steps_in_state: int | None = None,
    available: np.ndarray | None = None,
) -> Commitment:
    """Adds ``on``, ``start``, ``stop`` binaries/continuous vars and the min up/down rules to ``block``.

    ``available[t] == 0`` forces the unit off at step ``t``. ``initial_steps_in_state``
    (default: long enough) is how long the unit has been in ``initial_on`` before the horizon.
    """
    steps = ctx.steps
    n = ctx.n_steps
    block.on = pyo.Var(steps, domain=pyo.Binary)
    block.start = pyo.Var(steps, bounds=(0.0, 1.0))  # integral at any integer on[]
    block.stop = pyo.Var(steps, bounds=(0.0, 1.0))
    prev0 = 1.0 if initial_on else 0.0
    block.transition = pyo.Constraint(
        steps,
        rule=lambda b, t: b.on[t] - (prev0 if t == 0 else b.on[t - 1]) == b.start[t] - b.stop[t],
    )
    # Without a min up (down) rule nothing else keeps a continuous start (stop) at 0 on steps
    # without a change (start = stop = 0.5 would satisfy the transition): bound it by the state.
    if min_up_steps <= 1:
        block.start_only_when_on = pyo.Constraint(steps, rule=lambda b, t: b.start[t] <= b.on[t])
    if min_down_steps <= 1:
        block.stop_only_when_off = pyo.Constraint(steps, rule=lambda b, t: b.stop[t] <= 1 - b.on[t])
    if min_up_steps > 1:
        block.min_up = pyo.Constraint(
            steps, rule=lambda b, t: sum(b.start[k] for k in range(max(0, t - min_up_steps + 1), t + 1)) <= b.on[t]
        )
    if min_down_steps > 1:
        block.min_down = pyo.Constraint(
            steps,
            rule=lambda b, t: sum(b.stop[k] for k in range(max(0, t - min_down_steps + 1), t + 1)) <= 1 - b.on[t],
        )
    if initial_steps_in_state is not None:
        remaining = (min_up_steps if initial_on else min_down_steps) - initial_steps_in_state
        for t in range(min(max(0, remaining), n)):
            block.on[t].fix(prev0)
    if available is not None:
        for t in np.flatnonzero(np.asarray(available) <= 0.0):
            if block.on[int(t)].fixed and block.on[int(t)].value == 1.0:
                raise ValueError(f"{block.name} must stay on at step {int(t)} (min up time) but is unavailable")
            block.on[int(t)].fix(0.0)
    return Commitment(block.on, block.start, block.stop)
