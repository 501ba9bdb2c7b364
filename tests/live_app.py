"""An app served by uvicorn in a thread of the test process, for a browser that loads its pages over HTTP.

A browser cannot send X-API-Key on a navigation; :class:`WithHeaders` adds it (a test stand-in for the proxy or
the operator's browser extension that would), so that a page behind the key loads with its real headers (its
Content-Security-Policy) and its scripts from the server.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.api_fixtures import free_port


class WithHeaders:
    """Adds ``headers`` to every HTTP request that lacks them."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            present = {name for name, _ in scope["headers"]}
            extra = [(name, value) for name, value in self.headers if name not in present]
            scope = {**scope, "headers": [*scope["headers"], *extra]}
        await self.app(scope, receive, send)


@contextlib.contextmanager
def serve_in_thread(app: ASGIApp, timeout_s: float = 60.0) -> Iterator[str]:
    """Serves ``app`` (lifespan included) on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
