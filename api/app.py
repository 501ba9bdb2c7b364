"""The FastAPI application: ``create_app(settings)``; ``app`` for uvicorn (``api.app:app``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import require_api_key
from api.db import init_db, make_engine, session_factory
from api.errors import install_error_handlers
from api.routes import dispatch, health, plans, readings, scenarios, schedules, sites, weather
from api.settings import Settings, get_settings
from api.solver_process import SolveSlots, use_plugins, warm_up
from api.weather import fetch_every_morning

log = logging.getLogger("api")


class BodySizeLimit:
    """Answers 413 to bodies larger than ``max_bytes`` (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _send_413(send, self.max_bytes)
            return
        seen = 0
        rejected = False

        async def counting_receive() -> Message:
            # A streamed (chunked) body over the limit: answer 413 at once and tell the app the client left,
            # so that whatever the app does next (FastAPI turns a failed body read into a 400) is not sent.
            nonlocal seen, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    rejected = True
                    await _send_413(send, self.max_bytes)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not rejected:
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not rejected:
                raise


async def _send_413(send: Send, max_bytes: int) -> None:
    body = f'{{"detail": "request body larger than {max_bytes} bytes"}}'.encode()
    await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    use_plugins(settings.plugins)  # before the routes validate sites and before the forkserver starts
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        init_db(engine)
        if not settings.api_keys:
            log.warning("no API keys configured (DISPATCH_API_KEYS): every /v1 request will be refused")
        await asyncio.to_thread(warm_up)
        morning = None
        if settings.weather_url and settings.weather_fetch_utc is not None:
            fetching = fetch_every_morning(app.state.sessions, settings.weather_url, settings.weather_fetch_utc)
            morning = asyncio.create_task(fetching)
        yield
        if morning is not None:
            morning.cancel()
        engine.dispose()

    docs_dependencies = [Depends(require_api_key)] if settings.protect_docs else []
    app = FastAPI(
        title="Factory microgrid dispatch",
        version="1",
        description="Day-ahead dispatch schedules for factory microgrids: always a plan, clearly labelled.",
        lifespan=lifespan,
        docs_url=None if settings.protect_docs else "/docs",
        openapi_url=None if settings.protect_docs else "/openapi.json",
        dependencies=[],
    )
    app.state.settings = settings
    app.state.sessions = session_factory(engine)
    app.state.slots = SolveSlots(settings.max_concurrent_solves)
    install_error_handlers(app)
    app.include_router(health.router)
    for router in (
        sites.router,
        dispatch.router,
        schedules.router,
        readings.router,
        weather.router,
        plans.router,
        scenarios.router,
    ):
        app.include_router(router)
    if settings.protect_docs:
        _add_protected_docs(app, docs_dependencies)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app


def _add_protected_docs(app: FastAPI, dependencies: list) -> None:  # type: ignore[type-arg]
    from fastapi.openapi.docs import get_swagger_ui_html

    @app.get("/openapi.json", include_in_schema=False, dependencies=dependencies)
    def openapi() -> dict:  # type: ignore[type-arg]
        return app.openapi()

    @app.get("/docs", include_in_schema=False, dependencies=dependencies)
    def docs():  # type: ignore[no-untyped-def]
        return get_swagger_ui_html(openapi_url="/openapi.json", title=app.title)


def __getattr__(name: str) -> FastAPI:
    """``api.app:app`` builds the app from the environment on first use (uvicorn's import)."""
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
