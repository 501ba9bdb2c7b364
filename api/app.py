"""The FastAPI application: ``create_app(settings)``; ``app`` for uvicorn (``api.app:app``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.params import Depends as DependsParam
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from api.auth import request_limits, require_api_key
from api.db import init_db, make_engine, session_factory
from api.errors import install_error_handlers
from api.key_store import sync_configured_keys
from api.limits import BodyReadTimeout, BodySizeLimit
from api.media_types import require_supported_media_type
from api.routes import admin, carbon, dispatch, examples, health, plans, readings, scenarios, schedules, sites, weather
from api.schemas import error_responses, problem_media_types
from api.security import HardenedFastAPI, nonced_page
from api.settings import Settings, get_settings
from api.solver_process import SolveSlots, use_plugins, warm_up
from api.static import add_static
from api.weather import fetch_every_morning

log = logging.getLogger("api")

DOCS_ASSETS_URL = "/docs-assets"
"""Where the Swagger UI and ReDoc files are served (from the fastapi-offline package): the docs need no internet."""
DOCS_ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
SWAGGER_UI_PARAMETERS: dict[str, Any] = {"validatorUrl": None}  # never ask the public online validator


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    use_plugins(settings.plugins)  # before the routes validate sites and before the forkserver starts
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        init_db(engine)
        await asyncio.to_thread(_store_configured_keys, app, settings)
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
    app = HardenedFastAPI(  # security headers on every answer (api/security.py)
        title="Factory microgrid dispatch",
        version="1",
        description="Day-ahead dispatch schedules for factory microgrids: always a plan, clearly labelled.",
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc: _add_docs (assets served here, not from a CDN)
        redoc_url=None,
        openapi_url=None if settings.protect_docs else "/openapi.json",
        dependencies=[Depends(require_supported_media_type)],  # 415 for a body the operation does not read
        redirect_slashes=False,  # no redirect (its Location would be built from the Host header): a 404
    )
    app.state.settings = settings
    app.state.sessions = session_factory(engine)
    app.state.slots = SolveSlots(
        settings.max_concurrent_solves, settings.max_queue, settings.queue_wait_s, settings.retry_after_s
    )
    app.state.limits = request_limits(settings)  # in memory, per process
    install_error_handlers(app)
    app.include_router(health.router)
    for router in (
        sites.router,
        dispatch.router,
        schedules.router,
        readings.router,
        weather.router,
        plans.router,
        carbon.router,
        scenarios.router,
        examples.router,
        admin.router,
    ):
        app.include_router(router, responses=error_responses(401, 429))  # every /v1 route needs X-API-Key
    if settings.protect_docs:
        _add_protected_openapi(app, docs_dependencies)
    _add_docs(app, docs_dependencies)
    add_static(app)
    _document_problems(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(BodyReadTimeout, timeout_s=settings.body_read_timeout_s)
    if settings.cors_origins:  # off unless configured: then only these origins, no cookies
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["X-API-Key", "Content-Type", "Idempotency-Key", "Accept"],
            expose_headers=["Retry-After", "Idempotent-Replayed", "Link", "Location"],
        )
    return app


def _document_problems(app: FastAPI) -> None:
    """The OpenAPI document with every error answer as ``application/problem+json`` (:func:`problem_media_types`)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        return problem_media_types(build())

    app.openapi = openapi  # type: ignore[method-assign]


def _store_configured_keys(app: FastAPI, settings: Settings) -> None:
    """The keys of ``DISPATCH_API_KEYS`` stored (hashed) as the tenant ``default``'s, those no longer listed revoked."""
    with app.state.sessions() as session:
        sync_configured_keys(session, settings.api_keys)
    if not settings.api_keys and not settings.admin_keys:
        log.warning("no DISPATCH_API_KEYS nor DISPATCH_ADMIN_KEYS: only keys made by `dispatch keys` are accepted")


def _add_protected_openapi(app: FastAPI, dependencies: list[DependsParam]) -> None:
    """``/openapi.json`` behind the API key (``protect_docs``)."""

    @app.get("/openapi.json", include_in_schema=False, dependencies=dependencies)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())


def _add_docs(app: FastAPI, dependencies: list[DependsParam]) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), with their JavaScript, CSS and icon served by the app itself,
    so that they work on a network without internet. With ``protect_docs`` the pages (and ``/openapi.json``) need
    the API key, like every /v1 route.

    The assets are not protected: they are the public Swagger UI and ReDoc releases shipped in the fastapi-offline
    package, the same files for every server, and say nothing about this API or its data (what the API is made of is
    in /openapi.json, which is protected). A browser cannot send X-API-Key with the ``<script>``/``<link>`` requests
    of a page, so protecting them would only break a page that a proxy adding the header had let through.
    """
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=DOCS_ASSETS_DIR), name="docs-assets")

    def assets(request: Request) -> tuple[str, str]:
        """(root path, assets URL): behind a proxy that strips a prefix, every URL keeps the prefix."""
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return root, f"{root}{DOCS_ASSETS_URL}"

    @app.get("/docs", include_in_schema=False, dependencies=dependencies)
    def swagger_ui(request: Request) -> HTMLResponse:
        root, static = assets(request)
        page = get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title} - API docs",
            swagger_js_url=f"{static}/swagger-ui-bundle.js",
            swagger_css_url=f"{static}/swagger-ui.css",
            swagger_favicon_url=f"{static}/favicon.png",
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )
        return nonced_page(page)  # its start-up script by nonce, under the docs' CSP

    @app.get("/redoc", include_in_schema=False, dependencies=dependencies)
    def redoc(request: Request) -> HTMLResponse:
        root, static = assets(request)
        page = get_redoc_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{static}/redoc.standalone.js",
            redoc_favicon_url=f"{static}/favicon.png",
            with_google_fonts=False,  # the fonts would come from the internet; the system's fonts are used
        )
        return nonced_page(page)


def __getattr__(name: str) -> FastAPI:
    """``api.app:app`` builds the app from the environment on first use (uvicorn's import)."""
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
