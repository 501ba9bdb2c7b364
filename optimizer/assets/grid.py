"""Grid connection: metered import and export, TOU energy price, demand charge.

Variables: ``import_kw[t]`` (everything through the meter, green contracts
included), ``export_kw[t]`` (only when exporting is allowed) and, with a demand
charge, ``peak_kw[m]`` per calendar month of the horizon.

Demand charge: a day-ahead plan only pays for *raising* the month's peak, so
``cost = rate * (peak_kw[m] - month_to_date_peak_kw)`` with
``peak_kw[m] >= month_to_date_peak_kw`` and ``peak_kw[m] >= import_kw[t]``.

Simultaneous import and export: a binary ``exporting[t]`` is added only on steps
where exporting pays at least as much as the cheapest way to import (TOU price
plus carbon cost, or a green contract's price), which is where the LP could
otherwise buy and sell at once (``exclusive_import_export="auto"``). On those
steps two implied rows, ``export <= on-site supplies`` and ``import <= on-site
draws``, keep the LP relaxation from doing the same at a fractional binary; on
the full-factory day they lift the LP relaxation's bound from 10,707 to 10,833
CNY (optimum 10,854; solve times in ``benchmarks/results/factory.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import pyomo.core as pyo
from pydantic import Field, model_validator

from optimizer.assets.base import AssetSpec, BuildContext, CostTerm, GridPort
from optimizer.baseline_state import BaselineState
from optimizer.buses import ELECTRICITY
from optimizer.errors import SpecError
from optimizer.horizon import Horizon
from optimizer.tariff import TouTariff
from optimizer.types import NonNegFloat, Series, as_array

if TYPE_CHECKING:
    from optimizer.parameters import Parameter
    from optimizer.problem import DispatchProblem

GRID_IMPORT = "grid_import"
GRID_EXPORT = "grid_export"
GREEN_PURCHASE = "green_purchase"

CN_GRID_2023_KGCO2_PER_KWH = 0.5306
"""China national grid average 2023 [kgCO2/kWh] (location-based)."""
CN_GRID_2023_RESIDUAL_KGCO2_PER_KWH = 0.6096
"""National 2023 excluding market-traded non-fossil power [kgCO2/kWh] (market-based residual)."""
PRICE_TIE_TOLERANCE = 1e-9


class GridSpec(AssetSpec):
    """The site's grid connection point."""

    kind: Literal["grid"] = "grid"
    ALTERNATIVES = (("tariff", "import_price_cny_per_kwh"),)
    import_limit_kw: NonNegFloat = Field(description="Maximum import through the meter [kW].")
    export_limit_kw: NonNegFloat = Field(0.0, description="Maximum export [kW]; 0 forbids export.")
    tariff: TouTariff | None = Field(None, description="Time-of-use band table for the import price.")
    import_price_cny_per_kwh: Series | None = Field(None, description="Import price per step, instead of a tariff.")
    export_price_cny_per_kwh: Series = Field(0.0, description="Price paid for exported energy [CNY/kWh].")
    demand_charge_cny_per_kw_month: NonNegFloat = Field(0.0, description="Demand charge [CNY/kW per month].")
    month_to_date_peak_kw: NonNegFloat = Field(0.0, description="Peak import already metered this month [kW].")
    location_kgco2_per_kwh: NonNegFloat = Field(
        CN_GRID_2023_KGCO2_PER_KWH, description="Grid average factor, location-based [kgCO2/kWh]."
    )
    market_kgco2_per_kwh: NonNegFloat = Field(
        CN_GRID_2023_RESIDUAL_KGCO2_PER_KWH,
        description="Residual factor for grid purchases not covered by green contracts, market-based [kgCO2/kWh].",
    )
    exclusive_import_export: Literal["auto", "always", "never"] = Field(
        "auto", description="When to forbid simultaneous import and export with a binary per step."
    )

    @model_validator(mode="after")
    def _one_price_source(self) -> GridSpec:
        if (self.tariff is None) == (self.import_price_cny_per_kwh is None):
            raise SpecError("give exactly one of tariff or import_price_cny_per_kwh", field="tariff")
        return self

    def import_prices(self, horizon: Horizon) -> np.ndarray:
        """Import energy price per step [CNY/kWh]."""
        if self.tariff is not None:
            return self.tariff.prices(horizon).to_numpy()
        assert self.import_price_cny_per_kwh is not None
        price = self.import_price_cny_per_kwh
        return np.full(horizon.n_steps, float(price)) if isinstance(price, (int, float)) else np.asarray(price)


def grid_parameters(spec: GridSpec, problem: DispatchProblem) -> dict[str, Any]:
    """Import price [CNY/kWh] and its TOU band, export price, month-to-date peak [kW] (:mod:`optimizer.parameters`)."""
    horizon = problem.horizon
    data: dict[str, Any] = {"import_price_cny_per_kwh": spec.import_prices(horizon)}
    if spec.tariff is not None:
        data["band"] = spec.tariff.bands(horizon.index).to_numpy()
    if spec.export_limit_kw > 0:
        data["export_price_cny_per_kwh"] = as_array(spec.export_price_cny_per_kwh, horizon.n_steps)
    if spec.demand_charge_cny_per_kw_month > 0:
        data["month_to_date_peak_kw"] = spec.month_to_date_peak_kw
    return data


def grid_structure(spec: GridSpec, problem: DispatchProblem) -> Any:
    """What of the grid's data shapes its model: whether prices come from a tariff, the steps with an
    import/export binary, negative prices (they make storage losses pay) and the steps of each calendar month."""
    carbon = _carbon_cost_cny_per_kwh(spec, problem)
    if (
        spec.tariff is not None
        and spec.export_limit_kw == 0
        and min(spec.tariff.band_prices_cny_per_kwh.values()) >= -carbon
    ):
        return (False, False)  # no band can cost less than nothing: the step prices need not be worked out
    effective = spec.import_prices(problem.horizon) + carbon
    key: tuple[Any, ...] = (spec.tariff is None, bool(np.any(effective < 0)))
    if spec.export_limit_kw > 0:
        export_price = as_array(spec.export_price_cny_per_kwh, problem.horizon.n_steps)
        key += (bool(np.any(export_price < 0)), tuple(_exclusive_steps(spec, export_price, effective)))
    if spec.demand_charge_cny_per_kw_month > 0:
        key += (tuple(len(steps) for steps in _steps_by_month(problem.horizon)),)
    return key


def _carbon_cost_cny_per_kwh(spec: GridSpec, problem: DispatchProblem) -> float:
    """The internal carbon price on a kWh imported [CNY/kWh], under the objective's accounting."""
    objective = problem.objective
    factor = spec.market_kgco2_per_kwh if objective.carbon_accounting == "market" else spec.location_kgco2_per_kwh
    return objective.carbon_price_cny_per_tco2 / 1000.0 * factor


def build_grid(spec: GridSpec, ctx: BuildContext) -> None:
    if ctx.grid is not None:
        raise SpecError(
            f"only one grid connection is supported, got {ctx.grid.name!r} and {spec.name!r}",
            asset=spec.name,
            field="kind",
        )
    n = spec.name
    data = ctx.take_parameters(n, grid_parameters(spec, ctx.problem))
    price = data["import_price_cny_per_kwh"]
    block = ctx.block(n)
    block.import_kw = pyo.Var(ctx.steps, bounds=(0.0, spec.import_limit_kw))
    ctx.add_data(f"{n}.import_price_cny_per_kwh", price.values)
    ctx.add_flow(f"{n}.import_kw", block.import_kw, bus=ELECTRICITY, sign=+1, role=GRID_IMPORT)
    ctx.add_linear_cost("grid_energy", f"{n}.import_kw", price)
    ctx.add_emission("location", "grid", f"{n}.import_kw", np.full(ctx.n_steps, spec.location_kgco2_per_kwh))
    ctx.add_emission("market", "grid", f"{n}.import_kw", np.full(ctx.n_steps, spec.market_kgco2_per_kwh))
    bands = data["band"].values if "band" in data else None
    ctx.grid = GridPort(n, block.import_kw, price.values, spec.market_kgco2_per_kwh, bands)
    ctx.import_price_options.append(price.values + _carbon_cost_cny_per_kwh(spec, ctx.problem))

    if spec.export_limit_kw > 0:
        export_price = data["export_price_cny_per_kwh"]
        block.export_kw = pyo.Var(ctx.steps, bounds=(0.0, spec.export_limit_kw))
        ctx.add_data(f"{n}.export_price_cny_per_kwh", export_price.values)
        ctx.add_flow(f"{n}.export_kw", block.export_kw, bus=ELECTRICITY, sign=-1, role=GRID_EXPORT)
        ctx.add_linear_cost("export_revenue", f"{n}.export_kw", export_price, sign=-1.0)
        if np.any(export_price.values < 0):
            ctx.flags.add("burning_energy_pays")
        ctx.finalizers.append(lambda c: _forbid_simultaneous_import_export(spec, block, export_price.values, c))

    if spec.demand_charge_cny_per_kw_month > 0:
        _add_demand_charge(spec, block, ctx, data["month_to_date_peak_kw"])
    ctx.finalizers.append(lambda c: _limit_green_to_import(block, c))


def _steps_by_month(horizon: Horizon) -> list[np.ndarray]:
    """The steps of each calendar month the horizon touches, in order."""
    months = pd.PeriodIndex(horizon.index.tz_localize(None), freq="M")
    return [np.flatnonzero(months == m) for m in dict.fromkeys(months)]


def _add_demand_charge(spec: GridSpec, block: pyo.Block, ctx: BuildContext, metered_peak: Parameter) -> None:
    """One peak variable per calendar month in the horizon; the first month starts at the metered peak
    (``metered_peak``: the spec's ``month_to_date_peak_kw``)."""
    steps_by_month = _steps_by_month(ctx.horizon)
    floors = [metered_peak.scalar] + [0.0] * (len(steps_by_month) - 1)
    rate = spec.demand_charge_cny_per_kw_month
    block.M = pyo.Set(initialize=range(len(steps_by_month)))
    block.peak_kw = pyo.Var(block.M, bounds=lambda _, m: (floors[m], None))
    block.peak_above_import = pyo.Constraint(
        [(m, int(t)) for m, steps in enumerate(steps_by_month) for t in steps],
        rule=lambda b, m, t: b.peak_kw[m] >= b.import_kw[t],
    )
    column = f"{spec.name}.import_kw"

    def evaluate(schedule: pd.DataFrame) -> float:
        imports = schedule[column].to_numpy()
        floor_values = [float(metered_peak.values)] + [0.0] * (len(steps_by_month) - 1)
        return sum(rate * max(0.0, imports[s].max() - f) for s, f in zip(steps_by_month, floor_values, strict=True))

    expr = sum(rate * (block.peak_kw[m] - floors[m]) for m in block.M)
    ctx.costs.append(CostTerm("demand_charge", expr, evaluate))
    ctx.scalars[f"{spec.name}.peak_kw"] = block.peak_kw


def _limit_green_to_import(block: pyo.Block, ctx: BuildContext) -> None:
    """Green contracts are delivered through the meter: their sum cannot exceed import."""
    if not ctx.flows_with_role(GREEN_PURCHASE):
        return
    block.green_within_import = pyo.Constraint(
        ctx.steps, rule=lambda b, t: ctx.role_sum(GREEN_PURCHASE, t) <= b.import_kw[t]
    )


def _forbid_simultaneous_import_export(
    spec: GridSpec, block: pyo.Block, export_price: np.ndarray, ctx: BuildContext
) -> None:
    steps = _exclusive_steps(spec, export_price, np.min(np.vstack(ctx.import_price_options), axis=0))
    if not steps:
        return
    block.B = pyo.Set(initialize=steps)
    block.exporting = pyo.Var(block.B, domain=pyo.Binary)
    block.import_when_not_exporting = pyo.Constraint(
        block.B, rule=lambda b, t: b.import_kw[t] <= spec.import_limit_kw * (1 - b.exporting[t])
    )
    block.export_when_exporting = pyo.Constraint(
        block.B, rule=lambda b, t: b.export_kw[t] <= spec.export_limit_kw * b.exporting[t]
    )
    if ctx.implied_cuts:
        _add_flow_through_cuts(spec, block, ctx)


def _exclusive_steps(spec: GridSpec, export_price: np.ndarray, cheapest_import: np.ndarray) -> list[int]:
    """The steps with an import/export binary: all (``always``), none (``never``), or where exporting pays at least
    the cheapest way to import (``auto``)."""
    if spec.exclusive_import_export == "never":
        return []
    if spec.exclusive_import_export == "always":
        return list(range(len(export_price)))
    return np.flatnonzero(export_price >= cheapest_import - PRICE_TIE_TOLERANCE).tolist()


def _add_flow_through_cuts(spec: GridSpec, block: pyo.Block, ctx: BuildContext) -> None:
    """Export comes from on-site supplies, import goes to on-site draws (on the steps with a binary).

    Implied at integral ``exporting[t]`` (exporting: import is 0, so export is the site's supplies
    minus its draws; importing: export is 0), but not by the LP relaxation, which would otherwise
    buy and sell at once at a fractional ``exporting[t]`` wherever export pays more than import.
    Valid only where every other term on the bus is non-negative, so steps with a possibly
    negative term are skipped.
    """
    grid_columns = {f"{spec.name}.import_kw", f"{spec.name}.export_kw"}
    others = [(c, sign) for c, sign in ctx.bus_terms[ELECTRICITY] if c not in grid_columns]
    steps = [t for t in block.B if all(ctx.flow_bounds(c, t)[0] >= 0.0 for c, _ in others)]

    def total(t: int, supplies: bool) -> Any:
        return sum(abs(sign) * ctx.flow_at(c, t) for c, sign in others if (sign > 0) == supplies)

    block.export_from_site = pyo.Constraint(steps, rule=lambda b, t: b.export_kw[t] <= total(t, True))
    block.import_to_site = pyo.Constraint(steps, rule=lambda b, t: b.import_kw[t] <= total(t, False))


def baseline_grid(spec: GridSpec, state: BaselineState) -> None:
    """Rule: import the deficit, export the surplus up to the limit, curtail the rest."""
    n = spec.name
    deficit = np.maximum(state.net_kw, 0.0)
    surplus = np.maximum(-state.net_kw, 0.0)
    export = np.minimum(surplus, spec.export_limit_kw)
    state.columns[f"{n}.import_price_cny_per_kwh"] = spec.import_prices(state.horizon)
    state.columns[f"{n}.import_kw"] = deficit
    state.uncovered_import_kw = deficit.copy()
    if spec.export_limit_kw > 0:
        state.columns[f"{n}.export_price_cny_per_kwh"] = state.series(spec.export_price_cny_per_kwh)
        state.columns[f"{n}.export_kw"] = export
    to_curtail = surplus - export
    for pv in state.curtailable_pv:
        output = state.columns[f"{pv}.output_kw"]
        cut = np.minimum(output, to_curtail)
        state.columns[f"{pv}.output_kw"] = output - cut
        to_curtail = to_curtail - cut
    state.net_kw = state.net_kw - deficit + surplus - to_curtail
    if np.any(deficit > spec.import_limit_kw + 1e-6):
        over = int(np.sum(deficit > spec.import_limit_kw + 1e-6))
        state.warnings.append(
            f"the rule-based baseline imports more than {n}.import_limit_kw ({spec.import_limit_kw:,.0f} kW) "
            f"at {over} steps of {len(deficit)}: the baseline is a simple rule to compare against, "
            "not a feasible plan there"
        )
    if np.any(to_curtail > 1e-6):
        state.warnings.append(
            f"the rule-based baseline cannot place {float(to_curtail.sum() * state.dt_h):.1f} kWh of surplus "
            f"(beyond {n}.export_limit_kw and what PV can curtail): its energy balance does not close there"
        )
