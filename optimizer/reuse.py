"""Re-solving without rebuilding: one model per problem shape, each new problem's numbers pushed into HiGHS.

A rolling run solves the same site day after day; a sweep solves it under one price after another. The model's
structure (its variables, rows and binaries) is the same each time; only numbers change: the day's load and PV,
prices, the initial SOC, the month-to-date peak. :class:`ReusableModel` builds the Pyomo model once, compiles it
with the rows and costs that hold parameters tracked (:func:`optimizer.linear_form.compile_linear`), and for each
further problem of the same shape:

1. takes the problem's numbers: each asset kind's ``parameters(spec, problem)`` (:mod:`optimizer.parameters`) are
   written into the model's parameters and into the arrays the build context holds (schedule columns, KPI terms);
2. re-reads only the tracked rows, costs and column bounds into the kept arrays;
3. solves: by default the arrays go to a new HiGHS in one ``passModel``, as a fresh build's do, so that a problem
   gets exactly the solution a fresh build gets whatever was solved before; with ``warm_start=True`` a kept HiGHS
   takes the changes (``changeRowsBounds``, ``changeColsCost``, ``changeColsBounds``, ``changeCoeff``) and starts
   an LP from its previous optimal basis (an LP with several optima may then get another of them).

**The shape** (:func:`shape_of`) is everything the structure depends on: the horizon's length and step, the
objective's settings, the targets' periods, each asset's kind and spec without the fields its parameters come from
(``AssetType.parameter_fields``), and what its ``AssetType.structure`` says of its data (the steps that get a
binary, the steps of each month). Two problems with equal shapes give the same model up to the parameters' numbers,
so the re-used model's arrays equal a fresh build's (``tests/test_reuse.py`` compares them number by number).

**What is re-used** is what the kinds declare: a problem with an asset whose kind has no ``parameters``, or solved
through the persistent interface, is built afresh; :func:`shape_of` says why. Targets take part: their periods are
shape (:func:`optimizer.targets.targets_structure`), ``so_far``, the shares and the cap are parameters.
:class:`ModelCache` keeps the last few shapes per thread.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizer import highs_direct
from optimizer.assets import REGISTRY
from optimizer.assets.pv import PV_AVAILABLE
from optimizer.linear_form import NotLinearError, ParameterReader, compile_linear
from optimizer.model import BuiltModel, build_model
from optimizer.model_guard import check_linear_arrays
from optimizer.problem import DispatchProblem, Targets
from optimizer.solve import SolveOptions, SolverReport, default_interface, direct_report, model_size
from optimizer.targets import BLOCK as TARGETS
from optimizer.targets import pv_available_series, targets_parameters, targets_structure


@dataclass(frozen=True)
class Shape:
    """A problem's shape (:func:`shape_of`): ``key`` when its model can be re-used, else None and ``reason``."""

    key: Hashable | None
    reason: str = ""


def shape_of(problem: DispatchProblem, *, implied_cuts: bool = True) -> Shape:
    """What the structure of ``problem``'s model depends on; equal keys, equal structures."""
    if default_interface() == "persistent":
        return Shape(None, "the persistent interface is chosen (DISPATCH_HIGHS_INTERFACE)")
    parts: list[Any] = [problem.horizon.n_steps, problem.horizon.step_minutes, implied_cuts]
    parts.append(problem.objective.model_dump_json())
    for spec in problem.assets:
        entry = REGISTRY[spec.kind]
        if entry.parameters is None:
            return Shape(None, f"asset {spec.name!r}: kind {spec.kind!r} has no parameters (AssetType.parameters)")
        fields = json.dumps(spec.model_dump(mode="json", exclude=set(entry.parameter_fields)), sort_keys=True)
        structure = None if entry.structure is None else entry.structure(spec, problem)
        parts.append((spec.kind, fields, structure))
    if problem.targets != Targets():
        parts.append(targets_structure(problem))
    return Shape(tuple(parts))


class ReusableModel:
    """A built, compiled and passed model that takes further problems of its shape (module docstring)."""

    def __init__(self, problem: DispatchProblem, *, implied_cuts: bool = True, warm_start: bool = False) -> None:
        self.warm_start = warm_start
        self.built: BuiltModel = build_model(problem, implied_cuts=implied_cuts, symbolic_parameters=True)
        self.arrays = compile_linear(self.built.model, track_parameters=True)
        check_linear_arrays(self.arrays)
        ctx = self.built.ctx
        if len(ctx.import_price_options) > 1:
            raise NotLinearError("more than one import price option: the grid's binaries depend on all of them")
        pv = {spec.name for spec in problem.assets if spec.kind == "pv"}
        if any(column.partition(".")[0] not in pv for column in ctx.role_columns(PV_AVAILABLE)):
            raise NotLinearError("PV available from a kind other than pv: the targets' shape counts only pv's")
        self.reader = ParameterReader(self.arrays, getattr(self.built.model, "objective", None))
        self.row_terms = [self._stored_terms(row) for row in self.reader.rows.tolist()]
        self.session: highs_direct.HighsSession | None = None
        self.size = model_size(self.built.model)
        self.solves = 0

    def _stored_terms(self, row: int) -> dict[int, float]:
        start, end = self.arrays.a_start[row], self.arrays.a_start[row + 1]
        return dict(zip(self.arrays.a_index[start:end].tolist(), self.arrays.a_value[start:end].tolist(), strict=True))

    def take(self, problem: DispatchProblem) -> None:
        """Takes ``problem`` (of this model's shape): its numbers into the parameters and the build context."""
        ctx = self.built.ctx
        for spec in problem.assets:
            parameters = REGISTRY[spec.kind].parameters
            assert parameters is not None
            for name, values in parameters(spec, problem).items():
                ctx.parameters[f"{spec.name}.{name}"].assign(values)
        for name, value in targets_parameters(problem, pv_available_series(ctx)).items():  # after the PV's numbers
            ctx.parameters[f"{TARGETS}.{name}"].assign(value)
        ctx.problem = problem
        self.built.problem = problem

    def solve(self, options: SolveOptions) -> SolverReport:
        """Solves the model with its current numbers; the solution goes into the Pyomo variables.

        Cold (the default), the kept arrays go to a new HiGHS in one ``passModel``, exactly as a fresh build's do:
        handing a kept HiGHS changed coefficients leaves its internal matrix in another order, and a problem with
        several optima can then get another of them. Warm, the kept HiGHS takes the changes and starts from its
        last basis."""
        started = time.perf_counter()
        if self.solves:
            self._take_numbers(self.session if self.warm_start else None)
        compile_seconds = time.perf_counter() - started
        self.solves += 1
        if not self.warm_start:
            outcome = highs_direct.run_highs(self.arrays, **options.for_highs())
            return direct_report(outcome, self.arrays.columns, self.size, started, compile_seconds)
        if self.session is None:
            self.session = highs_direct.HighsSession(self.arrays)
        try:
            outcome = self.session.run(**options.for_highs())
        except Exception:
            self.session = None  # a HiGHS that raised is not trusted with the next problem
            raise
        return direct_report(outcome, self.arrays.columns, self.size, started, compile_seconds)

    def _take_numbers(self, session: highs_direct.HighsSession | None) -> None:
        """Re-reads the tracked numbers into the kept arrays (which the model guard checks) and, given a kept
        HiGHS, hands it what changed."""
        arrays, reader = self.arrays, self.reader
        lower, upper, coefficients = reader.rows_now()
        changed_coefficients: list[tuple[int, int, float]] = []
        for row, stored, now in zip(reader.rows.tolist(), self.row_terms, coefficients, strict=True):
            now = {j: v for j, v in now.items() if v != 0.0}
            if now.keys() != stored.keys():
                raise NotLinearError(f"row {row}: a coefficient appeared or vanished")
            for j, value in now.items():
                if value != stored[j]:
                    start, end = arrays.a_start[row], arrays.a_start[row + 1]
                    arrays.a_value[start + int(np.flatnonzero(arrays.a_index[start:end] == j)[0])] = value
                    stored[j] = value
                    changed_coefficients.append((row, j, value))
        arrays.row_lower[reader.rows] = lower
        arrays.row_upper[reader.rows] = upper
        column_lower, column_upper = reader.column_bounds_now()
        arrays.col_lower[reader.columns] = column_lower
        arrays.col_upper[reader.columns] = column_upper
        changed_costs = np.zeros(0, dtype=np.int32)
        if arrays.parametric_objective:
            cost, arrays.offset = reader.objective_now()
            changed_costs = np.flatnonzero(cost != arrays.col_cost).astype(np.int32)
            arrays.col_cost[changed_costs] = cost[changed_costs]
        check_linear_arrays(arrays)
        if session is not None:
            for row, j, value in changed_coefficients:
                session.change_coefficient(row, j, value)
            session.change_rows(reader.rows, lower, upper)
            session.change_columns(reader.columns, column_lower, column_upper)
            session.change_costs(changed_costs, arrays.col_cost[changed_costs], arrays.offset)


class ModelCache:
    """Re-usable models by shape, the ``size`` most recently used kept (per thread: a model is not shared);
    problems longer than ``max_steps`` (default: a month of quarter-hours) are not kept, for the memory a kept
    model holds; ``warm_start`` as :meth:`optimizer.highs_direct.HighsSession.run`'s."""

    def __init__(self, size: int = 4, *, max_steps: int = 2976, warm_start: bool = False) -> None:
        self.size = size
        self.max_steps = max_steps
        self.warm_start = warm_start
        self._local = threading.local()

    def _models(self) -> OrderedDict[Hashable, ReusableModel]:
        models = getattr(self._local, "models", None)
        if models is None:
            models = self._local.models = OrderedDict()
        return models

    def kept(self) -> list[ReusableModel]:
        """This thread's kept models, least recently used first."""
        return list(self._models().values())

    def model_for(self, problem: DispatchProblem, *, implied_cuts: bool = True) -> tuple[ReusableModel | None, str]:
        """A model holding ``problem``'s numbers, re-used when one of its shape is kept, and how it came: ``"re-used"``,
        ``"built"``, or ``"not re-usable: <why>"`` (then None: build afresh)."""
        shape = shape_of(problem, implied_cuts=implied_cuts)
        if problem.horizon.n_steps > self.max_steps:
            shape = Shape(None, f"{problem.horizon.n_steps} steps, more than the cache keeps ({self.max_steps})")
        if shape.key is None:
            return None, f"not re-usable: {shape.reason}"
        models = self._models()
        model = models.get(shape.key)
        if model is not None:
            models.move_to_end(shape.key)
            model.take(problem)
            return model, "re-used"
        try:
            model = ReusableModel(problem, implied_cuts=implied_cuts, warm_start=self.warm_start)
        except NotLinearError as error:
            return None, f"not re-usable: {error}"
        models[shape.key] = model
        while len(models) > self.size:
            models.popitem(last=False)
        return model, "built"

    def forget(self, problem: DispatchProblem) -> None:
        """Drops the model of ``problem``'s shape (after it failed to take the problem)."""
        shape = shape_of(problem)
        if shape.key is not None:
            self._models().pop(shape.key, None)
