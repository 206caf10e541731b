"""``create_app(settings)``: the FastAPI application, its store opened and closed in the lifespan."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from atlas import __version__
from atlas.api.cache_headers import TierCacheHeaders
from atlas.api.forwarded import ForwardedHeaders
from atlas.api.html import STATIC_DIR
from atlas.api.limits import RateLimiter
from atlas.api.request_ids import RequestIds
from atlas.api.routers import collections, extracts, inventory, items, landing, tiles
from atlas.api.routers.selection import router as selection_router
from atlas.audit import open_audit_log
from atlas.auth.keys import open_keyring
from atlas.auth.oidc import open_oidc
from atlas.errors import AtlasError
from atlas.extracts.jobs import open_jobs
from atlas.policy.gate import Policy
from atlas.settings import Settings
from atlas.stores import open_store
from atlas.stores.rasters import RasterCatalog

log = logging.getLogger("atlas.api")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; nothing is opened before the lifespan starts."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.store = open_store(settings.store)
        app.state.rasters = RasterCatalog(settings.store.data_dir)
        app.state.audit = open_audit_log(settings)  # append-only; no route reads it
        # The one way routers reach the data: Policy.gate(principal, request id).
        app.state.policy = Policy(app.state.store, app.state.rasters, app.state.audit)
        app.state.keys = open_keyring(settings.store, settings.auth)
        app.state.limiter = RateLimiter(settings.limits)
        app.state.oidc = open_oidc(settings.auth)  # None unless ATLAS_AUTH_OIDC_JWKS is set
        app.state.extracts = open_jobs(settings)  # extract jobs: threads of this process
        try:
            yield
        finally:
            app.state.extracts.close()  # running jobs finish before the store closes
            app.state.keys.close()
            app.state.store.close()
            app.state.audit.close()

    app = FastAPI(
        title="Atlas — territorial-marketing GIS atlas",
        version=__version__,
        description="OGC API Features and tiles over the agglomeration's geodata base.",
        openapi_url="/api",
        docs_url=None,  # served below with the vendored Swagger UI: no CDN at run time
        redoc_url=None,
        lifespan=lifespan,
    )
    app.include_router(landing.router)
    app.include_router(collections.router)
    app.include_router(items.router)
    app.include_router(tiles.router)
    app.include_router(extracts.router)
    app.include_router(selection_router)
    app.include_router(inventory.router)  # staff only; others get the unknown-path 404
    # Styles, map script and the vendored Leaflet of the HTML pages: code, no data.
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _install_api_browser(app)
    _install_error_handlers(app)
    app.add_middleware(TierCacheHeaders, public_max_age=settings.api.public_max_age)
    # Scheme, Host and client address settled before any route or limit reads them.
    app.add_middleware(
        ForwardedHeaders,
        public_url=settings.api.public_url,
        trusted_proxies=settings.api.trusted_proxies,
        fallback_host=f"{settings.api.host}:{settings.api.port}",
    )
    app.add_middleware(RequestIds)  # outermost: the id exists before any other code runs
    return app


def _install_api_browser(app: FastAPI) -> None:
    """``/api.html``: Swagger UI over ``/api``, its files from ``/static/vendor/swagger-ui``."""

    @app.get("/api.html", include_in_schema=False)
    def api_browser() -> HTMLResponse:
        vendor = "/static/vendor/swagger-ui"
        return get_swagger_ui_html(
            openapi_url="/api",
            title=f"{app.title} — API",
            swagger_js_url=f"{vendor}/swagger-ui-bundle.js",
            swagger_css_url=f"{vendor}/swagger-ui.css",
            swagger_favicon_url=f"{vendor}/favicon-32x32.png",
        )


def _request_id(request: Request) -> str:
    # The id RequestIds set; a fresh one if the failure happened outside that middleware.
    return getattr(request.state, "request_id", None) or uuid.uuid4().hex


def _error(status: int, code: str, description: str, request_id: str | None = None) -> JSONResponse:
    body = {"code": code, "description": description}
    if request_id:
        body["requestId"] = request_id
    return JSONResponse(status_code=status, content=body)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AtlasError)
    async def atlas_error(request: Request, exc: AtlasError) -> JSONResponse:
        if exc.status >= 500:
            request_id = _request_id(request)
            log.error("request %s failed: %s", request_id, exc, exc_info=exc)
            description = exc.public or "the service is unavailable, retry later"
            response = _error(exc.status, exc.code, description, request_id)
            response.headers["Retry-After"] = "5"
            return response
        response = _error(exc.status, exc.code, exc.description)
        response.headers.update(exc.headers)  # WWW-Authenticate on 401, Retry-After on 429
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
        return _error(
            400, "InvalidParameterValue", f"{where}: {first.get('msg', 'invalid')}".strip(": ")
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # 5xx say little: a generic message and an id; the log says everything.
        request_id = _request_id(request)
        log.exception("request %s failed", request_id, exc_info=exc)
        return _error(500, "ServerError", "internal error", request_id)
