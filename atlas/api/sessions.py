"""The browser's session cookie at the HTTP edge: read it, set it, clear it, guard forms.

Cookies (all ``HttpOnly``, ``Secure`` when the public URL is https):

- ``atlas_session`` (``Path=/``, ``SameSite=Lax``): the session id (``atlas.auth.sessions``).
  Lax rather than Strict: Strict is not sent when the user follows a link to Atlas from a mail or
  the intranet, nor after the OpenID Connect provider redirects back (a cross-site navigation),
  so signed-in users would land on public pages. Lax is enough because no GET changes anything
  and every POST form carries a CSRF token and passes the Origin check.
- ``atlas_csrf`` (``Path=/signin``, ``SameSite=Strict``): the double-submit token of the sign-in
  forms, which are posted before any session exists.
- ``atlas_oidc`` (``Path=/signin/callback``, ``SameSite=Lax``, ten minutes): state, nonce and
  PKCE verifier of a sign-in under way; Lax, because the provider's redirect is cross-site.

A cookie that names no live session is the public tier, and the response clears it
(:class:`SessionCookies`); a bearer header wins over the cookie (``atlas.api.auth``).
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response
from starlette.datastructures import MutableHeaders
from starlette.types import Message, Scope

from atlas.api.response_start import Editor, ResponseStartMiddleware
from atlas.auth.sessions import Session
from atlas.errors import Forbidden
from atlas.policy.tiers import ANONYMOUS, Principal

SESSION_COOKIE = "atlas_session"
CSRF_COOKIE = "atlas_csrf"
OIDC_COOKIE = "atlas_oidc"
CSRF_FIELD = "csrf"
CLEAR_KEY = "clear_session_cookie"
SIGNIN_PATH = "/signin"
CALLBACK_PATH = "/signin/callback"


def base_url(request: Request) -> str:
    """``atlas.api.deps.base_url`` (not imported: deps depends on auth, which reads sessions)."""
    configured = request.app.state.settings.api.public_url
    return (configured or str(request.base_url)).rstrip("/")


def is_https(request: Request) -> bool:
    """True when clients reach the API over https (``Secure`` cookies)."""
    return base_url(request).startswith("https://")


def set_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    *,
    max_age: int,
    path: str = "/",
    samesite: str = "lax",
) -> None:
    """Set an HttpOnly cookie, Secure on https, under the public URL's path prefix."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=_prefix(request) + path if path != "/" else _prefix(request) or "/",
        secure=is_https(request),
        httponly=True,
        samesite=samesite,  # type: ignore[arg-type]
    )


def clear_cookie(request: Request, response: Response, name: str, *, path: str = "/") -> None:
    """Remove a cookie set by :func:`set_cookie` (same name, path and flags)."""
    set_cookie(request, response, name, "", max_age=0, path=path)


def _prefix(request: Request) -> str:
    # ATLAS_PUBLIC_URL may carry a path (https://agglo.example/geo): cookies stay under it.
    return urlsplit(base_url(request)).path.rstrip("/")


def session_principal(request: Request) -> Principal:
    """The caller of the session cookie, or ANONYMOUS (no cookie, or one naming no live session,
    which the response then clears). The session is left on ``request.state.session``."""
    value = request.cookies.get(SESSION_COOKIE)
    if not value:
        return ANONYMOUS
    sessions = request.app.state.sessions
    session: Session | None = sessions.resolve(value, request.app.state.keys)
    if session is None:
        request.scope.setdefault("state", {})[CLEAR_KEY] = True
        return ANONYMOUS
    request.state.session = session
    return session.principal


def current_session(request: Request) -> Session | None:
    """The session :func:`session_principal` found for this request, if any."""
    return getattr(request.state, "session", None)


def new_csrf() -> str:
    """A fresh double-submit token."""
    return secrets.token_urlsafe(32)


def check_token(expected: str | None, given: str | None) -> None:
    """Forbidden unless the form's CSRF token equals the expected one (constant time)."""
    if not expected or not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise Forbidden("the form's CSRF token is missing or wrong: reload the page and retry")


def check_origin(request: Request) -> None:
    """Forbidden unless the browser says the form was posted from this origin.

    ``Origin`` must be ours. Under ``Referrer-Policy: no-referrer`` (the header of every answer)
    browsers send ``Origin: null`` on a POST (Fetch, "serializing a request origin"), which is why
    the pages' ``<meta name="referrer">`` says ``same-origin``; should a browser still send
    ``null``, the ``Sec-Fetch-Site`` header, which no page can set, must say ``same-origin``.
    A request with neither proves nothing and is refused.
    """
    parts = urlsplit(base_url(request))
    expected = f"{parts.scheme}://{parts.netloc}".lower()
    origin = request.headers.get("origin")
    if origin and origin != "null":
        if origin.rstrip("/").lower() != expected:
            raise Forbidden("a form posted from another origin is refused")
        return
    if request.headers.get("sec-fetch-site") != "same-origin":
        raise Forbidden("the form's origin is unknown (no Origin header): refused")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of this site, else the home page (no open redirect)."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return "/"  # browsers read "/\evil" as "//evil"; controls and spaces are never ours
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


class SessionCookies(ResponseStartMiddleware):
    """ASGI middleware: a response to a request whose session cookie was dead clears it."""

    def editor(self, scope: Scope) -> Editor:
        """Append the clearing Set-Cookie when ``session_principal`` asked for it."""
        state = scope.setdefault("state", {})

        def clear(headers: MutableHeaders, _message: Message) -> None:
            if state.get(CLEAR_KEY):
                cleared = Response()
                clear_cookie(Request(scope), cleared, SESSION_COOKIE)
                for name, value in cleared.raw_headers:
                    if name == b"set-cookie":
                        headers.append("set-cookie", value.decode("latin-1"))

        return clear
