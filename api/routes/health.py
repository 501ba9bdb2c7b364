"""Liveness and readiness probes (public)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api import repository

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, response: Response) -> dict[str, str]:
    """The database answers."""
    try:
        with request.app.state.sessions() as session:
            repository.ping(session)
    except Exception as error:  # noqa: BLE001 - any database failure means not ready
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "unavailable", "reason": type(error).__name__}
    return {"status": "ready"}
