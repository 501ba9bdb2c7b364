"""415 for a request body in a media type the operation does not read (an app-wide dependency).

An operation reads what its OpenAPI request body lists (``openapi_extra``: JSON or CSV uploads), else JSON when it
has a body parameter; ``+json`` types count as JSON. A request with a body but without a Content-Type is refused too.
"""

from __future__ import annotations

from email.message import Message

from fastapi import HTTPException, Request, status
from fastapi.routing import APIRoute

JSON = "application/json"
ALIASES = {"application/csv": "text/csv"}


def media_type(header: str) -> str:
    """``application/json`` of ``Application/JSON; charset=utf-8``; ``+json`` types as ``application/json``."""
    message = Message()
    message["content-type"] = header
    kind = message.get_content_type()
    if kind.startswith("application/") and kind.endswith("+json"):
        return JSON
    return ALIASES.get(kind, kind)


def accepted_media_types(route: APIRoute) -> list[str]:
    """The media types ``route`` reads its body in (none: it takes no body)."""
    documented = ((route.openapi_extra or {}).get("requestBody") or {}).get("content")
    if documented:
        return list(documented)
    return [JSON] if route.body_field is not None else []


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return (length is not None and length.strip() not in ("", "0")) or "transfer-encoding" in request.headers


def require_supported_media_type(request: Request) -> None:
    """415 unless the body (if any) is in a media type the matched operation reads."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not _has_body(request):
        return
    accepted = accepted_media_types(route)
    if not accepted:
        return
    header = request.headers.get("content-type")
    if header is None:
        sent = "no Content-Type header"
    elif media_type(header) in accepted:
        return
    else:
        sent = f"Content-Type {media_type(header)}"
    raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"{sent}; this operation reads {' or '.join(accepted)}")
