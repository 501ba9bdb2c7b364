"""Rule-based baseline: what a site does without an optimiser.

PV serves the load, PV surplus charges the battery, the battery covers the
deficit, the grid supplies the rest (export up to its limit, curtail beyond),
green contracts cover metered import up to their limits. Each asset module
supplies its own rule; this module only runs them in the registry's order.
The baseline ignores targets and end-of-horizon SOC (it reports them).

What its rules leave unbalanced (demand not supplied, electricity surplus not
placed) is measured on the schedule's bus balances as typed
:class:`~optimizer.baseline_state.BaselineShortfall` records: no saving is
stated against a baseline that has any.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from optimizer.assets import REGISTRY
from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.baseline_state import BUS_UNITS, BaselineShortfall, BaselineState
from optimizer.buses import ELECTRICITY, HEAT, bus_quantity, is_heat_bus

SHORTFALL_TOLERANCE = 1e-6
"""A step's bus imbalance below this [kW, kW_th or m3/min] is rounding, not a shortfall."""


class BaselineRun(NamedTuple):
    """The baseline schedule (the optimised one's columns), its warnings and what it leaves unbalanced."""

    schedule: pd.DataFrame
    warnings: list[str]
    shortfalls: list[BaselineShortfall]


def baseline_sequence(assets: Sequence[AssetSpec]) -> list[AssetSpec]:
    """The assets in the order their rules run (:meth:`optimizer.assets.AssetType.baseline_position`; ties keep
    the problem's order)."""
    return sorted(assets, key=lambda a: REGISTRY[a.kind].baseline_position(a, assets))


def run_baseline(ctx: BuildContext) -> BaselineRun:
    """The baseline schedule with the same columns as the optimised one, its warnings and its shortfalls.

    The build's fixed data (prices, demands, a heat pump's COP from its level's temperature) start the schedule,
    so a rule reads what the model was built with; each rule writes its own columns.
    """
    problem = ctx.problem
    state = BaselineState(horizon=problem.horizon)
    state.columns.update({c: np.array(f.component, dtype=float) for c, f in ctx.flows.items() if f.is_data})
    for spec in baseline_sequence(problem.assets):
        REGISTRY[spec.kind].baseline(spec, state)
    columns = {c: state.columns.get(c, np.zeros(problem.horizon.n_steps)) for c in ctx.flows}
    schedule = pd.DataFrame(columns, index=problem.horizon.index)
    shortfalls = baseline_shortfalls(schedule, ctx)
    for s in shortfalls:
        if s.bus == ELECTRICITY and s.kind == "surplus":
            continue  # the grid rule says it itself, with its export limit
        state.warnings.append(
            f"the rule-based baseline leaves the {s.bus} bus short at {s.steps} steps, {s.describe()}: it does not "
            "supply that demand, so no saving is stated against it"
        )
    return BaselineRun(schedule, state.warnings, shortfalls)


def baseline_shortfalls(schedule: pd.DataFrame, ctx: BuildContext) -> list[BaselineShortfall]:
    """Per bus, the demand ``schedule`` leaves unsupplied (draws above supplies), and on the electricity bus the
    surplus it leaves unplaced (supplies above draws), each over the horizon and at its worst step.

    A surplus on another bus is not counted: the baseline's only one is compressed air made at a compressor's
    minimum flow, which a real plant vents (its electricity is in the baseline's cost).
    """
    dt_h = ctx.dt_h
    index = schedule.index
    found: list[BaselineShortfall] = []
    for bus, terms in ctx.bus_terms.items():
        net = sum(sign * schedule[column].to_numpy() for column, sign in terms)  # supplies - draws
        rate_unit, unit, per_rate_hour = BUS_UNITS.get(bus, BUS_UNITS[HEAT if is_heat_bus(bus) else ELECTRICITY])
        cases = [("unmet", np.maximum(-net, 0.0), [c for c, sign in terms if sign < 0])]
        if bus == ELECTRICITY:
            cases.append(("surplus", np.maximum(net, 0.0), [c for c, sign in terms if sign > 0]))
        for kind, short, columns in cases:
            steps = short > SHORTFALL_TOLERANCE
            if not steps.any():
                continue
            worst = int(np.argmax(short))
            assets = [c.rpartition(".")[0] or c for c in columns if abs(schedule[c].iat[worst]) > SHORTFALL_TOLERANCE]
            found.append(
                BaselineShortfall(
                    bus=bus,
                    kind=kind,  # type: ignore[arg-type]
                    quantity=bus_quantity(bus),
                    assets=list(dict.fromkeys(assets)),
                    amount=float(short[steps].sum() * dt_h * per_rate_hour),
                    unit=unit,
                    worst=float(short[worst]),
                    rate_unit=rate_unit,
                    worst_at=index[worst].isoformat(),
                    steps=int(steps.sum()),
                )
            )
    return found
