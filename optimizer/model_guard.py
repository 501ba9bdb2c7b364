"""The last guard before HiGHS: no finite number at or above :data:`optimizer.limits.MODEL_NUMBER_LIMIT` in the
model it receives.

The specs bound every input (:mod:`optimizer.limits`), but a coefficient is often a product of several (a price
times a step length times a COP) and a plug-in's fields may carry no unit in their names. HiGHS reads a bound from
1e20 as infinite, so such a number would not fail: the row or bound would silently vanish and the plan would read
"optimal". :func:`check_linear_arrays` refuses it with a typed error naming the row or column, before the solve.
"""

from __future__ import annotations

import numpy as np

from optimizer.errors import SpecError
from optimizer.limits import MODEL_NUMBER_LIMIT
from optimizer.linear_form import LinearArrays


class ModelNumberError(SpecError):
    """A finite number of the model at or above :data:`~optimizer.limits.MODEL_NUMBER_LIMIT` in magnitude."""


def _first_large(values: np.ndarray) -> int | None:
    large = np.flatnonzero(np.isfinite(values) & (np.abs(values) >= MODEL_NUMBER_LIMIT))
    return int(large[0]) if large.size else None


def _column(arrays: LinearArrays, j: int) -> str:
    name = getattr(arrays.columns[j], "name", None)
    return f"column {j} ({name})" if name else f"column {j}"


def check_linear_arrays(arrays: LinearArrays) -> None:
    """Raises :class:`ModelNumberError` for the first finite cost, bound, right-hand side or coefficient of
    ``arrays`` at or above :data:`~optimizer.limits.MODEL_NUMBER_LIMIT` in magnitude (infinite bounds are fine)."""
    found: tuple[str, float] | None = None
    for what, values in (
        ("cost", arrays.col_cost),
        ("lower bound", arrays.col_lower),
        ("upper bound", arrays.col_upper),
    ):
        j = _first_large(values)
        if j is not None:
            found = (f"the {what} of {_column(arrays, j)}", float(values[j]))
            break
    if found is None:
        for what, values in (("lower side", arrays.row_lower), ("upper side", arrays.row_upper)):
            i = _first_large(values)
            if i is not None:
                found = (f"the {what} of row {i}", float(values[i]))
                break
    if found is None:
        k = _first_large(arrays.a_value)
        if k is not None:
            row = int(np.searchsorted(arrays.a_start, k, side="right")) - 1
            found = (
                f"the coefficient of {_column(arrays, int(arrays.a_index[k]))} in row {row}",
                float(arrays.a_value[k]),
            )
    if found is None and np.isfinite(arrays.offset) and abs(arrays.offset) >= MODEL_NUMBER_LIMIT:
        found = ("the objective's constant", float(arrays.offset))
    if found is not None:
        where, value = found
        raise ModelNumberError(
            f"the model holds {value:g} as {where}: {MODEL_NUMBER_LIMIT:g} or more in magnitude, where HiGHS's "
            "arithmetic stops meaning anything (from 1e20 it reads a bound as infinite); an input is far too large",
            code="model_number",
        )
