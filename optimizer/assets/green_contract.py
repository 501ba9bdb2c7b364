"""Green-power contract (PPA, green-power trading) or green certificates (GEC).

Green energy is delivered through the grid meter, so ``power_kw[t]`` is the part
of the grid's metered import that the contract covers (the grid enforces
``sum of contracts <= import_kw``). Pricing:

- ``ppa``: the contract price replaces the grid energy price for that volume;
- ``certificate``: the grid price is paid as usual plus a premium per kWh.

Market-based accounting counts the covered volume as zero emission: the grid's
residual factor is removed for it. Location-based accounting is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd
import pyomo.core as pyo
from pydantic import Field, model_validator

from optimizer.assets.base import AssetSpec, BuildContext, CostTerm
from optimizer.assets.grid import GREEN_PURCHASE
from optimizer.baseline_state import BaselineState
from optimizer.errors import SpecError
from optimizer.periods import Over, PeriodGroup, period_groups, progress_since
from optimizer.types import NonNegFloat, Series


class GreenContractSpec(AssetSpec):
    """A contracted block of green electricity."""

    kind: Literal["green_contract"] = "green_contract"
    pricing: Literal["ppa", "certificate"] = Field(
        "ppa", description="ppa: price replaces the grid energy price; certificate: premium on top of it."
    )
    price_cny_per_kwh: Series = Field(description="PPA energy price, or certificate premium [CNY/kWh].")
    max_kw: NonNegFloat | None = Field(None, description="Maximum contracted power [kW]; no limit if omitted.")
    min_energy_kwh: NonNegFloat = Field(
        0.0, le=1e12, description="Minimum energy to take over each accounting period (``energy_over``) [kWh]."
    )
    max_energy_kwh: NonNegFloat | None = Field(
        None, le=1e12, description="Maximum energy over each accounting period [kWh]."
    )
    energy_over: Over = Field(
        "horizon",
        description="Accounting period of the volumes: the horizon, each local day/month/year, or a date range. A "
        "month's or year's volume is pro-rated to the part the horizon covers, less what ``Targets.so_far`` says "
        "was taken (optimizer.periods).",
    )
    shortfall_price_cny_per_kwh: NonNegFloat | None = Field(
        None,
        le=1e3,
        description="Take-or-pay: energy below the minimum is paid at this price instead of being forced (a soft "
        "minimum); none: the minimum is a hard constraint.",
    )
    shortfall_counts_as: Literal["take_or_pay", "penalty"] = Field(
        "take_or_pay",
        description="Cost component of the shortfall: take_or_pay (money paid) or penalty (a steering price that "
        "is not paid, e.g. a day's share of a year's minimum set by a rolling run's period account).",
    )

    @model_validator(mode="after")
    def _energy_bounds_ordered(self) -> GreenContractSpec:
        if self.max_energy_kwh is not None and self.min_energy_kwh > self.max_energy_kwh:
            raise SpecError(
                f"{self.min_energy_kwh} is above max_energy_kwh {self.max_energy_kwh}",
                field="min_energy_kwh",
            )
        return self


def build_green_contract(spec: GreenContractSpec, ctx: BuildContext) -> None:
    if ctx.grid is None:
        raise SpecError(
            f"green contract {spec.name!r} needs a grid connection to be delivered through",
            asset=spec.name,
            field="kind",
        )
    grid = ctx.grid
    column = f"{spec.name}.power_kw"
    price = ctx.series(spec.price_cny_per_kwh)
    block = ctx.block(spec.name)
    block.power_kw = pyo.Var(ctx.steps, bounds=(0.0, spec.max_kw))
    ctx.add_flow(column, block.power_kw, role=GREEN_PURCHASE)
    ctx.add_data(f"{spec.name}.price_cny_per_kwh", price)

    _add_volume_limits(spec, ctx, block, column)

    ctx.add_linear_cost("green_contract", column, price)
    if spec.pricing == "ppa":
        ctx.add_linear_cost("grid_energy", column, -grid.import_price_cny_per_kwh)
        ctx.import_price_options.append(price)
    else:
        ctx.import_price_options.append(grid.import_price_cny_per_kwh + price)
    ctx.add_emission("market", "grid", column, np.full(ctx.n_steps, -grid.market_kgco2_per_kwh))


def volume_limits(spec: GreenContractSpec, ctx: BuildContext) -> list[tuple[PeriodGroup, float, float | None]]:
    """Per accounting period: its steps and the minimum and maximum energy the horizon must take in it [kWh]
    (pro-rated to the part covered, less the energy ``Targets.so_far`` says was taken earlier)."""
    so_far = ctx.problem.targets.so_far
    taken_kwh = so_far.contracts_kwh.get(spec.name, 0.0) if so_far is not None else 0.0
    limits = []
    for group in period_groups(ctx.horizon.index, ctx.horizon.step_minutes, spec.energy_over, progress_since(so_far)):
        before = taken_kwh if group.first else 0.0
        low = max(0.0, spec.min_energy_kwh * group.covered_frac - before)
        high = None if spec.max_energy_kwh is None else max(0.0, spec.max_energy_kwh * group.covered_frac - before)
        limits.append((group, low, high))
    return limits


def _add_volume_limits(spec: GreenContractSpec, ctx: BuildContext, block: pyo.Block, column: str) -> None:
    """``min_energy[<period>]`` and ``max_energy[<period>]`` rows; a take-or-pay minimum gets a priced slack."""
    for group, low_kwh, high_kwh in volume_limits(spec, ctx):
        suffix = "" if group.label == "horizon" else f"[{group.label}]"
        energy_kwh = sum(block.power_kw[t] for t in group.steps) * ctx.dt_h
        if low_kwh > 0 and spec.shortfall_price_cny_per_kwh is None:
            block.add_component(f"min_energy{suffix}", pyo.Constraint(expr=energy_kwh >= low_kwh))
        elif low_kwh > 0:
            shortfall = pyo.Var(bounds=(0.0, low_kwh))
            block.add_component(f"shortfall_kwh{suffix}", shortfall)
            block.add_component(f"min_energy{suffix}", pyo.Constraint(expr=energy_kwh + shortfall >= low_kwh))
            price = spec.shortfall_price_cny_per_kwh
            evaluate = _shortfall_cost(column, group.steps, low_kwh, price, ctx)
            ctx.costs.append(CostTerm(spec.shortfall_counts_as, price * shortfall, evaluate))
        if high_kwh is not None:
            block.add_component(f"max_energy{suffix}", pyo.Constraint(expr=energy_kwh <= high_kwh))


def _shortfall_cost(
    column: str, steps: tuple[int, ...], low_kwh: float, price: float, ctx: BuildContext
) -> Callable[[pd.DataFrame], float]:
    def evaluate(schedule: pd.DataFrame) -> float:
        taken_kwh = float(schedule[column].to_numpy()[list(steps)].sum() * ctx.dt_h)
        return price * max(0.0, low_kwh - taken_kwh)

    return evaluate


def baseline_green_contract(spec: GreenContractSpec, state: BaselineState) -> None:
    """Rule: the contract covers metered import up to its power limit until its energy limit for the period is
    used (pro-rated like the optimiser's, without earlier progress)."""
    covered = np.minimum(state.uncovered_import_kw, np.inf if spec.max_kw is None else spec.max_kw)
    if spec.max_energy_kwh is not None:
        horizon = state.horizon
        for group in period_groups(horizon.index, horizon.step_minutes, spec.energy_over):
            steps = list(group.steps)
            part = covered[steps]
            energy_before_kwh = np.concatenate(([0.0], np.cumsum(part)[:-1])) * state.dt_h
            limit_kwh = spec.max_energy_kwh * group.covered_frac
            covered[steps] = np.clip((limit_kwh - energy_before_kwh) / state.dt_h, 0.0, part)
    state.uncovered_import_kw = state.uncovered_import_kw - covered
    state.columns[f"{spec.name}.price_cny_per_kwh"] = state.series(spec.price_cny_per_kwh)
    state.columns[f"{spec.name}.power_kw"] = covered
