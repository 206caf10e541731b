"""Who is calling: the principal of a request, authenticated, then rate-limited.

Routers take ONE dependency::

    from atlas.api.auth import CurrentPrincipal

    @router.get("/collections/{collectionId}/items")
    def items(collectionId: str, principal: CurrentPrincipal, ...) -> ...:
        ...  # principal.tier drives the policy; principal.who goes to the audit log

``CurrentPrincipal`` is ``Annotated[Principal, Depends(request_principal)]``: no Authorization
header is the public tier; ``Bearer <API key>`` is the key's tier (``Bearer <JWT>`` the role's tier
when OIDC is configured); anything else is a 401, never a silent fallback to public. The principal
is also left on ``request.state.principal`` for the cache-headers middleware and the audit log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from atlas.auth.keys import KeyRing
from atlas.auth.oidc import looks_like_jwt
from atlas.errors import Unauthorized
from atlas.policy.tiers import ANONYMOUS, Principal

# Declares the scheme in the OpenAPI document; the header itself is parsed below, because
# HTTPBearer(auto_error=False) answers None for "Basic …" or an empty header, which must be a 401.
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An Atlas API key (`atlas keys create`): `Authorization: Bearer atlas_…`."
    " Without one, the public tier.",
)


def get_keys(request: Request) -> KeyRing:
    """The key ring opened in the lifespan."""
    return request.app.state.keys


def get_principal(
    request: Request,
    _documented: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
) -> Principal:
    """The caller: ANONYMOUS without credentials, the key's principal, or Unauthorized (401)."""
    headers = request.headers.getlist("authorization")
    if not headers:
        principal = ANONYMOUS
    else:
        scheme, _, token = headers[0].strip().partition(" ")
        token = token.strip()
        if len(headers) > 1 or scheme.lower() != "bearer" or not token:
            raise Unauthorized("send one header 'Authorization: Bearer <API key>'")
        principal = _authenticate(request, token)
    request.state.principal = principal
    return principal


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


def request_principal(
    request: Request, principal: Annotated[Principal, Depends(get_principal)]
) -> Principal:
    """The authenticated caller, after taking one token of its rate limit (429 when none left)."""
    request.app.state.limiter.check(principal, client=client_address(request))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(request_principal)]
