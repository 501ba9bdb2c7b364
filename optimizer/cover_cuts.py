"""Cover cuts: how many switched units must run on a bus at each step.

Compressors meeting an air demand, chillers meeting a cooling demand, boilers
with a minimum load meeting heat demand: their ``on`` variables are integral,
but the LP relaxation lets several units run "a little" (``on = 0.3``) and so
skips their fixed costs (unloaded power, a VSD's curve intercept, min load).
When the bus's other terms cannot cover the demand at step ``t`` without the
switched units, at least ``k[t]`` of them must run, where ``k[t]`` is the
fewest available units whose capacities reach what is left::

    need[t] = -max(sum(sign * term[t] over the bus's other terms))   (from their bounds)
    sum(on[u, t] over the switched units) >= k[t]

The row is implied by the bus balance and each unit's ``flow <= capacity * on``
(a knapsack cover), so it changes no optimum; it only makes the LP bound
tighter, which HiGHS does not always find by itself (on the full-factory day
the compressors' on/off becomes nearly integral in the LP relaxation). Cuts are left out
where nothing is needed or where even all units cannot cover the need (the
problem is then infeasible and the diagnosis should point at the balance).
"""

from __future__ import annotations

import math

import pyomo.core as pyo

from optimizer.assets.base import BuildContext

NEED_TOLERANCE = 1e-6


def units_needed(need: float, capacities: list[float]) -> int | None:
    """Fewest of ``capacities`` (one entry per unit) that sum to at least ``need``.

    0 when nothing is needed, ``None`` when all of them together fall short.
    """
    if need <= NEED_TOLERANCE:
        return 0
    total = 0.0
    for count, capacity in enumerate(sorted(capacities, reverse=True), start=1):
        total += capacity
        if total >= need - NEED_TOLERANCE:
            return count
    return None


def add_cover_cuts(ctx: BuildContext) -> None:
    """``<bus>_units_needed[t]`` for every bus with registered switched supplies."""
    for bus, supplies in ctx.switched_supplies.items():
        switched = {s.column for s in supplies}
        required: dict[int, int] = {}
        for t in range(ctx.n_steps):
            need = -ctx.net_bounds(bus, t, exclude=switched)[1]
            if not math.isfinite(need):
                continue
            capacities = [
                float(s.capacity_per_unit[t]) for s in supplies for _ in range(_units_available(s.on[t], s.units))
            ]
            count = units_needed(need, capacities)
            if count:
                required[t] = count
        if required:
            ctx.model.add_component(
                f"{bus}_units_needed",
                pyo.Constraint(
                    list(required), rule=lambda _, t, r=required, s=supplies: sum(u.on[t] for u in s) >= r[t]
                ),
            )


def _units_available(on: pyo.Var, units: int) -> int:
    upper = on.value if on.fixed else on.ub
    return units if upper is None else math.floor(upper + 1e-9)
