"""A public vector tile already in the cache, answered before the framework.

A warm tile is a dictionary lookup, but through FastAPI it paid the router, parameter
validation, the dependency graph and four middlewares: about 0.5 ms of a worker for bytes it
already held (bench/tiles.py: 1,700 warm tiles/s, 1 % of nginx serving the same files). This
middleware sits inside the request-id, forwarded, cache and security headers (so the answer has
every header the framework's would) and answers only the plainest case: a GET of a tile (a
collection's or the tier's tileset) with at most ``v`` and ``f``, by a caller known from memory
(anonymous, or an API key of the in-memory key ring), whose bytes are in the cache for the
current version (an audited tile is never cached, so always goes to the app). It asks the same gate for the same stamp and reads the same
cache as the routes (``atlas.tiles.vector``), charges the same rate limit, and writes the
answer with the routes' own ``tile_response``. Anything else — a session cookie or an
OIDC token (their lookups may wait on I/O), another parameter, bad input, a refusal, a miss —
goes on to the app unchanged.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from atlas.api.audit import request_id
from atlas.api.auth import client_address, credential
from atlas.api.routers.tiles import etags, tile_response
from atlas.api.sessions import SESSION_COOKIE
from atlas.auth.oidc import looks_like_jwt
from atlas.errors import AtlasError
from atlas.policy.tiers import ANONYMOUS, Principal
from atlas.tiles.vector import NotCached, ServedTile, VectorTiles, address

_NAME = r"[A-Za-z0-9_.\-]{1,100}"
_ZXY = r"/(\d{1,2})/(\d{1,10})/(\d{1,10})"
COLLECTION_TILE = re.compile(rf"/collections/({_NAME})/tiles/({_NAME}){_ZXY}")
TILESET_TILE = re.compile(rf"/tiles/({_NAME}){_ZXY}")
_PARAMETERS = frozenset({"v", "f"})


class WarmTiles:
    """ASGI middleware: cached anonymous tiles answered here, everything else by ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a warm public tile, or hand the request on."""
        if scope["type"] == "http" and scope["method"] == "GET":
            request = Request(scope)
            answer = _warm(request)
            if answer is not None:
                served, principal, v = answer
                scope.setdefault("state", {})["principal"] = principal  # for the cache headers
                await tile_response(served, principal.tier, v)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _warm(request: Request) -> tuple[ServedTile, Principal, str | None] | None:
    """The cached tile, its caller and the ``v`` asked, or None when the app must answer."""
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
    app = request.app
    tiles: VectorTiles = app.state.vector_tiles
    known = etags(request.headers.get("if-none-match"))
    try:
        principal = _known_caller(request)
        if principal is None:
            return None
        gate = app.state.policy.gate(principal, request_id(request))
        if collection is not None:
            where = address(*_grid_zxy(collection.groups()[1:]), query.get("f"))
            served = tiles.collection_tile(
                gate, collection.group(1), where, (), known=known, cached_only=True
            )
        else:
            assert tileset is not None
            where = address(*_grid_zxy(tileset.groups()), query.get("f"))
            served = tiles.tileset_tile(gate, where, known=known, cached_only=True)
        # The same bucket as the routes' (a tile costs a share of a request); over it, the app
        # answers the 429 (charging once more an already empty bucket).
        app.state.limiter.check(principal, client=client_address(request), tile=True)
    except (NotCached, AtlasError):
        return None
    return served, principal, query.get("v")


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
