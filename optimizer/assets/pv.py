"""PV array group: available power from a forecast, clipped at the inverter, curtailable.

Variables: ``output_kw[t]`` in ``[0, available_kw[t]]`` (fixed to it when curtailment
is not allowed). Inverter clipping: with ``inverter_ac_kw`` the power the arrays could
give above the inverters' AC rating is lost before it reaches the bus, whatever the
plan does (the inverters limit it, as on a sunny noon with a DC/AC ratio above 1):

    available_kw[t] = min(forecast_kw[t], inverter_ac_kw)
    clipped_kw[t]   = forecast_kw[t] - available_kw[t]

so the schedule's ``available_kw`` (role ``pv_available``) is what the inverters can
deliver, curtailment (available - output) counts only what the plan gives up below
the rating, and the PV self-consumption target is a share of the clipped availability.
``clipped_kw`` is a schedule column of its own when a rating is given. Without
``inverter_ac_kw`` the forecast is taken as AC power already (a pvlib forecast of the
site's ``pv_arrays`` clips at each array's ``inverter_ac_kw`` itself, and so do the
bundled typical-year series: DC/AC 1.15), and nothing is clipped here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyomo.core as pyo
from pydantic import Field

from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.baseline_state import BaselineState
from optimizer.buses import ELECTRICITY
from optimizer.types import NonNegSeries, PositiveFloat, as_array

if TYPE_CHECKING:
    from optimizer.problem import DispatchProblem

PV_OUTPUT = "pv_output"
PV_AVAILABLE = "pv_available"


class PvSpec(AssetSpec):
    """A PV array group feeding the electricity bus."""

    kind: Literal["pv"] = "pv"
    available_kw: NonNegSeries = Field(
        description="Forecast power available per step [kW]: AC, or DC-side power when inverter_ac_kw clips it."
    )
    curtailable: bool = Field(True, description="Whether output may be reduced below the forecast.")
    inverter_ac_kw: PositiveFloat | None = Field(
        None,
        le=1e7,
        description=(
            "AC rating of the inverters [kW]: forecast power above it is clipped (lost) before curtailment counts; "
            "none: the forecast is AC power already."
        ),
    )

    def ac_available_kw(self, forecast: np.ndarray) -> np.ndarray:
        """The forecast clipped at the inverter rating [kW] (the forecast itself without one)."""
        return forecast if self.inverter_ac_kw is None else np.minimum(forecast, self.inverter_ac_kw)


def pv_parameters(spec: PvSpec, problem: DispatchProblem) -> dict[str, Any]:
    """What the inverters can deliver per step and, with a rating, what they clip [kW] (:mod:`optimizer.parameters`)."""
    forecast = as_array(spec.available_kw, problem.horizon.n_steps)
    available = spec.ac_available_kw(forecast)
    data = {"available_kw": available}
    if spec.inverter_ac_kw is not None:
        data["clipped_kw"] = forecast - available
    return data


def build_pv(spec: PvSpec, ctx: BuildContext) -> None:
    data = ctx.take_parameters(spec.name, pv_parameters(spec, ctx.problem))
    available = data["available_kw"]
    block = ctx.block(spec.name)
    block.output_kw = pyo.Var(ctx.steps, bounds=lambda _, t: (0.0, available.at(t)))
    if not spec.curtailable:
        ctx.flags.add("burning_energy_pays")  # a surplus could otherwise vanish in storage losses
        available.fix(block.output_kw)
    ctx.add_data(f"{spec.name}.available_kw", available, role=PV_AVAILABLE)
    if "clipped_kw" in data:
        ctx.add_data(f"{spec.name}.clipped_kw", data["clipped_kw"])
    ctx.add_flow(f"{spec.name}.output_kw", block.output_kw, bus=ELECTRICITY, sign=+1, role=PV_OUTPUT)


def baseline_pv(spec: PvSpec, state: BaselineState) -> None:
    """Rule: use all available PV (after inverter clipping); the grid rule curtails what cannot be used or
    exported."""
    forecast = state.series(spec.available_kw)
    available = spec.ac_available_kw(forecast)
    state.columns[f"{spec.name}.available_kw"] = available
    if spec.inverter_ac_kw is not None:
        state.columns[f"{spec.name}.clipped_kw"] = forecast - available
    state.columns[f"{spec.name}.output_kw"] = available.copy()
    state.net_kw -= available
    if spec.curtailable:
        state.curtailable_pv.append(spec.name)
