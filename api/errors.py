"""Errors in the caller's words: 422 names the field, never a 500 for user error."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.repository import NotFoundError
from optimizer.errors import SpecError

log = logging.getLogger("api")


_UNION_MEMBER = re.compile(r"^(constrained-\w+|function-\w+\[.*\]|(list|dict|tuple|set|nullable)\[.*\])$")
"""Pydantic's labels for the members of a plain union (``float | list[float]``): not fields, dropped from paths."""
FASTAPI_BODY_PARSE_ERROR = "There was an error parsing the body"
COLLAPSE_AFTER = 3
"""More errors than this on the items of one list (same message) are reported once, with their indexes."""


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc if not (isinstance(part, str) and _UNION_MEMBER.match(part)))


def _plain(value: Any) -> Any:
    """JSON-safe copy of an error's input (NaN and Infinity become strings)."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value[:20]]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in list(value.items())[:20]}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _union_split(error: dict[str, Any]) -> tuple[str, bool] | None:
    """``(field before the last union member label, whether the error is more than a wrong type)``."""
    loc = tuple(error.get("loc", ()))
    labels = [i for i, part in enumerate(loc) if isinstance(part, str) and _UNION_MEMBER.match(part)]
    if not labels:
        return None
    at = labels[-1]
    specific = at < len(loc) - 1 or not str(error.get("type", "")).endswith("_type")
    return _field(loc[:at]), specific


def _drop_other_union_members(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A union (``float | list[float]``) reports every member's error; when one member has a specific error
    (a bound, an item), the other members' plain wrong-type errors are noise and are dropped."""
    splits = [_union_split(e) for e in errors]
    specific_fields = {split[0] for split in splits if split is not None and split[1]}
    return [
        error
        for error, split in zip(errors, splits, strict=True)
        if split is None or split[1] or split[0] not in specific_fields
    ]


def _spec_field(error: dict[str, Any]) -> tuple[str, ...]:
    """The field a cross-field check names (a typed :class:`SpecError` in the error's context)."""
    cause = (error.get("ctx") or {}).get("error")
    return tuple(cause.field.split(".")) if isinstance(cause, SpecError) and cause.field else ()


def _spec_message(error: dict[str, Any]) -> str:
    cause = (error.get("ctx") or {}).get("error")
    return cause.message if isinstance(cause, SpecError) else error.get("msg", "")


def validation_details(errors: list[dict[str, Any]], prefix: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    details = [
        {
            "field": _field((*prefix, *e.get("loc", ()), *_spec_field(e))),
            "message": _spec_message(e),
            "type": e.get("type", ""),
            "input": _plain(e.get("input")),
        }
        for e in _drop_other_union_members(list(errors))
    ]
    return _collapse_items(details)


def _collapse_items(details: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``x.0 .. x.95`` with one message become one detail on ``x`` that lists the indexes."""
    groups: dict[tuple[str, str, str], list[int]] = {}
    for detail in details:
        head, _, last = detail["field"].rpartition(".")
        if head and last.isdigit():
            groups.setdefault((head, detail["type"], detail["message"]), []).append(int(last))
    collapsed: list[dict[str, Any]] = []
    done: set[tuple[str, str, str]] = set()
    for detail in details:
        head, _, last = detail["field"].rpartition(".")
        key = (head, detail["type"], detail["message"])
        if head and last.isdigit() and len(groups[key]) > COLLAPSE_AFTER:
            if key not in done:
                done.add(key)
                indexes = groups[key]
                shown = ", ".join(str(i) for i in indexes[:10]) + (", ..." if len(indexes) > 10 else "")
                message = f"{detail['message']} (at {len(indexes)} indexes: {shown})"
                collapsed.append({**detail, "field": head, "message": message})
            continue
        collapsed.append(detail)
    return collapsed


class ProblemInputError(Exception):
    """The request is well-formed but does not make a valid problem for this site."""

    def __init__(self, details: list[dict[str, Any]]) -> None:
        super().__init__(details)
        self.details = details

    @classmethod
    def from_exception(cls, error: Exception, prefix: tuple[str, ...] = ("body",)) -> ProblemInputError:
        if isinstance(error, ValidationError):
            details = validation_details(error.errors(), prefix)
            for detail in details:
                if detail["field"] == ".".join(prefix):
                    detail["input"] = None  # a whole-model error: the message names the field
            return cls(details)
        return cls([{"field": _field(prefix), "message": str(error), "type": "value_error", "input": None}])


def solver_busy(retry_after_s: int) -> HTTPException:
    """503: every solver slot is busy; retry with the same Idempotency-Key after ``retry_after_s``."""
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "all solver slots are busy; retry later",
        headers={"Retry-After": str(retry_after_s)},
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _request_validation(_: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"detail": validation_details(list(error.errors()))},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == status.HTTP_400_BAD_REQUEST and error.detail == FASTAPI_BODY_PARSE_ERROR:
            # FastAPI's answer to a body it cannot decode (e.g. not UTF-8): bad input, so a 422 on the body.
            detail = {"field": "body", "message": "the body is not UTF-8 JSON", "type": "json_invalid", "input": None}
            return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": [detail]})
        return await http_exception_handler(request, error)

    @app.exception_handler(ProblemInputError)
    async def _problem_input(_: Request, error: ProblemInputError) -> JSONResponse:
        return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": error.details})

    @app.exception_handler(NotFoundError)
    async def _not_found(_: Request, error: NotFoundError) -> JSONResponse:
        return JSONResponse(status_code=status.HTTP_404_NOT_FOUND, content={"detail": str(error)})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(status_code=500, content={"detail": "internal error; the request was not processed"})
