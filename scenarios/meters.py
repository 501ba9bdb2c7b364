"""Meter series of a site: which readings it takes, what their values mean, and how they become interval averages.

A reading series is named after what it measures on the site, so that forecasts,
measured states and plan-vs-actual need no mapping table:

- an **input** of the site (``$inputs.<name>`` in an asset field): ``process_load``,
  ``pv_roof``, ``compressed_air``. Its history is what the load model forecasts
  from; a PV input's readings are the array's production. Unit from the field
  (``power_kw`` -> kW, ``flow_m3_per_min`` -> m3/min).
- a **state** of an asset, from the kind's state rules (:mod:`optimizer.state`):
  a store's level column (``battery.soc_kwh``, ``ice_tank.level_kwh``) or its
  level as a fraction (``battery.soc_frac``), units running (``compressors_lu.on``).
- a **metered flow** ``<asset>.<field>_kw`` of an asset on the site
  (``grid.import_kw``, ``grid.export_kw``, ``pv_roof.output_kw``), compared with the
  schedule column of the same name.

Each series says what its values are (:data:`ValuesKind`): ``power`` (the average
over the interval that starts at the timestamp), ``energy`` (kWh in that interval),
``register`` (a cumulative counter read at the timestamp; a drop is a meter reset and
the new reading counts from zero) or ``state`` (an instant value). Rates and energies
become averages on the site's step by :func:`interval_average`, whatever step they
were sent at.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from optimizer.assets import REGISTRY
from optimizer.state import CommitmentState, LevelState, MonthPeakState
from scenarios.assets import input_refs
from scenarios.site import Site

ValuesKind = Literal["power", "energy", "register", "state"]

MAX_RATE = 1e6
"""Largest accepted rate reading [kW or m3/min]: a meter beyond this is broken."""
MAX_REGISTER = 1e12
"""Largest accepted cumulative register [kWh]."""
LEVEL_TOLERANCE = 1.05
"""A level reading may exceed the store's capacity by this factor (sensor error) before it is rejected."""


@dataclass(frozen=True)
class MeterSeries:
    """One series a site accepts: its unit, the value kinds it may be sent as and its physical range."""

    name: str
    unit: str
    kinds: tuple[ValuesKind, ...]
    low: float
    high: float
    describes: str
    asset: str | None = None

    @property
    def default_kind(self) -> ValuesKind:
        return self.kinds[0]

    def bounds(self, kind: ValuesKind) -> tuple[float, float]:
        """The accepted range of one value sent as ``kind`` (a register only counts up from 0)."""
        if kind == "register":
            return (0.0, MAX_REGISTER)
        if kind == "energy":
            return (0.0 if self.low >= 0 else -MAX_REGISTER, MAX_REGISTER)
        return (self.low, self.high)


def _rate_unit(field: str) -> str | None:
    if field.endswith("_kw"):
        return "kW"
    if field.endswith("_m3_per_min"):
        return "m3/min"
    return None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def meter_series(site: Site) -> dict[str, MeterSeries]:
    """Every series ``site`` accepts readings for, by name."""
    out: dict[str, MeterSeries] = {}
    for asset in site.assets:
        name: str = asset.name  # type: ignore[attr-defined]
        kind: str = asset.kind  # type: ignore[attr-defined]
        for field, ref in input_refs(asset).items():
            unit = _rate_unit(field)
            if unit == "kW":
                out[ref] = MeterSeries(ref, unit, ("power", "energy", "register"), 0.0, MAX_RATE, f"{name}.{field}")
            elif unit is not None:
                out[ref] = MeterSeries(ref, unit, ("power",), 0.0, MAX_RATE, f"{name}.{field}")
            else:
                out[ref] = MeterSeries(ref, "", ("power",), -MAX_RATE, MAX_RATE, f"{name}.{field}")
        for rule in REGISTRY[kind].state:
            if isinstance(rule, LevelState):
                capacity = _number(getattr(asset, rule.capacity, None))
                high = MAX_REGISTER if capacity is None else capacity * LEVEL_TOLERANCE
                level = f"{name}.{rule.level}"
                frac = f"{name}.{rule.initial.removeprefix('initial_')}"
                unit = {"kwh": "kWh", "m3": "m3"}.get(rule.level.rsplit("_", 1)[-1], "")
                out[level] = MeterSeries(level, unit, ("state",), 0.0, high, "level", name)
                out[frac] = MeterSeries(frac, "fraction", ("state",), 0.0, LEVEL_TOLERANCE, "level", name)
            elif isinstance(rule, CommitmentState):
                units = _number(getattr(asset, "units", 1)) or 1.0
                column = f"{name}.{rule.on}"
                out[column] = MeterSeries(column, "units", ("state",), 0.0, units, "units running", name)
            elif isinstance(rule, MonthPeakState):
                column = f"{name}.{rule.column}"
                kinds: tuple[ValuesKind, ...] = ("power", "energy", "register")
                out[column] = MeterSeries(column, "kW", kinds, 0.0, MAX_RATE, "grid import", name)
                export = f"{name}.export_kw"
                out[export] = MeterSeries(export, "kW", kinds, 0.0, MAX_RATE, "grid export", name)
    return out


def find_series(site: Site, known: dict[str, MeterSeries], name: str) -> MeterSeries | None:
    """The series ``name`` on ``site``: one of ``known`` (:func:`meter_series`), or a metered flow
    ``<asset>.<column>_kw`` of an asset on the site (compared with the schedule column of that name)."""
    if name in known:
        return known[name]
    asset, _, column = name.partition(".")
    if column.endswith("_kw") and asset in {a.name for a in site.assets}:  # type: ignore[attr-defined]
        return MeterSeries(name, "kW", ("power", "energy", "register"), -MAX_RATE, MAX_RATE, "metered flow", asset)
    return None


def epoch_seconds(index: pd.DatetimeIndex) -> np.ndarray:
    """Seconds since the epoch (float) of a tz-aware index, whatever its resolution."""
    return index.as_unit("ns").asi8.astype(float) / 1e9


def interval_average(readings: pd.Series, kind: ValuesKind, index: pd.DatetimeIndex) -> pd.Series:
    """Readings of one series -> average rate over each interval of ``index`` (NaN where none covers it).

    ``readings`` is tz-aware and sorted. ``power``: each value holds from its
    timestamp to the next one (at most the series' typical spacing, so a gap
    stays a gap); ``energy``: the same, divided by the interval's hours;
    ``register``: the increase between two readings spread over the time between
    them (a drop is a reset: the new value counted from zero). Each target
    interval gets the energy of what covers it over the time covered, so any
    step in becomes the site's step out, and energy is kept.
    """
    step_s = float(pd.Timedelta(index.freq or (index[1] - index[0])).total_seconds()) if len(index) > 1 else 900.0
    edges = np.append(epoch_seconds(index), epoch_seconds(index[-1:]) + step_s) if len(index) else np.zeros(1)
    if len(readings) == 0 or len(index) == 0:
        return pd.Series(np.nan, index=index)
    times = epoch_seconds(pd.DatetimeIndex(readings.index))
    values = readings.to_numpy(dtype=float)
    if kind == "register":
        if len(values) < 2:
            return pd.Series(np.nan, index=index)
        rise = np.diff(values)
        energy = np.where(rise >= 0, rise, values[1:])  # a drop: the meter was reset and counts from zero
        starts, ends = times[:-1], times[1:]
        rates = energy / np.maximum((ends - starts) / 3600.0, 1e-9)
    else:
        gaps = np.diff(times)
        typical = float(np.median(gaps)) if gaps.size else step_s
        starts = times
        ends = times + np.minimum(np.append(gaps, typical), typical)
        rates = values / ((ends - starts) / 3600.0) if kind == "energy" else values
    # cumulative energy and covered time, piecewise linear between the knots start_i, end_i
    knots = np.column_stack([starts, ends]).ravel()
    spans = ends - starts
    covered = np.column_stack([np.concatenate([[0.0], np.cumsum(spans)[:-1]]), np.cumsum(spans)]).ravel()
    energy_cum = np.column_stack(
        [np.concatenate([[0.0], np.cumsum(rates * spans)[:-1]]), np.cumsum(rates * spans)]
    ).ravel()
    covered_at = np.diff(np.interp(edges, knots, covered))
    energy_at = np.diff(np.interp(edges, knots, energy_cum))
    average = np.divide(energy_at, covered_at, out=np.full(len(index), np.nan), where=covered_at > 0.5 * step_s)
    return pd.Series(average, index=index)


def state_before(readings: pd.Series, at: pd.Timestamp) -> tuple[pd.Timestamp, float] | None:
    """The last instant reading at or before ``at`` (time, value), None if there is none."""
    earlier = readings[readings.index <= at]
    if earlier.empty:
        return None
    return pd.Timestamp(earlier.index[-1]), float(earlier.iloc[-1])
