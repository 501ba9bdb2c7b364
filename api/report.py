"""The HTML report of a stored schedule, drawn by the renderer in ``scenarios.report_html``.

The API only adapts: it hands the stored JSON response (its ``report_metadata`` places the columns on
their buses and gives the tariff bands) to ``render_stored_schedule_html`` and
answers 406 (with the formats it can serve) when that renderer is not installed.

As the API serves it (:func:`report_response`) the page loads plotly.js from the server's cached static file
(``api.static``) instead of carrying its 4.8 MB, and runs under a Content-Security-Policy: its inline scripts and
styles carry a nonce made for the response. The renderer's own default (plotly.js inline) stays for files.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.security import new_nonce, report_csp
from api.static import plotly_js_url

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


def render_html(
    payload: dict[str, Any], actual: dict[str, Any] | None = None, *, plotly_js: str | None = None, nonce: str = ""
) -> str:
    """The HTML report of a stored schedule response (``ScheduleOut`` as JSON), with plan vs actual
    (:func:`scenarios.performance.compare`) once readings of its horizon exist.

    With the response's ``report_metadata`` the report places every column on its bus (heat, cooling, air
    too) and shades the tariff bands; without it (schedules stored before it was kept) the renderer guesses
    from the column names. ``plotly_js``: where the page loads plotly.js from (default: inline); ``nonce``: the CSP
    nonce of its inline scripts and styles."""
    options: dict[str, Any] = {"nonce": nonce} if nonce else {}
    if plotly_js is not None:
        options["plotly_js"] = plotly_js
    return html_renderer()(payload, actual=actual, **options)


def report_response(request: Request, payload: dict[str, Any], actual: dict[str, Any] | None = None) -> HTMLResponse:
    """The report page as the API serves it: plotly.js from the static file (behind the proxy's prefix too), inline
    scripts and styles by a fresh nonce, and the report's Content-Security-Policy."""
    html_renderer()  # a missing renderer (406) before plotly.js is looked for
    nonce = new_nonce()
    root = str(request.scope.get("root_path", "")).rstrip("/")
    html = render_html(payload, actual, plotly_js=f"{root}{plotly_js_url()}", nonce=nonce)
    return HTMLResponse(html, headers={"Content-Security-Policy": report_csp(nonce)})
