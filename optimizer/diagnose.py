"""Diagnosis of infeasible problems by an elastic re-solve.

Every constraint gets non-negative slacks (one per violated side); minimising
their sum finds the least total violation. Constraints with a non-zero slack
are reported by group (``battery.end_level``, ``electricity_balance``...), step
and timestamp, so the user sees *what* cannot be met *when*.
"""

from __future__ import annotations

import re

import pyomo.environ as pyo
from pydantic import BaseModel, Field

from optimizer.model import build_model
from optimizer.problem import DispatchProblem
from optimizer.solve import SolveOptions, solve_model

VIOLATION_TOLERANCE = 1e-6
_INDEX = re.compile(r"^(?P<group>[^\[]+)(\[(?P<index>[^\]]*)\])?$")


class Violation(BaseModel):
    """A constraint that cannot hold, with the least amount by which it is missed."""

    constraint: str = Field(description="Full constraint name, e.g. 'electricity_balance[40]'.")
    group: str = Field(description="Constraint group, e.g. 'electricity_balance' or 'battery.end_level'.")
    step: int | None = Field(None, description="Horizon step, when the constraint is per step.")
    timestamp: str | None = Field(None, description="Interval start of that step (ISO 8601).")
    amount: float = Field(description="Violation in the constraint's own unit (kW, kWh, kgCO2...).")


def diagnose_infeasibility(problem: DispatchProblem, options: SolveOptions) -> list[Violation]:
    """The constraints an elastic re-solve has to violate, largest first."""
    built = build_model(problem, implied_cuts=False)  # implied rows would only blur which balance fails
    model = built.model
    model.objective.deactivate()
    constraints = list(model.component_data_objects(pyo.Constraint, active=True, descend_into=True))
    model.elastic_over = pyo.Var(range(len(constraints)), bounds=(0.0, None))
    model.elastic_under = pyo.Var(range(len(constraints)), bounds=(0.0, None))
    for i, con in enumerate(constraints):
        body = con.body + model.elastic_under[i] - model.elastic_over[i]
        con.set_value((con.lower, body, con.upper))
    model.elastic_objective = pyo.Objective(
        expr=sum(model.elastic_over[i] + model.elastic_under[i] for i in range(len(constraints)))
    )
    report = solve_model(model, options)
    if report.status not in ("optimal", "feasible"):
        return [Violation(constraint="(model)", group="(model)", amount=float("nan"))]
    index = problem.horizon.index
    violations = []
    for i, con in enumerate(constraints):
        amount = (model.elastic_over[i].value or 0.0) + (model.elastic_under[i].value or 0.0)
        if amount <= VIOLATION_TOLERANCE:
            continue
        match = _INDEX.match(con.name)
        group = match.group("group") if match else con.name
        raw = match.group("index") if match else None
        step = int(raw) if raw is not None and raw.isdigit() else None
        violations.append(
            Violation(
                constraint=con.name,
                group=group,
                step=step,
                timestamp=index[step].isoformat() if step is not None and step < len(index) else None,
                amount=amount,
            )
        )
    return sorted(violations, key=lambda v: -v.amount)
