"""Shapes a dispatch result into the stored response (labels and units, no optimisation).

Numbers leave at their unit's precision (:mod:`scenarios.rounding`): schedule rows
to 0.001 kW, 0.0001 CNY/kWh, on/off and unit counts as integers; target shortfalls
at their unit's. The result itself is not changed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from api.schemas import ApiStatus, ViolationOut
from optimizer import DispatchResult
from scenarios.rounding import round_number, round_schedule, unit_precision

SHORTFALL_TOLERANCE = 1e-6


def api_status(result: DispatchResult) -> ApiStatus:
    if result.schedule_source == "fallback":
        return "fallback"
    if result.targets_relaxed:
        return "relaxed"
    return "optimal" if result.status == "optimal" else "feasible"


def violations(result: DispatchResult) -> list[ViolationOut]:
    found = [
        ViolationOut(
            kind="target_shortfall",
            name=s.target,
            amount=round_number(s.shortfall, unit_precision(s.unit), tiny_to_zero=True),
            unit=s.unit,
        )
        for s in result.kpis.target_shortfalls
        if s.shortfall > SHORTFALL_TOLERANCE
    ]
    found += [
        ViolationOut(
            kind="infeasible_constraint",
            name=v.constraint,
            amount=v.amount,
            unit=v.unit,
            step=v.step,
            timestamp=v.timestamp,
        )
        for v in result.diagnosis
    ]
    return found


def message(result: DispatchResult, status: ApiStatus) -> str:
    if status == "fallback":
        reason = result.report.message or result.status
        if result.diagnosis:
            reason += f"; {len(result.diagnosis)} constraint violations would be needed (see violations)"
        return f"rule-based fallback schedule: {reason}"
    if status == "relaxed":
        return "optimised schedule; soft targets missed (see violations)"
    if status == "feasible":
        report = result.report
        return (
            f"feasible schedule, not proven optimal ({report.termination}): relative gap {report.mip_gap}, "
            f"objective {report.objective}, best bound {report.best_bound}"
        )
    return "optimal schedule"


def _finite(value: Any) -> int | float | None:
    """A plain JSON number: an int stays an int, a float a float; NaN, infinities and gaps become None."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None


def schedule_records(result: DispatchResult) -> tuple[list[str], list[dict[str, Any]]]:
    """The schedule's column names and one record per step (``interval_start`` and every column), each value
    at its unit's precision (:func:`scenarios.rounding.round_schedule`): integers for on/off and unit counts."""
    frame = round_schedule(result.schedule, result.columns)
    columns = [str(c) for c in frame.columns]
    values = {c: frame[c].tolist() for c in frame.columns}  # tolist: Python ints and floats, column by column
    records = [
        {"interval_start": stamp.isoformat(), **{str(c): _finite(values[c][i]) for c in frame.columns}}
        for i, stamp in enumerate(frame.index)
    ]
    return columns, records
