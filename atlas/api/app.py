"""``create_app(settings)``: the FastAPI application, its store opened and closed in the lifespan."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from atlas import __version__
from atlas.api.bodies import JsonBodies
from atlas.api.cache_headers import TierCacheHeaders
from atlas.api.disconnect import CancelOnDisconnect
from atlas.api.error_responses import UnexpectedErrors, install_error_handlers
from atlas.api.forwarded import ForwardedHeaders
from atlas.api.html import STATIC_DIR
from atlas.api.limits import RateLimiter
from atlas.api.openapi import install_api_docs
from atlas.api.plain_tiles import PlainTiles, cache_options, forwarded_options
from atlas.api.request_ids import RequestIds
from atlas.api.routers import collections, extracts, inventory, items, landing, tiles, tilesets
from atlas.api.routers.map_tiles import router as map_tiles_router
from atlas.api.routers.maps import router as maps_router
from atlas.api.routers.pmtiles import router as pmtiles_router
from atlas.api.routers.portal import router as portal_router
from atlas.api.routers.portal_files import router as portal_files_router
from atlas.api.routers.selection import router as selection_router
from atlas.api.routers.selection_pages import router as selection_pages_router
from atlas.api.routers.signin import router as signin_router
from atlas.api.security_headers import SecurityHeaders
from atlas.api.sessions import SessionCookies
from atlas.audit import open_audit_log
from atlas.auth.keys import open_keyring
from atlas.auth.oidc import open_oidc
from atlas.auth.oidc_signin import OidcSignIn
from atlas.auth.sessions import open_sessions
from atlas.extracts.jobs import open_jobs
from atlas.layers import catalog
from atlas.maps.service import MapCache
from atlas.policy.gate import Policy
from atlas.policy.reading import Paging
from atlas.policy.tiles import TileBudget
from atlas.portal.share_cache import CardCache
from atlas.query import cql2
from atlas.settings import Settings
from atlas.stores import open_store
from atlas.stores.rasters import RasterCatalog
from atlas.tiles.cache import TileCache
from atlas.tiles.raster import MapTiles
from atlas.tiles.vector import VectorTiles

log = logging.getLogger("atlas.api")


class AtlasApp(FastAPI):
    """FastAPI, with plain tiles answered at its edge: before its middleware stack, with every
    header the stack would add (``atlas.api.plain_tiles``)."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        # FastAPI's native OpenTelemetry asks on every request whether a provider is configured
        # (environment lookups, 15 µs of a 100 µs warm tile): off unless ATLAS_OPENTELEMETRY.
        if not settings.api.opentelemetry:
            kwargs.setdefault("telemetry", {"tracing": False, "metrics": False, "logs": False})
        super().__init__(**kwargs)
        self._api_settings = settings.api

    def build_middleware_stack(self) -> ASGIApp:
        """The stack FastAPI builds, wrapped by :class:`PlainTiles`."""
        return PlainTiles(super().build_middleware_stack(), self._api_settings)


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
        app.state.policy = Policy(
            app.state.store,
            app.state.rasters,
            app.state.audit,
            tile_budget=TileBudget(settings.tiles.max_features, settings.tiles.max_bytes),
            paging=Paging.from_settings(settings),
        )
        app.state.vector_tiles = VectorTiles(  # keyed by tier and version: no purge needed
            TileCache(memory_bytes=settings.tiles.cache_bytes, directory=settings.tiles.cache_dir),
            app.state.policy.tile_budget,
        )
        # Map tiles in a cache of their own (same bounds and directory; keys never collide).
        app.state.map_tiles = MapTiles(
            TileCache(memory_bytes=settings.tiles.cache_bytes, directory=settings.tiles.cache_dir)
        )
        # Rendered map pages, keyed by tier, language and the versions they read.
        app.state.maps = MapCache(settings.maps.maps_cache_entries)
        # Sheets' share images, keyed by id, language and the public's data versions.
        app.state.share_cards = CardCache()
        app.state.keys = open_keyring(settings.store, settings.auth, cached=True)  # in memory
        app.state.limiter = RateLimiter(settings.limits)
        app.state.oidc = open_oidc(settings.auth)  # None unless ATLAS_AUTH_OIDC_JWKS is set
        # Browser sessions beside the keys (atlas.auth.sessions); OIDC sign-in when configured.
        app.state.sessions = open_sessions(app.state.keys, settings.store, settings.session)
        app.state.oidc_signin = (
            OidcSignIn(settings.auth, app.state.oidc) if settings.auth.browser_oidc else None
        )
        app.state.extracts = open_jobs(settings)  # extract jobs: threads of this process
        # What starting made (modules, catalogs, caches: most of the heap) never moves again, so
        # a full collection no longer walks it: worst pause under load 109 -> 11 ms (a worker on
        # 200,000 parcels, 4 clients), a tail every request in flight would pay.
        # Built here rather than by each worker's first request of the kind, which held the GIL
        # while every request in flight in that worker waited (bench/features.py: the first
        # filter slice's p99 was 420 ms against 50 ms in the next): the layer catalog (its modules
        # imported) and the CQL2-text parser's tables. Then frozen with the rest.
        catalog()
        cql2.prepare()
        gc.collect()
        gc.freeze()
        # Sync handlers (and the few dependencies that may block) run in anyio's thread pool: a
        # few at a time, the rest queued first come, first served (its limiter is FIFO), so no
        # request is starved of the GIL by fifteen others (bench/features.py at 32 connections).
        to_thread.current_default_thread_limiter().total_tokens = settings.api.handler_threads
        try:
            yield
        finally:
            app.state.extracts.close()  # running jobs finish before the store closes
            app.state.sessions.close()
            app.state.keys.close()
            app.state.store.close()
            app.state.audit.close()

    app = AtlasApp(
        settings,
        title="Atlas — territorial-marketing GIS atlas",
        version=__version__,
        description="OGC API Features and tiles over the agglomeration's geodata base.",
        openapi_url=None,  # /api is per tier, /api.html the vendored Swagger UI (atlas.api.openapi)
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.include_router(landing.router)
    app.include_router(collections.router)
    app.include_router(items.router)
    app.include_router(tiles.router)
    app.include_router(tilesets.router)  # the tier's multi-layer tileset and styles
    app.include_router(map_tiles_router)  # raster map tiles, legends, point values
    app.include_router(maps_router)  # /maps/{tier}: a tier's map, to callers holding it
    app.include_router(pmtiles_router)  # the exported PMTiles archives, with byte ranges
    app.include_router(extracts.router)
    app.include_router(selection_router)
    app.include_router(inventory.router)  # staff only; others get the unknown-path 404
    app.include_router(signin_router)  # browser sign-in pages and forms (not in the OpenAPI)
    app.include_router(selection_pages_router)  # site-selection and extract pages (people's)
    app.include_router(portal_files_router)  # sheets' PDFs and share images: before the pages
    # The portal's pages (/sites, /plots, /search; / for browsers): last, so that any other
    # route under /sites/… or /plots/… (the sheets' PDFs) is matched before a sheet id.
    app.include_router(portal_router)
    # Styles, map script and the vendored Leaflet of the HTML pages: code, no data.
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_api_docs(app)
    install_error_handlers(app)
    # Innermost: an unexpected failure's 500 gets the headers every other answer gets.
    app.add_middleware(UnexpectedErrors)
    # Work per request bounded: an abandoned request cancels its statements (inner), and every
    # body is size- and depth-checked JSON before a route parses it.
    app.add_middleware(CancelOnDisconnect)
    app.add_middleware(
        JsonBodies, max_bytes=settings.bodies.max_bytes, max_depth=settings.bodies.max_depth
    )
    app.add_middleware(SessionCookies)  # a dead session cookie is cleared on the answer
    app.add_middleware(SecurityHeaders)  # CSP, nosniff, Referrer-Policy, no framing
    # The same options as the edge's copies of these two (PlainTiles): one setting each.
    app.add_middleware(TierCacheHeaders, **cache_options(settings.api))
    # Scheme, Host and client address settled before any route or limit reads them.
    app.add_middleware(ForwardedHeaders, **forwarded_options(settings.api))
    app.add_middleware(RequestIds)  # outermost: the id exists before any other code runs
    return app
