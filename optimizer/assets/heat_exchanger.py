"""Heat exchangers and pressure-reducing stations (kind ``heat_exchanger``): heat from a hotter level to a colder one.

``heat_in_kw[t]`` in ``[0, max_kw]`` is drawn from ``from_level``; ``heat_out_kw[t] = (1 - loss_frac) *
heat_in_kw[t]`` goes to ``to_level``. The loss is what a steam-to-water exchanger, its condensate and its
insulation lose, or a pressure-reducing station's desuperheating and trap losses. Only downward: ``from_level``
must be hotter than ``to_level`` (the levels' temperatures, :mod:`optimizer.assets.heat_levels`); heat never
flows up a level without a machine that lifts it (a heat pump). No binary: a lossy exchanger running while the
colder level has its own cheaper heat only wastes heat, which never pays.

Baseline: after the colder level's own supplies, the exchanger passes what that level still misses up to the
hotter level (up to ``max_kw`` drawn, divided by ``1 - loss_frac``), before the hotter level's supplies run.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyomo.core as pyo
from pydantic import Field, model_validator

from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.assets.heat_levels import HeatLevelName, level_bus, level_of, level_temperature
from optimizer.baseline_state import BaselineState
from optimizer.buses import heat_bus
from optimizer.errors import SpecError
from optimizer.types import PositiveFloat

DEFAULT_LOSS_FRAC = 0.02
"""Heat lost in a steam-to-water exchanger or pressure-reducing station with its condensate return and
insulation, 1-5 % of the heat drawn [est]: 2 % by default; give the plant's figure when known."""
MAX_LOSS_FRAC = 0.5
"""Largest loss accepted: beyond it the station is a leak, not an exchanger."""


class HeatExchangerSpec(AssetSpec):
    """A heat exchanger or pressure-reducing station passing heat from a hotter level to a colder one."""

    kind: Literal["heat_exchanger"] = "heat_exchanger"
    from_level: HeatLevelName = Field(description="The hotter level it draws heat from (steam).")
    to_level: HeatLevelName = Field(description="The colder level it delivers heat to (hot_water).")
    max_kw: PositiveFloat = Field(description="Largest heat flow drawn from from_level [kW_th].")
    loss_frac: float = Field(
        DEFAULT_LOSS_FRAC,
        ge=0.0,
        le=MAX_LOSS_FRAC,
        allow_inf_nan=False,
        description="Share of the heat drawn that is lost (exchanger, condensate, insulation); default 0.02 [est].",
    )

    @model_validator(mode="after")
    def _two_levels(self) -> HeatExchangerSpec:
        if self.from_level == self.to_level:
            raise SpecError(
                f"is from_level too ({self.from_level!r}): an exchanger joins two levels",
                field="to_level",
                related=("from_level",),
            )
        return self

    @property
    def delivered_per_drawn(self) -> float:
        """Heat delivered to ``to_level`` per heat drawn from ``from_level``."""
        return 1.0 - self.loss_frac


def check_downward(spec: HeatExchangerSpec, ctx: BuildContext) -> None:
    """Raises :class:`SpecError` unless ``from_level`` is hotter than ``to_level`` (both with temperatures)."""
    hot = level_temperature(spec, ctx, "from_level")
    cold = level_temperature(spec, ctx, "to_level")
    for field, temperature in (("from_level", hot), ("to_level", cold)):
        if temperature is None:
            raise SpecError(
                f"{level_of(spec, field)!r} has no temperature, so the direction cannot be checked: declare its "
                "temperature in a heat_levels entry",
                asset=spec.name,
                field=field,
            )
    assert hot is not None and cold is not None
    if hot <= cold:
        raise SpecError(
            f"{spec.from_level!r} at {hot:g} degC is not hotter than {spec.to_level!r} at {cold:g} degC: heat "
            "only flows down to a colder level (a heat pump lifts it)",
            asset=spec.name,
            field="from_level",
            related=("to_level",),
        )


def build_heat_exchanger(spec: HeatExchangerSpec, ctx: BuildContext) -> None:
    n = spec.name
    check_downward(spec, ctx)
    source = level_bus(spec, ctx, "from_level")
    sink = level_bus(spec, ctx, "to_level")
    keep = spec.delivered_per_drawn
    block = ctx.block(n)
    block.heat_in_kw = pyo.Var(ctx.steps, bounds=(0.0, spec.max_kw))
    block.heat_out_kw = pyo.Var(ctx.steps, bounds=(0.0, spec.max_kw * keep))
    block.transfer = pyo.Constraint(ctx.steps, rule=lambda b, t: b.heat_out_kw[t] == keep * b.heat_in_kw[t])
    ctx.add_flow(f"{n}.heat_in_kw", block.heat_in_kw, bus=source, sign=-1)
    ctx.add_flow(f"{n}.heat_out_kw", block.heat_out_kw, bus=sink, sign=+1)


def baseline_heat_exchanger(spec: HeatExchangerSpec, state: BaselineState) -> None:
    """Rule: pass the colder level's remaining deficit up to the hotter level, within ``max_kw`` drawn."""
    keep = spec.delivered_per_drawn
    cold = state.bus(heat_bus(spec.to_level))
    out = np.minimum(np.maximum(cold, 0.0), spec.max_kw * keep)
    drawn = out / keep
    state.columns[f"{spec.name}.heat_out_kw"] = out
    state.columns[f"{spec.name}.heat_in_kw"] = drawn
    cold -= out
    state.bus(heat_bus(spec.from_level))[:] += drawn
