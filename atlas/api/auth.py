"""Who is calling: the principal of a request, authenticated, then rate-limited.

Routers take ONE dependency::

    from atlas.api.auth import CurrentPrincipal

    @router.get("/collections/{collectionId}/items")
    def items(collectionId: str, principal: CurrentPrincipal, ...) -> ...:
        ...  # principal.tier drives the policy; principal.who goes to the audit log

``CurrentPrincipal`` is ``Annotated[Principal, Depends(request_principal)]``: no credential is the
public tier; ``Authorization: Bearer <API key>`` is the key's tier (``Bearer <JWT>`` the role's
tier when OIDC is configured), and ``X-API-Key: <API key>`` is read exactly like it (clients that
cannot set Authorization); both headers naming different credentials, several of one, or anything
else is a 401, never a silent fallback to public. Without either header, the browser's session
cookie (``atlas.api.sessions``, the sign-in page) gives the principal its key or OIDC sign-in
stood for, through the same path; a cookie naming no live session is public. The principal is also left on
``request.state.principal`` for the cache-headers middleware and the audit log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from atlas.api.sessions import SESSION_COOKIE, session_principal
from atlas.auth.keys import KeyRing
from atlas.auth.oidc import looks_like_jwt
from atlas.errors import Unauthorized
from atlas.policy.tiers import Principal

# Declares the scheme in the OpenAPI document; the header itself is parsed below, because
# HTTPBearer(auto_error=False) answers None for "Basic …" or an empty header, which must be a 401.
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An Atlas API key (`atlas keys create`): `Authorization: Bearer atlas_…`."
    " Without one, the public tier.",
)
API_KEY_HEADER = "X-API-Key"
api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    scheme_name="apiKeyHeader",
    description="The same API key in its own header, `X-API-Key: atlas_…`, read exactly like"
    " `Authorization: Bearer`; with both headers they must name the same key.",
)
_ONE_CREDENTIAL = "send one header 'Authorization: Bearer <API key>' or 'X-API-Key: <API key>'"


def get_keys(request: Request) -> KeyRing:
    """The key ring opened in the lifespan."""
    return request.app.state.keys


async def get_principal(
    request: Request,
    _documented: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
    _documented_header: Annotated[str | None, Security(api_key_header)] = None,
) -> Principal:
    """The caller: the key's (or token's) principal, else the session's, else ANONYMOUS; a bad
    header is Unauthorized (401), a dead session cookie is ANONYMOUS."""
    token = credential(request)
    # On the event loop when the answer is in memory (anonymous, a cached key): most requests
    # skip a thread hop (atlas.api.on_loop); a session, a token or an uncached key may wait on I/O.
    if _may_block(request, token):
        principal = await run_in_threadpool(_principal, request, token)
    else:
        principal = _principal(request, token)
    request.state.principal = principal
    return principal


def _principal(request: Request, token: str | None) -> Principal:
    # A credential header wins over the browser's session cookie (atlas.api.sessions).
    return session_principal(request) if token is None else _authenticate(request, token)


def _may_block(request: Request, token: str | None) -> bool:
    """Whether finding the caller may wait on I/O: a session (its store), an OIDC token (the
    provider's keys), a key ring without its memory cache."""
    if token is None:
        return bool(request.cookies.get(SESSION_COOKIE))
    if getattr(request.app.state, "oidc", None) is not None and looks_like_jwt(token):
        return True
    return not get_keys(request).in_memory


def credential(request: Request) -> str | None:
    """The key (or token) the request carries in Authorization: Bearer or X-API-Key; None if none."""
    bearer_token = key = None
    authorization = request.headers.getlist("authorization")
    if authorization:
        scheme, _, bearer_token = authorization[0].strip().partition(" ")
        bearer_token = bearer_token.strip()
        if len(authorization) > 1 or scheme.lower() != "bearer" or not bearer_token:
            raise Unauthorized(_ONE_CREDENTIAL)
    api_keys = request.headers.getlist(API_KEY_HEADER)
    if api_keys:
        key = api_keys[0].strip()
        if len(api_keys) > 1 or not key:
            raise Unauthorized(_ONE_CREDENTIAL)
    if bearer_token and key and bearer_token != key:
        # Which one to believe cannot be guessed: neither, rather than the wrong tier.
        raise Unauthorized("Authorization and X-API-Key name different credentials: send one")
    return bearer_token or key


def _authenticate(request: Request, token: str) -> Principal:
    oidc = getattr(request.app.state, "oidc", None)  # None: OIDC is not configured
    if oidc is not None and looks_like_jwt(token):
        return oidc.authenticate(token)
    return get_keys(request).authenticate(token)


def client_address(request: Request) -> str:
    """The client's IP address as the server sees it.

    Behind a reverse proxy, list it in ``ATLAS_TRUSTED_PROXIES``: ``atlas.api.forwarded`` then
    takes the client from its X-Forwarded-For, which a client could forge to anyone else.
    """
    return request.client.host if request.client else "unknown"


async def request_principal(
    request: Request, principal: Annotated[Principal, Depends(get_principal)]
) -> Principal:
    """The authenticated caller, after taking one token of its rate limit (429 when none left);
    a tile (vector or map) takes a share of one."""
    _take_token(request, principal)
    return principal


def caller(request: Request) -> Principal:
    """What ``CurrentPrincipal`` gives, for a handler (in its thread) that only sometimes needs
    the caller: found, stored on the request and charged to its rate limit."""
    principal = _principal(request, credential(request))
    request.state.principal = principal
    _take_token(request, principal)
    return principal


def _take_token(request: Request, principal: Principal) -> None:
    route = request.scope.get("route")
    tile = getattr(route, "path", "").endswith("/{z}/{x}/{y}")
    request.app.state.limiter.check(principal, client=client_address(request), tile=tile)


CurrentPrincipal = Annotated[Principal, Depends(request_principal)]
