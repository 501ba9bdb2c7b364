"""What every asset shares: the spec base class and the build context.

An asset builder receives its spec and a :class:`BuildContext`. It adds a Pyomo
``Block`` named after the asset and *registers* what the rest of the model needs:

- flows: per-step quantities (Pyomo vars or expressions) with a schedule column
  (``"battery.charge_kw"``), optionally on a bus with a sign and with a role
  (``"pv_output"``, ``"grid_import"``...) that targets and KPIs aggregate;
- cost terms: a Pyomo expression plus the same cost evaluated on a schedule, so
  KPIs recomputed from the schedule use exactly the objective's coefficients;
- emission terms per accounting method (location- or market-based);
- finalizers, run after every asset is built, for constraints that need the
  whole picture (e.g. green purchases may not exceed metered import);
- switched supplies (units with an on/off state feeding a bus), for the cover
  cuts of :mod:`optimizer.cover_cuts`.

Nothing outside an asset's module writes that asset's constraints.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, get_args

import numpy as np
import pandas as pd
import pyomo.core as pyo
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pyomo.contrib.fbbt.fbbt import compute_bounds_on_expr

from optimizer.errors import SpecError
from optimizer.horizon import Horizon
from optimizer.limits import unit_limit_error
from optimizer.parameters import Parameter, as_values
from optimizer.types import SERIES, as_array

if TYPE_CHECKING:
    from optimizer.problem import DispatchProblem

Accounting = Literal["location", "market"]
ACCOUNTINGS: tuple[Accounting, ...] = ("location", "market")


def _mentions_series(annotation: Any) -> bool:
    """True when a (possibly optional) annotation contains a ``Series`` type."""
    if SERIES in getattr(annotation, "__metadata__", ()):
        return True
    return any(_mentions_series(arg) for arg in get_args(annotation))


class AssetSpec(BaseModel):
    """Base of every asset spec: a unique name and a ``kind`` discriminator."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # a kind's validator is built when first used

    ALTERNATIVES: ClassVar[tuple[tuple[str, ...], ...]] = ()
    """Groups of fields of which exactly one is given (a tariff or a price series): a change that sets one of them
    clears the others (:func:`scenarios.compile.asset_fields`, scenario overrides)."""

    WINDOW: ClassVar[tuple[str, ...]] = ()
    """An energy window's start field, then its end fields (a fleet's ``available_until`` and ``deadline``); empty
    for kinds without one. Only these time fields take clock times in a site, and an end at or before the start
    is on the next day (``"22:00"`` to ``"06:00"``). Such a kind has ``energy_kwh``, ``min_energy_kwh``,
    ``carried_energy_kwh``, ``carried_until``, ``most_kwh(start, end)`` and ``cut_at(end)``: the compile path cuts
    a window at a period's end and carries what is still owed to the next period
    (:class:`optimizer.state.WindowEnergyState`, :mod:`optimizer.assets.flexible_load`)."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", description="Unique asset name, used in column names.")

    @model_validator(mode="after")
    def _within_unit_limits(self) -> AssetSpec:
        """Every number within the bound of the unit its field's name ends in (``_kw``, ``_kwh``,
        ``_cny_per_kwh``...: :data:`optimizer.limits.UNIT_LIMITS`; 1e12 without one), so that no number typed by
        mistake reaches the model; the error names the field and the step (``power_kw.3``)."""
        breach = unit_limit_error(self)
        if breach is not None:
            raise SpecError(breach.message, field=breach.path, step=breach.step, code="out_of_range")
        return self

    def series_fields(self) -> dict[str, float | list[float]]:
        """The fields that are horizon series (for generic length checks)."""
        return {
            name: getattr(self, name)
            for name, info in type(self).model_fields.items()
            if (SERIES in info.metadata or _mentions_series(info.annotation)) and getattr(self, name) is not None
        }

    def check_horizon(self, horizon: Horizon) -> None:
        """Raises ``ValueError`` naming the field when the spec does not fit ``horizon`` (default: no check)."""


@dataclass
class Flow:
    """A per-step quantity with its schedule column: a Pyomo var/expression, or fixed data."""

    column: str
    component: Any  # Pyomo Var/Expression indexed by the model's steps, or an ndarray for data
    role: str | None = None
    parameter: Parameter | None = None
    """For data a re-used model takes anew (:mod:`optimizer.parameters`): ``component`` is its ``values``."""

    @property
    def is_data(self) -> bool:
        return isinstance(self.component, np.ndarray)


@dataclass
class CostTerm:
    """One objective term; ``evaluate`` recomputes it from a schedule [CNY]."""

    component: str  # cost-breakdown bucket: "grid_energy", "demand_charge", ...
    expr: Any
    evaluate: Callable[[pd.DataFrame], float]


@dataclass
class EmissionTerm:
    """Emissions = sum over steps of ``kgco2_per_kwh * column * dt_h`` [kgCO2]."""

    accounting: Accounting
    source: str  # "grid", "gas", ...
    column: str
    kgco2_per_kwh: np.ndarray


@dataclass
class SwitchedSupply:
    """A bus supply by ``units`` switched units: ``column[t] <= capacity_per_unit[t] * on[t]``."""

    column: str
    on: Any  # Pyomo var indexed by step: units running (binary for one unit)
    capacity_per_unit: np.ndarray
    units: int = 1


@dataclass
class GridPort:
    """What other assets may reference of the grid connection: metered import and its price."""

    name: str
    import_kw: Any
    import_price_cny_per_kwh: np.ndarray
    market_kgco2_per_kwh: float
    bands: np.ndarray | None = None  # TOU band name per step, when the price comes from a tariff


@dataclass
class BuildContext:
    """Registry of flows, bus terms, costs and emissions for one model build."""

    problem: DispatchProblem
    model: pyo.ConcreteModel
    flows: dict[str, Flow] = field(default_factory=dict)
    bus_terms: dict[str, list[tuple[str, float]]] = field(default_factory=lambda: defaultdict(list))
    costs: list[CostTerm] = field(default_factory=list)
    emissions: list[EmissionTerm] = field(default_factory=list)
    scalars: dict[str, Any] = field(default_factory=dict)
    finalizers: list[Callable[[BuildContext], None]] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    import_price_options: list[np.ndarray] = field(default_factory=list)
    switched_supplies: dict[str, list[SwitchedSupply]] = field(default_factory=lambda: defaultdict(list))
    implied_cuts: bool = True  # add rows implied at integral points that tighten the LP relaxation
    grid: GridPort | None = None
    parameters: dict[str, Parameter] = field(default_factory=dict)
    """Data a re-used model takes anew, by ``<asset>.<name>`` (:mod:`optimizer.parameters`)."""
    symbolic_parameters: bool = False
    """Whether those enter the model as Pyomo parameters (a model kept for re-use) or as numbers."""

    @property
    def horizon(self) -> Horizon:
        return self.problem.horizon

    @property
    def n_steps(self) -> int:
        return self.problem.horizon.n_steps

    @property
    def dt_h(self) -> float:
        return self.problem.horizon.dt_h

    @property
    def steps(self) -> Any:
        """The model's step set (0 .. n_steps-1)."""
        return self.model.T

    def energy_burning_pays(self) -> bool:
        """Whether wasting electricity (e.g. in storage losses) can lower the objective.

        True when something rewards consumption: a target that counts losses as
        self-consumed PV (PV self-consumption, green share), a negative effective
        price of any import option, a negative export price, or PV that cannot be
        curtailed. Call it from finalizers, once every asset and target is built.
        """
        if "burning_energy_pays" in self.flags:
            return True
        return any(np.any(option < 0) for option in self.import_price_options)

    def series(self, value: float | list[float]) -> np.ndarray:
        """A series input as an array over the horizon."""
        return as_array(value, self.n_steps)

    def take_parameters(self, asset: str, data: dict[str, Any]) -> dict[str, Parameter]:
        """Registers an asset's ``parameters(spec, problem)`` (its kind's data that may change between problems of
        one shape) and returns them by name."""
        taken = {
            name: Parameter(f"{asset}.{name}", as_values(values), self.model, self.symbolic_parameters)
            for name, values in data.items()
        }
        for parameter in taken.values():
            if parameter.key in self.parameters:
                raise ValueError(f"parameter {parameter.key!r} registered twice")
            self.parameters[parameter.key] = parameter
        return taken

    def block(self, name: str) -> pyo.Block:
        """A new Pyomo block named after the asset."""
        block = pyo.Block()
        self.model.add_component(name, block)
        return block

    def add_flow(
        self,
        column: str,
        component: Any,
        *,
        bus: str | None = None,
        sign: float = 1.0,
        role: str | None = None,
    ) -> None:
        """Register a per-step quantity; on ``bus`` it supplies (+1) or draws (-1)."""
        if column in self.flows:
            raise ValueError(f"column {column!r} registered twice")
        self.flows[column] = Flow(column, component, role)
        if bus is not None:
            self.bus_terms[bus].append((column, sign))

    def add_data(
        self,
        column: str,
        values: np.ndarray | Parameter,
        *,
        bus: str | None = None,
        sign: float = 1.0,
        role: str | None = None,
    ) -> None:
        """Register a fixed per-step input (a load, a price) as a schedule column; a :class:`Parameter` enters the
        model as its Pyomo parameters."""
        self.add_flow(column, _data_of(values), bus=bus, sign=sign, role=role)
        if isinstance(values, Parameter):
            self.flows[column].parameter = values

    def flow_at(self, column: str, t: int) -> Any:
        """A flow at step ``t``: its Pyomo var/expression, a float for data, a Pyomo parameter for a
        :class:`Parameter`."""
        flow = self.flows[column]
        if flow.parameter is not None:
            return flow.parameter.at(t)
        component = flow.component
        return float(component[t]) if isinstance(component, np.ndarray) else component[t]

    def add_switched_supply(
        self, bus: str, column: str, on: Any, capacity_per_unit: float | np.ndarray, units: int = 1
    ) -> None:
        """Declare that ``column`` (a supply already on ``bus``) comes from switched units (for cover cuts)."""
        if (column, 1.0) not in [(c, float(s)) for c, s in self.bus_terms[bus]]:
            raise ValueError(f"{column!r} is not a supply on the {bus} bus")
        capacity = np.broadcast_to(np.asarray(capacity_per_unit, dtype=float), (self.n_steps,))
        self.switched_supplies[bus].append(SwitchedSupply(column, on, capacity, units))

    def flow_bounds(self, column: str, t: int) -> tuple[float, float]:
        """Bounds of ``column`` at step ``t`` from its data or variable bounds (``-inf``/``inf`` when unknown)."""
        component = self.flows[column].component
        if isinstance(component, np.ndarray):
            return float(component[t]), float(component[t])
        item = component[t]
        if getattr(item, "is_variable_type", lambda: False)():
            low, high = (item.value, item.value) if item.fixed else (item.lb, item.ub)
        else:
            low, high = compute_bounds_on_expr(item)
        return (-math.inf if low is None else float(low), math.inf if high is None else float(high))

    def net_bounds(self, bus: str, t: int, exclude: set[str]) -> tuple[float, float]:
        """Bounds of ``sum(sign * flow[t])`` over the bus's terms except ``exclude``, from the flows' bounds.

        Used for tight big-M values and cover cuts; ``-inf``/``inf`` where a term is unbounded.
        """
        low = high = 0.0
        for column, sign in self.bus_terms.get(bus, []):
            if column in exclude:
                continue
            lower, upper = self.flow_bounds(column, t)
            low += sign * (lower if sign > 0 else upper)
            high += sign * (upper if sign > 0 else lower)
        return low, high

    def flows_with_role(self, role: str) -> list[Flow]:
        return [f for f in self.flows.values() if f.role == role]

    def role_columns(self, role: str) -> list[str]:
        return [f.column for f in self.flows.values() if f.role == role]

    def role_sum(self, role: str, t: int) -> Any:
        """Sum of the flows with ``role`` at step ``t`` (0 when there are none)."""
        return sum(f.component[t] for f in self.flows_with_role(role))

    def add_linear_cost(
        self, component: str, column: str, cny_per_kwh: np.ndarray | Parameter, sign: float = 1.0
    ) -> None:
        """Cost = sum_t sign * cny_per_kwh[t] * column[t] * dt_h, registered for objective and KPIs.

        A :class:`Parameter` price enters the objective as its Pyomo parameters at every step (zero or not: the
        model's structure may not depend on its values), and the KPI reads its current values."""
        if isinstance(cny_per_kwh, Parameter):
            if cny_per_kwh.symbolic:
                self._add_parameter_cost(component, column, cny_per_kwh, sign)
                return
            cny_per_kwh = cny_per_kwh.values
        coef = sign * np.asarray(cny_per_kwh, dtype=float) * self.dt_h
        if not np.any(coef):
            return
        var = self.flows[column].component
        expr = sum(float(c) * var[t] for t, c in enumerate(coef) if c != 0.0)
        if self.flows[column].is_data:
            expr = float(expr)
        self.costs.append(CostTerm(component, expr, lambda s: float(np.dot(coef, s[column].to_numpy()))))

    def _add_parameter_cost(self, component: str, column: str, price: Parameter, sign: float) -> None:
        var = self.flows[column].component
        if self.flows[column].is_data:
            raise ValueError(f"a parameter price on data column {column!r}")
        factor = sign * self.dt_h
        expr = sum((factor * price.at(t)) * var[t] for t in self.steps)
        self.costs.append(
            CostTerm(component, expr, lambda s: factor * float(np.dot(price.values, s[column].to_numpy())))
        )

    def add_emission(self, accounting: Accounting, source: str, column: str, kgco2_per_kwh: np.ndarray) -> None:
        """Register emissions of a flow under one accounting method [kgCO2/kWh]."""
        self.emissions.append(EmissionTerm(accounting, source, column, np.asarray(kgco2_per_kwh, dtype=float)))

    def emission_expr(self, accounting: Accounting, t: int) -> Any:
        """Emissions at step ``t`` [kgCO2] as a Pyomo expression."""
        return sum(
            float(e.kgco2_per_kwh[t]) * self.dt_h * self.flows[e.column].component[t]
            for e in self.emissions
            if e.accounting == accounting and e.kgco2_per_kwh[t] != 0.0
        )


def _data_of(values: np.ndarray | Parameter) -> np.ndarray:
    return values.values if isinstance(values, Parameter) else np.asarray(values, dtype=float)


Builder = Callable[[Any, BuildContext], None]


ACROSS_MIDNIGHT_HINT = (
    "; give the end as a datetime after the start, or, in a site, as clock times: those may cross midnight "
    '("22:00" to "06:00" ends at 06:00 the next morning)'
)
"""Added to an end-before-start error of a spec's own (tz-aware) times: those are instants, so an end before the
start is wrong; clock times in a site are resolved per day, an end at or before the start on the next day."""
