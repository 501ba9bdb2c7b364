"""Limits on what a client may send: the body's size (413) and the time it takes to send it (408).

Both are ASGI middlewares that watch ``receive``: when a limit is passed they answer at once (a problem, with
``Connection: close``) and tell the app the client left, so that whatever the app does next is not sent.
A client that sends its headers slowly never reaches the app; the server's own limits (``dispatch serve``:
:data:`UVICORN_LIMITS`) and a reverse proxy bound that.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_response

UVICORN_LIMITS: dict[str, Any] = {
    "http": "h11",  # h11_max_incomplete_event_size applies to h11 (httptools has its own fixed limits)
    "timeout_keep_alive": 5,  # [s] an idle keep-alive connection is closed after this
    "limit_concurrency": 100,  # connections and tasks at once; more are answered 503 by uvicorn
    "h11_max_incomplete_event_size": 16 * 1024,  # [bytes] request line and headers
    "timeout_graceful_shutdown": 30,  # [s] requests in flight at shutdown get this long
}
"""The uvicorn settings ``dispatch serve`` runs with (README: the same as ``uvicorn`` options)."""


class _Guard:
    """Wraps ``receive``/``send`` of one request: once rejected, the app reads a disconnect and sends nothing."""

    def __init__(self, scope: Scope, send: Send) -> None:
        self.scope = scope
        self.send = send
        self.rejected = False
        self.started = False

    async def reject(self, status: int, detail: str) -> Message:
        """Answers ``status`` (unless the app already began its answer) and tells the app the client left."""
        if not self.rejected:
            self.rejected = True
            if not self.started:
                response = problem_response(status, detail, headers={"Connection": "close"})
                await response(self.scope, _no_receive, self.send)
        return {"type": "http.disconnect"}

    async def guarded_send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        if not self.rejected:
            await self.send(message)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


class BodySizeLimit:
    """Answers 413 to bodies larger than ``max_bytes`` (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = f"request body larger than {self.max_bytes} bytes"
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await problem_response(413, too_large, headers={"Connection": "close"})(scope, receive, send)
            return
        guard = _Guard(scope, send)
        seen = 0

        async def counting_receive() -> Message:
            # A streamed (chunked) body over the limit: answer 413 at once and tell the app the client left,
            # so that whatever the app does next (FastAPI turns a failed body read into a 400) is not sent.
            nonlocal seen
            if guard.rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    return await guard.reject(413, too_large)
            return message

        await _run(self.app, scope, counting_receive, guard)


class BodyReadTimeout:
    """Answers 408 (and closes the connection) when the request body has not fully arrived ``timeout_s`` after the
    request began: a client that sends its body slowly, or stops, holds no server task longer than that."""

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        guard = _Guard(scope, send)
        body_done = False

        async def timed_receive() -> Message:
            nonlocal body_done
            if guard.rejected:
                return {"type": "http.disconnect"}
            if body_done:  # after the body, receive only waits for the client to leave: no deadline
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0.0))
            except TimeoutError:
                detail = f"the request body did not arrive within {self.timeout_s:g} s"
                return await guard.reject(408, detail)
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await _run(self.app, scope, timed_receive, guard)


async def _run(app: ASGIApp, scope: Scope, receive: Receive, guard: _Guard) -> None:
    """The app with the guarded ``send``; after a rejection, what the app raises is of no interest."""
    try:
        await app(scope, receive, guard.guarded_send)
    except Exception:
        if not guard.rejected:
            raise
