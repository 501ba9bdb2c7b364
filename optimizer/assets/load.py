"""Fixed electric load: a series drawn from the electricity bus."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.baseline_state import BaselineState
from optimizer.buses import ELECTRICITY
from optimizer.types import NonNegSeries

ELECTRIC_LOAD = "electric_load"


class LoadSpec(AssetSpec):
    """An inflexible electric load."""

    kind: Literal["load"] = "load"
    power_kw: NonNegSeries = Field(description="Load per step [kW].")


def build_load(spec: LoadSpec, ctx: BuildContext) -> None:
    ctx.add_data(f"{spec.name}.power_kw", ctx.series(spec.power_kw), bus=ELECTRICITY, sign=-1, role=ELECTRIC_LOAD)


def baseline_load(spec: LoadSpec, state: BaselineState) -> None:
    state.add_demand(f"{spec.name}.power_kw", spec.power_kw, ELECTRICITY)
