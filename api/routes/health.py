"""Liveness and readiness probes (public)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api import repository
from api.schemas import ProbeOut

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={503: {"model": ProbeOut, "description": "The database does not answer (reason: the error's type)."}},
)
def readyz(request: Request, response: Response) -> dict[str, str]:
    """The database answers."""
    try:
        with request.app.state.sessions() as session:
            repository.ping(session)
    except Exception as error:  # noqa: BLE001 - any database failure means not ready
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "unavailable", "reason": type(error).__name__}
    return {"status": "ready"}
