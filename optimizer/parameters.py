"""Data that a re-used model takes anew for each problem: a day's series, initial levels, prices.

An asset kind that can be re-used (:mod:`optimizer.reuse`) derives every number that may change from one problem of
the same shape to the next in one function, ``parameters(spec, problem) -> {name: array}``, registered as
``AssetType.parameters``. Its builder takes those arrays through :meth:`BuildContext.take_parameters`, which wraps
each in a :class:`Parameter`:

- ``parameter.values`` is the numpy array (a 0-d array for one number) the rest of the build context holds on to:
  schedule columns of data, cost terms evaluated on a schedule, the grid port's price. Re-use overwrites it in
  place, so everything that holds it sees the new problem's numbers;
- ``parameter.at(t)`` and ``parameter.scalar`` are the mutable Pyomo parameters the model's expressions use, made on
  first use. Re-use sets them too; :mod:`optimizer.linear_form` then re-reads only the rows, columns and costs they
  appear in. A model built once (``build_model(..., symbolic_parameters=False)``, the default) gets plain numbers
  there instead, so it builds and compiles as fast as a model without parameters.

A builder uses a parameter's Pyomo side wherever the number enters the model, and never branches on its values:
what the model's structure depends on belongs in the kind's ``structure`` key instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.core as pyo


@dataclass
class Parameter:
    """One named piece of an asset's data, as numbers (``values``) and, once used, as a mutable Pyomo ``Param``."""

    key: str
    """``<asset>.<name>``, e.g. ``pv.available_kw``."""
    values: np.ndarray
    """Float per step, a 0-d float array for one number, or an object array of labels (no Pyomo side)."""
    model: pyo.Block = field(repr=False)
    symbolic: bool = True
    """False in a model built once (not kept for re-use): :meth:`at` and :attr:`scalar` then give plain numbers,
    which Pyomo builds and :mod:`optimizer.linear_form` reads faster."""
    component: Any = field(default=None, repr=False)
    fixed: list[Any] = field(default_factory=list, repr=False)
    """Indexed variables held at ``values`` (:meth:`fix`)."""

    def _param(self) -> Any:
        if self.component is None:
            name = "param_" + self.key.replace(".", "__")
            if self.values.ndim == 0:
                param = pyo.Param(mutable=True, initialize=float(self.values))
            else:
                param = pyo.Param(
                    range(len(self.values)), mutable=True, initialize=dict(enumerate(self.values.tolist()))
                )
            self.model.add_component(name, param)
            self.component = param
        return self.component

    def at(self, t: int) -> Any:
        """The Pyomo parameter of step ``t`` (its number when not :attr:`symbolic`)."""
        return self._param()[t] if self.symbolic else float(self.values[t])

    @property
    def scalar(self) -> Any:
        """The Pyomo parameter of a one-number parameter (its number when not :attr:`symbolic`)."""
        return self._param() if self.symbolic else float(self.values)

    def fix(self, var: Any) -> None:
        """Fixes ``var[t]`` at ``values[t]``, now and whenever new values are assigned (data the model takes as
        given, e.g. the output of PV that cannot be curtailed)."""
        self.fixed.append(var)
        for data, value in zip(var.values(), self.values.tolist(), strict=True):
            data.fix(value)

    def assign(self, values: Any) -> None:
        """Takes a new problem's numbers: in place into ``values``, and into the Pyomo parameters once made."""
        new = np.asarray(values, dtype=self.values.dtype)
        if new.shape != self.values.shape:
            raise ValueError(f"{self.key}: shape {new.shape} where the model has {self.values.shape}")
        np.copyto(self.values, new)
        if self.component is not None and self.values.ndim == 0:
            self.component.set_value(float(new))
        elif self.component is not None:  # plain floats of the right length: Pyomo's checks add only time
            self.component.store_values(dict(enumerate(new.tolist())), check=False)
        for var in self.fixed:  # after the parameters: a fixed value is checked against bounds that may hold them
            for data, value in zip(var.values(), new.tolist(), strict=True):
                data.fix(value)


def as_values(values: Any) -> np.ndarray:
    """A parameter's array: float where it is numeric, labels kept as objects."""
    array = np.asarray(values)
    return array.astype(float) if array.dtype.kind in "biuf" else array.astype(object)
