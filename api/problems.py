"""Every error answer in one format: RFC 9457 problem details, ``application/problem+json``.

``{"type", "title", "status", "detail", "instance"}`` with ``detail`` always one sentence, plus extension members:
``errors`` (a 422's problems, each ``{loc, field, msg, type}`` and, where there is one, a short ``input`` excerpt
and the typed members a route adds: ``row``, ``step``, ...) and whatever a route passes to
:func:`problem_response` (e.g. ``retry_after_s``). Inputs are echoed only as excerpts of at most
:data:`MAX_INPUT_CHARS` characters, never the request body.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse

PROBLEM_MEDIA_TYPE = "application/problem+json"
MAX_INPUT_CHARS = 200
"""An error's ``input`` longer than this (as compact JSON) is cut to an excerpt of this many characters."""
MAX_MESSAGE_CHARS = 500
"""A message longer than this is cut (it may quote what the caller sent)."""
MAX_ERRORS = 100
"""At most this many ``errors`` are listed; the problem's ``detail`` says how many there were."""
ELLIPSIS = "…"

Loc = list[str | int]
_DETAIL_KEYS = {"loc", "field", "message", "msg", "type", "input"}


class ProblemResponse(JSONResponse):
    """A JSON response with the problem details media type."""

    media_type = PROBLEM_MEDIA_TYPE


def status_title(status: int) -> str:
    """The HTTP reason phrase (the problem's ``title`` for ``type: about:blank``)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_body(
    status: int,
    detail: str,
    *,
    type: str = "about:blank",
    title: str | None = None,
    instance: str | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    """The problem object; ``extensions`` are added as members (``None`` values left out)."""
    body: dict[str, Any] = {"type": type, "title": title or status_title(status), "status": status}
    body["detail"] = _cut(str(detail), MAX_MESSAGE_CHARS)
    if instance is not None:
        body["instance"] = instance
    body.update({key: value for key, value in extensions.items() if value is not None and key not in body})
    return body


def problem_response(
    status: int,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    instance: str | None = None,
    type: str = "about:blank",
    title: str | None = None,
    **extensions: Any,
) -> ProblemResponse:
    """An ``application/problem+json`` answer: ``status``, ``detail`` (one sentence) and extension members.

    ``title`` defaults to the status's reason phrase; ``headers`` (e.g. ``Retry-After``, ``WWW-Authenticate``) are
    sent as given. Every error the API sends goes through here, so they all look alike."""
    body = problem_body(status, detail, type=type, title=title, instance=instance, **extensions)
    return ProblemResponse(body, status_code=status, headers=dict(headers) if headers else None)


# --- a 422's errors ------------------------------------------------------------------------------------------------


def loc_of(field: str) -> Loc:
    """A dotted field (``body.assets.2.capacity_kwh``) as a path; parts of digits are list indexes."""
    return [int(part) if part.isdigit() else part for part in field.split(".")] if field else []


def field_of(loc: Sequence[str | int]) -> str:
    """A path as the caller reads it: ``body.assets[2].capacity_kwh``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def input_excerpt(value: Any) -> Any:
    """The refused value as it is when short, else the first :data:`MAX_INPUT_CHARS` characters of its JSON."""
    plain = plain_value(value)
    if isinstance(plain, str):
        return plain  # already cut
    text = json.dumps(plain, ensure_ascii=False, separators=(",", ":"))
    return plain if len(text) <= MAX_INPUT_CHARS else _cut(text, MAX_INPUT_CHARS)


def error_items(details: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The ``errors`` member from the API's details (``field`` or ``loc``, ``message``, ``type``, ``input`` and
    typed members such as ``row`` or ``step``), at most :data:`MAX_ERRORS`."""
    items = []
    for detail in details[:MAX_ERRORS]:
        loc = [p if isinstance(p, int) else str(p) for p in detail.get("loc") or loc_of(str(detail.get("field", "")))]
        item: dict[str, Any] = {
            "loc": loc,
            "field": field_of(loc),
            "msg": _cut(str(detail.get("message", detail.get("msg", ""))), MAX_MESSAGE_CHARS),
            "type": str(detail.get("type", "value_error")),
        }
        if detail.get("input") is not None and item["type"] != "missing":  # a missing field's input: its parent
            item["input"] = input_excerpt(detail["input"])
        extra = {k: plain_value(v) for k, v in detail.items() if k not in _DETAIL_KEYS and v is not None}
        items.append(item | extra)
    return items


def validation_problem(details: Sequence[Mapping[str, Any]], instance: str | None = None) -> ProblemResponse:
    """422: every problem of the request at once, in ``errors``; ``detail`` names the first."""
    errors = error_items(details)
    first = f"{errors[0]['field']}: {errors[0]['msg']}" if errors else "the request is not valid"
    more = len(details) - 1
    detail = first + (f" (and {more} more problem{'s' if more > 1 else ''}, see errors)" if more > 0 else "")
    return problem_response(422, detail, instance=instance, errors=errors)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + ELLIPSIS


def plain_value(value: Any, depth: int = 0) -> Any:
    """A JSON-safe, bounded copy (NaN and Infinity become strings; at most 20 items per level, 4 levels)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return _cut(value, MAX_INPUT_CHARS) if isinstance(value, str) else value
    if depth >= 4:
        return ELLIPSIS
    if isinstance(value, (list, tuple)):
        return [plain_value(v, depth + 1) for v in value[:20]]
    if isinstance(value, dict):
        return {str(k): plain_value(v, depth + 1) for k, v in list(value.items())[:20]}
    return _cut(str(value), MAX_INPUT_CHARS)
