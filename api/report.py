"""The HTML report of a stored schedule, drawn by the renderer in ``scenarios.report_html``.

The API only adapts: it hands the stored JSON response (its ``report_metadata`` places the columns on
their buses and gives the tariff bands) to ``render_stored_schedule_html`` and
answers 406 (with the formats it can serve) when that renderer is not installed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

RENDERER_MODULE = "scenarios.report_html"
RENDERER_NAME = "render_stored_schedule_html"


class RendererMissingError(Exception):
    """The HTML renderer is not available in this installation."""


def html_renderer() -> Callable[..., str]:
    try:
        module = importlib.import_module(RENDERER_MODULE)
    except ModuleNotFoundError as error:
        if error.name not in (RENDERER_MODULE, RENDERER_MODULE.rpartition(".")[0]):
            raise
        raise RendererMissingError(f"{RENDERER_MODULE} is not installed") from error
    renderer = getattr(module, RENDERER_NAME, None)
    if not callable(renderer):
        raise RendererMissingError(f"{RENDERER_MODULE} has no {RENDERER_NAME}()")
    return renderer


def render_html(payload: dict[str, Any], actual: dict[str, Any] | None = None) -> str:
    """The HTML report of a stored schedule response (``ScheduleOut`` as JSON), with plan vs actual
    (:func:`scenarios.performance.compare`) once readings of its horizon exist.

    With the response's ``report_metadata`` the report places every column on its bus (heat, cooling, air
    too) and shades the tariff bands; without it (schedules stored before it was kept) the renderer guesses
    from the column names."""
    return html_renderer()(payload, actual=actual)
