"""Shared storage rules: level balance and exclusive charge/discharge.

Used by every store (battery, and later thermal tanks and air receivers) so the
rule is written once. Levels are at interval *ends*; ``level[-1]`` is the
initial level, i.e. ``level_kwh[t]`` is the content at the end of step ``t``:

    level[t] = level[t-1] * (1 - loss_frac_per_h) ** dt_h
               + (charge_eff * charge[t] - discharge[t] / discharge_eff) * dt_h
"""

from __future__ import annotations

from typing import Any, Literal

import pyomo.environ as pyo

from optimizer.assets.base import BuildContext

ExclusiveMode = Literal["auto", "always", "never"]


def add_level_balance(
    block: pyo.Block,
    ctx: BuildContext,
    *,
    level: Any,
    charge: Any,
    discharge: Any,
    initial: float,
    charge_eff: float,
    discharge_eff: float,
    loss_frac_per_h: float = 0.0,
    rate_to_level: float = 1.0,
) -> None:
    """Adds ``block.level_balance[t]`` linking a store's level to its flows.

    ``rate_to_level`` converts a flow times hours into the level's unit when the
    flows are not per hour, e.g. 60 for flows in m3/min and a level in m3.
    """
    keep = (1.0 - loss_frac_per_h) ** ctx.dt_h
    dt_h = ctx.dt_h * rate_to_level

    def rule(_: pyo.Block, t: int) -> Any:
        previous = initial * keep if t == 0 else keep * level[t - 1]
        return level[t] == previous + (charge_eff * charge[t] - discharge[t] / discharge_eff) * dt_h

    block.level_balance = pyo.Constraint(ctx.steps, rule=rule)


def add_exclusive_flows(
    block: pyo.Block,
    ctx: BuildContext,
    *,
    charge: Any,
    discharge: Any,
    charge_max: float,
    discharge_max: float,
) -> None:
    """Binary ``block.charging[t]``: charge only when 1, discharge only when 0."""
    block.charging = pyo.Var(ctx.steps, domain=pyo.Binary)
    block.charge_when_charging = pyo.Constraint(ctx.steps, rule=lambda b, t: charge[t] <= charge_max * b.charging[t])
    block.discharge_when_not_charging = pyo.Constraint(
        ctx.steps, rule=lambda b, t: discharge[t] <= discharge_max * (1 - b.charging[t])
    )


def exclude_simultaneous_when_needed(
    block: pyo.Block,
    ctx: BuildContext,
    mode: ExclusiveMode,
    *,
    charge: Any,
    discharge: Any,
    charge_max: float,
    discharge_max: float,
    charge_eff: float,
    discharge_eff: float,
) -> None:
    """Registers a finalizer that adds :func:`add_exclusive_flows` if :func:`needs_exclusive` says so."""

    def finalize(c: BuildContext) -> None:
        if needs_exclusive(mode, c, charge_eff=charge_eff, discharge_eff=discharge_eff):
            add_exclusive_flows(
                block, c, charge=charge, discharge=discharge, charge_max=charge_max, discharge_max=discharge_max
            )

    ctx.finalizers.append(finalize)


def needs_exclusive(mode: ExclusiveMode, ctx: BuildContext, *, charge_eff: float, discharge_eff: float) -> bool:
    """In ``auto`` mode a binary is needed only when wasting energy in losses can pay.

    That happens when something rewards consuming energy (see
    :meth:`BuildContext.energy_burning_pays`) and the store has round-trip
    losses; a lossless store's simultaneous flows net out and waste nothing.
    """
    if mode == "auto":
        return charge_eff * discharge_eff < 1.0 and ctx.energy_burning_pays()
    return mode == "always"
