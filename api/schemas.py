"""Request and response bodies of the HTTP API (one schema per purpose)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scenarios.ems import DispatchRequest, SiteSpec

ApiStatus = Literal["optimal", "feasible", "relaxed", "fallback"]


class SiteCreate(SiteSpec):
    """A new site."""


class SiteUpdate(SiteSpec):
    """A full replacement of a site's definition."""


class SitePublic(BaseModel):
    id: int
    name: str
    spec: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class SolverLimits(BaseModel):
    """Caller's solver limits, checked against the server's bounds."""

    model_config = ConfigDict(extra="forbid")

    time_limit_s: float | None = Field(None, gt=0, description="Solver time limit [s]; default from settings.")
    mip_rel_gap: float | None = Field(None, ge=0, le=0.5, description="Relative MIP gap; default from settings.")


class DispatchBody(DispatchRequest):
    """``POST /v1/sites/{id}/dispatch``: a day (or horizon), forecasts, initial states, solver limits."""

    solver: SolverLimits = Field(default_factory=SolverLimits)


class ViolationOut(BaseModel):
    kind: Literal["target_shortfall", "infeasible_constraint"]
    name: str
    amount: float
    unit: str | None = None
    step: int | None = None
    timestamp: str | None = None


class Provenance(BaseModel):
    input_hash: str
    product_version: str
    solver_version: str
    created_at: dt.datetime


class ScheduleSummary(BaseModel):
    schedule_id: int
    site_id: int
    local_date: str
    horizon_start: dt.datetime
    n_steps: int
    status: ApiStatus
    created_at: dt.datetime


class ScheduleOut(BaseModel):
    """A stored schedule: what to run, how good it is, and where it came from."""

    schedule_id: int
    site_id: int
    status: ApiStatus = Field(
        description="optimal; feasible (time limit, see solver.mip_gap); relaxed (soft targets missed, see "
        "violations); fallback (rule-based schedule: the solver failed, ran out of time or the problem is infeasible)."
    )
    message: str
    violations: list[ViolationOut]
    kpis: dict[str, Any]
    baseline_kpis: dict[str, Any]
    saving_cny: float
    solver: dict[str, Any]
    provenance: Provenance
    columns: list[str]
    schedule: list[dict[str, Any]] = Field(description="One record per step: interval_start and every setpoint.")
