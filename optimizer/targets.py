"""Horizon-wide targets as constraints: PV self-consumption, green share, emission cap.

The two shares hold over ``Targets.so_far`` (energy metered earlier in the
targets' period, e.g. the morning before an intraday re-plan) and the horizon
together; the emission cap is the horizon's alone.

Each target is a single linear constraint over horizon energy totals built from
the flows assets registered with a role. A soft target gets a non-negative slack
(its shortfall) priced at the target's penalty; a hard one gets none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from optimizer.assets.base import BuildContext, CostTerm
from optimizer.assets.grid import GREEN_PURCHASE, GRID_EXPORT, GRID_IMPORT
from optimizer.assets.pv import PV_AVAILABLE, PV_OUTPUT
from optimizer.kpis import TargetShortfall, emissions_kgco2, energy_totals
from optimizer.problem import TargetProgress

SELF_CONSUMPTION = "pv_self_consumption"
GREEN_SHARE = "green_share"
EMISSION_CAP = "emission_cap"


def _total_kwh(ctx: BuildContext, role: str) -> Any:
    return sum(ctx.role_sum(role, t) for t in ctx.steps) * ctx.dt_h


def build_targets(ctx: BuildContext) -> None:
    """Adds ``targets.<name>`` constraints (and slacks for soft targets) to the model."""
    targets = ctx.problem.targets
    block = ctx.block("targets")
    done = targets.so_far or TargetProgress()
    done_self_used = done.pv_output_kwh - done.export_kwh

    if targets.pv_self_consumption is not None:
        ctx.flags.add("burning_energy_pays")  # storage losses would count as self-consumed PV
        pv_available_kwh = float(sum(f.component.sum() for f in ctx.flows_with_role(PV_AVAILABLE)) * ctx.dt_h)
        pv_available_kwh += done.pv_available_kwh
        if pv_available_kwh > 0:
            achieved = _total_kwh(ctx, PV_OUTPUT) - _total_kwh(ctx, GRID_EXPORT) + done_self_used
            required = targets.pv_self_consumption.min_frac * pv_available_kwh
            _add_lower_bound(ctx, block, SELF_CONSUMPTION, achieved, required, targets.pv_self_consumption)

    if targets.green_share is not None:
        ctx.flags.add("burning_energy_pays")  # losses raise both PV self-use and consumption
        self_used = _total_kwh(ctx, PV_OUTPUT) - _total_kwh(ctx, GRID_EXPORT) + done_self_used
        consumption = _total_kwh(ctx, GRID_IMPORT) + done.import_kwh + self_used
        achieved = self_used + _total_kwh(ctx, GREEN_PURCHASE) + done.green_kwh
        required = targets.green_share.min_frac * consumption
        _add_lower_bound(ctx, block, GREEN_SHARE, achieved, required, targets.green_share)

    cap = targets.emission_cap
    if cap is not None:
        emitted = sum(ctx.emission_expr(cap.accounting, t) for t in ctx.steps)
        if cap.hard:
            block.emission_cap = pyo.Constraint(expr=emitted <= cap.max_kgco2)
        else:
            block.emission_cap_excess_kgco2 = pyo.Var(bounds=(0.0, None))
            block.emission_cap = pyo.Constraint(expr=emitted - block.emission_cap_excess_kgco2 <= cap.max_kgco2)
            ctx.costs.append(
                CostTerm(
                    "penalty",
                    cap.penalty_cny_per_kgco2 * block.emission_cap_excess_kgco2,
                    _penalty_evaluator(EMISSION_CAP, cap.penalty_cny_per_kgco2, ctx),
                )
            )


def _add_lower_bound(ctx: BuildContext, block: pyo.Block, name: str, achieved: Any, required: Any, target: Any) -> None:
    if target.hard:
        block.add_component(name, pyo.Constraint(expr=achieved >= required))
        return
    slack = pyo.Var(bounds=(0.0, None))
    block.add_component(f"{name}_shortfall_kwh", slack)
    block.add_component(name, pyo.Constraint(expr=achieved + slack >= required))
    ctx.costs.append(
        CostTerm(
            "penalty", target.penalty_cny_per_kwh * slack, _penalty_evaluator(name, target.penalty_cny_per_kwh, ctx)
        )
    )


def _penalty_evaluator(name: str, rate: float, ctx: BuildContext) -> Callable[[pd.DataFrame], float]:
    def evaluate(schedule: pd.DataFrame) -> float:
        for shortfall in target_shortfalls(schedule, ctx):
            if shortfall.target == name:
                return rate * shortfall.shortfall
        return 0.0

    return evaluate


def target_shortfalls(schedule: pd.DataFrame, ctx: BuildContext) -> list[TargetShortfall]:
    """Required vs achieved for every target of the problem, recomputed from ``schedule``."""
    targets = ctx.problem.targets
    totals = energy_totals(schedule, ctx).plus(targets.so_far)
    result = []

    def at_least(name: str, required: float, achieved: float) -> None:
        shortfall = max(0.0, required - achieved)
        result.append(
            TargetShortfall(target=name, required=required, achieved=achieved, shortfall=shortfall, unit="kWh")
        )

    if targets.pv_self_consumption is not None and totals.pv_available_kwh > 0:
        at_least(
            SELF_CONSUMPTION,
            targets.pv_self_consumption.min_frac * totals.pv_available_kwh,
            totals.pv_self_consumed_kwh,
        )
    if targets.green_share is not None:
        at_least(GREEN_SHARE, targets.green_share.min_frac * totals.consumption_kwh, totals.green_kwh_used)
    if targets.emission_cap is not None:
        cap = targets.emission_cap
        achieved = emissions_kgco2(schedule, ctx, cap.accounting)
        result.append(
            TargetShortfall(
                target=EMISSION_CAP,
                required=cap.max_kgco2,
                achieved=achieved,
                shortfall=max(0.0, achieved - cap.max_kgco2),
                unit="kgCO2",
            )
        )
    return result
