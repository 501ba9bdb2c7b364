"""The compressed-air bus's store and demand: air receivers and the site's air use.

The ``compressed_air`` bus is a *rate* in m3/min of free air (FAD), so a
receiver holds m3: the shared store (:func:`optimizer.assets.storage.add_store`)
with ``rate_to_level=60``: ``level_m3[t] = level_m3[t-1] + (in - out) * 60 * dt_h``.
The compressors that supply the bus are in :mod:`optimizer.assets.compressors`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.assets.storage import StoreColumns, StoreLimits, add_store, idle_store_baseline
from optimizer.baseline_state import BaselineState
from optimizer.buses import COMPRESSED_AIR
from optimizer.types import Fraction, NonNegSeries, PositiveFloat

AIR_DEMAND = "air_demand"
MINUTES_PER_HOUR = 60.0


class AirReceiverSpec(AssetSpec):
    """An air receiver (pressure vessel) used as a small store of compressed air."""

    kind: Literal["air_receiver"] = "air_receiver"
    capacity_m3: PositiveFloat = Field(
        description="Free air stored between the minimum and maximum working pressure [m3]."
    )
    initial_level_frac: Fraction = Field(0.5, description="Content at the horizon start, as a fraction of capacity.")
    end_level_frac: Fraction | None = Field(None, description="Content at the horizon end; default: the initial one.")
    end_level_rule: Literal[">=", "=="] = Field(">=", description="End content at least (>=) or exactly (==).")
    max_flow_m3_per_min: PositiveFloat | None = Field(
        None, description="Limit on the flow in or out [m3/min]; default: the whole capacity within one step."
    )


RECEIVER_COLUMNS = StoreColumns(charge="in_m3_per_min", discharge="out_m3_per_min", level="level_m3")


def _receiver_limits(spec: AirReceiverSpec, dt_h: float) -> StoreLimits:
    """The receiver as a lossless store [m3/min in and out, m3 of free air]."""
    cap = spec.capacity_m3
    max_flow = cap / (MINUTES_PER_HOUR * dt_h) if spec.max_flow_m3_per_min is None else spec.max_flow_m3_per_min
    end_frac = spec.initial_level_frac if spec.end_level_frac is None else spec.end_level_frac
    return StoreLimits(
        charge_max=max_flow,
        discharge_max=max_flow,
        level_min=0.0,
        level_max=cap,
        initial=spec.initial_level_frac * cap,
        end=end_frac * cap,
        end_rule=spec.end_level_rule,
        rate_to_level=MINUTES_PER_HOUR,
    )


def build_air_receiver(spec: AirReceiverSpec, ctx: BuildContext) -> None:
    limits = _receiver_limits(spec, ctx.dt_h)
    store = ctx.block(spec.name)
    add_store(store, ctx, limits, charge_bus=COMPRESSED_AIR, discharge_bus=COMPRESSED_AIR, columns=RECEIVER_COLUMNS)


def baseline_air_receiver(spec: AirReceiverSpec, state: BaselineState) -> None:
    """Rule: the receiver is not used (it stays at its initial level)."""
    idle_store_baseline(state, spec.name, _receiver_limits(spec, state.dt_h), RECEIVER_COLUMNS)


class AirDemandSpec(AssetSpec):
    """Compressed-air use of the site, which must be met."""

    kind: Literal["air_demand"] = "air_demand"
    flow_m3_per_min: NonNegSeries = Field(description="Free-air demand per step [m3/min].")


def build_air_demand(spec: AirDemandSpec, ctx: BuildContext) -> None:
    ctx.add_data(
        f"{spec.name}.flow_m3_per_min", ctx.series(spec.flow_m3_per_min), bus=COMPRESSED_AIR, sign=-1, role=AIR_DEMAND
    )


def baseline_air_demand(spec: AirDemandSpec, state: BaselineState) -> None:
    state.add_demand(f"{spec.name}.flow_m3_per_min", spec.flow_m3_per_min, COMPRESSED_AIR)
