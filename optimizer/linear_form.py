"""A linear Pyomo model as arrays: the matrices HiGHS takes whole (:mod:`optimizer.highs_direct`).

The asset modules write Pyomo; this module reads what they wrote, once, into numpy arrays:

    min/max  col_cost @ x + offset
    s.t.     row_lower <= A @ x <= row_upper      (A row-wise: a_start, a_index, a_value)
             col_lower <= x <= col_upper,  x[j] integer where integrality[j] == 1

It walks each active constraint's and the objective's expression tree with a loop specialised for what
Pyomo builds from ``sum`` and ``*`` (linear and sum expressions of monomials and variables, negations,
products and divisions by constants, named expressions); anything else goes through Pyomo's own
``generate_standard_repn``. Every relation maps to one row with both bounds (a ranged constraint is one
row, not two as in Pyomo's standard-form compiler). Columns are the variables in the order the
constraints, then the objective, first use them (the order Pyomo's persistent HiGHS interface adds
them in); a variable no active constraint or objective uses is no column, and keeps its value. A
fixed variable is a column with both bounds at its value.

Why not ``pyomo.repn.plugins.standard_form.LinearStandardFormCompiler`` (``mixed_form=True``): with the
column bounds read after it, it takes about 2.5 times as long as this walk on the 8,760- and 35,040-step
reference LPs (``benchmarks/README.md``), and it splits ranged rows in two. :class:`NotLinearError` says
why a model cannot be compiled (a nonlinear term, a component type that is neither a constraint nor an
objective); the caller then uses Pyomo's persistent interface.
"""

from __future__ import annotations

import numbers
from array import array
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.core as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.base.block import Block
from pyomo.core.base.expression import Expression
from pyomo.core.base.param import Param, ParamData
from pyomo.core.base.set import RangeSet, Set
from pyomo.core.base.suffix import Suffix
from pyomo.core.expr import numeric_expr as ne
from pyomo.core.expr import relational_expr as rel
from pyomo.core.expr.visitor import identify_variables
from pyomo.repn import generate_standard_repn
from pyomo.repn.util import categorize_valid_components

__all__ = ["LinearArrays", "NotLinearError", "ParameterReader", "compile_linear", "load_values"]

# Node kinds of the walk, decided once per expression class (:func:`_kind_of`).
_CONST, _VAR, _MONOMIAL, _LINEAR, _SUM, _NEGATION, _PRODUCT, _DIVISION, _NAMED, _FIXED, _OTHER = range(11)
_KINDS: dict[type, int] = {}

_VALID = {Block, pyo.Constraint, pyo.Var, Param, Expression, Set, RangeSet, Suffix}
"""Component types the compiler reads (constraints, objectives) or that hold no rows (sets, params...)."""


class NotLinearError(ValueError):
    """The model cannot be compiled to :class:`LinearArrays`; the message says why."""


@dataclass
class LinearArrays:
    """A linear model in HiGHS's terms; ``columns[j]`` is the Pyomo variable of column ``j``."""

    columns: list[Any]
    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    """int32 per column: 1 integer (binaries included), 0 continuous."""
    row_lower: np.ndarray
    row_upper: np.ndarray
    a_start: np.ndarray
    """int32, ``n_rows + 1`` offsets into ``a_index``/``a_value`` (row-wise, CSR)."""
    a_index: np.ndarray
    a_value: np.ndarray
    offset: float
    """The objective's constant (in the objective's own sense)."""
    sense: int
    """1 minimise, -1 maximise (HiGHS's ``ObjSense``)."""
    has_objective: bool
    parametric_rows: list[tuple[int, Any]] | None = None
    """With ``track_parameters``: ``(row, constraint)`` of each row whose numbers may change with a parameter."""
    parametric_objective: bool = False
    """With ``track_parameters``: whether the objective's numbers may change with a parameter."""

    @property
    def n_cols(self) -> int:
        return len(self.columns)

    @property
    def n_rows(self) -> int:
        return len(self.row_lower)

    @property
    def is_mip(self) -> bool:
        return bool(self.integrality.any())


def _kind_of(node: Any) -> int:
    """The walk's kind of ``node``'s class (cached per class)."""
    cls = node.__class__
    kind = _KINDS.get(cls)
    if kind is not None:
        return kind
    if isinstance(node, numbers.Number):
        kind = _CONST
    elif node.is_variable_type():
        kind = _VAR
    elif cls is ne.MonomialTermExpression:
        kind = _MONOMIAL
    elif isinstance(node, ne.LinearExpression):
        kind = _LINEAR
    elif isinstance(node, ne.SumExpression):
        kind = _SUM
    elif cls is ne.NegationExpression:
        kind = _NEGATION
    elif cls is ne.ProductExpression:
        kind = _PRODUCT
    elif cls is ne.DivisionExpression:
        kind = _DIVISION
    elif node.is_named_expression_type():
        kind = _NAMED
    elif not node.is_potentially_variable():
        kind = _FIXED
    else:
        kind = _OTHER
    _KINDS[cls] = kind
    return kind


def _is_constant(node: Any) -> bool:
    """True for a number or an expression whose value is fixed (parameters, fixed variables)."""
    return _kind_of(node) == _CONST or node.is_fixed()


def _holds_no_variable(node: Any) -> bool:
    """True for a number or an expression that cannot hold a variable (Pyomo's test for a constraint's bound)."""
    kind = _KINDS.get(node.__class__)
    if kind is None:
        kind = _kind_of(node)
    return kind == _CONST or not node.is_potentially_variable()


class _Walker:
    """Collects the linear terms of expressions into row-wise arrays and assigns columns on first use.

    The walk is depth-first, left to right, so that columns come in the order in which Pyomo's persistent HiGHS
    interface adds them (``collect_vars_and_named_exprs`` over each constraint, then the objective): both paths
    hand HiGHS the same model. Fixed variables are columns too (both bounds at their value; their terms go into
    the rows' bounds), as there.
    """

    def __init__(self) -> None:
        self.columns: list[Any] = []
        self.column_of: dict[int, int] = {}
        self.index = array("i")
        self.value = array("d")
        self.touched = False
        """Set when a walk read a number that may change without the expression changing: a Pyomo parameter, a
        fixed variable's value, a non-literal bound (:func:`compile_linear`'s ``track_parameters``)."""

    def column(self, var: Any) -> int:
        j = self.column_of.get(id(var))
        if j is None:
            j = self.column_of[id(var)] = len(self.columns)
            self.columns.append(var)
        return j

    def walk(self, expr: Any, factor: float, where: Any) -> float:
        """Appends ``factor * expr``'s linear terms to the arrays; returns ``factor *`` its constant. ``where``: the
        constraint or objective, named in a :class:`NotLinearError`."""
        constant = 0.0
        touched = False
        index, value, column_of, column = self.index, self.value, self.column_of, self.column
        stack = [(expr, factor)]
        while stack:
            node, m = stack.pop()
            kind = _KINDS.get(node.__class__)
            if kind is None:
                kind = _kind_of(node)
            if kind == _LINEAR:  # monomials, variables and constants only
                for arg in node.args:
                    sub = _KINDS.get(arg.__class__)
                    if sub is None:
                        sub = _kind_of(arg)
                    if sub == _MONOMIAL:
                        coef, var = arg.args
                        if coef.__class__ is not float and coef.__class__ is not int:
                            coef = _fixed_value(coef)
                            touched = True
                        j = column_of.get(id(var))
                        if j is None:
                            j = column(var)
                        if var.fixed:
                            constant += m * coef * var.value
                            touched = True
                        else:
                            index.append(j)
                            value.append(m * coef)
                    elif sub == _VAR:
                        j = column_of.get(id(arg))
                        if j is None:
                            j = column(arg)
                        if arg.fixed:
                            constant += m * arg.value
                            touched = True
                        else:
                            index.append(j)
                            value.append(m)
                    elif sub == _CONST:
                        constant += m * arg
                    elif sub == _FIXED:
                        constant += m * _fixed_value(arg)
                        touched = True
                    else:
                        constant += self.walk(arg, m, where)
            elif kind == _MONOMIAL:
                coef, var = node.args
                if coef.__class__ is not float and coef.__class__ is not int:
                    coef = _fixed_value(coef)
                    touched = True
                j = column_of.get(id(var))
                if j is None:
                    j = column(var)
                if var.fixed:
                    constant += m * coef * var.value
                    touched = True
                else:
                    index.append(j)
                    value.append(m * coef)
            elif kind == _VAR:
                j = column_of.get(id(node))
                if j is None:
                    j = column(node)
                if node.fixed:
                    constant += m * node.value
                    touched = True
                else:
                    index.append(j)
                    value.append(m)
            elif kind == _SUM:
                stack.extend([(arg, m) for arg in reversed(node.args)])
            elif kind == _CONST:
                constant += m * node
            elif kind == _FIXED:
                constant += m * _fixed_value(node)
                touched = True
            elif kind == _NEGATION:
                stack.append((node.args[0], -m))
            elif kind == _PRODUCT:
                left, right = node.args
                if _KINDS.get(right.__class__) == _CONST:
                    stack.append((left, m * right))
                elif _KINDS.get(left.__class__) == _CONST:
                    stack.append((right, m * left))
                elif _is_constant(left) and not _holds_variables(left):
                    stack.append((right, m * _fixed_value(left)))
                    touched = True
                elif _is_constant(right) and not _holds_variables(right):
                    stack.append((left, m * _fixed_value(right)))
                    touched = True
                else:
                    constant += self._other(node, m, where)
            elif kind == _DIVISION and _is_constant(node.args[1]) and not _holds_variables(node.args[1]):
                stack.append((node.args[0], m / _fixed_value(node.args[1])))
                touched = True
            elif kind == _NAMED:
                stack.append((node.expr, m))
            else:
                constant += self._other(node, m, where)
        if touched:
            self.touched = True
        return constant

    def _other(self, node: Any, m: float, where: Any) -> float:
        """Any other node, through Pyomo's standard representation (fixed variables as constants)."""
        self.touched = True
        repn = generate_standard_repn(node, compute_values=True, quadratic=False)
        if repn.nonlinear_expr is not None or repn.nonlinear_vars:
            raise NotLinearError(f"{where.name}: nonlinear term {node}")
        for var in identify_variables(node, include_fixed=True):
            self.column(var)
        for coef, var in zip(repn.linear_coefs, repn.linear_vars, strict=True):
            self.index.append(self.column(var))
            self.value.append(m * float(coef))
        return m * float(repn.constant)


def _holds_variables(node: Any) -> bool:
    """True when ``node`` (a fixed expression) mentions a variable: a fixed one, still a column."""
    return _kind_of(node) != _CONST and node.is_potentially_variable()


def _row(walker: _Walker, con: Any) -> tuple[float, float]:
    """Walks ``con`` into the arrays; its row's lower and upper bounds. Body and bounds are split as
    ``ConstraintData.to_bounded_expression`` splits them, without building ``lhs - rhs``."""
    expr = con.expr
    cls = expr.__class__
    equality = cls is rel.EqualityExpression
    if equality or cls is rel.InequalityExpression:
        lhs, rhs = expr.args
        if _holds_no_variable(rhs):
            constant = walker.walk(lhs, 1.0, con)
            bound = _value(rhs, walker)
            return (bound - constant if equality else -np.inf), bound - constant
        if _holds_no_variable(lhs):
            constant = walker.walk(rhs, 1.0, con)
            bound = _value(lhs, walker)
            return bound - constant, (bound - constant if equality else np.inf)
        constant = walker.walk(lhs, 1.0, con) + walker.walk(rhs, -1.0, con)
        return (-constant if equality else -np.inf), -constant
    walker.touched = True  # bounds evaluated by Pyomo: whether they hold parameters is not known here
    try:
        lower, body, upper = con.to_bounded_expression(evaluate_bounds=True)
    except (ValueError, TypeError) as error:
        raise NotLinearError(f"{con.name}: {error}") from error
    constant = walker.walk(body, 1.0, con)
    return (
        -np.inf if lower is None else float(lower) - constant,
        np.inf if upper is None else float(upper) - constant,
    )


_NPV_PRODUCT, _NPV_NEGATION, _NPV_SUM = ne.NPV_ProductExpression, ne.NPV_NegationExpression, ne.NPV_SumExpression


def _fixed_value(node: Any) -> float:
    """The value of a fixed expression: products, sums and negations of numbers and parameters evaluated here
    (Pyomo's evaluation visitor costs several microseconds a node), anything else by ``pyo.value``."""
    cls = node.__class__
    if cls is float or cls is int:
        return node
    if cls is ParamData:
        return node._value
    if cls is _NPV_PRODUCT:
        left, right = node.args
        return _fixed_value(left) * _fixed_value(right)
    if cls is _NPV_NEGATION:
        return -_fixed_value(node.args[0])
    if cls is _NPV_SUM:
        return sum(_fixed_value(arg) for arg in node.args)
    return pyo.value(node)


def _value(node: Any, walker: _Walker) -> float:
    """A bound's value; infinite bounds stay infinite. One that is not a number marks the walk as touched."""
    if _KINDS.get(node.__class__) == _CONST:
        return float(node)
    walker.touched = True
    return float(_fixed_value(node))


def _check_components(model: pyo.Block) -> list[Any]:
    """The active objectives; raises :class:`NotLinearError` naming any component type the compiler would miss."""
    component_map, unknown = categorize_valid_components(model, active=True, valid=_VALID, targets={pyo.Objective})
    if unknown:
        names = "; ".join(
            f"{ctype.__name__}: {', '.join(c.name for c in comps[:3])}" for ctype, comps in unknown.items()
        )
        raise NotLinearError(f"components the array compiler does not read: {names}")
    objectives = [
        obj
        for block in component_map[pyo.Objective]
        for obj in block.component_data_objects(pyo.Objective, active=True, descend_into=False)
    ]
    if len(objectives) > 1:
        raise NotLinearError(f"{len(objectives)} active objectives")
    return objectives


def compile_linear(model: pyo.Block, *, track_parameters: bool = False) -> LinearArrays:
    """``model``'s active constraints and objective as :class:`LinearArrays`; raises :class:`NotLinearError`.

    ``track_parameters``: also list the rows, and say whether the objective, hold a number that may change without
    the model's structure changing (a mutable parameter, a fixed variable): :class:`ParameterReader` re-reads just
    those (:mod:`optimizer.reuse`)."""
    objectives = _check_components(model)
    walker = _Walker()
    starts = array("i", [0])
    lowers, uppers = array("d"), array("d")
    parametric_rows: list[tuple[int, Any]] = []
    parametric_objective = False
    with PauseGC():  # the walk makes many short-lived objects and no cycles
        for row, con in enumerate(model.component_data_objects(pyo.Constraint, active=True, descend_into=True)):
            walker.touched = False
            lower, upper = _row(walker, con)
            if walker.touched and track_parameters:
                parametric_rows.append((row, con))
            lowers.append(lower)
            uppers.append(upper)
            starts.append(len(walker.index))
        n_rows = len(lowers)
        n_row_terms = len(walker.index)
        offset, sense = 0.0, 1
        if objectives:
            objective = objectives[0]
            walker.touched = False
            offset = walker.walk(objective.expr, 1.0, objective)
            parametric_objective = walker.touched and track_parameters
            sense = -1 if objective.sense == pyo.maximize else 1
        columns = walker.columns
        col_lower, col_upper, integrality = _column_bounds(columns)
    index = np.frombuffer(walker.index, dtype=np.int32)
    value = np.frombuffer(walker.value, dtype=np.float64)
    col_cost = np.zeros(len(columns))
    np.add.at(col_cost, index[n_row_terms:], value[n_row_terms:])
    a_start, a_index, a_value = _merge_rows(
        np.frombuffer(starts, dtype=np.int32), index[:n_row_terms], value[:n_row_terms], n_rows
    )
    return LinearArrays(
        columns=columns,
        col_cost=col_cost,
        col_lower=col_lower,
        col_upper=col_upper,
        integrality=integrality,
        row_lower=np.frombuffer(lowers, dtype=np.float64),
        row_upper=np.frombuffer(uppers, dtype=np.float64),
        a_start=a_start,
        a_index=a_index,
        a_value=a_value,
        offset=offset,
        sense=sense,
        has_objective=bool(objectives),
        parametric_rows=parametric_rows if track_parameters else None,
        parametric_objective=parametric_objective,
    )


class ParameterReader:
    """Re-reads, after a model's parameters changed, the numbers :func:`compile_linear` tracked: the parametric
    rows (bounds and coefficients), the objective, and the bounds of the columns whose bounds are parameters or
    that are fixed. Raises :class:`NotLinearError` if a row now uses a variable that is not a column (the model's
    structure changed)."""

    def __init__(self, arrays: LinearArrays, objective: Any | None) -> None:
        if arrays.parametric_rows is None:
            raise ValueError("compile with track_parameters=True")
        self.arrays = arrays
        self.objective = objective
        self.walker = _Walker()
        self.walker.columns = list(arrays.columns)
        self.walker.column_of = {id(var): j for j, var in enumerate(arrays.columns)}
        self.rows = np.array([row for row, _ in arrays.parametric_rows], dtype=np.int32)
        self.constraints = [con for _, con in arrays.parametric_rows]
        self.columns = np.array(
            [j for j, var in enumerate(arrays.columns) if var.fixed or not _literal(var._lb) or not _literal(var._ub)],
            dtype=np.int32,
        )
        self.tracked = [arrays.columns[j] for j in self.columns]

    def _structure_held(self) -> None:
        if len(self.walker.columns) != self.arrays.n_cols:
            raise NotLinearError("a re-read row uses a variable the compiled model has no column for")

    def rows_now(self) -> tuple[np.ndarray, np.ndarray, list[dict[int, float]]]:
        """Lower and upper bounds of the parametric rows, and each one's coefficients by column."""
        walker = self.walker
        lowers, uppers = np.empty(len(self.rows)), np.empty(len(self.rows))
        coefficients: list[dict[int, float]] = []
        for k, con in enumerate(self.constraints):
            walker.index, walker.value = array("i"), array("d")
            lowers[k], uppers[k] = _row(walker, con)
            terms: dict[int, float] = {}
            for j, v in zip(walker.index, walker.value, strict=True):
                terms[j] = terms.get(j, 0.0) + v
            coefficients.append(terms)
        self._structure_held()
        return lowers, uppers, coefficients

    def objective_now(self) -> tuple[np.ndarray, float]:
        """The column costs and the objective's constant."""
        walker = self.walker
        walker.index, walker.value = array("i"), array("d")
        offset = walker.walk(self.objective.expr, 1.0, self.objective) if self.objective is not None else 0.0
        self._structure_held()
        cost = np.zeros(self.arrays.n_cols)
        np.add.at(cost, np.frombuffer(walker.index, dtype=np.int32), np.frombuffer(walker.value, dtype=np.float64))
        return cost, offset

    def column_bounds_now(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of the tracked columns (``self.columns``), as :func:`compile_linear` reads them."""
        lower, upper, _ = _column_bounds(self.tracked)
        return lower, upper


def _literal(bound: Any) -> bool:
    """True for a variable's stored bound that is a plain number or none."""
    return bound is None or bound.__class__ is float or bound.__class__ is int


def _merge_rows(
    starts: np.ndarray, index: np.ndarray, value: np.ndarray, n_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-wise arrays with each column at most once per row and no zero coefficients (HiGHS rejects
    duplicates): a variable used twice in a row (``x[t] - 0.5 * x[t]``) gets the sum of its coefficients."""
    counts = np.diff(starts)
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), counts)
    key = rows * (int(index.max()) + 1 if len(index) else 1) + index
    if len(key) > 1 and np.any(key[1:] <= key[:-1]):  # not strictly increasing within rows: sort and add up
        order = np.argsort(key, kind="stable")
        key, index, value, rows = key[order], index[order], value[order], rows[order]
        first = np.concatenate(([True], key[1:] != key[:-1]))
        value = np.add.reduceat(value, np.flatnonzero(first)) if len(value) else value
        index, rows = index[first], rows[first]
    keep = value != 0.0
    if not keep.all():
        index, value, rows = index[keep], value[keep], rows[keep]
    a_start = np.zeros(n_rows + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=a_start[1:])
    return a_start, np.ascontiguousarray(index, dtype=np.int32), np.ascontiguousarray(value, dtype=np.float64)


def _column_bounds(columns: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper bounds (``-inf``/``inf`` where none; both at the value of a fixed variable) and
    integrality of each column, as ``VarData.bounds`` and ``VarData.is_integer`` give them."""
    bulk = _column_bounds_in_bulk(columns)
    return bulk if bulk is not None else _column_bounds_one_by_one(columns)


def _column_bounds_in_bulk(columns: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`_column_bounds` from the variables' stored bounds, domains and fixed flags read in bulk (five
    times faster on long horizons); a stored bound that is a mutable parameter or an expression of them is
    evaluated here (:func:`_fixed_value`). None when a variable does not store them the way Pyomo 6's ``VarData``
    does."""
    n = len(columns)
    try:
        stored_lower = _stored_bounds([v._lb for v in columns])
        stored_upper = _stored_bounds([v._ub for v in columns])
        fixed = np.array([v._fixed for v in columns], dtype=bool)
        domain_ids = np.fromiter((id(v._domain) for v in columns), dtype=np.int64, count=n)
    except (AttributeError, TypeError, ValueError):
        return None
    if np.any(stored_lower == np.inf) or np.any(stored_upper == -np.inf):
        return None  # an invalid bound: the one-by-one path raises Pyomo's error
    unique, first, inverse = np.unique(domain_ids, return_index=True, return_inverse=True)
    domain_lower, domain_upper = np.empty(len(unique)), np.empty(len(unique))
    domain_integer = np.zeros(len(unique), dtype=np.int32)
    for k, j in enumerate(first):
        low, high = columns[j].domain.bounds()
        domain_lower[k] = -np.inf if low is None else low
        domain_upper[k] = np.inf if high is None else high
        domain_integer[k] = columns[j].is_integer()
    lower = np.fmax(stored_lower, domain_lower[inverse])  # a missing (nan) or infinite bound: the domain's
    upper = np.fmin(stored_upper, domain_upper[inverse])
    if fixed.any():
        at = np.flatnonzero(fixed)
        values = [columns[j].value for j in at]
        if any(value is None for value in values):
            return None  # the one-by-one path names the variable
        lower[at] = upper[at] = values
    return lower, upper, domain_integer[inverse]


def _stored_bounds(bounds: list[Any]) -> np.ndarray:
    """Stored variable bounds as floats (None: nan): in one conversion when they are numbers, else one by one."""
    try:
        return np.array(bounds, dtype=float)
    except (TypeError, ValueError):
        return np.array([np.nan if b is None else _fixed_value(b) for b in bounds], dtype=float)


def _column_bounds_one_by_one(columns: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(columns)
    lower = np.empty(n)
    upper = np.empty(n)
    integrality = np.zeros(n, dtype=np.int32)
    integer_domain: dict[int, bool] = {}
    for j, var in enumerate(columns):
        domain = var.domain
        is_integer = integer_domain.get(id(domain))
        if is_integer is None:
            is_integer = integer_domain[id(domain)] = var.is_integer()
        if is_integer:
            integrality[j] = 1
        if var.fixed:
            if var.value is None:
                raise NotLinearError(f"{var.name} is fixed without a value")
            lower[j] = upper[j] = var.value
            continue
        lb, ub = var.bounds
        lower[j] = -np.inf if lb is None else lb
        upper[j] = np.inf if ub is None else ub
    return lower, upper, integrality


def load_values(columns: list[Any], values: np.ndarray) -> None:
    """Puts a solution's column values into the Pyomo variables (fixed ones keep theirs)."""
    from pyomo.core.staleflag import StaleFlagManager

    for var, value in zip(columns, values.tolist(), strict=True):
        if not var.fixed:
            var.set_value(value, skip_validation=True)
    StaleFlagManager.mark_all_as_stale(delayed=True)
