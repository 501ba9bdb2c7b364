"""Security headers on every answer, and the Content-Security-Policies of the HTML pages.

Every response: ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``, ``X-Frame-Options: DENY``
and, unless the response sets its own, ``Content-Security-Policy: default-src 'none'; frame-ancestors 'none'``
(a JSON answer loads nothing). The HTML pages set theirs: the schedule report (:func:`report_csp`) runs only the
server's scripts and its own inline ones, by a nonce made per response; the docs pages (:func:`docs_csp`) also let
Swagger UI and ReDoc style themselves and start ReDoc's search worker.

:class:`HardenedFastAPI` puts the headers outside Starlette's error middleware, so that a 500 has them too.
"""

from __future__ import annotations

import re
import secrets

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "content-security-policy"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_LOCKED = "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"


def new_nonce() -> str:
    """A fresh CSP nonce (128 bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def report_csp(nonce: str) -> str:
    """The schedule report: scripts and style sheets from the server or carrying ``nonce``; style attributes
    allowed (plotly.js sets them as it draws); images from the server or drawn in the page (``data:``)."""
    return (
        f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
        f"style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; {_LOCKED}"
    )


def docs_csp(nonce: str) -> str:
    """/docs and /redoc: the server's scripts and the page's nonce'd start-up script; Swagger UI and ReDoc inject
    their styles, ReDoc runs its search in a ``blob:`` worker; requests (Try it out) only to the server."""
    return (
        f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; {_LOCKED}"
    )


_INLINE_TAG = re.compile(r"<(script|style)(?=[\s>])", re.IGNORECASE)


def nonced_page(page: HTMLResponse) -> HTMLResponse:
    """A page of fixed markup (FastAPI's docs pages: no caller input in them) with a nonce on each ``<script>`` and
    ``<style>`` and the docs' CSP."""
    nonce = new_nonce()
    html = _INLINE_TAG.sub(rf'<\1 nonce="{nonce}"', bytes(page.body).decode("utf-8"))
    return HTMLResponse(html, status_code=page.status_code, headers={"Content-Security-Policy": docs_csp(nonce)})


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response, and :data:`DEFAULT_CSP` where none is set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers") or [])
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault(CSP, DEFAULT_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HardenedFastAPI(FastAPI):
    """FastAPI with :class:`SecurityHeaders` outermost: on answers of Starlette's error middleware (500) too."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())
