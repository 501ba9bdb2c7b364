"""The storage base: a store's flows, level, balance, losses, end rule and exclusivity, written once.

:func:`add_store` builds every store (battery, heat tank, cold/ice tank, air
receiver): charge and discharge variables within their limits, a level within
its window, the level balance with standing losses, the end-of-horizon rule
(``>=`` or ``==``), exclusive charge/discharge where it is needed, and the
schedule columns on the store's buses. :func:`idle_store_baseline` is the
rule-based baseline of a store that the rules do not use. Levels are at interval *ends*; ``level[-1]`` is the
initial level, i.e. ``level_kwh[t]`` is the content at the end of step ``t``:

    level[t] = level[t-1] * (1 - loss_frac_per_h) ** dt_h
               + (charge_eff * charge[t] - discharge[t] / discharge_eff) * dt_h
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyomo.core as pyo

from optimizer.assets.base import BuildContext
from optimizer.baseline_state import BaselineState

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


@dataclass(frozen=True)
class StoreColumns:
    """Schedule column suffixes of a store's flows and level, e.g. ``charge_kw``, ``discharge_kw``, ``soc_kwh``."""

    charge: str = "charge_kw"
    discharge: str = "discharge_kw"
    level: str = "level_kwh"


@dataclass(frozen=True)
class StoreLimits:
    """A store's numbers, in its own units: flows per hour (or per ``rate_to_level`` of the level's unit).

    The limits and levels are numbers, or in a model kept for re-use the Pyomo parameters of the store's kind
    (:mod:`optimizer.parameters`: a battery's size and SOCs)."""

    charge_max: Any
    discharge_max: Any
    level_min: Any
    level_max: Any
    initial: Any
    end: Any
    end_rule: Literal[">=", "=="] = ">="
    charge_eff: float = 1.0
    discharge_eff: float = 1.0
    loss_frac_per_h: float = 0.0
    rate_to_level: float = 1.0


def tank_limits(spec: Any, *, charge_eff: float = 1.0, discharge_eff: float = 1.0) -> StoreLimits:
    """A thermal tank's limits from its fields [kW_th, kWh_th]: ``capacity_kwh``, ``charge_power_kw``,
    ``discharge_power_kw``, ``standing_loss_frac_per_h``, ``initial_level_frac``, ``end_level_frac`` (default: the
    initial level; at least this at the end)."""
    end_frac = spec.initial_level_frac if spec.end_level_frac is None else spec.end_level_frac
    return StoreLimits(
        charge_max=spec.charge_power_kw,
        discharge_max=spec.discharge_power_kw,
        level_min=0.0,
        level_max=spec.capacity_kwh,
        initial=spec.initial_level_frac * spec.capacity_kwh,
        end=end_frac * spec.capacity_kwh,
        charge_eff=charge_eff,
        discharge_eff=discharge_eff,
        loss_frac_per_h=spec.standing_loss_frac_per_h,
    )


def add_store(
    block: pyo.Block,
    ctx: BuildContext,
    limits: StoreLimits,
    *,
    charge_bus: str,
    discharge_bus: str,
    columns: StoreColumns = StoreColumns(),
    roles: tuple[str | None, str | None] = (None, None),
    exclusive: ExclusiveMode | None = None,
) -> tuple[Any, Any, Any]:
    """Adds a store's variables and rules to ``block`` and registers its columns; returns (charge, discharge, level).

    ``exclusive``: None for a store whose simultaneous flows cannot pay (no binary ever); otherwise the mode of
    :func:`exclude_simultaneous_when_needed`.
    """
    charge = pyo.Var(ctx.steps, bounds=(0.0, limits.charge_max))
    discharge = pyo.Var(ctx.steps, bounds=(0.0, limits.discharge_max))
    level = pyo.Var(ctx.steps, bounds=(limits.level_min, limits.level_max))
    block.add_component(columns.charge, charge)
    block.add_component(columns.discharge, discharge)
    block.add_component(columns.level, level)
    add_level_balance(
        block,
        ctx,
        level=level,
        charge=charge,
        discharge=discharge,
        initial=limits.initial,
        charge_eff=limits.charge_eff,
        discharge_eff=limits.discharge_eff,
        loss_frac_per_h=limits.loss_frac_per_h,
        rate_to_level=limits.rate_to_level,
    )
    last = level[ctx.n_steps - 1]
    block.end_level = pyo.Constraint(expr=last == limits.end if limits.end_rule == "==" else last >= limits.end)
    name = block.local_name
    ctx.add_flow(f"{name}.{columns.charge}", charge, bus=charge_bus, sign=-1, role=roles[0])
    ctx.add_flow(f"{name}.{columns.discharge}", discharge, bus=discharge_bus, sign=+1, role=roles[1])
    ctx.add_flow(f"{name}.{columns.level}", level)
    if exclusive is not None:
        exclude_simultaneous_when_needed(
            block,
            ctx,
            exclusive,
            charge=charge,
            discharge=discharge,
            charge_max=limits.charge_max,
            discharge_max=limits.discharge_max,
            charge_eff=limits.charge_eff,
            discharge_eff=limits.discharge_eff,
        )
    return charge, discharge, level


def idle_store_baseline(
    state: BaselineState, name: str, limits: StoreLimits, columns: StoreColumns = StoreColumns()
) -> None:
    """Baseline rule of a store the rules leave alone: no flows; the content only decays by the standing loss."""
    n_steps = state.horizon.n_steps
    keep = (1.0 - limits.loss_frac_per_h) ** state.dt_h
    state.columns[f"{name}.{columns.charge}"] = np.zeros(n_steps)
    state.columns[f"{name}.{columns.discharge}"] = np.zeros(n_steps)
    state.columns[f"{name}.{columns.level}"] = limits.initial * keep ** np.arange(1, n_steps + 1)
