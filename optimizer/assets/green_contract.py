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

from typing import Literal

import numpy as np
import pyomo.environ as pyo
from pydantic import Field, model_validator

from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.assets.grid import GREEN_PURCHASE
from optimizer.baseline_state import BaselineState
from optimizer.errors import SpecError
from optimizer.types import NonNegFloat, Series


class GreenContractSpec(AssetSpec):
    """A contracted block of green electricity."""

    kind: Literal["green_contract"] = "green_contract"
    pricing: Literal["ppa", "certificate"] = Field(
        "ppa", description="ppa: price replaces the grid energy price; certificate: premium on top of it."
    )
    price_cny_per_kwh: Series = Field(description="PPA energy price, or certificate premium [CNY/kWh].")
    max_kw: NonNegFloat | None = Field(None, description="Maximum contracted power [kW]; no limit if omitted.")
    min_energy_kwh: NonNegFloat = Field(0.0, description="Minimum energy to take over the horizon [kWh].")
    max_energy_kwh: NonNegFloat | None = Field(None, description="Maximum energy over the horizon [kWh].")

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

    energy_kwh = sum(block.power_kw[t] for t in ctx.steps) * ctx.dt_h
    if spec.min_energy_kwh > 0:
        block.min_energy = pyo.Constraint(expr=energy_kwh >= spec.min_energy_kwh)
    if spec.max_energy_kwh is not None:
        block.max_energy = pyo.Constraint(expr=energy_kwh <= spec.max_energy_kwh)

    ctx.add_linear_cost("green_contract", column, price)
    if spec.pricing == "ppa":
        ctx.add_linear_cost("grid_energy", column, -grid.import_price_cny_per_kwh)
        ctx.import_price_options.append(price)
    else:
        ctx.import_price_options.append(grid.import_price_cny_per_kwh + price)
    ctx.add_emission("market", "grid", column, np.full(ctx.n_steps, -grid.market_kgco2_per_kwh))


def baseline_green_contract(spec: GreenContractSpec, state: BaselineState) -> None:
    """Rule: the contract covers metered import up to its power limit until its energy limit is used."""
    covered = np.minimum(state.uncovered_import_kw, np.inf if spec.max_kw is None else spec.max_kw)
    if spec.max_energy_kwh is not None:
        energy_before_kwh = np.concatenate(([0.0], np.cumsum(covered)[:-1])) * state.dt_h
        covered = np.clip((spec.max_energy_kwh - energy_before_kwh) / state.dt_h, 0.0, covered)
    state.uncovered_import_kw = state.uncovered_import_kw - covered
    state.columns[f"{spec.name}.price_cny_per_kwh"] = state.series(spec.price_cny_per_kwh)
    state.columns[f"{spec.name}.power_kw"] = covered
