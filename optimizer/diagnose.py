"""Diagnosis of infeasible problems by an elastic re-solve, in comparable units.

An infeasible problem is re-solved with every constraint row and every *limit* among the variable bounds made
elastic: each may be missed by a non-negative slack, and a weighted sum of the slacks is minimised. What has to
give is reported (:class:`Violation`) by group (``battery.end_level``, ``grid.import_kw``...), step, timestamp,
amount in the constraint's own unit, and for limits the asset and the spec field that sets them, so the user sees
*what* cannot be met *when*, and which setting to change.

What gives, in three kinds (weights per unit of slack, in the slack's own unit):

- **limit**, ``LIMIT_WEIGHT / size``: a setting a person chooses, stated as a variable bound or a row: the grid's
  ``import_limit_kw`` and ``export_limit_kw``, a green contract's or a heat connection's ``max_kw``, a store's
  charge and discharge power, level window and end level, a battery's reserve, a flexible load's energy, window
  and maximum power, a target, a minimum load or run time (``_LIMIT_FIELDS``), and any row of a kind this module
  does not know. The weight makes a slack the *fraction of the setting's size* by which it changes: the size is a
  bound's largest magnitude over the variable (the asset's size: the import limit, the store's power or level),
  or a row's right-hand side (the end level, the energy to draw), or, for a row whose right-hand side is 0, half
  the sum of its terms' largest magnitudes (the size of one side). One setting applies at every step, so its
  uses (the bound at each step, and a row that restates it on the steps with an exclusivity binary) share one
  amount: the objective counts the largest of their slacks (the L-infinity norm), i.e. how far the *setting*
  must move, not how often it binds. So 30 kW missing at 40 steps costs as much as at one step, and a limit is
  comparable with an end level or an energy target, each being a fraction of its own size.
- **balance**, ``BALANCE_WEIGHT / size``: a bus balance (``electricity_balance[t]``...), per step (L1), sized by
  the step's net demand. Missing one means demand not met, or supply with nowhere to go: the demand is a
  forecast and the bus's own equipment is what it is (the capacities of boilers, heat pumps, chillers and
  compressors are not relaxed: with several units none is the one to blame), so the balance is named when no
  setting can explain the gap,
  and the setting when one can (a grid import limit 30 kW short is the limit, not the compressed-air balance the
  compressors' electricity eventually reaches). 100 times a limit: for a gap of x, a limit of size L costs x / L
  and the balance x * 100 / demand, so the setting is named unless its relative change would be more than 100
  times the share of the step's demand missed.
- **definition**, ``DEFINITION_WEIGHT / size``: rows that hold by physics or by the model's construction (a
  store's level balance, power curves, conversions, on/off logic: ``_DEFINITIONS``), per index (L1). They are
  relaxed only so that the elastic model is always feasible; a diagnosis naming one points at a model gap.

Why not plain amounts (the former diagnosis): slacks in kW, m3/min, kWh and kgCO2 were summed as they were, so
the cheapest *unit* won (1 m3/min of air is about 6 kW of electricity, so the air balance was named for a grid
limit), bounds were not relaxed at all (a limit could never be named), and a per-step power slack counted once
per step. Why not costs in CNY: a price of breaking a physical limit or of unmet demand is a number nobody can
defend, while a fraction of a setting's own size is what a person changing it thinks in.

Integers stay integers (the elastic model is a MILP when the problem is): on/off, start and exclusivity
decisions are part of what is infeasible (a minimum run time, a load that runs in whole steps), and an LP
relaxation could be feasible where the problem is not. Their bounds (units available, fixed availability) and
bounds that are data (a PV forecast, flows that cannot be negative) stay hard.

Two passes: the first finds the least weighted change; where a setting binds at several steps, the other steps
may go up to its amount at no cost (a store charged from an import above the limit where the limit does not
bind), so a second pass (an LP with the integers fixed at the first pass's values, the first objective held)
minimises the slacks per step. Each row and bound is then reported with its own violation, measured on the
solution: the largest is the setting's amount, the others say where else it binds and by how much.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

import pyomo.core as pyo
from pydantic import BaseModel, Field
from pyomo.repn import generate_standard_repn

from optimizer.buses import COMPRESSED_AIR, COOLING, ELECTRICITY, HEAT, ICE, is_heat_bus
from optimizer.model import BuiltModel, build_model
from optimizer.problem import DispatchProblem
from optimizer.solve import SolveOptions, solve_model

VIOLATION_TOLERANCE = 1e-6
"""A slack at or below this times ``max(1, size)`` [the slack's unit] is solver tolerance, not a violation."""
OBJECTIVE_TOLERANCE = 1e-7
"""Relative room on the first pass's objective when the second pass spreads the slacks over the steps."""

LIMIT_WEIGHT = 1.0
"""Weight of a setting's change as a fraction of its size."""
BALANCE_WEIGHT = 100.0
"""Weight of a bus balance missed by a fraction of the step's demand: a setting is named first unless its relative
change would be more than 100 times that fraction."""
DEFINITION_WEIGHT = 1000.0
"""Weight of a definition missed by a fraction of its size: the last resort, after balances."""

Kind = Literal["limit", "balance", "definition"]
Side = Literal["upper", "lower"]
_KIND_WEIGHTS: dict[str, float] = {"limit": LIMIT_WEIGHT, "balance": BALANCE_WEIGHT, "definition": DEFINITION_WEIGHT}

_INDEX = re.compile(r"^(?P<group>[^\[]+)(\[(?P<index>[^\]]*)\])?$")

BUS_UNITS: dict[str, str] = {
    ELECTRICITY: "kW",
    HEAT: "kW_th",
    COOLING: "kW_th",
    ICE: "kW_th",
    COMPRESSED_AIR: "m3/min",
}
"""Unit of each bus's balance rows (:mod:`optimizer.buses`); heat at a named level (``heat_steam``) is kW_th too."""
_THERMAL_BUSES = {HEAT, COOLING, ICE}


def bus_unit(bus: str) -> str | None:
    """The unit of ``bus``'s balance rows (:data:`BUS_UNITS`; kW_th for every heat level)."""
    return BUS_UNITS.get(bus) or ("kW_th" if is_heat_bus(bus) else None)


def _thermal(bus: str) -> bool:
    return bus in _THERMAL_BUSES or is_heat_bus(bus)


_SUFFIX_UNITS = (
    ("_m3_per_min", "m3/min"),
    ("_nm3_per_h", "Nm3/h"),
    ("_kwh", "kWh"),
    ("_kw", "kW"),
    ("_m3", "m3"),
    ("_kgco2", "kgCO2"),
)
"""Units from the naming convention of variables (``docs/architecture.md``: units in names)."""

_STORE_POWER = {
    "charge_kw.upper": "charge_power_kw",
    "discharge_kw.upper": "discharge_power_kw",
    "charge_when_charging": "charge_power_kw",
    "discharge_when_not_charging": "discharge_power_kw",
}
_TANK = {**_STORE_POWER, "level_kwh.upper": "capacity_kwh", "end_level": "end_level_frac"}
_COMMITMENT = {"min_up": "min_up_minutes", "min_down": "min_down_minutes"}

_LIMIT_FIELDS: dict[str, dict[str, str]] = {
    "grid": {
        "import_kw.upper": "import_limit_kw",
        "import_when_not_exporting": "import_limit_kw",
        "export_kw.upper": "export_limit_kw",
        "export_when_exporting": "export_limit_kw",
    },
    "green_contract": {"power_kw.upper": "max_kw", "min_energy": "min_energy_kwh", "max_energy": "max_energy_kwh"},
    "purchased_heat": {"heat_kw.upper": "max_kw"},
    "battery": {
        **_STORE_POWER,
        "soc_kwh.upper": "soc_max_frac",
        "soc_kwh.lower": "soc_min_frac",
        "end_level": "end_soc_frac",
        "reserve_soc": "reserve_soc_frac",
    },
    "heat_tank": _TANK,
    "cold_tank": _TANK,
    "air_receiver": {
        "in_m3_per_min.upper": "max_flow_m3_per_min",
        "out_m3_per_min.upper": "max_flow_m3_per_min",
        "level_m3.upper": "capacity_m3",
        "end_level": "end_level_frac",
    },
    "energy_window_load": {
        "power_kw.upper": "max_power_kw",
        "energy": "energy_kwh",
        "carried": "carried_energy_kwh",
        "min_when_on": "min_power_kw",
    },
    "fleet_charging": {"power_kw.upper": "max_power_kw", "energy": "energy_kwh", "carried": "carried_energy_kwh"},
    "compressor": {"min_flow_when_on": "min_flow_frac", **_COMMITMENT},
    "chiller": {"cooling_min": "min_load_frac", "ice_min": "min_load_frac", **_COMMITMENT},
    "gas_boiler": {"min_when_on": "min_load_frac"},
}
"""Per asset kind, the settings this diagnosis names: ``"<variable>.upper"``/``"<variable>.lower"`` for a bound
(only these bounds are relaxed) and ``"<row>"`` for a row, each with the spec field that sets it. Uses with the
same field share one amount (see the module doc). Equipment capacities of boilers, heat pumps, chillers and
compressors are not listed: a bus their units cannot cover is named at its balance."""

_OUTSIDE_WINDOW: dict[tuple[str, str], str] = {
    ("energy_window_load", "power_kw"): "window_start, window_end",
    ("fleet_charging", "power_kw"): "available_from, deadline",
}
"""The fields named where a listed upper bound is below the variable's largest one (outside the window)."""

_TARGET_FIELDS = {
    "pv_self_consumption": "targets.pv_self_consumption.min_frac",
    "green_share": "targets.green_share.min_frac",
    "emission_cap": "targets.emission_cap.max_kgco2",
}

_ROW_UNITS = {
    "energy": "kWh",
    "carried": "kWh",
    "min_energy": "kWh",
    "max_energy": "kWh",
    "pv_self_consumption": "kWh",
    "green_share": "kWh",
    "emission_cap": "kgCO2",
}
"""Units of rows over horizon totals, whose terms are powers times hours."""

_DEFINITIONS = frozenset(
    {
        # stores (optimizer.assets.storage) and on/off rules (optimizer.assets.commitment)
        "level_balance",
        "transition",
        "start_only_when_on",
        "stop_only_when_off",
        # switched units: output within capacity times on (the capacity is part of the on/off rule)
        "flow_when_on",
        "cooling_max",
        "ice_max",
        "max_when_on",
        "one_mode",
        "after_identical_unit",
        # compressors' power curves and load/unload
        "power_on_curve",
        "power_above_segment",
        "one_segment_when_on",
        "segment_flow_low",
        "segment_flow_high",
        "flow_from_segments",
        "power_from_segments",
        "flow_from_loaded_share",
        "power_from_loaded_share",
        "cycling_distance_above",
        "cycling_distance_below",
        "cycling_loss_steep",
        "cycling_loss_flat",
        "cycling_loss_below_steep",
        "cycling_loss_below_flat",
        "cycling_distance_exact_above",
        "cycling_distance_exact_below",
        "heat_from_power",
        "dump_within_recovered",
        # conversions
        "power_balance",
        "conversion",
        "gas_use",
        "profile",
        # grid
        "peak_above_import",
        "green_within_import",
        "export_from_site",
        "import_to_site",
    }
)
"""Local names of rows that define a quantity rather than limit it."""


class Violation(BaseModel):
    """A constraint or bound that cannot hold, with the least amount by which it is missed."""

    constraint: str = Field(
        description="Full constraint name, e.g. 'electricity_balance[40]', or a variable's bound with its field, "
        "e.g. 'grid.import_kw[40] upper bound (import_limit_kw)'."
    )
    group: str = Field(
        description="Constraint group, e.g. 'electricity_balance' or 'battery.end_level', or the variable, e.g. "
        "'grid.import_kw'."
    )
    step: int | None = Field(None, description="Horizon step, when the constraint is per step.")
    timestamp: str | None = Field(None, description="Interval start of that step (ISO 8601).")
    amount: float = Field(description="Violation in the constraint's own unit (kW, kWh, kgCO2...).")
    unit: str | None = Field(None, description="Unit of amount where known: 'kW', 'kW_th', 'm3/min', 'kWh'...")
    kind: Kind | None = Field(
        None,
        description="limit: a setting (a bound or a row a spec field sets); balance: a bus balance; definition: a "
        "row that holds by physics or construction (named only when nothing else explains the infeasibility).",
    )
    bound: Side | None = Field(None, description="For a variable's bound: which one; None for a row.")
    asset: str | None = Field(None, description="The asset whose setting this is, when it is one asset's.")
    field: str | None = Field(
        None,
        description="The spec field that sets the limit, e.g. 'import_limit_kw' or 'targets.green_share.min_frac' "
        "(comma-separated where one of several does, e.g. a window's start or end).",
    )
    scale: float | None = Field(None, description="Size the amount is weighed against, in the amount's unit.")
    weight: float | None = Field(
        None, description="Weight per unit of amount in the elastic objective: the kind's factor / scale."
    )
    weighted_amount: float | None = Field(
        None, description="amount * weight: comparable across units; the violations are sorted by it."
    )


@dataclass
class _Use:
    """One elastic row or bound at one index, with what the report says about it."""

    constraint: str
    group: str
    index: Any
    kind: Kind
    unit: str | None
    scale: float
    key: tuple[str, ...]  # limits: uses with one key are one setting and share one amount
    asset: str | None = None
    field: str | None = None
    bound: Side | None = None
    expr: Any = None  # the row's original body, or the bounded variable
    lower: float | None = None  # the original lower side (a row's, or a lower bound)
    upper: float | None = None  # the original upper side
    over: Any = None  # slack raising the upper side [the use's unit]
    under: Any = None  # slack lowering the lower side

    def slack(self) -> float:
        """The slacks' values: at least the violation, and above it where the objective leaves them free."""
        return sum(float(s.value or 0.0) for s in (self.over, self.under) if s is not None)

    def violation(self) -> float:
        """By how much the solution misses the original row or bound [the use's unit]."""
        value = pyo.value(self.expr, exception=False)
        if value is None:  # a variable the solver did not see (in no active row): nothing to miss
            return 0.0
        below = self.lower - value if self.lower is not None else 0.0
        above = value - self.upper if self.upper is not None else 0.0
        return max(0.0, below, above)


def diagnose_infeasibility(problem: DispatchProblem, options: SolveOptions) -> list[Violation]:
    """The constraints and limits an elastic re-solve has to violate, largest weighted amount first."""
    built = build_model(problem, implied_cuts=False)  # implied rows would only blur which balance fails
    model = built.model
    model.objective.deactivate()
    rows = list(model.component_data_objects(pyo.Constraint, active=True, descend_into=True))
    naming = _Naming(built)
    uses = [naming.row_use(con) for con in rows] + naming.bound_uses()
    _make_elastic(model, rows, uses)
    groups = _limit_groups(uses)
    weights = {id(u): _KIND_WEIGHTS[u.kind] / u.scale for u in uses}
    model.elastic_objective = pyo.Objective(expr=_elastic_objective(model, uses, groups, weights))
    report = solve_model(model, options)
    if report.status not in ("optimal", "feasible"):
        return [Violation(constraint="(model)", group="(model)", amount=float("nan"))]
    if any(len(m) > 1 and max(u.slack() for u in m) > VIOLATION_TOLERANCE for m in groups.values()):
        _spread_over_steps(model, uses, weights, options)
    return _violations(uses, weights, problem)


class _Naming:
    """Group, asset, field, unit and size of each row and relaxed bound of a built model."""

    def __init__(self, built: BuiltModel) -> None:
        self.model = built.model
        self.ctx = built.ctx
        self.specs = {spec.name: spec for spec in built.problem.assets}
        self.column_of = {id(f.component): c for c, f in self.ctx.flows.items() if not f.is_data}
        self.bus_of = {c: bus for bus, terms in self.ctx.bus_terms.items() for c, _ in terms}
        self.thermal_assets = {c.partition(".")[0] for c, bus in self.bus_of.items() if _thermal(bus)}

    def _asset(self, component: Any) -> str | None:
        block = component.parent_block()
        return None if block is self.model else block.local_name

    def var_unit(self, var: Any) -> str | None:
        """A variable's unit: its bus's where it is a flow on one, else from its name's suffix."""
        component = var.parent_component()
        column = self.column_of.get(id(component))
        if column in self.bus_of:
            return bus_unit(self.bus_of[column])
        name = component.local_name
        unit = next((u for suffix, u in _SUFFIX_UNITS if name.endswith(suffix)), None)
        if unit in ("kW", "kWh") and self._asset(component) in self.thermal_assets:
            unit += "_th"
        return unit

    def row_use(self, con: Any) -> _Use:
        """A row's kind (balance, definition or limit), unit, size and, for a known setting, asset and field."""
        component = con.parent_component()
        local = component.local_name
        asset = self._asset(component)
        repn = generate_standard_repn(con.body, compute_values=True)
        match = _INDEX.match(con.name)
        group = match.group("group") if match else con.name
        bus = local.removesuffix("_balance")
        if asset is None and local.endswith("_balance") and bus in self.ctx.bus_terms:
            kind: Kind = "balance"
            unit = bus_unit(bus)
        else:
            kind = "definition" if local in _DEFINITIONS else "limit"
            unit = _ROW_UNITS.get(local) or next(
                (
                    u
                    for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True)
                    if abs(abs(c) - 1.0) < 1e-12 and (u := self.var_unit(v)) is not None
                ),
                None,
            )
        field = None
        if kind == "limit":
            if asset == "targets":
                field, asset = _TARGET_FIELDS.get(local), None
            elif asset in self.specs:
                field = _LIMIT_FIELDS.get(self.specs[asset].kind, {}).get(local)
        return _Use(
            constraint=con.name,
            group=group,
            index=con.index(),
            kind=kind,
            unit=unit,
            scale=_row_size(con, repn),
            key=(asset or "", field) if field is not None else (group,),  # a setting, or the row group's own
            asset=asset,
            field=field,
            expr=con.body,
            lower=None if con.lower is None else float(pyo.value(con.lower)),
            upper=None if con.upper is None else float(pyo.value(con.upper)),
        )

    def bound_uses(self) -> list[_Use]:
        """One use per index of each variable bound listed in ``_LIMIT_FIELDS`` (continuous, not fixed)."""
        uses = []
        for name, spec in self.specs.items():
            block = self.model.component(name)
            if block is None:
                continue
            for entry, field in _LIMIT_FIELDS.get(spec.kind, {}).items():
                var_name, _, side = entry.partition(".")
                var = block.component(var_name)
                if not side or var is None or not isinstance(var, pyo.Var):
                    continue
                size = _var_size(var)
                largest_upper = max((v.ub for v in var.values() if v.ub is not None), default=0.0)
                outside = _OUTSIDE_WINDOW.get((spec.kind, var_name))
                for v in var.values():
                    value = v.ub if side == "upper" else v.lb
                    if v.fixed or v.is_integer() or value is None:
                        continue
                    named = outside if outside and side == "upper" and value < largest_upper - 1e-9 else field
                    uses.append(
                        _Use(
                            constraint=f"{v.name} {side} bound ({named})",
                            group=var.name,
                            index=v.index(),
                            kind="limit",
                            unit=self.var_unit(v),
                            scale=size,
                            key=(name, named),
                            asset=name,
                            field=named,
                            bound=side,  # type: ignore[arg-type]
                            expr=v,
                            lower=value if side == "lower" else None,
                            upper=value if side == "upper" else None,
                        )
                    )
        return uses


def _var_size(var: Any) -> float:
    """An asset's size from a variable: its bounds' largest magnitude over all indices (1 when all are 0)."""
    size = max((abs(b) for v in var.values() for b in (v.lb, v.ub) if b is not None and math.isfinite(b)), default=0)
    return float(size) or 1.0


def _row_size(con: Any, repn: Any) -> float:
    """A row's size: its right-hand side net of its constant, or for a zero right-hand side half the sum of its
    terms' largest magnitudes (from the variables' bounds: one side's size); 1 when both are 0."""
    sides = [pyo.value(b) for b in (con.lower, con.upper) if b is not None]
    rhs = max((abs(b - repn.constant) for b in sides), default=0.0)
    if rhs > 0.0:
        return float(rhs)
    terms = 0.0
    for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True):
        magnitude = max((abs(b) for b in (v.lb, v.ub) if b is not None and math.isfinite(b)), default=0.0)
        terms += abs(c) * magnitude
    return terms / 2.0 or 1.0


def _make_elastic(model: pyo.ConcreteModel, rows: list[Any], uses: list[_Use]) -> None:
    """Adds the slacks: rows get them in their body, bounds move into rows ``var <= ub + slack`` (``>= lb - slack``)
    and are cleared on the variable."""
    row_uses = uses[: len(rows)]
    bound_uses = uses[len(rows) :]
    n_over = sum(con.upper is not None for con in rows) + sum(u.bound == "upper" for u in bound_uses)
    n_under = sum(con.lower is not None for con in rows) + sum(u.bound == "lower" for u in bound_uses)
    model.elastic_over = pyo.Var(range(n_over), bounds=(0.0, None))
    model.elastic_under = pyo.Var(range(n_under), bounds=(0.0, None))
    over, under = iter(model.elastic_over.values()), iter(model.elastic_under.values())
    for con, use in zip(rows, row_uses, strict=True):
        use.over = next(over) if con.upper is not None else None
        use.under = next(under) if con.lower is not None else None
        body = con.body + (use.under if use.under is not None else 0.0) - (use.over if use.over is not None else 0.0)
        con.set_value((con.lower, body, con.upper))
    model.elastic_bounds = pyo.ConstraintList()
    for use in bound_uses:
        var = use.expr
        if use.bound == "upper":
            use.over = next(over)
            model.elastic_bounds.add(var - use.over <= use.upper)
            var.setub(None)
        else:
            use.under = next(under)
            model.elastic_bounds.add(var + use.under >= use.lower)
            var.setlb(None)


def _limit_groups(uses: list[_Use]) -> dict[tuple[str, ...], list[_Use]]:
    """Limit uses by setting; each group's size is the largest of its members'."""
    groups: dict[tuple[str, ...], list[_Use]] = defaultdict(list)
    for use in uses:
        if use.kind == "limit":
            groups[use.key].append(use)
    for members in groups.values():
        size = max(u.scale for u in members)
        for u in members:
            u.scale = size
    return dict(groups)


def _elastic_objective(
    model: pyo.ConcreteModel, uses: list[_Use], groups: dict[tuple[str, ...], list[_Use]], weights: dict[int, float]
) -> Any:
    """Sum of weighted slacks: per limit group and side its largest slack (``elastic_max``), per law each slack."""
    sides = [
        (members, slacks)
        for members in groups.values()
        for slacks in (
            [u.over for u in members if u.over is not None],
            [u.under for u in members if u.under is not None],
        )
        if slacks
    ]
    model.elastic_max = pyo.Var(range(len(sides)), bounds=(0.0, None))
    model.elastic_caps = pyo.ConstraintList()
    terms: list[Any] = []
    for i, (members, slacks) in enumerate(sides):
        for s in slacks:
            model.elastic_caps.add(s <= model.elastic_max[i])
        terms.append(weights[id(members[0])] * model.elastic_max[i])
    terms += [weights[id(u)] * s for u in uses if u.kind != "limit" for s in (u.over, u.under) if s is not None]
    return sum(terms)


def _spread_over_steps(
    model: pyo.ConcreteModel, uses: list[_Use], weights: dict[int, float], options: SolveOptions
) -> None:
    """Second pass: the least slack at each step of the limits, holding the first pass's objective (integers fixed
    at its values, so an LP). Without a solution it loads nothing, and the first pass's values stand."""
    achieved = pyo.value(model.elastic_objective)
    model.elastic_objective.deactivate()
    model.elastic_held = pyo.Constraint(
        expr=model.elastic_objective.expr <= achieved + OBJECTIVE_TOLERANCE * max(1.0, abs(achieved))
    )
    for var in model.component_data_objects(pyo.Var, descend_into=True):
        if var.is_integer() and not var.fixed and var.value is not None:
            var.fix(round(var.value))
    model.elastic_spread = pyo.Objective(
        expr=sum(weights[id(u)] * s for u in uses if u.kind == "limit" for s in (u.over, u.under) if s is not None)
    )
    solve_model(model, options)


def _violations(uses: list[_Use], weights: dict[int, float], problem: DispatchProblem) -> list[Violation]:
    """Every row and bound the solution misses, with its amount, unit, setting and weight."""
    index = problem.horizon.index
    violations = []
    for use in uses:
        amount = use.violation()
        if amount <= VIOLATION_TOLERANCE * max(1.0, use.scale):
            continue
        step = use.index if isinstance(use.index, int) else None
        weight = weights[id(use)]
        violations.append(
            Violation(
                constraint=use.constraint,
                group=use.group,
                step=step,
                timestamp=index[step].isoformat() if step is not None and 0 <= step < len(index) else None,
                amount=amount,
                unit=use.unit,
                kind=use.kind,
                bound=use.bound,
                asset=use.asset,
                field=use.field,
                scale=use.scale,
                weight=weight,
                weighted_amount=amount * weight,
            )
        )
    # Equal weighted amounts (one setting binding at several steps) differ in the last digits: bounds, then steps.
    return sorted(
        violations, key=lambda v: (-float(f"{v.weighted_amount:.9g}"), v.bound is None, v.step or 0, v.constraint)
    )
