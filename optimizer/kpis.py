"""KPIs recomputed from a schedule, with the same coefficients as the objective.

Works for optimised and baseline schedules alike, so both are measured the
same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from optimizer.assets.base import BuildContext
from optimizer.assets.grid import GREEN_PURCHASE, GRID_EXPORT, GRID_IMPORT
from optimizer.assets.pv import PV_AVAILABLE, PV_OUTPUT

NON_CASH_COMPONENTS = ("carbon", "penalty")


class EnergyTotals(BaseModel):
    """Horizon energy totals [kWh] that targets and KPIs are built on."""

    pv_available_kwh: float
    pv_output_kwh: float
    import_kwh: float
    export_kwh: float
    green_kwh: float

    @property
    def pv_self_consumed_kwh(self) -> float:
        return self.pv_output_kwh - self.export_kwh

    @property
    def consumption_kwh(self) -> float:
        return self.import_kwh + self.pv_output_kwh - self.export_kwh

    @property
    def green_kwh_used(self) -> float:
        return self.pv_self_consumed_kwh + self.green_kwh


def role_total_kwh(schedule: pd.DataFrame, ctx: BuildContext, role: str) -> float:
    columns = ctx.role_columns(role)
    return float(schedule[columns].to_numpy().sum() * ctx.dt_h) if columns else 0.0


def energy_totals(schedule: pd.DataFrame, ctx: BuildContext) -> EnergyTotals:
    return EnergyTotals(
        pv_available_kwh=role_total_kwh(schedule, ctx, PV_AVAILABLE),
        pv_output_kwh=role_total_kwh(schedule, ctx, PV_OUTPUT),
        import_kwh=role_total_kwh(schedule, ctx, GRID_IMPORT),
        export_kwh=role_total_kwh(schedule, ctx, GRID_EXPORT),
        green_kwh=role_total_kwh(schedule, ctx, GREEN_PURCHASE),
    )


def emissions_kgco2(schedule: pd.DataFrame, ctx: BuildContext, accounting: str) -> float:
    return float(
        sum(
            np.dot(e.kgco2_per_kwh, schedule[e.column].to_numpy()) * ctx.dt_h
            for e in ctx.emissions
            if e.accounting == accounting
        )
    )


class TargetShortfall(BaseModel):
    """How far a target was missed (0 when met), in the target's unit."""

    target: str
    required: float
    achieved: float
    shortfall: float
    unit: str


class Kpis(BaseModel):
    """Horizon KPIs of one schedule."""

    cost_cny_by_component: dict[str, float] = Field(description="Objective terms by bucket [CNY].")
    energy_cost_cny: float = Field(description="Money paid: every component except internal carbon cost and penalties.")
    objective_cny: float = Field(description="Sum of all components, as minimised.")
    emissions_location_kgco2: float
    emissions_market_kgco2: float
    consumption_kwh: float
    import_kwh: float
    export_kwh: float
    green_contract_kwh: float
    pv_available_kwh: float
    pv_output_kwh: float
    curtailment_kwh: float
    pv_self_consumption_frac: float | None = Field(description="(PV output - export) / PV available; None without PV.")
    green_share_frac: float | None = Field(description="(PV self-consumed + green contracts) / consumption.")
    peak_import_kw: float
    target_shortfalls: list[TargetShortfall] = Field(default_factory=list)
    max_balance_residual_kw: float = Field(description="Largest bus-balance mismatch in the schedule [kW].")


def balance_residual_kw(schedule: pd.DataFrame, ctx: BuildContext) -> float:
    """Largest absolute bus balance mismatch over all buses and steps [kW]."""
    worst = 0.0
    for terms in ctx.bus_terms.values():
        residual = sum(sign * schedule[column].to_numpy() for column, sign in terms)
        worst = max(worst, float(np.max(np.abs(residual))))
    return worst


def compute_kpis(schedule: pd.DataFrame, ctx: BuildContext) -> Kpis:
    """Every KPI of ``schedule`` for the problem that ``ctx`` was built from."""
    # Local import: targets builds on these KPIs' totals.
    from optimizer.targets import target_shortfalls

    costs: dict[str, float] = {}
    for term in ctx.costs:
        costs[term.component] = costs.get(term.component, 0.0) + term.evaluate(schedule)
    totals = energy_totals(schedule, ctx)
    import_columns = ctx.role_columns(GRID_IMPORT)
    peak = float(schedule[import_columns].sum(axis=1).max()) if import_columns else 0.0
    return Kpis(
        cost_cny_by_component=costs,
        energy_cost_cny=sum(v for k, v in costs.items() if k not in NON_CASH_COMPONENTS),
        objective_cny=sum(costs.values()),
        emissions_location_kgco2=emissions_kgco2(schedule, ctx, "location"),
        emissions_market_kgco2=emissions_kgco2(schedule, ctx, "market"),
        consumption_kwh=totals.consumption_kwh,
        import_kwh=totals.import_kwh,
        export_kwh=totals.export_kwh,
        green_contract_kwh=totals.green_kwh,
        pv_available_kwh=totals.pv_available_kwh,
        pv_output_kwh=totals.pv_output_kwh,
        curtailment_kwh=totals.pv_available_kwh - totals.pv_output_kwh,
        pv_self_consumption_frac=(
            totals.pv_self_consumed_kwh / totals.pv_available_kwh if totals.pv_available_kwh > 0 else None
        ),
        green_share_frac=totals.green_kwh_used / totals.consumption_kwh if totals.consumption_kwh > 0 else None,
        peak_import_kw=peak,
        target_shortfalls=target_shortfalls(schedule, ctx),
        max_balance_residual_kw=balance_residual_kw(schedule, ctx),
    )
