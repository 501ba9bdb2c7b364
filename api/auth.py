"""API-key authentication: ``X-API-Key`` names a tenant's key (found by its hash, :mod:`api.key_store`) or an admin
key (``DISPATCH_ADMIN_KEYS``, compared in constant time); failed attempts and expensive requests are limited
(:mod:`api.rate_limits`)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader

from api import key_store
from api.deps import SessionDep
from api.key_store import KnownKey
from api.rate_limits import RequestLimits, SlidingWindowLimit
from api.settings import Settings

API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False)
CHALLENGE = {"WWW-Authenticate": "APIKey"}


EXPENSIVE_WINDOW_S = 60.0
"""Window of ``max_expensive_per_minute`` [s]."""


def request_limits(settings: Settings) -> RequestLimits:
    """An app's limits, empty: wrong keys per client address, expensive requests per key."""
    return RequestLimits(
        failed_auth=SlidingWindowLimit(settings.max_failed_auth, settings.failed_auth_window_s),
        expensive=SlidingWindowLimit(settings.max_expensive_per_minute, EXPENSIVE_WINDOW_S),
    )


def settings_from(request: Request) -> Settings:
    return request.app.state.settings


def limits_from(request: Request) -> RequestLimits:
    return request.app.state.limits


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy: uvicorn's ``--proxy-headers`` sets it)."""
    return request.client.host if request.client is not None else "unknown"


def _refuse_locked_out(request: Request) -> None:
    """429 while the client's address has had too many wrong keys (whatever key it sends now)."""
    wait_s = limits_from(request).failed_auth.retry_after_s(client_address(request))
    if wait_s is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many wrong API keys from this address; retry after {wait_s} s",
            {"Retry-After": str(wait_s)},
        )


def _wrong_key(request: Request) -> HTTPException:
    """Counts a wrong key against the client's address; the 401 to raise."""
    limits_from(request).failed_auth.record(client_address(request))
    return HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid API key", CHALLENGE)


def _missing_key() -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, "missing X-API-Key header", CHALLENGE)


def is_admin_key(settings: Settings, key: str) -> bool:
    """Whether the key is one of ``DISPATCH_ADMIN_KEYS`` (compared in constant time with each)."""
    matches = [hmac.compare_digest(key.encode(), known.encode()) for known in settings.admin_keys]
    return any(matches)


def require_api_key(
    request: Request, session: SessionDep, key: Annotated[str | None, Depends(API_KEY_HEADER)] = None
) -> KnownKey:
    """The caller's live tenant key; 401 when missing, unknown or revoked; 429 after too many wrong keys."""
    _refuse_locked_out(request)
    if key is None:
        raise _missing_key()
    known = key_store.find_key(session, key)
    if known is None:
        raise _wrong_key(request)
    return known


def require_admin_key(
    request: Request, session: SessionDep, key: Annotated[str | None, Depends(API_KEY_HEADER)] = None
) -> None:
    """An admin key; 403 for a tenant's key, 401 for no key or an unknown one."""
    _refuse_locked_out(request)
    if key is None:
        raise _missing_key()
    if is_admin_key(settings_from(request), key):
        return
    if key_store.find_key(session, key) is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this API key may not manage tenants and keys")
    raise _wrong_key(request)


ApiKey = Annotated[KnownKey, Depends(require_api_key)]
"""The caller's tenant key (which tenant: ``.tenant_id``)."""
AdminKey = Annotated[None, Depends(require_admin_key)]


async def limit_expensive(request: Request, caller: ApiKey) -> KnownKey:
    """Counts an expensive request (a solve, a scenario run) of the caller's key; 429 with Retry-After over
    ``max_expensive_per_minute``."""
    wait_s = limits_from(request).expensive.take(caller.key_id)
    if wait_s is not None:
        limit = settings_from(request).max_expensive_per_minute
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"more than {limit} dispatch or scenario-run requests per minute with this API key; retry after {wait_s} s",
            {"Retry-After": str(wait_s)},
        )
    return caller


ExpensiveCall = Annotated[KnownKey, Depends(limit_expensive)]
"""The caller's tenant key, with the request counted against the key's limit of expensive requests."""
