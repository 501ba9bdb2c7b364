"""Pages of list answers: ``limit`` and ``cursor`` query parameters, the next page's URL in a ``Link`` header.

A list answer's body is the page (a JSON array, as before pages existed); when more rows follow, the answer has
``Link: <URL of the next page>; rel="next"``, the same URL with ``cursor`` set (the id of the page's last row). No
``Link`` header: the last page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Query, Request, Response

from api.deps import MAX_ID

T = TypeVar("T")

MAX_PAGE_ROWS = 1000
PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE_ROWS, description="Rows per page (at most 1000).")]
PageCursor = Annotated[
    int | None,
    Query(
        ge=1,
        le=MAX_ID,
        description='Where the page starts: the cursor of the previous page\'s Link rel="next" URL (the id of its '
        "last row); the first page without it.",
    ),
]
LINK_HEADER_DOC: dict[str, Any] = {
    "Link": {
        "description": 'The next page: `<URL>; rel="next"` (this query with `cursor` set); absent on the last page.',
        "schema": {"type": "string"},
    }
}
PAGED_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"description": "One page.", "headers": LINK_HEADER_DOC}}
"""``responses=`` of a paged list route."""


def page(
    rows: Sequence[T], limit: int, request: Request, response: Response, cursor_of: Callable[[T], int]
) -> Sequence[T]:
    """The first ``limit`` rows (the query asked for ``limit + 1`` to learn whether more follow), and the ``Link``
    header of the next page when they do."""
    if len(rows) <= limit:
        return rows
    shown = rows[:limit]
    next_url = request.url.include_query_params(cursor=cursor_of(shown[-1]), limit=limit)
    response.headers["Link"] = f'<{next_url}>; rel="next"'
    return shown
