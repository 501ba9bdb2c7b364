"""API-key authentication: ``X-API-Key`` compared in constant time against the configured keys."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader

from api.settings import Settings

API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False)


def settings_from(request: Request) -> Settings:
    return request.app.state.settings


def require_api_key(request: Request, key: Annotated[str | None, Depends(API_KEY_HEADER)] = None) -> str:
    settings = settings_from(request)
    if key is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing X-API-Key header", {"WWW-Authenticate": "APIKey"})
    matches = [hmac.compare_digest(key.encode(), known.encode()) for known in settings.api_keys]
    if not any(matches):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid API key", {"WWW-Authenticate": "APIKey"})
    return key


ApiKey = Annotated[str, Depends(require_api_key)]
