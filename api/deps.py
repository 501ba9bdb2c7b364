"""Short dependency aliases for routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from api.settings import Settings
from api.solver_process import SolveSlots


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_slots(request: Request) -> SolveSlots:
    return request.app.state.slots


MAX_ID = 2**63 - 1
"""Largest id a database integer column holds; larger ids are refused with 422, not passed to the driver."""

SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SlotsDep = Annotated[SolveSlots, Depends(get_slots)]
SiteId = Annotated[int, Path(ge=1, le=MAX_ID, description="Site id.")]
ScheduleId = Annotated[int, Path(ge=1, le=MAX_ID, description="Schedule id.")]
