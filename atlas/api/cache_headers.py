"""Cache-Control and Vary per tier, on every response.

A response depends on who asks (the tier policy filters collections, fields and rows), so:

- ``Vary: Authorization, X-API-Key, Cookie`` always (a key may come in either header,
  ``atlas.api.auth``, and a browser's session in its cookie, ``atlas.api.sessions``): a cache
  must never hand one caller's response to another;
- a caller with credentials in either header (b2b, internal, or a 401 for a bad key) gets
  ``Cache-Control: private, no-store``, whatever the route set: nothing of theirs is kept by a
  shared cache or the browser (RFC 9111 section 5.2.2.5);
- an anonymous (public) caller's successful GET may be cached ``public, max-age=N``
  (``ATLAS_PUBLIC_MAX_AGE``) unless the route chose its own Cache-Control; other public errors
  than 404/410 are ``no-store``, so that a 400, 429 or 503 does not stick in a CDN.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Scope

from atlas.api.response_start import Editor, ResponseStartMiddleware
from atlas.policy.tiers import Tier

PRIVATE = "private, no-store"
CREDENTIAL_HEADERS = ("Authorization", "X-API-Key")
# The session cookie also decides who asks; a cookie alone does not make an answer private (it
# may name no session: public), the principal it gave does.
VARY_HEADERS = (*CREDENTIAL_HEADERS, "Cookie")
_CREDENTIAL_NAMES = frozenset(name.lower().encode("latin-1") for name in CREDENTIAL_HEADERS)
_CACHEABLE_STATUS = {200, 203, 204, 206, 300, 301, 304, 308, 404, 410}


def _vary_authorization(headers: MutableHeaders) -> None:
    vary = [v.strip() for v in headers.get("vary", "").split(",") if v.strip()]
    if "*" in vary:
        return
    present = {v.lower() for v in vary}
    missing = [name for name in VARY_HEADERS if name.lower() not in present]
    if missing:
        headers["Vary"] = ", ".join([*vary, *missing])


class TierCacheHeaders(ResponseStartMiddleware):
    """ASGI middleware: reads the principal that ``get_principal`` left in the request state."""

    def __init__(self, app: ASGIApp, *, public_max_age: int = 60) -> None:
        super().__init__(app)
        self.public = f"public, max-age={public_max_age}" if public_max_age > 0 else "no-cache"

    def editor(self, scope: Scope) -> Editor:
        """Cache-Control and Vary from the credentials sent and the principal found."""
        # request.state writes into this dict; keep a reference to read the principal back.
        state = scope.setdefault("state", {})
        # ASGI header names are lower-case bytes: a scan of the raw list, no Headers to build.
        credentials = any(name in _CREDENTIAL_NAMES for name, _ in scope.get("headers") or ())
        method = scope.get("method", "GET")

        def edit(headers: MutableHeaders, message: Message) -> None:
            _vary_authorization(headers)
            principal = state.get("principal")
            private = credentials or (principal is not None and principal.tier != Tier.PUBLIC)
            if private:
                headers["Cache-Control"] = PRIVATE
            elif method not in ("GET", "HEAD") or message["status"] not in _CACHEABLE_STATUS:
                headers["Cache-Control"] = "no-store"
            elif "cache-control" not in headers:
                headers["Cache-Control"] = self.public

        return edit
