"""Errors as typed objects: which asset, which field, which step, what is wrong.

Spec validators raise :class:`SpecError` (a ``ValueError``, so pydantic reports
it as a validation error and keeps the exception object in the error's
``ctx``). :func:`issues_from_validation` turns a pydantic ``ValidationError``
into :class:`Issue` objects by reading locations and those exception objects,
never by reading message text. Each door (scenario files, the HTTP API) then
renders an :class:`Issue` its own way: ``file:line: field: message`` or a 422
naming the request field.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


@dataclass(frozen=True)
class Issue:
    """One problem with an input: where (asset name, field path inside the asset, step) and what.

    ``field`` is a dotted path inside the asset (``tariff.periods.0.start``), or
    a problem-level field when ``asset`` is None (``horizon``, ``targets...``).
    ``code`` is a stable identifier (pydantic's error type, or ours such as
    ``series_length``); ``value`` is the offending input where one is known.
    """

    message: str
    asset: str | None = None
    field: str | None = None
    step: int | None = None
    code: str = "value_error"
    value: Any = None
    related: tuple[str, ...] = ()  # other fields of the same asset the check compares the field with

    def under(self, asset: str) -> Issue:
        """The same issue attributed to ``asset`` (when it names none yet)."""
        return self if self.asset is not None else replace(self, asset=asset)

    def __str__(self) -> str:
        where = ".".join(p for p in (self.asset, self.field) if p)
        step = f" (step {self.step})" if self.step is not None else ""
        return f"{where}{step} {self.message}" if where else f"{self.message}{step}"


class SpecError(ValueError):
    """Raised by a spec's validator: the message, and the field (and asset, step) it concerns."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        asset: str | None = None,
        step: int | None = None,
        code: str = "value_error",
        related: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.related = related
        self.message = message
        self.field = field
        self.asset = asset
        self.step = step
        self.code = code

    def issue(self) -> Issue:
        return Issue(self.message, self.asset, self.field, self.step, self.code, related=self.related)

    def __str__(self) -> str:
        return str(self.issue())


class ProblemError(ValueError):
    """Input from which no dispatch problem can be made: every :class:`Issue` found."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))

    def __reduce__(self) -> tuple[type[ProblemError], tuple[list[Issue]]]:
        return (type(self), (self.issues,))  # survives pickling (raised in worker processes)


def _dotted(parts: Sequence[Any]) -> str | None:
    return ".".join(str(p) for p in parts) or None


def _most_specific(errors: list[Any]) -> list[Any]:
    """A value that fails every member of a union (a number or a list) is reported by each member; keep the
    member that got furthest into the value (e.g. to a list item), per field."""
    by_field: dict[Any, list[Any]] = {}
    for raw in errors:
        by_field.setdefault(raw["loc"][:1], []).append(raw)
    kept = []
    for group in by_field.values():
        deepest = max(len(r["loc"]) for r in group)
        if len(group) > 1 and deepest > 2:
            group = [r for r in group if len(r["loc"]) == deepest]
        kept += group
    return kept


def issues_from_validation(
    error: ValidationError, *, asset: str | None = None, strip: Sequence[str] = ()
) -> list[Issue]:
    """The issues of a pydantic error, from each error's location and (for our checks) its exception object.

    ``asset``: the asset the validated data describe (one spec validated on its own).
    ``strip``: location parts to drop (union tags such as an asset kind).
    """
    issues: list[Issue] = []
    errors = _most_specific(error.errors(include_url=False))
    for raw in errors:
        cause = (raw.get("ctx") or {}).get("error")
        # union members (``constrained-float``, ``list[...]``) are not fields: keep names and indexes only
        loc = [p for p in raw["loc"] if p not in strip and (isinstance(p, int) or str(p).isidentifier())]
        step = None
        if len(loc) == 2 and isinstance(loc[0], str) and isinstance(loc[1], int):  # an item of a series
            loc, step = loc[:1], loc[1]
        if isinstance(cause, SpecError):
            field = cause.field or _dotted(loc)
            step = cause.step if cause.step is not None else step
            issue = Issue(cause.message, cause.asset, field, step, cause.code, raw.get("input"), cause.related)
        else:
            message = str(raw["msg"])
            for prefix in _PYDANTIC_PREFIXES:
                message = message.removeprefix(prefix)
            issue = Issue(message, None, _dotted(loc), step, str(raw["type"]), raw.get("input"))
        issues.append(issue.under(asset) if asset is not None else issue)
    return issues
