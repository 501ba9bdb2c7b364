"""Model assembly: asset blocks, targets, bus balances and the objective.

Nothing here knows an asset type: blocks register flows, costs and emissions
in the :class:`BuildContext`, and this module sums what was registered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.core as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from optimizer.assets import REGISTRY
from optimizer.assets.base import ACCOUNTINGS, BuildContext, CostTerm
from optimizer.cover_cuts import add_cover_cuts
from optimizer.kpis import emissions_kgco2
from optimizer.problem import DispatchProblem
from optimizer.targets import build_targets


@dataclass
class BuiltModel:
    """A Pyomo model with the registry that describes it."""

    problem: DispatchProblem
    model: pyo.ConcreteModel
    ctx: BuildContext
    build_seconds: float


def build_model(
    problem: DispatchProblem, *, implied_cuts: bool = True, symbolic_parameters: bool = False
) -> BuiltModel:
    """Builds the MILP/LP of ``problem``; raises ``ValueError`` on inconsistent assets.

    ``implied_cuts`` adds rows that every integral solution satisfies anyway but the LP
    relaxation does not (``BuildContext.implied_cuts``): they change no optimum, only
    the solve time. ``symbolic_parameters``: the assets' parameters enter as mutable Pyomo parameters, for a model
    that takes further problems (:mod:`optimizer.reuse`); otherwise as numbers.

    Python's cyclic garbage collector is paused while the model is built: the build makes hundreds of
    thousands of objects that all stay alive, and each full collection would walk them all (it halves the
    build of a 35,040-step model).
    """
    with PauseGC():
        return _build_model(problem, implied_cuts=implied_cuts, symbolic_parameters=symbolic_parameters)


def _build_model(problem: DispatchProblem, *, implied_cuts: bool, symbolic_parameters: bool) -> BuiltModel:
    started = time.perf_counter()
    model = pyo.ConcreteModel(name=problem.name)
    model.T = pyo.Set(initialize=range(problem.horizon.n_steps), ordered=True)
    ctx = BuildContext(problem=problem, model=model, implied_cuts=implied_cuts, symbolic_parameters=symbolic_parameters)
    for spec in sorted(problem.assets, key=lambda a: REGISTRY[a.kind].build_order):
        REGISTRY[spec.kind].build(spec, ctx)
    build_targets(ctx)
    for finalize in ctx.finalizers:
        finalize(ctx)
    _add_bus_balances(ctx)
    if implied_cuts:
        add_cover_cuts(ctx)
    _add_carbon_cost(ctx)
    model.objective = pyo.Objective(expr=sum(term.expr for term in ctx.costs), sense=pyo.minimize)
    return BuiltModel(problem, model, ctx, time.perf_counter() - started)


def _add_bus_balances(ctx: BuildContext) -> None:
    """``<bus>_balance[t]``: supplies minus draws registered on the bus equal zero.

    Where every flow on the bus is data or a variable, each row is one ``LinearExpression`` of the signed terms
    (the same row ``sum`` builds, without its term-by-term additions: a quarter of a long horizon's build)."""
    for bus, terms in ctx.bus_terms.items():
        per_step = _signed_terms(ctx, terms)
        if per_step is None:

            def rule(_: pyo.ConcreteModel, t: int, terms: list[tuple[str, float]] = terms) -> Any:
                return sum(sign * ctx.flow_at(column, t) for column, sign in terms) == 0.0

        else:

            def rule(_: pyo.ConcreteModel, t: int, per_step: list[list[Any]] = per_step) -> Any:
                return LinearExpression([signed[t] for signed in per_step]) == 0.0

        ctx.model.add_component(f"{bus}_balance", pyo.Constraint(ctx.steps, rule=rule))


def _signed_terms(ctx: BuildContext, terms: list[tuple[str, float]]) -> list[list[Any]] | None:
    """Per flow on a bus, its signed term at each step (a number, a Pyomo parameter, a variable or ``sign *`` one of
    these); None when a flow is an expression (its terms are then summed)."""
    per_step: list[list[Any]] = []
    for column, sign in terms:
        flow = ctx.flows[column]
        component = flow.component
        if flow.parameter is not None and flow.parameter.symbolic:
            parameter = flow.parameter
            per_step.append([parameter.at(t) if sign == 1 else float(sign) * parameter.at(t) for t in ctx.steps])
        elif isinstance(component, np.ndarray):
            per_step.append((float(sign) * component.astype(float)).tolist())
        elif getattr(component, "ctype", None) is pyo.Var:
            variables = [component[t] for t in ctx.steps]
            per_step.append(variables if sign == 1 else [MonomialTermExpression((float(sign), v)) for v in variables])
        else:
            return None
    return per_step


def _add_carbon_cost(ctx: BuildContext) -> None:
    objective = ctx.problem.objective
    if objective.carbon_price_cny_per_tco2 <= 0:
        return
    assert objective.carbon_accounting in ACCOUNTINGS
    price_per_kg = objective.carbon_price_cny_per_tco2 / 1000.0
    expr = price_per_kg * sum(ctx.emission_expr(objective.carbon_accounting, t) for t in ctx.steps)
    ctx.costs.append(
        CostTerm("carbon", expr, lambda s: price_per_kg * emissions_kgco2(s, ctx, objective.carbon_accounting))
    )
