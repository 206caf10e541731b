"""Plain vector tiles answered at the application's edge: from the cache, or read in a thread.

A warm tile is a dictionary lookup, but through FastAPI it paid the router, parameter
validation, the dependency graph and the middlewares: about 0.5 ms of a worker for bytes it
already held (bench/tiles.py's first run: 1,700 warm tiles/s on two workers, 1 % of nginx serving
the same files; through this edge 12,000-15,000, about 0.1 x nginx, README); a cold
one paid the same on top of its statement (py-spy, one worker, cold z16 tiles on PostGIS: the
dependency graph alone was 16 % of its Python time). :class:`PlainTiles` wraps the whole
middleware stack (``AtlasApp.build_middleware_stack``) and answers only the plainest case: a GET
of a tile (a collection's or the tier's tileset) with at most ``v`` and ``f``, by a caller known
from memory (anonymous, or an API key of the in-memory key ring). It settles the request as the
stack does — the same request id, forwarded headers, cache and security headers, by the
middlewares' own code (so the answer has every header the stack's would: the tests compare) —,
asks the same gate for the same stamp and reads the same cache as the routes
(``atlas.tiles.vector``), charges the same rate limit, and writes the answer with the routes' own
``tile_response``; a tile the cache does not hold is read in the handler pool (the same FIFO
limiter as the routes), unless it is audited. Anything else — a session cookie or an OIDC token
(their lookups may wait on I/O), another parameter, bad input, a refusal, an audited tile, a read
that fails, any unexpected error before the answer starts — goes to the stack unchanged, which
answers it as it answers any request (a failed read is tried once more there, and charged once
more).

What the stack has and this path has not: a tile read here is not interrupted when its client
goes away (``CancelOnDisconnect`` is further in); tile statements are bounded by the tile budget
and the statement timeout.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import anyio.to_thread
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from atlas.api.audit import request_id
from atlas.api.auth import client_address, credential
from atlas.api.cache_headers import TierCacheHeaders
from atlas.api.forwarded import ForwardedHeaders
from atlas.api.request_ids import RequestIds
from atlas.api.response_start import editing
from atlas.api.routers.tiles import etags, tile_response
from atlas.api.security_headers import SecurityHeaders
from atlas.api.sessions import SESSION_COOKIE
from atlas.auth.oidc import looks_like_jwt
from atlas.errors import AtlasError
from atlas.policy.tiers import ANONYMOUS, Principal
from atlas.settings import ApiSettings
from atlas.tiles.vector import NotCached, ServedTile, VectorTiles, address

_NAME = r"[A-Za-z0-9_.\-]{1,100}"
_ZXY = r"/(\d{1,2})/(\d{1,10})/(\d{1,10})"
COLLECTION_TILE = re.compile(rf"/collections/({_NAME})/tiles/({_NAME}){_ZXY}")
TILESET_TILE = re.compile(rf"/tiles/({_NAME}){_ZXY}")
_TILE_PATH = re.compile(r"/tiles/[^/]+/\d+/\d+/\d+$")  # a cheap first look; _plain decides
_PARAMETERS = frozenset({"v", "f"})
log = logging.getLogger(__name__)


def forwarded_options(api: ApiSettings) -> dict[str, Any]:
    """How :class:`ForwardedHeaders` settles a request: the stack's and the edge's one setting."""
    return {
        "public_url": api.public_url,
        "trusted_proxies": api.trusted_proxies,
        "fallback_host": f"{api.host}:{api.port}",
    }


def cache_options(api: ApiSettings) -> dict[str, Any]:
    """How :class:`TierCacheHeaders` marks answers: the stack's and the edge's one setting."""
    return {"public_max_age": api.public_max_age}


class PlainTiles:
    """ASGI: plain tiles answered here, every other request by ``stack`` (the app's middlewares
    and routes)."""

    def __init__(self, stack: ASGIApp, api: ApiSettings) -> None:
        self.stack = stack
        # The stack's own header code, with the options app.py gives the stack's middlewares.
        self._ids = RequestIds(stack)
        self._forwarded = ForwardedHeaders(stack, **forwarded_options(api))
        self._cache = TierCacheHeaders(stack, **cache_options(api))
        self._security = SecurityHeaders(stack)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a plain tile, or hand the request to the stack."""
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and _TILE_PATH.search(scope["path"])
            and await self._answered(scope, receive, send)
        ):
            return
        await self.stack(scope, receive, send)

    async def _answered(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Whether the tile was answered here (nothing is sent when it was not)."""
        try:
            # As the stack does, outermost first: the request id, then the settled scope.
            add_id = self._ids.editor(scope)
            settled = self._forwarded.settled(scope)
            edits = (self._security.editor(settled), self._cache.editor(settled), add_id)
            request = Request(settled)
            plain = _plain(request)
            served = None if plain is None else await _served(request, plain)
        except Exception:  # noqa: BLE001 - the stack answers the request its own way
            log.debug("a plain tile was left to the stack", exc_info=True)
            return False
        if plain is None or served is None:
            return False
        settled["state"]["principal"] = plain.principal  # for the cache headers
        # Innermost middleware's edit first, as the stack applies them.
        edited = editing(send, *edits)
        await tile_response(served, plain.principal.tier, plain.v)(settled, receive, edited)
        return True


@dataclass(frozen=True, slots=True)
class PlainTile:
    """A plain tile request: its caller, the ``v`` asked, and how to read it through the gate."""

    principal: Principal
    v: str | None
    read: Callable[[bool], ServedTile]  # cached_only -> the tile, or NotCached


def _plain(request: Request) -> PlainTile | None:
    """The tile request, or None when the app must answer it."""
    path = request.scope["path"]
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    collection = COLLECTION_TILE.fullmatch(path)
    tileset = None if collection else TILESET_TILE.fullmatch(path)
    if collection is None and tileset is None:
        return None
    if SESSION_COOKIE in request.cookies:
        return None
    params = parse_qsl(request.scope["query_string"].decode("latin-1"), keep_blank_values=True)
    names = [name for name, _ in params]
    if len(set(names)) != len(names) or not _PARAMETERS.issuperset(names):
        return None
    query = dict(params)
    tiles: VectorTiles = request.app.state.vector_tiles
    known = etags(request.headers.get("if-none-match"))
    try:
        principal = _known_caller(request)
        if principal is None:
            return None
        gate = request.app.state.policy.gate(principal, request_id(request))
        if collection is not None:
            where = address(*_grid_zxy(collection.groups()[1:]), query.get("f"))
            collection_id = collection.group(1)

            def read(cached_only: bool) -> ServedTile:
                return tiles.collection_tile(
                    gate, collection_id, where, (), known=known, cached_only=cached_only
                )
        else:
            assert tileset is not None
            where = address(*_grid_zxy(tileset.groups()), query.get("f"))

            def read(cached_only: bool) -> ServedTile:
                return tiles.tileset_tile(gate, where, known=known, cached_only=cached_only)
    except AtlasError:
        return None
    return PlainTile(principal, query.get("v"), read)


async def _served(request: Request, plain: PlainTile) -> ServedTile | None:
    """The tile from the cache, or read in the handler pool; None when the app must answer."""
    try:
        try:
            served = plain.read(True)  # on the loop: a dictionary lookup
        except NotCached as miss:
            if miss.audited:
                return None
            _charge(request, plain.principal)  # before the work, as the route is charged
            return await anyio.to_thread.run_sync(plain.read, False)
        _charge(request, plain.principal)
    except AtlasError:
        return None
    except Exception:  # noqa: BLE001 - the app reads it again and answers the failure its way
        log.debug("a plain tile read failed; the app answers it", exc_info=True)
        return None
    return served


def _charge(request: Request, principal: Principal) -> None:
    """The same bucket as the routes' (a tile costs a share of a request); over it, the app
    answers the 429 (charging once more an already empty bucket)."""
    request.app.state.limiter.check(principal, client=client_address(request), tile=True)


def _known_caller(request: Request) -> Principal | None:
    """ANONYMOUS, or the principal of an API key the ring holds in memory; None when finding
    the caller may wait on I/O (an OIDC token, a ring without its cache). A bad header raises
    Unauthorized, which the app then answers."""
    token = credential(request)
    if token is None:
        return ANONYMOUS
    keys = request.app.state.keys
    if looks_like_jwt(token) or not keys.in_memory:
        return None
    principal: Principal = keys.authenticate(token)
    return principal


def _grid_zxy(groups: tuple[str, ...]) -> tuple[str, int, int, int]:
    grid_id, z, x, y = groups
    return grid_id, int(z), int(x), int(y)
