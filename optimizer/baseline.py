"""Rule-based baseline: what a site does without an optimiser.

PV serves the load, PV surplus charges the battery, the battery covers the
deficit, the grid supplies the rest (export up to its limit, curtail beyond),
green contracts cover metered import up to their limits. Each asset module
supplies its own rule; this module only runs them in the registry's order.
The baseline ignores targets and end-of-horizon SOC (it reports them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.assets import REGISTRY
from optimizer.assets.base import BuildContext
from optimizer.baseline_state import BaselineState
from optimizer.buses import ELECTRICITY


def run_baseline(ctx: BuildContext) -> tuple[pd.DataFrame, list[str]]:
    """The baseline schedule with the same columns as the optimised one, and its warnings."""
    problem = ctx.problem
    state = BaselineState(horizon=problem.horizon)
    for spec in sorted(problem.assets, key=lambda a: REGISTRY[a.kind].baseline_order):
        REGISTRY[spec.kind].baseline(spec, state)
    for bus, net in state.net.items():
        short = net > 1e-6
        if bus != ELECTRICITY and short.any():  # the grid rule reports electricity itself
            state.warnings.append(
                f"the rule-based baseline leaves the {bus} bus short at {int(short.sum())} steps "
                f"(largest deficit {net.max():.1f}): it does not supply that demand, so its cost leaves it out"
            )
    columns = {c: state.columns.get(c, np.zeros(problem.horizon.n_steps)) for c in ctx.flows}
    return pd.DataFrame(columns, index=problem.horizon.index), state.warnings
