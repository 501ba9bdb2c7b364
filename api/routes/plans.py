"""``/v1/sites/{id}/plan``: the plan in force, step by step (the newest version that covers each step);
``/v1/sites/{id}/performance``: that plan against the readings."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api import repository
from api.deps import RangeEnd, RangeStart, SessionDep, check_range
from api.plans import performance, plan_in_force
from api.schemas import error_responses
from api.tenancy import TenantSiteId

router = APIRouter(prefix="/v1/sites", tags=["plans"], responses=error_responses(404, 422))

MAX_RANGE_DAYS = 31


class PlanInForce(BaseModel):
    site_id: int
    schedule: list[dict[str, Any]] = Field(
        description="One record per step with a plan: interval_start, schedule_id (the version in force) and its "
        "setpoints."
    )


@router.get("/{site_id}/plan")
def read_plan(
    site_id: TenantSiteId,
    session: SessionDep,
    start: RangeStart,
    end: RangeEnd,
) -> PlanInForce:
    """What the site should run: at each step the newest plan that covers it (a re-plan supersedes from its
    start; every version stays under /v1/schedules)."""
    check_range(start, end, MAX_RANGE_DAYS)
    repository.get_site(session, site_id)
    frame, _columns = plan_in_force(session, site_id, start, end)
    tz = start.tzinfo
    records = []
    for stamp, row in frame.iterrows():
        values = {k: v for k, v in row.items() if isinstance(v, (int, float)) and not math.isnan(v)}
        values["schedule_id"] = int(values["schedule_id"])
        records.append({"interval_start": stamp.tz_convert(tz).isoformat(), **values})
    return PlanInForce(site_id=site_id, schedule=records)


@router.get("/{site_id}/performance")
def read_performance(
    site_id: TenantSiteId,
    session: SessionDep,
    start: RangeStart,
    end: RangeEnd,
) -> dict[str, Any]:
    """Plan vs actual per local day and in total: energy, cost at the plan's prices, peak, PV self-consumption,
    green share, and the forecast errors (MAE, bias) of every input the plans forecast; each step is compared with
    the plan in force then."""
    check_range(start, end, MAX_RANGE_DAYS)
    repository.get_site(session, site_id)
    return performance(session, site_id, start, end)
