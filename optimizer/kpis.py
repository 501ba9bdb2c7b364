"""KPIs recomputed from a schedule, with the same coefficients as the objective.

Works for optimised and baseline schedules alike, so both are measured the
same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from optimizer.assets.base import BuildContext
from optimizer.assets.cold_storage import COOLING_DEMAND, COOLING_ELECTRICITY, COOLING_PRODUCTION
from optimizer.assets.commitment import UNIT_START
from optimizer.assets.compressors import COMPRESSOR_ON, COMPRESSOR_START, DUMPED_HEAT, RECOVERED_HEAT
from optimizer.assets.green_contract import GreenContractSpec
from optimizer.assets.grid import GREEN_PURCHASE, GRID_EXPORT, GRID_IMPORT
from optimizer.assets.heat import GAS_DISPLACEMENT_KWH_TH_PER_NM3, GAS_USE
from optimizer.assets.pv import PV_AVAILABLE, PV_OUTPUT
from optimizer.baseline_state import BaselineShortfall, infeasible_label

NON_CASH_COMPONENTS = ("carbon", "penalty")

# --- cost groups: the one place where cost components are read as a saving's parts ---------------------------------

ENERGY, DEMAND_CHARGE, GAS, HEAT, CERTIFICATES, OTHER, CARBON, PENALTY = (
    "energy",
    "demand_charge",
    "gas",
    "heat",
    "certificates",
    "other",
    "carbon",
    "penalty",
)
MONEY_GROUPS = (ENERGY, DEMAND_CHARGE, GAS, HEAT, CERTIFICATES, OTHER)
"""The groups of money paid; they add up to ``Kpis.energy_cost_cny``."""
COST_GROUPS = (*MONEY_GROUPS, CARBON, PENALTY)
"""Every group: money paid, then the internal carbon cost and the targets' penalties (not paid)."""
COMPONENT_GROUPS: dict[str, str] = {
    "grid_energy": ENERGY,  # import at the tariff, less the PPA volumes' grid price
    "export_revenue": ENERGY,  # grid energy sold (negative)
    "green_contract": ENERGY,  # a PPA's energy price; a certificate's premium is moved to CERTIFICATES
    "demand_charge": DEMAND_CHARGE,
    "gas": GAS,
    "heat": HEAT,  # purchased heat or steam
    "carbon": CARBON,
    "penalty": PENALTY,
}
"""Cost component (``CostTerm.component``) -> group; any other component (battery wear, start-ups,
a green contract's take-or-pay, a plug-in's) is money paid under ``other``."""


def cost_group(component: str) -> str:
    """The group of one cost component (:data:`COMPONENT_GROUPS`, else ``other``)."""
    return COMPONENT_GROUPS.get(component, OTHER)


def group_costs(components: dict[str, float], certificates_cny: float = 0.0) -> dict[str, float]:
    """Costs by component -> by group (every one of :data:`COST_GROUPS`, zeros included) [CNY];
    ``certificates_cny`` (the certificate premiums, inside the ``green_contract`` component) is moved from
    ``energy`` to ``certificates``."""
    groups = dict.fromkeys(COST_GROUPS, 0.0)
    for component, value in components.items():
        groups[cost_group(component)] += value
    groups[ENERGY] -= certificates_cny
    groups[CERTIFICATES] += certificates_cny
    return groups


def certificate_premiums_cny(schedule: pd.DataFrame, ctx: BuildContext) -> float:
    """What the certificate-priced green contracts cost in ``schedule``: premium x energy [CNY] (their part of the
    ``green_contract`` component, which also holds the PPAs' energy price)."""
    total = 0.0
    for spec in ctx.problem.assets:
        if isinstance(spec, GreenContractSpec) and spec.pricing == "certificate":
            power = schedule[f"{spec.name}.power_kw"].to_numpy()
            total += float(np.dot(ctx.series(spec.price_cny_per_kwh), power) * ctx.dt_h)
    return total


def hours_by_month(index: pd.DatetimeIndex, dt_h: float) -> dict[str, float]:
    """Hours of a horizon per local calendar month (``"2026-07"``): the months a demand charge is billed in [h]."""
    wall = index.tz_localize(None)
    keys = wall.year.to_numpy() * 100 + wall.month.to_numpy()
    months, first, counts = np.unique(keys, return_index=True, return_counts=True)
    order = np.argsort(first)  # in the horizon's order
    return {f"{months[k] // 100:04d}-{months[k] % 100:02d}": float(counts[k] * dt_h) for k in order}


class EnergyTotals(BaseModel):
    """Horizon energy totals [kWh] that targets and KPIs are built on."""

    pv_available_kwh: float
    pv_output_kwh: float
    import_kwh: float
    export_kwh: float
    green_kwh: float

    def plus(self, so_far: Any) -> EnergyTotals:
        """These totals with the energy of ``so_far`` (a :class:`~optimizer.problem.TargetProgress`) added."""
        if so_far is None:
            return self
        return EnergyTotals(**{f: getattr(self, f) + getattr(so_far, f) for f in type(self).model_fields})

    @property
    def pv_self_consumed_kwh(self) -> float:
        return self.pv_output_kwh - self.export_kwh

    @property
    def consumption_kwh(self) -> float:
        return self.import_kwh + self.pv_output_kwh - self.export_kwh

    @property
    def green_kwh_used(self) -> float:
        return self.pv_self_consumed_kwh + self.green_kwh


def _columns_sum(schedule: pd.DataFrame, columns: list[str]) -> float:
    """The sum of ``columns`` over the schedule, column by column (selecting a list of columns costs about seven
    times more)."""
    return float(sum(schedule[column].to_numpy().sum() for column in columns))


def role_total_kwh(schedule: pd.DataFrame, ctx: BuildContext, role: str) -> float:
    columns = ctx.role_columns(role)
    return _columns_sum(schedule, columns) * ctx.dt_h if columns else 0.0


def optional_role_total(schedule: pd.DataFrame, ctx: BuildContext, role: str, *, per_hour: bool = True) -> float | None:
    """Sum of the columns with ``role`` over the horizon (times dt_h when ``per_hour``); None without such columns."""
    columns = ctx.role_columns(role)
    if not columns:
        return None
    total = _columns_sum(schedule, columns)
    return total * ctx.dt_h if per_hour else total


PEAK_BANDS = ("sharp", "peak")
"""TOU bands out of which cooling storage shifts chiller production ("stop the chillers at peak")."""


def role_kwh_by_band(schedule: pd.DataFrame, ctx: BuildContext, role: str) -> dict[str, float] | None:
    """Energy of the flows with ``role`` per TOU band of the grid tariff [kWh]; None without such flows or bands."""
    columns = ctx.role_columns(role)
    if not columns or ctx.grid is None or ctx.grid.bands is None:
        return None
    energy = schedule[columns].to_numpy().sum(axis=1) * ctx.dt_h
    bands = np.asarray(ctx.grid.bands)
    return {str(band): float(energy[bands == band].sum()) for band in dict.fromkeys(bands.tolist())}


def cooling_shifted_from_peak_kwh(schedule: pd.DataFrame, ctx: BuildContext) -> float | None:
    """Cooling demand in the sharp and peak bands minus cooling produced in them [kWh_th]; None without either."""
    demand = role_kwh_by_band(schedule, ctx, COOLING_DEMAND)
    if demand is None:
        return None
    produced = role_kwh_by_band(schedule, ctx, COOLING_PRODUCTION) or {}
    return sum(demand.get(band, 0.0) - produced.get(band, 0.0) for band in PEAK_BANDS)


def energy_totals(schedule: pd.DataFrame, ctx: BuildContext) -> EnergyTotals:
    return EnergyTotals(
        pv_available_kwh=role_total_kwh(schedule, ctx, PV_AVAILABLE),
        pv_output_kwh=role_total_kwh(schedule, ctx, PV_OUTPUT),
        import_kwh=role_total_kwh(schedule, ctx, GRID_IMPORT),
        export_kwh=role_total_kwh(schedule, ctx, GRID_EXPORT),
        green_kwh=role_total_kwh(schedule, ctx, GREEN_PURCHASE),
    )


def emissions_kgco2(
    schedule: pd.DataFrame, ctx: BuildContext, accounting: str, steps: Sequence[int] | None = None
) -> float:
    """Emissions of one accounting method over the horizon, or over ``steps`` only [kgCO2]."""
    rows = slice(None) if steps is None else list(steps)
    return float(
        sum(
            np.dot(e.kgco2_per_kwh[rows], schedule[e.column].to_numpy()[rows]) * ctx.dt_h
            for e in ctx.emissions
            if e.accounting == accounting
        )
    )


def emissions_by_source_kgco2(schedule: pd.DataFrame, ctx: BuildContext, accounting: str) -> dict[str, float]:
    """Emissions of one accounting method by source ("grid", "gas", "heat"...) [kgCO2]."""
    by_source: dict[str, float] = {}
    for e in ctx.emissions:
        if e.accounting == accounting:
            amount = float(np.dot(e.kgco2_per_kwh, schedule[e.column].to_numpy()) * ctx.dt_h)
            by_source[e.source] = by_source.get(e.source, 0.0) + amount
    return by_source


def gas_displaced_nm3(schedule: pd.DataFrame, ctx: BuildContext) -> float | None:
    """Recovered heat used (recovered minus dumped) as gas of the first boiler (efficiency x LHV) [Nm3].

    None without a gas boiler (nothing to displace).
    """
    heat_kwh_per_nm3 = ctx.scalars.get(GAS_DISPLACEMENT_KWH_TH_PER_NM3)
    if heat_kwh_per_nm3 is None:
        return None
    used_kwh = role_total_kwh(schedule, ctx, RECOVERED_HEAT) - role_total_kwh(schedule, ctx, DUMPED_HEAT)
    return used_kwh / heat_kwh_per_nm3


START_ROLES = (UNIT_START, COMPRESSOR_START)
"""Roles of start counts per step: switched units' ``<name>.starts`` (boilers, heat pumps...) and compressors'."""


def unit_starts_by_asset(schedule: pd.DataFrame, ctx: BuildContext) -> dict[str, float] | None:
    """Starts over the horizon per asset with a start count (a group's units together); None without any.

    A day of a rolling run is one horizon, so a run's days give the starts per unit per day. Rounded to 1e-6:
    start counts are whole at any integral on/off schedule, the rest is solver round-off.
    """
    columns = [c for role in START_ROLES for c in ctx.role_columns(role)]
    if not columns:
        return None
    totals: dict[str, float] = {}
    for column in columns:
        asset = column.rpartition(".")[0] or column
        totals[asset] = totals.get(asset, 0.0) + float(schedule[column].sum())
    return {asset: round(total, 6) + 0.0 for asset, total in totals.items()}


class TargetShortfall(BaseModel):
    """How far a target was missed (0 when met), in the target's unit."""

    target: str
    period: str = Field("horizon", description="The accounting period: horizon, a date, 2026-07, 2026 or a range.")
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
    cooling_electricity_kwh_by_band: dict[str, float] | None = Field(
        None, description="Electricity drawn to make cooling (chillers) per TOU band [kWh]; None without both."
    )
    cooling_shifted_from_peak_kwh: float | None = Field(
        None,
        description="Cooling demand in the sharp and peak TOU bands minus cooling produced in them [kWh_th]: what "
        "storage moved out of those bands (negative: charged there); None without cooling demand or TOU bands.",
    )
    compressor_running_h: float | None = Field(None, description="Hours on, summed over compressors [h].")
    compressor_starts: float | None = Field(None, description="Starts, summed over compressors.")
    unit_starts_by_asset: dict[str, float] | None = Field(
        None,
        description="Starts per switched unit over the horizon (boilers, heat pumps, compressors; a group's units "
        "together): per day in a rolling run, summed over a run's days; None without any unit with starts.",
    )
    recovered_heat_kwh: float | None = Field(None, description="Heat recovered from compressors [kWh_th].")
    dumped_heat_kwh: float | None = Field(None, description="Recovered heat wasted through the bypass [kWh_th].")
    emissions_location_kgco2_by_source: dict[str, float] = Field(
        default_factory=dict, description="Location-based emissions by source (grid, gas, heat...) [kgCO2]."
    )
    emissions_market_kgco2_by_source: dict[str, float] = Field(
        default_factory=dict, description="Market-based emissions by source (grid, gas, heat...) [kgCO2]."
    )
    gas_use_nm3: float | None = Field(None, description="Gas burnt, summed over flows with a gas-use role [Nm3].")
    gas_displaced_nm3: float | None = Field(
        None,
        description="Recovered heat used (recovered - dumped) / (efficiency x LHV of the first gas boiler) [Nm3]; "
        "None without a gas boiler.",
    )
    cost_cny_by_group: dict[str, float] = Field(
        default_factory=dict,
        description="Costs by group [CNY]: energy (grid energy net of export revenue, PPA energy), demand_charge, "
        "gas, heat (purchased heat or steam), certificates (green-certificate premiums), other (wear, start-ups...): "
        "money paid, adding up to energy_cost_cny; then carbon (internal carbon cost) and penalty, which are not paid.",
    )
    horizon_h_by_month: dict[str, float] = Field(
        default_factory=dict,
        description="Hours of the horizon per local calendar month (2026-07) [h]: its length, and the months a "
        "demand charge is billed in.",
    )


class BaselineKpis(Kpis):
    """The rule-based baseline's KPIs, with what its rules leave unbalanced: no saving is stated against a
    baseline that leaves any demand unmet (``feasible`` False)."""

    shortfalls: list[BaselineShortfall] = Field(
        default_factory=list,
        description="Per bus: demand the baseline's rules leave unmet, or electricity surplus they cannot place.",
    )

    @property
    def feasible(self) -> bool:
        """True when the baseline supplies every demand and places every surplus."""
        return not self.shortfalls


def shortfalls_of(kpis: Kpis) -> list[BaselineShortfall]:
    """The shortfalls of baseline KPIs (none for other KPIs)."""
    return list(kpis.shortfalls) if isinstance(kpis, BaselineKpis) else []


def with_shortfalls(kpis: Kpis, shortfalls: Sequence[BaselineShortfall]) -> BaselineKpis:
    """``kpis`` as a baseline's KPIs that leave ``shortfalls`` (replacing any they had)."""
    return BaselineKpis(**{**dict(kpis), "shortfalls": list(shortfalls)})


class Savings(BaseModel):
    """The saving against the rule-based baseline: money paid by the baseline minus money paid by the plan [CNY],
    split by cost group, with the internal carbon cost apart, and how a short run scales to a year.

    The demand charge is billed per calendar month on the month's peak, so a run's demand-charge part is per month
    billed, not per day: ``annualised_estimate_cny = per_day_cny x 365 + demand_charge_per_month_cny x 12``, an
    estimate that takes the run's days and months as typical. Against a baseline that leaves demand unmet
    (``baseline_feasible`` False) no saving is stated: every amount is None and ``label`` says what is unmet.
    """

    baseline_feasible: bool = Field(description="False when the baseline leaves demand unmet (see label).")
    label: str | None = Field(None, description="``baseline infeasible: <what is unmet>`` when no saving is stated.")
    total_cny: float | None = Field(None, description="Baseline money paid minus the plan's [CNY].")
    by_group_cny: dict[str, float] | None = Field(
        None,
        description="The saving per group of money paid: energy, demand_charge, gas, heat, certificates, other; they "
        "add up to total_cny [CNY].",
    )
    carbon_cny: float | None = Field(
        None, description="Internal carbon cost saved [CNY]: shown apart, it is not money paid (not in total_cny)."
    )
    days: float | None = Field(None, description="Length of the run [days].")
    months_billed: int | None = Field(None, description="Calendar months the run touches: demand charges billed.")
    per_day_cny: float | None = Field(
        None, description="Every part but the demand charge, per day of the run [CNY/day]."
    )
    demand_charge_per_month_cny: float | None = Field(
        None, description="The demand-charge part per month billed [CNY/month]."
    )
    annualised_estimate_cny: float | None = Field(
        None,
        description="An estimate of a year's saving: per_day_cny x 365 + demand_charge_per_month_cny x 12 [CNY/yr].",
    )


DAYS_PER_YEAR = 365.0
MONTHS_PER_YEAR = 12.0


def groups_of(kpis: Kpis) -> dict[str, float]:
    """The KPIs' costs by group; grouped from the components when the KPIs predate the groups (certificate
    premiums then stay in ``energy``)."""
    return (
        {**dict.fromkeys(COST_GROUPS, 0.0), **kpis.cost_cny_by_group}
        if kpis.cost_cny_by_group
        else group_costs(kpis.cost_cny_by_component)
    )


def savings(kpis: Kpis, baseline: Kpis) -> Savings:
    """The saving of the plan with ``kpis`` against the baseline with ``baseline`` (both over the same run)."""
    label = infeasible_label(shortfalls_of(baseline))
    if label is not None:
        return Savings(baseline_feasible=False, label=label)
    ours, theirs = groups_of(kpis), groups_of(baseline)
    by_group = {g: theirs[g] - ours[g] for g in MONEY_GROUPS}
    total = baseline.energy_cost_cny - kpis.energy_cost_cny
    hours = sum(kpis.horizon_h_by_month.values())
    months = len(kpis.horizon_h_by_month)
    scaled: dict[str, Any] = {}
    if hours > 0:
        days = hours / 24.0
        demand = by_group[DEMAND_CHARGE]
        per_day = (total - demand) / days
        per_month = demand / months
        scaled = {
            "days": days,
            "months_billed": months,
            "per_day_cny": per_day,
            "demand_charge_per_month_cny": per_month,
            "annualised_estimate_cny": per_day * DAYS_PER_YEAR + per_month * MONTHS_PER_YEAR,
        }
    return Savings(
        baseline_feasible=True,
        total_cny=total,
        by_group_cny=by_group,
        carbon_cny=theirs[CARBON] - ours[CARBON],
        **scaled,
    )


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
    groups = group_costs(costs, certificate_premiums_cny(schedule, ctx))
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
        cooling_electricity_kwh_by_band=role_kwh_by_band(schedule, ctx, COOLING_ELECTRICITY),
        cooling_shifted_from_peak_kwh=cooling_shifted_from_peak_kwh(schedule, ctx),
        compressor_running_h=optional_role_total(schedule, ctx, COMPRESSOR_ON),
        compressor_starts=optional_role_total(schedule, ctx, COMPRESSOR_START, per_hour=False),
        unit_starts_by_asset=unit_starts_by_asset(schedule, ctx),
        recovered_heat_kwh=optional_role_total(schedule, ctx, RECOVERED_HEAT),
        dumped_heat_kwh=optional_role_total(schedule, ctx, DUMPED_HEAT),
        emissions_location_kgco2_by_source=emissions_by_source_kgco2(schedule, ctx, "location"),
        emissions_market_kgco2_by_source=emissions_by_source_kgco2(schedule, ctx, "market"),
        gas_use_nm3=optional_role_total(schedule, ctx, GAS_USE),
        gas_displaced_nm3=gas_displaced_nm3(schedule, ctx),
        cost_cny_by_group=groups,
        horizon_h_by_month=hours_by_month(schedule.index, ctx.dt_h),
    )


def compute_baseline_kpis(
    schedule: pd.DataFrame, ctx: BuildContext, shortfalls: Sequence[BaselineShortfall]
) -> BaselineKpis:
    """:func:`compute_kpis` of a rule-based baseline schedule, with what it leaves unbalanced."""
    return BaselineKpis(**dict(compute_kpis(schedule, ctx)), shortfalls=list(shortfalls))
