"""Bounds of physical sense on every number and date a problem takes, in one place.

HiGHS reads any bound at or above 1e20 as infinite and calls matrix values at or above 1e15 large, so a number a
caller typed by mistake (a load of 1e21 kW) would silently vanish from the model and the plan would read
"optimal". Three layers keep that from happening:

- every number of an asset spec, and of a problem's targets and objective, is within the bound of the unit its
  field's name ends in (the project's convention: ``_kw``, ``_kwh``, ``_cny_per_kwh``...; :data:`UNIT_LIMITS`),
  or within ``MAX_MAGNITUDE`` for a field that names none (a COP, a temperature, a count):
  :func:`unit_limit_error`, which every asset spec and :class:`optimizer.DispatchProblem` run when they validate,
  vectorised over a series and naming the field and the step;
- the model as HiGHS receives it holds no finite number at or above ``MODEL_NUMBER_LIMIT``
  (:mod:`optimizer.model_guard`, called by :mod:`optimizer.solve` before the solve).

Dates a horizon may start on are bounded too (``EARLIEST_DATE`` .. ``LATEST_DATE``): tariffs, emission factors and
time zones mean nothing far outside them, and pandas' nanosecond time axis ends in 2262.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel

MAX_POWER_KW = 1e7
"""10 GW: above the largest power station, three orders of magnitude above a large factory's connection [kW]."""
MAX_ENERGY_KWH = 1e11
"""100 TWh: 10 GW for a whole year is 87.6 TWh [kWh]."""
MAX_PRICE_CNY_PER_KWH = 1e4
"""Prices and penalties per kWh: China's peak industrial prices are about 1.5 CNY/kWh; soft-target penalties a few
hundred at most [CNY/kWh]."""
MAX_EMISSION_FACTOR_KGCO2_PER_UNIT = 1e3
"""Per kWh, Nm3 or GJ: coal power is about 1 kgCO2/kWh, natural gas 2 kgCO2/Nm3, heat 100 kgCO2/GJ."""
MAX_MONEY_CNY = 1e12
"""One cost or price per unit of anything [CNY]."""
MAX_MAGNITUDE = 1e12
"""Any number of a spec, whatever its unit: 1000 times below the 1e15 at which HiGHS calls a matrix value large."""
MODEL_NUMBER_LIMIT = 1e15
"""A finite coefficient, bound or right-hand side at or above this in the model HiGHS receives is an error: HiGHS's
``large_matrix_value`` (1e15), and well below its ``infinite_bound`` (1e20), where a number would silently vanish."""

EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
"""Days a horizon may cover: the span of tariffs and grid emission factors that mean something (and well inside
pandas' nanosecond time axis, 1677-2262, in every zone)."""


@dataclass(frozen=True)
class UnitLimit:
    """The largest magnitude a field with names ending in ``suffix`` may take."""

    suffix: str
    limit: float
    unit: str
    what: str


UNIT_LIMITS: tuple[UnitLimit, ...] = (
    # the most specific suffix first: "_cny_per_kwh" before "_kwh", "_kw_per_h" before "_kw"
    UnitLimit("_cny_per_kwh", MAX_PRICE_CNY_PER_KWH, "CNY/kWh", "a price per kWh"),
    UnitLimit("_cny_per_kw_month", MAX_PRICE_CNY_PER_KWH, "CNY/kW-month", "a demand charge"),
    UnitLimit("_kgco2_per_kwh", MAX_EMISSION_FACTOR_KGCO2_PER_UNIT, "kgCO2/kWh", "an emission factor"),
    UnitLimit("_kgco2_per_nm3", MAX_EMISSION_FACTOR_KGCO2_PER_UNIT, "kgCO2/Nm3", "an emission factor"),
    UnitLimit("_kgco2_per_gj", MAX_EMISSION_FACTOR_KGCO2_PER_UNIT, "kgCO2/GJ", "an emission factor"),
    UnitLimit("_kw_per_h", 60 * MAX_POWER_KW, "kW/h", "a ramp rate (full power within a minute)"),
    UnitLimit("_kw", MAX_POWER_KW, "kW", "a power"),
    UnitLimit("_kwh", MAX_ENERGY_KWH, "kWh", "an energy"),
    UnitLimit("_cny_per_nm3", MAX_PRICE_CNY_PER_KWH, "CNY/Nm3", "a gas price"),
    UnitLimit("_cny_per_gj", 278 * MAX_PRICE_CNY_PER_KWH, "CNY/GJ", "a heat price (1 GJ = 277.8 kWh)"),
    UnitLimit("_cny_per_kgco2", MAX_PRICE_CNY_PER_KWH, "CNY/kgCO2", "a price per kgCO2"),
    UnitLimit("_cny_per_tco2", 1000 * MAX_PRICE_CNY_PER_KWH, "CNY/tCO2", "a price per tCO2"),
    UnitLimit("_kgco2", MAX_MAGNITUDE, "kgCO2", "an amount of CO2"),
    UnitLimit("_cny", MAX_MONEY_CNY, "CNY", "an amount of money"),
)
"""Bounds by the unit a field's name ends in (the project's naming convention)."""
ANY_NUMBER = UnitLimit("", MAX_MAGNITUDE, "", "any number")
"""The bound of a number whose field names no unit of :data:`UNIT_LIMITS` (a COP, a temperature, a count)."""


def unit_limit(field: str) -> UnitLimit:
    """The bound of a field by the unit its name ends in; :data:`ANY_NUMBER` for a name without one."""
    return next((limit for limit in UNIT_LIMITS if field.endswith(limit.suffix)), ANY_NUMBER)


@dataclass(frozen=True)
class LimitBreach:
    """A number above its bound: the field's dotted path in the spec, the step (an item of a series), the value."""

    field: str
    step: int | None
    value: float
    limit: UnitLimit

    @property
    def path(self) -> str:
        """The field with the item's index: ``power_kw.3``."""
        return self.field if self.step is None else f"{self.field}.{self.step}"

    @property
    def message(self) -> str:
        unit = f" {self.limit.unit}" if self.limit.unit else ""
        return f"{self.value:g}{unit} is beyond {self.limit.limit:g}{unit}, the bound of {self.limit.what}"


def _first_beyond(value: Any, limit: float) -> tuple[int | None, float] | None:
    """``(step, number)`` of a number, or of the first item of a list of numbers, beyond ``limit`` in magnitude
    (NaN counts); None when all are within it or ``value`` holds no numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return None if abs(value) <= limit else (None, float(value))
    if not isinstance(value, (list, tuple)) or not value or not isinstance(value[0], (int, float)):
        return None
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):  # not numbers throughout (a list of pairs, of clock times...)
        return None
    if array.ndim != 1:
        return None
    beyond = np.flatnonzero(~(np.abs(array) <= limit))
    return None if beyond.size == 0 else (int(beyond[0]), float(array[int(beyond[0])]))


def _breaches(model: BaseModel, prefix: str) -> Iterable[LimitBreach]:
    for name in type(model).model_fields:
        value = getattr(model, name, None)
        path = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            yield from _breaches(value, f"{path}.")
            continue
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, BaseModel) for v in value):
            for i, item in enumerate(value):
                yield from _breaches(item, f"{path}.{i}.")
            continue
        limit = unit_limit(name)
        items = value.items() if isinstance(value, Mapping) else [(None, value)]
        for key, item in items:
            found = _first_beyond(item, limit.limit)
            if found is not None:
                yield LimitBreach(path if key is None else f"{path}.{key}", found[0], found[1], limit)


def unit_limit_error(model: BaseModel, prefix: str = "") -> LimitBreach | None:
    """The first number of ``model`` (nested models included) beyond the bound of its unit, or None; ``prefix``
    goes before the field's path (``targets.``)."""
    return next(iter(_breaches(model, prefix)), None)


def in_date_range(day: dt.date) -> bool:
    """Whether ``day`` is within ``EARLIEST_DATE`` .. ``LATEST_DATE``."""
    return EARLIEST_DATE <= day <= LATEST_DATE


def date_range_text() -> str:
    """``2000-01-01 .. 2100-12-31``, for messages."""
    return f"{EARLIEST_DATE.isoformat()} .. {LATEST_DATE.isoformat()}"
