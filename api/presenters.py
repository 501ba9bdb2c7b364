"""Shapes a dispatch result into the stored response (labels and units, no optimisation)."""

from __future__ import annotations

import math
from typing import Any

from api.schemas import ApiStatus, ViolationOut
from optimizer import DispatchResult

SHORTFALL_TOLERANCE = 1e-6


def api_status(result: DispatchResult) -> ApiStatus:
    if result.schedule_source == "fallback":
        return "fallback"
    if result.targets_relaxed:
        return "relaxed"
    return "optimal" if result.status == "optimal" else "feasible"


def violations(result: DispatchResult) -> list[ViolationOut]:
    found = [
        ViolationOut(kind="target_shortfall", name=s.target, amount=s.shortfall, unit=s.unit)
        for s in result.kpis.target_shortfalls
        if s.shortfall > SHORTFALL_TOLERANCE
    ]
    found += [
        ViolationOut(
            kind="infeasible_constraint", name=v.constraint, amount=v.amount, step=v.step, timestamp=v.timestamp
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


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def schedule_records(result: DispatchResult) -> tuple[list[str], list[dict[str, Any]]]:
    frame = result.schedule
    columns = list(frame.columns)
    records = [
        {"interval_start": stamp.isoformat(), **{c: _finite(float(v)) for c, v in zip(columns, row, strict=True)}}
        for stamp, row in zip(frame.index, frame.to_numpy(), strict=True)
    ]
    return columns, records
