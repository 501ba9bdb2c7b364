"""Targets as constraints: PV self-consumption, green share, emission cap, each over its accounting period.

A target holds ``over`` the horizon (default) or each local day, month, year or date range the horizon
touches (:mod:`optimizer.periods`): one constraint per period. The two shares hold over ``Targets.so_far``
(energy metered earlier in the period of the horizon's first step, e.g. the morning before an intraday
re-plan, or the days of the year already done) and the period's steps together; an emission cap over a month
or year is pro-rated to the part of the period covered, less ``so_far``'s emissions.

Each target is a linear constraint over energy totals built from the flows assets registered with a role. A
soft target gets a non-negative slack (its shortfall) per period, priced at the target's penalty; a hard one
gets none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyomo.core as pyo

from optimizer.assets.base import BuildContext, CostTerm
from optimizer.assets.grid import GREEN_PURCHASE, GRID_EXPORT, GRID_IMPORT
from optimizer.assets.pv import PV_AVAILABLE, PV_OUTPUT, PvSpec, pv_parameters
from optimizer.kpis import EnergyTotals, TargetShortfall, emissions_kgco2, energy_totals
from optimizer.periods import PeriodGroup, period_groups, progress_since
from optimizer.problem import DispatchProblem, TargetProgress

BLOCK = "targets"
"""The targets' block, and the owner of their parameters (``targets.<name>``)."""
SELF_CONSUMPTION = "pv_self_consumption"
GREEN_SHARE = "green_share"
EMISSION_CAP = "emission_cap"


def _total_kwh(ctx: BuildContext, role: str, steps: Sequence[int]) -> Any:
    return sum(ctx.role_sum(role, t) for t in steps) * ctx.dt_h


def _pv_available_kwh(series: Sequence[np.ndarray], steps: Sequence[int], dt_h: float) -> float:
    """PV energy available over ``steps`` [kWh] from each PV asset's available power [kW]: the one sum, in one
    order, for a fresh build and a re-used one (an order that differed in the last digit could lead HiGHS to another
    of several optima)."""
    return float(sum(s[list(steps)].sum() for s in series) * dt_h)


def pv_available_series(ctx: BuildContext) -> list[np.ndarray]:
    """The available power of the PV flows the targets count [kW], in their registration order."""
    return [f.component for f in ctx.flows_with_role(PV_AVAILABLE)]


SO_FAR_FIELDS = (
    "pv_available_kwh",
    "pv_output_kwh",
    "export_kwh",
    "import_kwh",
    "green_kwh",
    "emissions_location_kgco2",
    "emissions_market_kgco2",
)
"""The numbers of ``Targets.so_far`` the target rows hold (as parameters of a re-used model)."""


def targets_parameters(problem: DispatchProblem, pv_available_kw: Sequence[np.ndarray]) -> dict[str, float]:
    """Every number of the target rows that may change between problems of one shape (:mod:`optimizer.parameters`):
    what ``so_far`` brings, the shares' ``min_frac``, the PV energy available in each period of the PV
    self-consumption target (from ``pv_available_kw``, :func:`pv_available_series`) and the cap's ``max_kgco2``."""
    targets = problem.targets
    done = targets.so_far or TargetProgress()
    data = {f"so_far_{name}": float(getattr(done, name)) for name in SO_FAR_FIELDS}
    if targets.pv_self_consumption is not None:
        data[f"{SELF_CONSUMPTION}_min_frac"] = targets.pv_self_consumption.min_frac
        horizon = problem.horizon
        since = progress_since(targets.so_far)
        for group in period_groups(horizon.index, horizon.step_minutes, targets.pv_self_consumption.over, since):
            data[_available_key(group)] = _pv_available_kwh(pv_available_kw, group.steps, horizon.dt_h)
    if targets.green_share is not None:
        data[f"{GREEN_SHARE}_min_frac"] = targets.green_share.min_frac
    if targets.emission_cap is not None:
        data[f"{EMISSION_CAP}_max_kgco2"] = targets.emission_cap.max_kgco2
    return data


def _available_key(group: PeriodGroup) -> str:
    return f"{SELF_CONSUMPTION}_pv_available_kwh{_suffix(group)}"


def targets_structure(problem: DispatchProblem) -> tuple[Any, ...]:
    """What of the targets shapes the model: each target's settings but its numbers, its periods' steps (and share of
    the period), and for PV self-consumption which periods have PV at all (the PV assets' available power, as
    :func:`optimizer.assets.pv.pv_parameters` gives it); the numbers are :func:`targets_parameters`."""
    targets = problem.targets
    pv_available_kw = [
        pv_parameters(spec, problem)["available_kw"] for spec in problem.assets if isinstance(spec, PvSpec)
    ]
    since = progress_since(targets.so_far)
    index, step_minutes, dt_h = problem.horizon.index, problem.horizon.step_minutes, problem.horizon.dt_h
    done = targets.so_far or TargetProgress()
    key: list[Any] = []
    for name, target, numbers in (
        (SELF_CONSUMPTION, targets.pv_self_consumption, {"min_frac"}),
        (GREEN_SHARE, targets.green_share, {"min_frac"}),
        (EMISSION_CAP, targets.emission_cap, {"max_kgco2"}),
    ):
        if target is None:
            key.append(None)
            continue
        groups = period_groups(index, step_minutes, target.over, since)
        parts = [(g.label, g.steps, g.first, g.covered_frac) for g in groups]
        if name == SELF_CONSUMPTION:  # a period without PV has no row
            had = [done.pv_available_kwh if g.first else 0.0 for g in groups]
            has = [_pv_available_kwh(pv_available_kw, g.steps, dt_h) + h > 0 for g, h in zip(groups, had, strict=True)]
            parts = [(*part, pv) for part, pv in zip(parts, has, strict=True)]
        key.append((target.model_dump_json(exclude=numbers), tuple(parts)))
    return tuple(key)


def _suffix(group: PeriodGroup) -> str:
    return "" if group.label == "horizon" else f"[{group.label}]"


def build_targets(ctx: BuildContext) -> None:
    """Adds ``targets.<name>`` constraints (and slacks for soft targets), one per accounting period."""
    targets = ctx.problem.targets
    block = ctx.block(BLOCK)
    since = progress_since(targets.so_far)
    taken = ctx.take_parameters(BLOCK, targets_parameters(ctx.problem, pv_available_series(ctx)))
    numbers = {name: p.scalar for name, p in taken.items()}
    so_far = {name: numbers[f"so_far_{name}"] for name in SO_FAR_FIELDS}
    none = dict.fromkeys(SO_FAR_FIELDS, 0.0)

    if targets.pv_self_consumption is not None:
        ctx.flags.add("burning_energy_pays")  # storage losses would count as self-consumed PV
        target = targets.pv_self_consumption
        for group in period_groups(ctx.horizon.index, ctx.horizon.step_minutes, target.over, since):
            done = so_far if group.first else none
            had = (targets.so_far or TargetProgress()).pv_available_kwh if group.first else 0.0
            if float(taken[_available_key(group)].values) + had > 0:  # the same test as targets_structure's
                achieved = (
                    _total_kwh(ctx, PV_OUTPUT, group.steps)
                    - _total_kwh(ctx, GRID_EXPORT, group.steps)
                    + done["pv_output_kwh"]
                    - done["export_kwh"]
                )
                available = numbers[_available_key(group)] + done["pv_available_kwh"]
                required = numbers[f"{SELF_CONSUMPTION}_min_frac"] * available
                _add_lower_bound(ctx, block, SELF_CONSUMPTION, group, achieved, required, target)

    if targets.green_share is not None:
        ctx.flags.add("burning_energy_pays")  # losses raise both PV self-use and consumption
        target = targets.green_share
        for group in period_groups(ctx.horizon.index, ctx.horizon.step_minutes, target.over, since):
            done = so_far if group.first else none
            self_used = (
                _total_kwh(ctx, PV_OUTPUT, group.steps)
                - _total_kwh(ctx, GRID_EXPORT, group.steps)
                + done["pv_output_kwh"]
                - done["export_kwh"]
            )
            consumption = _total_kwh(ctx, GRID_IMPORT, group.steps) + done["import_kwh"] + self_used
            achieved = self_used + _total_kwh(ctx, GREEN_PURCHASE, group.steps) + done["green_kwh"]
            required = numbers[f"{GREEN_SHARE}_min_frac"] * consumption
            _add_lower_bound(ctx, block, GREEN_SHARE, group, achieved, required, target)

    cap = targets.emission_cap
    if cap is not None:
        for group in period_groups(ctx.horizon.index, ctx.horizon.step_minutes, cap.over, since):
            done = so_far if group.first else none
            emitted_before = done[f"emissions_{cap.accounting}_kgco2"]
            allowed = numbers[f"{EMISSION_CAP}_max_kgco2"] * group.covered_frac - emitted_before
            emitted = sum(ctx.emission_expr(cap.accounting, t) for t in group.steps)
            name = f"{EMISSION_CAP}{_suffix(group)}"
            if cap.hard:
                block.add_component(name, pyo.Constraint(expr=emitted <= allowed))
                continue
            excess = pyo.Var(bounds=(0.0, None))
            block.add_component(f"{EMISSION_CAP}_excess_kgco2{_suffix(group)}", excess)
            block.add_component(name, pyo.Constraint(expr=emitted - excess <= allowed))
            ctx.costs.append(
                CostTerm(
                    "penalty",
                    cap.penalty_cny_per_kgco2 * excess,
                    _penalty_evaluator(EMISSION_CAP, group.label, cap.penalty_cny_per_kgco2, ctx),
                )
            )


def _emitted_so_far(done: TargetProgress, accounting: str) -> float:
    return done.emissions_location_kgco2 if accounting == "location" else done.emissions_market_kgco2


def _add_lower_bound(
    ctx: BuildContext, block: pyo.Block, name: str, group: PeriodGroup, achieved: Any, required: Any, target: Any
) -> None:
    suffix = _suffix(group)
    if target.hard:
        block.add_component(f"{name}{suffix}", pyo.Constraint(expr=achieved >= required))
        return
    slack = pyo.Var(bounds=(0.0, None))
    block.add_component(f"{name}_shortfall_kwh{suffix}", slack)
    block.add_component(f"{name}{suffix}", pyo.Constraint(expr=achieved + slack >= required))
    ctx.costs.append(
        CostTerm(
            "penalty",
            target.penalty_cny_per_kwh * slack,
            _penalty_evaluator(name, group.label, target.penalty_cny_per_kwh, ctx),
        )
    )


def _penalty_evaluator(name: str, period: str, rate: float, ctx: BuildContext) -> Callable[[pd.DataFrame], float]:
    def evaluate(schedule: pd.DataFrame) -> float:
        for shortfall in target_shortfalls(schedule, ctx):
            if shortfall.target == name and shortfall.period == period:
                return rate * shortfall.shortfall
        return 0.0

    return evaluate


def target_shortfalls(schedule: pd.DataFrame, ctx: BuildContext) -> list[TargetShortfall]:
    """Required vs achieved for every target of the problem and each of its periods, recomputed from
    ``schedule``."""
    targets = ctx.problem.targets
    since = progress_since(targets.so_far)
    index, step_minutes = ctx.horizon.index, ctx.horizon.step_minutes
    result = []

    def at_least(name: str, period: str, required: float, achieved: float) -> None:
        shortfall = max(0.0, required - achieved)
        result.append(
            TargetShortfall(
                target=name, period=period, required=required, achieved=achieved, shortfall=shortfall, unit="kWh"
            )
        )

    def totals(group: PeriodGroup) -> EnergyTotals:
        part = energy_totals(schedule.iloc[list(group.steps)], ctx)
        return part.plus(targets.so_far) if group.first else part

    if targets.pv_self_consumption is not None:
        target = targets.pv_self_consumption
        for group in period_groups(index, step_minutes, target.over, since):
            done = totals(group)
            if done.pv_available_kwh > 0:
                at_least(
                    SELF_CONSUMPTION, group.label, target.min_frac * done.pv_available_kwh, done.pv_self_consumed_kwh
                )
    if targets.green_share is not None:
        target = targets.green_share
        for group in period_groups(index, step_minutes, target.over, since):
            done = totals(group)
            at_least(GREEN_SHARE, group.label, target.min_frac * done.consumption_kwh, done.green_kwh_used)
    cap = targets.emission_cap
    if cap is not None:
        for group in period_groups(index, step_minutes, cap.over, since):
            done_before = (targets.so_far or TargetProgress()) if group.first else TargetProgress()
            allowed = cap.max_kgco2 * group.covered_frac - _emitted_so_far(done_before, cap.accounting)
            achieved = emissions_kgco2(schedule, ctx, cap.accounting, group.steps)
            result.append(
                TargetShortfall(
                    target=EMISSION_CAP,
                    period=group.label,
                    required=allowed,
                    achieved=achieved,
                    shortfall=max(0.0, achieved - allowed),
                    unit="kgCO2",
                )
            )
    return result
