"""Cooling supply on the cooling bus (kW_th): demand, chillers (chilled water or ice), cold tanks.

Asset kinds (each a spec, a builder and a baseline rule):

- ``cooling_demand``: a cooling series [kW_th] drawn from the cooling bus, met in every step;
- ``chiller``: an electric chiller. Chilled-water output ``cooling_kw[t]`` goes to
  the cooling bus; with an ice-making mode, ice output ``ice_kw[t]`` goes to the
  *ice* bus (:data:`ICE`). Electricity drawn from the electricity bus:
  ``power_kw = cooling_kw / cop[t] + ice_kw / ice_cop[t]``. Ice mode runs
  at a lower COP and a derated capacity ``cooling_capacity_kw * (1 - ice_capacity_derate_frac)``;
- ``cold_tank``: a chilled-water or ice store with the shared level balance
  (levels at interval ends), standing loss, charge/discharge limits and an end level.
  A chilled-water tank charges from and discharges to the cooling bus; an ice
  tank charges from the ice bus and discharges (melts) to the cooling bus.

Why an ice bus: ice can only be stored, never fed to the chilled-water loop
directly, so it gets its own bus whose only supply is chillers in ice mode and
whose only sink is ice tanks. The generic bus balance then says "ice made =
ice stored" without any special rule; with no ice tank in the problem the
balance forces ice output to 0 (and the ice-mode binaries are fixed to 0).

Chiller COP and the outdoor temperature: without ``outdoor_temperature_c`` the COPs are
the constants given. With it (the site's temperature series, e.g. ``$inputs.outdoor_temperature_c``
from a typical year or the forecast) each mode's COP moves with the temperature lift
at a constant Carnot fraction, the model of oemof.thermal's
``compression_heatpumps_and_chillers`` (COP = quality grade x T_low / (T_high - T_low))
and of the Modelica Buildings library's ``Buildings.Fluid.Chillers.Carnot_y``::

    T_cond[t] = max(outdoor_temperature_c[t] + condensing_approach_k, min_condensing_temperature_c)
    cop[t]    = chilled_water_cop * (T_cond_rated - T_evap) / (T_cond[t] - T_evap)

where ``T_cond_rated`` is the condensing temperature at ``rated_outdoor_temperature_c`` (the
temperature the data-sheet COP is rated at: 35 degC dry bulb for an air-cooled chiller
in GB/T 18430.1 and AHRI 550/590) and ``T_evap`` is ``evaporating_temperature_c`` (chilled
water) or ``ice_evaporating_temperature_c`` (ice): the Carnot COP ``T_evap / (T_cond - T_evap)``
(kelvin) over its value at rating, where the factor ``T_evap`` cancels (at most
:data:`MAX_COP`). The floor
``min_condensing_temperature_c`` is the head-pressure control of a real chiller (the
expansion valve needs a pressure difference), which also caps the COP gain of cold
hours. So a chiller costs less to run in cool hours and the plan, where a tank lets
it, makes its cold then. Capacity is kept at its rating (the capacity gain of cool
hours is not claimed). The COP series are schedule columns ``<name>.cop`` (and
``<name>.ice_cop``) when a temperature is given.

Chiller on/off: when a chiller has a minimum load, a start cost, minimum
up/down times or an ice mode, it gets the shared on/off rules
(:func:`optimizer.assets.commitment.add_commitment`): ``on[t]`` binary, and
with an ice mode a second binary ``ice_mode[t] <= on[t]``, so a running
chiller is in exactly one mode:

    min_load * cap * (on - ice_mode) <= cooling_kw <= avail * cap * (on - ice_mode)
    min_load * cap_ice * ice_mode    <= ice_kw     <= avail * cap_ice * ice_mode

(minimum loads are fractions of each mode's full capacity). Otherwise the
chiller is a continuous LP unit ``0 <= cooling_kw <= avail * cap``. The start
count ``starts[t]`` is a schedule column costed at ``start_cost_cny`` each
(component ``"start_up"``), with the role
:data:`~optimizer.assets.commitment.UNIT_START` (starts per unit in the KPIs); the
on/off state carries from one day to the next in rolling runs
(:class:`optimizer.state.CommitmentState`). Ramp limits (``ramp_up_kw_per_h``, ``ramp_down_kw_per_h``) on the
chilled-water output ``cooling_kw`` as a gas boiler's (a start may reach the minimum load in its first step), from
``initial_cooling_kw``, the last output carried across midnight; the plan then also ramps down ahead of an outage
or a banned band. Without a minimum load, ``on`` may read 1 at zero
output where nothing (a start cost, min up/down times) tells the two apart.

Operating rule ``off_in_bands`` (Huishan dairy: "charge cold at valley price,
supply at flat, stop the chillers at peak"): the chiller is forced off in
every step whose TOU band (the grid tariff's band at the interval start) is
listed. It is an explicit site rule, separate from what prices alone would
do; it needs a grid with a TOU tariff.

Cold tanks need no charge/discharge exclusivity binary: there are no
charge/discharge efficiencies, so charging and discharging at once wastes
nothing on the chilled-water side, and for an ice tank it is physical
(making ice while melting it).

Roles: chiller outputs (chilled water and ice) carry :data:`COOLING_PRODUCTION`,
chiller electricity :data:`COOLING_ELECTRICITY`, demand :data:`COOLING_DEMAND`;
:mod:`optimizer.kpis` aggregates them per TOU band (cooling electricity by band,
cooling shifted out of the sharp and peak bands).

Baseline: chillers follow the cooling demand directly, in problem order, up
to their available capacity, in chilled-water mode only (no ice, no tank use;
``off_in_bands`` is not applied, since without storage the demand has to be
met when it occurs); tanks stay idle and their content only decays by the
standing loss, exactly as the level balance would with zero flows. Demand below
a chiller's minimum load is still followed (the unit cycles within the step)
and reported as a warning, as is demand the chillers cannot meet.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import pyomo.core as pyo
from pydantic import BeforeValidator, Field, field_validator, model_validator

from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.assets.commitment import (
    UNIT_START,
    Commitment,
    RampRate,
    add_commitment,
    add_unit_ramp_limits,
    minutes_to_steps,
    require_output_within,
    steps_in_state,
)
from optimizer.assets.grid import GridSpec
from optimizer.assets.storage import StoreLimits, add_store, idle_store_baseline, tank_limits
from optimizer.baseline_state import BaselineState
from optimizer.buses import COOLING, ELECTRICITY, ICE
from optimizer.errors import SpecError
from optimizer.types import SERIES, Fraction, NonNegFloat, NonNegSeries, PositiveFloat, as_array

# Roles of flows on (or about) the cooling bus.
COOLING_DEMAND = "cooling_demand"
"""Role of cooling demand [kW_th]."""
COOLING_PRODUCTION = "cooling_production"
"""Role of cooling produced by a machine (chilled water or ice) [kW_th]; storage discharge is not production."""
COOLING_ELECTRICITY = "cooling_electricity"
"""Role of electricity drawn to produce cooling [kW]."""

DEFAULT_STANDING_LOSS_FRAC_PER_H = 1.0 - 0.98 ** (1.0 / 24.0)
"""2 % of the content per day, the middle of the 1-3 %/day typical for ice and chilled-water tanks (estimate)."""

BASELINE_UNMET_COOLING = "the rule-based baseline cannot meet the cooling demand"

MIN_TEMP_C, MAX_TEMP_C = -50.0, 60.0
"""Bounds of every temperature a chiller takes [degC]: outdoor air anywhere a factory runs, and the refrigerant
temperatures of chilled-water and ice-making chillers."""
MIN_LIFT_K = 5.0
"""Smallest condensing-minus-evaporating temperature difference accepted [K]: the Carnot COP T_evap / lift grows
without bound as the lift closes; a real chiller never runs below a few kelvin of lift."""
MAX_COP = 20.0
"""Ceiling of a chiller COP computed from the temperatures: above what any vapour-compression chiller reaches (the
best water-cooled centrifugals reach about 10-12 at low lift) [est], a bound so that no input makes it unbounded."""

Celsius = Annotated[float, Field(ge=MIN_TEMP_C, le=MAX_TEMP_C, allow_inf_nan=False)]
"""A temperature [degC] within :data:`MIN_TEMP_C` .. :data:`MAX_TEMP_C`."""


def _series_to_list(value: Any) -> Any:
    """Accept pandas Series and numpy arrays as well as plain lists (as :data:`optimizer.types.Series` does)."""
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    if isinstance(value, np.ndarray):
        return value.astype(float).tolist()
    return value


CelsiusSeries = Annotated[Celsius | list[Celsius], BeforeValidator(_series_to_list), SERIES]
"""A temperature per step (list) or one for every step [degC], each within the bounds."""


# --- cooling demand --------------------------------------------------------------------------


class CoolingDemandSpec(AssetSpec):
    """Cooling that must be delivered (process cooling, cold rooms, air conditioning)."""

    kind: Literal["cooling_demand"] = "cooling_demand"
    cooling_kw: NonNegSeries = Field(description="Cooling demand per step [kW_th].")


def build_cooling_demand(spec: CoolingDemandSpec, ctx: BuildContext) -> None:
    ctx.add_data(f"{spec.name}.cooling_kw", ctx.series(spec.cooling_kw), bus=COOLING, sign=-1, role=COOLING_DEMAND)


def baseline_cooling_demand(spec: CoolingDemandSpec, state: BaselineState) -> None:
    state.add_demand(f"{spec.name}.cooling_kw", spec.cooling_kw, COOLING)


# --- chiller ---------------------------------------------------------------------------------


class ChillerSpec(AssetSpec):
    """An electric chiller making chilled water and, optionally, ice."""

    kind: Literal["chiller"] = "chiller"
    cooling_capacity_kw: PositiveFloat = Field(description="Rated cooling output in chilled-water mode [kW_th].")
    chilled_water_cop: PositiveFloat = Field(
        description="Cooling out per electricity in, chilled-water mode (typically 5.5-6.3)."
    )
    ice_cop: PositiveFloat | None = Field(
        None, description="Cooling out per electricity in, ice-making mode (typically 3.5-4.2); none: no ice mode."
    )
    ice_capacity_derate_frac: Fraction = Field(
        0.32,
        description="Capacity lost in ice-making mode, fraction of the chilled-water capacity (typically 0.30-0.35).",
    )
    min_load_frac: Fraction = Field(
        0.0,
        description="Lowest output when running, fraction of the running mode's full capacity; above 0 adds on/off.",
    )
    start_cost_cny: NonNegFloat = Field(0.0, description="Cost per start (wear, start-up losses) [CNY].")
    min_up_minutes: NonNegFloat = Field(0.0, description="Shortest run once started [min].")
    min_down_minutes: NonNegFloat = Field(0.0, description="Shortest stop once stopped [min].")
    initial_on: bool = Field(False, description="Running just before the horizon starts (a run at step 0 is no start).")
    initial_minutes_in_state: NonNegFloat | None = Field(
        None, description="How long the chiller has been in its initial state [min]; default: long enough."
    )
    ramp_up_kw_per_h: RampRate | None = Field(
        None, description="Largest rise of chilled-water output per hour while running [kW_th/h]; none: no limit."
    )
    ramp_down_kw_per_h: RampRate | None = Field(
        None, description="Largest fall of chilled-water output per hour while running [kW_th/h]; none: no limit."
    )
    initial_cooling_kw: NonNegFloat | None = Field(
        None,
        description="Chilled-water output just before the horizon starts [kW_th], for the ramp limits; "
        "default: unknown.",
    )
    availability_frac: NonNegSeries | None = Field(
        None, description="Share of the capacity available per step (0 = out of service, 1 = all); default: 1."
    )
    off_in_bands: list[str] = Field(
        default_factory=list,
        description="TOU bands (e.g. ['sharp', 'peak']) in which the chiller must be off; needs a grid tariff.",
    )
    outdoor_temperature_c: CelsiusSeries | None = Field(
        None,
        description=(
            "Outdoor temperature on the condenser side per step [degC], e.g. the site's $inputs.outdoor_temperature_c: "
            "the COPs then move with the temperature lift (constant Carnot fraction); none: constant COPs. For a "
            "water-cooled chiller give the cooling-water (or wet-bulb) temperature."
        ),
    )
    rated_outdoor_temperature_c: Celsius = Field(
        35.0,
        description=(
            "Outdoor temperature the COPs are rated at [degC]: 35 dry bulb for an air-cooled chiller (GB/T 18430.1; "
            "AHRI 550/590: 95 F), 30 cooling-water inlet for a water-cooled one."
        ),
    )
    condensing_approach_k: float = Field(
        15.0,
        ge=0.0,
        le=40.0,
        allow_inf_nan=False,
        description="Condensing temperature above the outdoor temperature [K]: air-cooled 10-20, water 5-8 [est].",
    )
    min_condensing_temperature_c: Celsius = Field(
        30.0, description="Lowest condensing temperature, the head-pressure control's floor [degC]: 25-35 [est]."
    )
    evaporating_temperature_c: Celsius = Field(
        2.0, description="Evaporating temperature in chilled-water mode [degC]: 7 degC supply water less 5 K [est]."
    )
    ice_evaporating_temperature_c: Celsius = Field(
        -10.0, description="Evaporating temperature in ice mode [degC]: -5 degC glycol less 5 K [est]."
    )

    @field_validator("availability_frac")
    @classmethod
    def _availability_at_most_one(cls, value: float | list[float] | None) -> float | list[float] | None:
        values = [] if value is None else [value] if isinstance(value, (int, float)) else value
        if any(v > 1.0 for v in values):
            raise ValueError(f"availability_frac is a share of the capacity and must be at most 1, got {max(values)}")
        return value

    @model_validator(mode="after")
    def _initial_output_fits(self) -> ChillerSpec:
        require_output_within(self, "initial_cooling_kw", "cooling_capacity_kw")
        return self

    @model_validator(mode="after")
    def _ice_mode_consistent(self) -> ChillerSpec:
        if self.ice_cop is not None:
            if self.ice_cop > self.chilled_water_cop:
                raise SpecError(
                    f"{self.ice_cop} is above chilled_water_cop {self.chilled_water_cop}: "
                    "making ice runs at a lower evaporating temperature and cannot be more efficient",
                    field="ice_cop",
                )
            if self.ice_capacity_derate_frac >= 1.0:
                raise SpecError(
                    "must be below 1 (ice mode would have no capacity)",
                    field="ice_capacity_derate_frac",
                )
        return self

    @model_validator(mode="after")
    def _temperatures_consistent(self) -> ChillerSpec:
        warmest = max(self.evaporating_temperature_c, self.ice_evaporating_temperature_c)
        if self.min_condensing_temperature_c - warmest < MIN_LIFT_K:
            raise SpecError(
                f"{self.min_condensing_temperature_c} degC leaves less than {MIN_LIFT_K:g} K of lift over the "
                f"evaporating temperature {warmest} degC",
                field="min_condensing_temperature_c",
                related=("evaporating_temperature_c", "ice_evaporating_temperature_c"),
            )
        if self.ice_evaporating_temperature_c > self.evaporating_temperature_c:
            raise SpecError(
                f"{self.ice_evaporating_temperature_c} degC is above evaporating_temperature_c "
                f"{self.evaporating_temperature_c} degC: making ice needs a colder evaporator",
                field="ice_evaporating_temperature_c",
            )
        return self

    @property
    def has_ice_mode(self) -> bool:
        return self.ice_cop is not None

    def condensing_temperature_c(self, outdoor_c: np.ndarray | float) -> np.ndarray:
        """Condensing temperature [degC] at an outdoor temperature: ``max(outdoor + approach, min_condensing)``."""
        outdoor = np.asarray(outdoor_c, dtype=float)
        return np.maximum(outdoor + self.condensing_approach_k, self.min_condensing_temperature_c)

    def cops(self, n_steps: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Chilled-water and ice COP per step (the constants without ``outdoor_temperature_c``; ice None without an
        ice mode): ``cop * (T_cond_rated - T_evap) / (T_cond[t] - T_evap)``, at most :data:`MAX_COP`."""
        rated = float(self.condensing_temperature_c(self.rated_outdoor_temperature_c))
        outdoor = self.outdoor_temperature_c
        condensing = None if outdoor is None else self.condensing_temperature_c(as_array(outdoor, n_steps))

        def cop(at_rating: float, evaporating_c: float) -> np.ndarray:
            if condensing is None:
                return np.full(n_steps, at_rating)
            return np.minimum(at_rating * (rated - evaporating_c) / (condensing - evaporating_c), MAX_COP)

        chilled = cop(self.chilled_water_cop, self.evaporating_temperature_c)
        ice = None if self.ice_cop is None else cop(self.ice_cop, self.ice_evaporating_temperature_c)
        return chilled, ice

    @property
    def ice_capacity_kw(self) -> float:
        """Cooling output in ice mode at full load [kW_th]."""
        return self.cooling_capacity_kw * (1.0 - self.ice_capacity_derate_frac)

    def needs_on_off(self, step_minutes: int) -> bool:
        """Whether the chiller needs on/off binaries (else it is a continuous LP unit)."""
        return (
            self.has_ice_mode
            or self.min_load_frac > 0.0
            or self.start_cost_cny > 0.0
            or minutes_to_steps(self.min_up_minutes, step_minutes) > 1
            or minutes_to_steps(self.min_down_minutes, step_minutes) > 1
        )


def banned_steps(spec: ChillerSpec, ctx: BuildContext) -> np.ndarray:
    """Boolean per step: the step's TOU band is in ``spec.off_in_bands``."""
    if not spec.off_in_bands:
        return np.zeros(ctx.n_steps, dtype=bool)
    if ctx.grid is None or ctx.grid.bands is None:
        source = "there is no grid" if ctx.grid is None else f"grid {ctx.grid.name!r} has prices per step, no tariff"
        raise SpecError(
            f"{spec.off_in_bands} needs TOU bands from a grid tariff, but {source}",
            asset=spec.name,
            field="off_in_bands",
        )
    grid_spec = next(a for a in ctx.problem.assets if a.name == ctx.grid.name)
    assert isinstance(grid_spec, GridSpec) and grid_spec.tariff is not None
    known = set(grid_spec.tariff.band_prices_cny_per_kwh)
    unknown = sorted(set(spec.off_in_bands) - known)
    if unknown:
        raise SpecError(f"{unknown} are not bands of the tariff {sorted(known)}", asset=spec.name, field="off_in_bands")
    return np.isin(ctx.grid.bands, spec.off_in_bands)


def build_chiller(spec: ChillerSpec, ctx: BuildContext) -> None:
    n = spec.name
    steps = ctx.steps
    block = ctx.block(n)
    cap = spec.cooling_capacity_kw
    avail = np.ones(ctx.n_steps) if spec.availability_frac is None else ctx.series(spec.availability_frac)
    allowed = np.where(banned_steps(spec, ctx), 0.0, avail)

    cop, ice_cop = spec.cops(ctx.n_steps)
    block.cooling_kw = pyo.Var(steps, bounds=lambda _, t: (0.0, cap * allowed[t]))
    electricity = {t: block.cooling_kw[t] / float(cop[t]) for t in steps}
    max_power_kw = cap * allowed / cop
    ctx.add_flow(f"{n}.cooling_kw", block.cooling_kw, bus=COOLING, sign=+1, role=COOLING_PRODUCTION)
    if spec.outdoor_temperature_c is not None:
        ctx.add_data(f"{n}.cop", cop)
    if spec.has_ice_mode:
        assert ice_cop is not None
        cap_ice = spec.ice_capacity_kw
        block.ice_kw = pyo.Var(steps, bounds=lambda _, t: (0.0, cap_ice * allowed[t]))
        electricity = {t: electricity[t] + block.ice_kw[t] / float(ice_cop[t]) for t in steps}
        max_power_kw = max_power_kw + cap_ice * allowed / ice_cop
        ctx.add_flow(f"{n}.ice_kw", block.ice_kw, bus=ICE, sign=+1, role=COOLING_PRODUCTION)
        if spec.outdoor_temperature_c is not None:
            ctx.add_data(f"{n}.ice_cop", ice_cop)

    block.power_kw = pyo.Var(steps, bounds=lambda _, t: (0.0, float(max_power_kw[t])))
    block.power_balance = pyo.Constraint(steps, rule=lambda b, t: b.power_kw[t] == electricity[t])
    ctx.add_flow(f"{n}.power_kw", block.power_kw, bus=ELECTRICITY, sign=-1, role=COOLING_ELECTRICITY)

    unit = add_chiller_commitment(spec, block, ctx, allowed) if spec.needs_on_off(ctx.horizon.step_minutes) else None
    add_unit_ramp_limits(spec, block, ctx, block.cooling_kw, unit, spec.initial_cooling_kw, capacity_kw=cap)


def add_chiller_commitment(spec: ChillerSpec, block: pyo.Block, ctx: BuildContext, allowed: np.ndarray) -> Commitment:
    """The chiller's on/off (and ice mode): start cost, minimum load and times, availability, banned bands."""
    n = spec.name
    steps = ctx.steps
    cap = spec.cooling_capacity_kw
    unit = add_commitment(
        block,
        ctx,
        min_up_steps=minutes_to_steps(spec.min_up_minutes, ctx.horizon.step_minutes),
        min_down_steps=minutes_to_steps(spec.min_down_minutes, ctx.horizon.step_minutes),
        initial_on=spec.initial_on,
        initial_steps_in_state=steps_in_state(spec.initial_minutes_in_state, ctx.horizon.step_minutes),
        available=allowed,
    )
    ctx.add_flow(f"{n}.on", unit.on)
    ctx.add_flow(f"{n}.starts", unit.start, role=UNIT_START)
    ctx.add_switched_supply(COOLING, f"{n}.cooling_kw", unit.on, cap * allowed)
    # add_linear_cost multiplies by dt_h; a start is counted per step, not per hour.
    ctx.add_linear_cost("start_up", f"{n}.starts", np.full(ctx.n_steps, spec.start_cost_cny / ctx.dt_h))
    low = spec.min_load_frac
    if spec.has_ice_mode:
        block.ice_mode = pyo.Var(steps, domain=pyo.Binary)
        block.one_mode = pyo.Constraint(steps, rule=lambda b, t: b.ice_mode[t] <= unit.on[t])
        ctx.add_flow(f"{n}.ice_mode", block.ice_mode)
        cap_ice = spec.ice_capacity_kw
        block.ice_max = pyo.Constraint(steps, rule=lambda b, t: b.ice_kw[t] <= cap_ice * allowed[t] * b.ice_mode[t])
        if low > 0:
            block.ice_min = pyo.Constraint(steps, rule=lambda b, t: b.ice_kw[t] >= low * cap_ice * b.ice_mode[t])

        def chilled_water_mode(b: pyo.Block, t: int) -> Any:
            return unit.on[t] - b.ice_mode[t]

        def finalize(c: BuildContext) -> None:
            if not any(sign < 0 for _, sign in c.bus_terms.get(ICE, [])):  # no ice tank: no ice mode
                for t in steps:
                    block.ice_mode[t].fix(0)

        ctx.finalizers.append(finalize)
    else:

        def chilled_water_mode(b: pyo.Block, t: int) -> Any:
            return unit.on[t]

    block.cooling_max = pyo.Constraint(
        steps, rule=lambda b, t: b.cooling_kw[t] <= cap * allowed[t] * chilled_water_mode(b, t)
    )
    if low > 0:
        block.cooling_min = pyo.Constraint(
            steps, rule=lambda b, t: b.cooling_kw[t] >= low * cap * chilled_water_mode(b, t)
        )
    return unit


def baseline_chiller(spec: ChillerSpec, state: BaselineState) -> None:
    """Rule: cover the cooling deficit in chilled-water mode up to the available capacity."""
    n = spec.name
    n_steps = state.horizon.n_steps
    avail = np.ones(n_steps) if spec.availability_frac is None else state.series(spec.availability_frac)
    deficit = state.bus(COOLING)
    cop, ice_cop = spec.cops(n_steps)
    cooling = np.minimum(np.maximum(deficit, 0.0), spec.cooling_capacity_kw * avail)
    power = cooling / cop
    deficit -= cooling
    state.net_kw += power
    state.columns[f"{n}.cooling_kw"] = cooling
    state.columns[f"{n}.power_kw"] = power
    if spec.outdoor_temperature_c is not None:
        state.columns[f"{n}.cop"] = cop
    if spec.has_ice_mode:
        state.columns[f"{n}.ice_kw"] = np.zeros(n_steps)
        state.columns[f"{n}.ice_mode"] = np.zeros(n_steps)
        if ice_cop is not None and spec.outdoor_temperature_c is not None:
            state.columns[f"{n}.ice_cop"] = ice_cop
    if spec.needs_on_off(state.horizon.step_minutes):
        on = (cooling > 0).astype(float)
        previous = np.r_[1.0 if spec.initial_on else 0.0, on[:-1]]
        state.columns[f"{n}.on"] = on
        state.columns[f"{n}.starts"] = np.maximum(on - previous, 0.0)
    below_min = int(np.sum((cooling > 1e-9) & (cooling < spec.min_load_frac * spec.cooling_capacity_kw - 1e-9)))
    if below_min:
        state.warnings.append(
            f"the rule-based baseline runs {n} below its min load at {below_min} steps of {n_steps} "
            f"(under {100 * spec.min_load_frac:g} % of its {spec.cooling_capacity_kw:,.0f} kW_th, where a real "
            "chiller would cycle on and off): it is a simple rule to compare against, not a feasible plan there"
        )
    # Chillers run one after the other: only the last one's view of what is left unmet is kept.
    state.warnings[:] = [w for w in state.warnings if not w.startswith(BASELINE_UNMET_COOLING)]
    unmet_kwh = float(np.maximum(deficit, 0.0).sum() * state.dt_h)
    if unmet_kwh > 1e-6:
        steps = int(np.sum(deficit > 1e-9))
        state.warnings.append(
            f"{BASELINE_UNMET_COOLING}: {unmet_kwh:.1f} kWh_th unmet at {steps} steps "
            "(more than its chillers give there): its cost and emissions leave that cooling out"
        )


# --- cold tank -------------------------------------------------------------------------------


class ColdTankSpec(AssetSpec):
    """A chilled-water or ice store discharging to the cooling bus."""

    kind: Literal["cold_tank"] = "cold_tank"
    medium: Literal["chilled_water", "ice"] = Field(
        "chilled_water",
        description="chilled_water: charged from the cooling bus; ice: charged only by chillers in ice mode.",
    )
    capacity_kwh: PositiveFloat = Field(description="Usable cold content [kWh_th].")
    charge_power_kw: NonNegFloat = Field(description="Maximum charging rate [kW_th].")
    discharge_power_kw: NonNegFloat = Field(description="Maximum discharging rate [kW_th].")
    standing_loss_frac_per_h: Fraction = Field(
        DEFAULT_STANDING_LOSS_FRAC_PER_H,
        description="Cold lost per hour as a fraction of content; default 2 % per day (typical 1-3 %/day).",
    )
    initial_level_frac: Fraction = Field(0.0, description="Content at the horizon start, fraction of capacity.")
    end_level_frac: Fraction | None = Field(
        None, description="Content at least this at the horizon end, fraction of capacity; default: the initial level."
    )

    @property
    def charge_bus(self) -> str:
        return ICE if self.medium == "ice" else COOLING


def _tank_limits(spec: ColdTankSpec) -> StoreLimits:
    return tank_limits(spec)


def build_cold_tank(spec: ColdTankSpec, ctx: BuildContext) -> None:
    add_store(ctx.block(spec.name), ctx, _tank_limits(spec), charge_bus=spec.charge_bus, discharge_bus=COOLING)


def baseline_cold_tank(spec: ColdTankSpec, state: BaselineState) -> None:
    """Rule: the tank stays idle; its content only decays by the standing loss."""
    idle_store_baseline(state, spec.name, _tank_limits(spec))
