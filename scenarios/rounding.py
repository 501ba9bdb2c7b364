"""One rounding policy for the numbers that leave the program: schedules, tables and KPIs as people read them.

The optimiser's numbers are never rounded: what is solved, checked and recomputed
(KPIs, carried state, plan vs actual) uses them as they are. Only files and
responses are rounded, here, at the resolution of each number's unit:

===================================  =====================================================  ==============
what                                 recognised by                                          written to
===================================  =====================================================  ==============
**schedule columns**
power and flow rates                 ``_kw``, ``_m3_per_min``, ``_nm3_per_h``; else a flow  0.001
                                     on a bus (:class:`~optimizer.dispatch.ColumnInfo`)
energies, store levels, volumes      ``_kwh``, ``_m3``, ``_nm3``; else a capacity           0.001
prices                               ``_cny_per_kwh``                                       0.0001
fractions, ratios                    ``_frac``, ``.cop``                                    0.0001
on/off, starts, ice mode, units on   ``.on``, ``.start``, ``.starts``, ``.ice_mode``;       integer
                                     roles ``compressor_on``/``compressor_start``
anything else                                                                               0.0001
**KPIs and summary tables**
money, prices per MWh or tCO2        ``_cny``, ``cost:<component>``, ``_cny_per_mwh``,      0.01
                                     ``_cny_per_tco2``
emissions, energies, gas, heat       ``_kgco2``, ``_tco2``, ``_kwh``, ``_mwh``, ``_nm3``,   0.001
                                     ``_gj``
powers                               ``_kw``                                                0.001
emission factors                     ``_kgco2_per_kwh``, ``_kgco2_per_nm3``,                0.000001
                                     ``_kgco2_per_gj``, ``_kgco2_per_kg``
fractions, MIP gap                   ``_frac``                                              0.000001
hours, starts, seconds               ``_h``, ``_starts``, ``_seconds``                      0.001
===================================  =====================================================  ==============

Every rounded value is a float with no negative zero (``-0.0`` is written ``0.0``)
or, in an integer column, an ``int``. A KPI smaller in size than its precision is
written 0 (a demand charge of ``7.96e-12`` CNY is ``0.0``). An integer column
whose values are not all within :data:`INTEGRALITY_TOLERANCE` of an integer (a
continuous start count that nothing costs) is written at 0.001 instead, so no
value moves by more than its resolution.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from optimizer.dispatch import ColumnInfo


@dataclass(frozen=True)
class Precision:
    """How a kind of number is written: ``decimals`` after the point, or as an integer (``integer``)."""

    kind: str
    decimals: int
    integer: bool = False

    @property
    def step(self) -> float:
        """The resolution: the smallest non-zero size written."""
        return 10.0**-self.decimals


RATE = Precision("rate", 3)
"""Powers and flow rates: kW, m3/min, Nm3/h."""
AMOUNT = Precision("amount", 3)
"""Energies, store levels, volumes, emissions: kWh, m3, Nm3, kgCO2; also hours and seconds."""
PRICE = Precision("price", 4)
"""Prices per unit: CNY/kWh."""
SCHEDULE_FRACTION = Precision("schedule fraction", 4)
"""A fraction in a schedule column (a compressor's loaded share)."""
RATIO = Precision("ratio", 4)
"""A dimensionless ratio in a schedule column (a heat pump's COP)."""
COUNT = Precision("count", 0, integer=True)
"""Binaries and unit counts: on/off, starts, ice mode, units running."""
MONEY = Precision("money", 2)
"""Money: CNY."""
KPI_FRACTION = Precision("KPI fraction", 6)
"""A fraction in a KPI or summary table (a share, a MIP gap)."""
FACTOR = Precision("emission factor", 6)
"""An emission factor: kgCO2/kWh, kgCO2/Nm3, kgCO2/GJ, kgCO2/kg (published to 4 decimals; kept finer)."""
DEFAULT_SCHEDULE = Precision("unknown", 4)
"""A schedule column of no known unit."""

INTEGRALITY_TOLERANCE = 1e-5
"""How far from an integer a value of an integer column may be (solver tolerances are 1e-6) to be written as one."""

INTEGER_NAMES = frozenset({"on", "start", "starts", "ice_mode", "units_on"})
"""Last parts of schedule column names (``chiller_1.on``) that are binaries or unit counts."""
INTEGER_ROLES = frozenset({"compressor_on", "compressor_start"})
"""Optimiser column roles that are binaries or unit counts."""
RATIO_NAMES = frozenset({"cop"})
"""Last parts of schedule column names that are dimensionless ratios."""

SCHEDULE_SUFFIXES: tuple[tuple[str, Precision], ...] = (
    ("_cny_per_kwh", PRICE),
    ("_m3_per_min", RATE),
    ("_nm3_per_h", RATE),
    ("_kwh", AMOUNT),
    ("_kw", RATE),
    ("_nm3", AMOUNT),
    ("_m3", AMOUNT),
    ("_frac", SCHEDULE_FRACTION),
)
"""Unit suffixes of schedule columns, the longest that ends with another first."""

KPI_SUFFIXES: tuple[tuple[str, Precision], ...] = (
    ("_kgco2_per_kwh", FACTOR),
    ("_kgco2_per_nm3", FACTOR),
    ("_kgco2_per_gj", FACTOR),
    ("_kgco2_per_kg", FACTOR),
    ("_cny_per_kwh", PRICE),
    ("_cny_per_kw_month", MONEY),
    ("_cny_per_mwh", MONEY),
    ("_cny_per_tco2", MONEY),
    ("_cny", MONEY),
    ("_kgco2", AMOUNT),
    ("_tco2", AMOUNT),
    ("_mwh", AMOUNT),
    ("_kwh", AMOUNT),
    ("_gj", AMOUNT),
    ("_kw", RATE),
    ("_nm3", AMOUNT),
    ("_frac", KPI_FRACTION),
    ("_seconds", AMOUNT),
    ("_starts", AMOUNT),
    ("_h", AMOUNT),
)
"""Unit suffixes of KPI names and summary-table columns, after any ``_by_<key>`` and ``_vs_<run>`` is removed."""

UNIT_PRECISION: dict[str, Precision] = {
    "cny": MONEY,
    "kgco2": AMOUNT,
    "kwh": AMOUNT,
    "kw": RATE,
    "nm3": AMOUNT,
    "frac": KPI_FRACTION,
    "h": AMOUNT,
}
"""A unit as a target names it (``TargetShortfall.unit``), lower case, and its precision."""


_QUALIFIER = re.compile(r"_(?:vs|by)_[a-z0-9]+$")
"""A trailing ``_vs_base``, ``_vs_rules`` or ``_by_source`` qualifier after a KPI's unit."""


def _last_part(column: str) -> str:
    return column.rsplit(".", 1)[-1]


def _by_suffix(name: str, table: tuple[tuple[str, Precision], ...]) -> Precision | None:
    return next((precision for suffix, precision in table if name.endswith(suffix)), None)


def column_precision(column: str, info: ColumnInfo | None = None) -> Precision:
    """The precision of a schedule column, from its name's unit suffix and what the optimiser said of it."""
    last = _last_part(column)
    if last in INTEGER_NAMES or (info is not None and info.role in INTEGER_ROLES):
        return COUNT
    if last in RATIO_NAMES:
        return RATIO
    found = _by_suffix(last, SCHEDULE_SUFFIXES)
    if found is not None:
        return found
    if info is not None and info.capacity is not None:
        return AMOUNT  # a store's level
    if info is not None and info.bus is not None:
        return RATE  # a flow on a bus: kW or m3/min
    return DEFAULT_SCHEDULE


def kpi_precision(name: str) -> Precision | None:
    """The precision of a KPI or summary-table column (``energy_cost_cny``, ``cost:demand_charge``,
    ``green_share_frac_vs_base``, ``emissions_market_kgco2_by_source``); None when its unit is unknown."""
    if name.startswith("cost:"):
        return MONEY
    base = name
    while (shorter := _QUALIFIER.sub("", base)) != base:
        base = shorter
    return _by_suffix(base, KPI_SUFFIXES)


def unit_precision(unit: str | None) -> Precision:
    """The precision of an amount in a named unit (``"kWh"``, ``"kgCO2"``, ``"CNY"``); 0.001 when unknown."""
    return UNIT_PRECISION.get((unit or "").strip().lower(), AMOUNT)


def round_number(value: Any, precision: Precision, *, tiny_to_zero: bool = False) -> Any:
    """``value`` at ``precision``: a float without negative zero (an int for integer precision); None, NaN,
    infinities, booleans and non-numbers unchanged. ``tiny_to_zero``: any size below the resolution is 0."""
    if value is None or isinstance(value, (bool, np.bool_, str)):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, (int, float)):
        return value
    number = float(value)
    if not math.isfinite(number):
        return value
    if precision.integer:
        return round(number)
    if tiny_to_zero and abs(number) < precision.step:
        return 0.0
    return round(number, precision.decimals) + 0.0  # + 0.0 turns -0.0 into 0.0


def _round_floats(values: np.ndarray, precision: Precision) -> np.ndarray:
    return np.round(values, precision.decimals) + 0.0


def round_series(series: pd.Series, precision: Precision) -> pd.Series:
    """A numeric column at ``precision``. An integer column comes out as ``int64`` (``Int64`` with gaps) when every
    value is within :data:`INTEGRALITY_TOLERANCE` of an integer, else at 0.001; other columns as floats."""
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return series
    if pd.api.types.is_integer_dtype(series):
        return series  # already exact
    values = series.to_numpy(dtype=float, na_value=np.nan)
    if precision.integer:
        finite = values[np.isfinite(values)]
        if np.all(np.abs(finite - np.rint(finite)) <= INTEGRALITY_TOLERANCE):
            whole = np.rint(values) + 0.0
            if finite.size == values.size:
                return pd.Series(whole.astype(np.int64), index=series.index, name=series.name)
            return pd.Series(whole, index=series.index, name=series.name).round().astype("Int64")
        precision = AMOUNT
    return pd.Series(_round_floats(values, precision), index=series.index, name=series.name)


def round_schedule(schedule: pd.DataFrame, columns: Mapping[str, ColumnInfo] | None = None) -> pd.DataFrame:
    """A copy of a schedule with every column at its unit's precision (:func:`column_precision`); integer columns
    as integers. ``columns`` is what the optimiser said of each column (``DispatchResult.columns``)."""
    info = columns or {}
    return pd.DataFrame(
        {c: round_series(schedule[c], column_precision(str(c), info.get(str(c)))) for c in schedule.columns},
        index=schedule.index,
    )


def round_table(frame: pd.DataFrame, units: Mapping[str, Precision] | None = None) -> pd.DataFrame:
    """A copy of a summary table (per day, per run) with each numeric column at its precision: from ``units``,
    else from its name (:func:`kpi_precision`); columns of unknown unit, text and the parameters a run was given
    (``param:...``, as written in the scenario) are left as they are."""
    units = units or {}
    out = frame.copy()
    for column in frame.columns:
        if str(column).startswith("param:"):
            continue
        precision = units.get(str(column)) or kpi_precision(str(column))
        if precision is not None:
            out[column] = round_series(frame[column], precision)
    return out


def round_kpi_value(name: str, value: Any) -> Any:
    """One KPI (or a dict or list of them, e.g. costs by component) rounded at the precision of its name."""
    if isinstance(value, Mapping):
        return {k: round_kpi_value(name, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [round_kpi_value(name, v) for v in value]
    precision = kpi_precision(name)
    return value if precision is None else round_number(value, precision, tiny_to_zero=True)


def _round_shortfall(record: Mapping[str, Any]) -> dict[str, Any]:
    precision = unit_precision(record.get("unit"))
    amounts = ("required", "achieved", "shortfall")
    return {k: round_number(v, precision, tiny_to_zero=True) if k in amounts else v for k, v in record.items()}


def rounded_kpis(kpis: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    """KPIs (a :class:`optimizer.Kpis` or its dump) as written: each at its precision, sizes below it as 0."""
    data = kpis.model_dump() if isinstance(kpis, BaseModel) else dict(kpis)
    out: dict[str, Any] = {}
    for name, value in data.items():
        if name == "target_shortfalls":
            out[name] = [_round_shortfall(s) for s in value or []]
        else:
            out[name] = round_kpi_value(name, value)
    return out


def rounded_record(value: Any, name: str = "") -> Any:
    """A nested record as written (a ledger's totals, a zero-carbon status, a period figure's dump): every number
    at the precision of the name it is held under (:func:`kpi_precision`); a mapping under a name with a unit
    (``scope1_kgco2_by_fuel``) is a set of amounts in that unit, any other mapping a record whose keys name its
    fields; lists take the name they are under; numbers under a name of unknown unit (factor values, counts) and
    text stay as they are. Why: a record mixes units, so each number is rounded by its own field's name."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, Mapping):
        if name and kpi_precision(name) is not None:
            return {str(k): rounded_record(v, name) for k, v in value.items()}
        return {str(k): rounded_record(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded_record(v, name) for v in value]
    precision = kpi_precision(name) if name else None
    return value if precision is None else round_number(value, precision, tiny_to_zero=True)
