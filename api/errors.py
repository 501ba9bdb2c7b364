"""Errors in the caller's words: 422 names the field, never a 500 for user error; every error answer is a problem
(RFC 9457, ``application/problem+json``, :mod:`api.problems`): :func:`problem_response` is the one way to write one."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.problems import plain_value, problem_response, validation_problem
from api.repository import NotFoundError
from optimizer.errors import SpecError

__all__ = ["ProblemInputError", "install_error_handlers", "problem_response", "solver_busy", "validation_details"]

log = logging.getLogger("api")


_UNION_MEMBER = re.compile(r"^(constrained-\w+|function-\w+\[.*\]|(list|dict|tuple|set|nullable)\[.*\])$")
"""Pydantic's labels for the members of a plain union (``float | list[float]``): not fields, dropped from paths."""
FASTAPI_BODY_PARSE_ERROR = "There was an error parsing the body"
COLLAPSE_AFTER = 3
"""More errors than this on the items of one list (same message) are reported once, with their indexes."""


def _path(loc: tuple[Any, ...] | list[Any]) -> list[str | int]:
    """The error's location without pydantic's union member labels."""
    return [part for part in loc if not (isinstance(part, str) and _UNION_MEMBER.match(part))]


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in _path(loc))


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
    """The API's details of pydantic's errors: ``field`` (dotted) and ``loc`` (the path), ``message``, ``type`` and
    the refused ``input``, with a list's items that fail alike collapsed into one detail."""
    details = [_detail(e, prefix) for e in _drop_other_union_members(list(errors))]
    return _collapse_items(details)


def _detail(error: dict[str, Any], prefix: tuple[str, ...]) -> dict[str, Any]:
    loc = (*prefix, *error.get("loc", ()), *_spec_field(error))
    return {
        "field": _field(loc),
        "loc": _path(loc),
        "message": _spec_message(error),
        "type": error.get("type", ""),
        "input": plain_value(error.get("input")),
    }


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
                loc = detail.get("loc")
                collapsed.append({**detail, "field": head, "message": message} | ({"loc": loc[:-1]} if loc else {}))
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


def _json_error(error: RequestValidationError) -> str | None:
    """The message of a body that is not JSON (FastAPI reports it as ``body.<offset>``): what and where."""
    found = next((e for e in error.errors() if e.get("type") == "json_invalid"), None)
    if found is None:
        return None
    reason = (found.get("ctx") or {}).get("error") or "not JSON"
    loc = tuple(found.get("loc", ()))
    document = error.body if isinstance(error.body, str) else None
    if document is None or len(loc) < 2 or not isinstance(loc[1], int):
        return f"request body is not valid JSON: {reason}"
    position = loc[1]
    line = document.count("\n", 0, position) + 1
    column = position - document.rfind("\n", 0, position)
    return f"request body is not valid JSON: {reason} at line {line} column {column}"


def _unreadable_body(cause: BaseException | None) -> tuple[str, str]:
    """(message, type) of a body FastAPI could not decode (its 400 "There was an error parsing the body")."""
    if isinstance(cause, RecursionError):
        return "request body is nested too deeply to read as JSON", "json_too_deep"
    if isinstance(cause, UnicodeDecodeError):
        return "request body is not UTF-8 JSON", "json_invalid"
    return "request body could not be read as JSON", "json_invalid"


def _body_problem(request: Request, message: str, kind: str) -> Response:
    return validation_problem([{"field": "body", "message": message, "type": kind}], request.url.path)


def install_error_handlers(app: FastAPI) -> None:
    """Every error as a problem: validation (422), HTTP errors (401, 404 for unknown routes, 405, 503 ...), typed
    input problems (422), missing rows (404) and anything unexpected (500)."""

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, error: RequestValidationError) -> Response:
        message = _json_error(error)
        if message is not None:
            return _body_problem(request, message, "json_invalid")
        return validation_problem(validation_details(list(error.errors())), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == status.HTTP_400_BAD_REQUEST and error.detail == FASTAPI_BODY_PARSE_ERROR:
            # FastAPI's answer to a body it cannot decode (not UTF-8, nested too deeply): bad input, a 422 on the body.
            return _body_problem(request, *_unreadable_body(error.__cause__))
        if error.status_code < status.HTTP_400_BAD_REQUEST:
            return await http_exception_handler(request, error)
        return problem_response(error.status_code, str(error.detail), headers=error.headers, instance=request.url.path)

    @app.exception_handler(ProblemInputError)
    async def _problem_input(request: Request, error: ProblemInputError) -> Response:
        return validation_problem(error.details, request.url.path)

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, error: NotFoundError) -> Response:
        return problem_response(status.HTTP_404_NOT_FOUND, str(error), instance=request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "internal error; the request was not processed", instance=request.url.path)
