"""Fixed electric load: a series drawn from the electricity bus."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.baseline_state import BaselineState
from optimizer.buses import ELECTRICITY
from optimizer.types import NonNegSeries, as_array

if TYPE_CHECKING:
    from optimizer.problem import DispatchProblem

ELECTRIC_LOAD = "electric_load"


class LoadSpec(AssetSpec):
    """An inflexible electric load."""

    kind: Literal["load"] = "load"
    power_kw: NonNegSeries = Field(description="Load per step [kW].")


def load_parameters(spec: LoadSpec, problem: DispatchProblem) -> dict[str, Any]:
    """The load per step [kW] (:mod:`optimizer.parameters`)."""
    return {"power_kw": as_array(spec.power_kw, problem.horizon.n_steps)}


def build_load(spec: LoadSpec, ctx: BuildContext) -> None:
    power = ctx.take_parameters(spec.name, load_parameters(spec, ctx.problem))["power_kw"]
    ctx.add_data(f"{spec.name}.power_kw", power, bus=ELECTRICITY, sign=-1, role=ELECTRIC_LOAD)


def baseline_load(spec: LoadSpec, state: BaselineState) -> None:
    state.add_demand(f"{spec.name}.power_kw", spec.power_kw, ELECTRICITY)
