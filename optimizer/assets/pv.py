"""PV array group: available power from a forecast, curtailable.

Variables: ``output_kw[t]`` in ``[0, available_kw[t]]`` (fixed to the
forecast when curtailment is not allowed). Curtailment = available - output.
"""

from __future__ import annotations

from typing import Literal

import pyomo.environ as pyo
from pydantic import Field

from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.baseline_state import BaselineState
from optimizer.buses import ELECTRICITY
from optimizer.types import NonNegSeries

PV_OUTPUT = "pv_output"
PV_AVAILABLE = "pv_available"


class PvSpec(AssetSpec):
    """A PV array group feeding the electricity bus."""

    kind: Literal["pv"] = "pv"
    available_kw: NonNegSeries = Field(description="Forecast AC power available per step [kW].")
    curtailable: bool = Field(True, description="Whether output may be reduced below the forecast.")


def build_pv(spec: PvSpec, ctx: BuildContext) -> None:
    available = ctx.series(spec.available_kw)
    block = ctx.block(spec.name)
    block.output_kw = pyo.Var(ctx.steps, bounds=lambda _, t: (0.0, float(available[t])))
    if not spec.curtailable:
        ctx.flags.add("burning_energy_pays")  # a surplus could otherwise vanish in storage losses
        for t in ctx.steps:
            block.output_kw[t].fix(float(available[t]))
    ctx.add_data(f"{spec.name}.available_kw", available, role=PV_AVAILABLE)
    ctx.add_flow(f"{spec.name}.output_kw", block.output_kw, bus=ELECTRICITY, sign=+1, role=PV_OUTPUT)


def baseline_pv(spec: PvSpec, state: BaselineState) -> None:
    """Rule: use all available PV; the grid rule curtails what cannot be used or exported."""
    available = state.series(spec.available_kw)
    state.columns[f"{spec.name}.available_kw"] = available
    state.columns[f"{spec.name}.output_kw"] = available.copy()
    state.net_kw -= available
    if spec.curtailable:
        state.curtailable_pv.append(spec.name)
