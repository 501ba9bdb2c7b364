"""Errors in the caller's words: 422 names the field, never a 500 for user error."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

log = logging.getLogger("api")


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


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


def validation_details(errors: list[dict[str, Any]], prefix: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [
        {
            "field": _field((*prefix, *e.get("loc", ()))),
            "message": e.get("msg", ""),
            "type": e.get("type", ""),
            "input": _plain(e.get("input")),
        }
        for e in errors
    ]


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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _request_validation(_: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"detail": validation_details(list(error.errors()))},
        )

    @app.exception_handler(ProblemInputError)
    async def _problem_input(_: Request, error: ProblemInputError) -> JSONResponse:
        return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": error.details})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(status_code=500, content={"detail": "internal error; the request was not processed"})
