"""Sign-in in the browser: an API key pasted in a form, or OpenID Connect (code + PKCE).

``GET /signin`` shows the form (French, English with ``lang=en`` or Accept-Language), ``POST
/signin`` turns a key into a session, ``POST /signin/oidc`` sends the browser to the provider,
``GET /signin/callback`` comes back with its code, ``POST /signout`` ends the session. Every POST
passes the Origin check and a CSRF token (double-submit before a session exists, the session's
own after); refusals are 403. Sign-ins, refusals and sign-outs go to the audit log, never the key
or a token. These are pages for people, not API operations: they stay out of the OpenAPI document.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from atlas.api.audit import request_id
from atlas.api.auth import client_address
from atlas.api.bodies import form_body
from atlas.api.html import render
from atlas.api.negotiation import negotiated
from atlas.api.sessions import (
    CALLBACK_PATH,
    CLEAR_KEY,
    CSRF_COOKIE,
    CSRF_FIELD,
    OIDC_COOKIE,
    SESSION_COOKIE,
    SIGNIN_PATH,
    base_url,
    check_origin,
    check_token,
    clear_cookie,
    new_csrf,
    safe_next,
    session_principal,
    set_cookie,
)
from atlas.audit.record import AuditAction
from atlas.auth.oidc_signin import OidcSignIn, Pending
from atlas.auth.sessions import SessionKind
from atlas.errors import NotFound, Unauthorized
from atlas.policy.tiers import ANONYMOUS, Principal, Tier

log = logging.getLogger("atlas.api")

router = APIRouter(include_in_schema=False)
CSRF_MAX_AGE = 3600  # the sign-in form is good for an hour
OIDC_MAX_AGE = 600  # ten minutes to sign in at the provider


def _oidc(request: Request) -> OidcSignIn | None:
    return getattr(request.app.state, "oidc_signin", None)


def _audit(request: Request, action: AuditAction, who: Principal | str, detail: str) -> None:
    # Through the gate, the log's one writer; a refused caller is named by its address.
    principal = who if isinstance(who, Principal) else Principal(Tier.PUBLIC, name=f"client {who}")
    request.app.state.policy.gate(principal, request_id(request)).audit_session(action, detail)


def _page(
    request: Request, *, next_url: str, error: str | None = None, status: int = 200
) -> Response:
    """The sign-in form with a fresh double-submit token (its cookie set on the answer)."""
    negotiated(request)  # the language, as on every page
    token = new_csrf()
    oidc = _oidc(request)
    document: dict[str, Any] = {
        "csrf": token,
        "next": next_url,
        "error": error,
        "provider": oidc.provider if oidc else None,
    }
    response = render(request, "signin.html", document, status=status)
    set_cookie(
        request,
        response,
        CSRF_COOKIE,
        token,
        max_age=CSRF_MAX_AGE,
        path=SIGNIN_PATH,
        samesite="strict",
    )
    response.headers["Cache-Control"] = "no-store"  # a token of this browser only
    return response


def _checked_form(request: Request) -> dict[str, str]:
    """The form after the Origin check and the double-submit check (403 otherwise)."""
    check_origin(request)
    form = form_body(request)
    check_token(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD))
    return form


def _signed_in(
    request: Request, principal: Principal, kind: SessionKind, next_url: str
) -> Response:
    """A new session (any former one of this browser ended: no fixation) and the redirect."""
    sessions = request.app.state.sessions
    former = request.cookies.get(SESSION_COOKIE)
    if former:
        sessions.delete(former)
    session_id, _ = sessions.create(principal, kind=kind)
    _audit(request, "signin", principal, f"method={kind}")
    response = RedirectResponse(base_url(request) + next_url, status_code=303)
    max_age = int(sessions.lifetime.total_seconds())
    set_cookie(request, response, SESSION_COOKIE, session_id, max_age=max_age)
    clear_cookie(request, response, CSRF_COOKIE, path=SIGNIN_PATH)
    request.scope.setdefault("state", {})[CLEAR_KEY] = False  # the new cookie must stay
    return response


@router.get(SIGNIN_PATH)
def signin_page(request: Request, next: str | None = None) -> Response:  # noqa: A002
    """The sign-in form (the header shows a live session, as on every page)."""
    session_principal(request)
    return _page(request, next_url=safe_next(next))


@router.post(SIGNIN_PATH)
def signin_with_key(request: Request) -> Response:
    """A pasted API key: a session of its tier, or the form again with the reason (401)."""
    request.app.state.limiter.check(ANONYMOUS, client=client_address(request))  # no guessing
    form = _checked_form(request)
    next_url = safe_next(form.get("next"))
    try:
        principal = request.app.state.keys.authenticate(form.get("key", "").strip())
    except Unauthorized as exc:
        _audit(request, "signin_refused", client_address(request), f"method=key {exc.description}")
        return _page(request, next_url=next_url, error=exc.description, status=401)
    return _signed_in(request, principal, "key", next_url)


@router.post(f"{SIGNIN_PATH}/oidc")
def signin_with_oidc(request: Request) -> Response:
    """Off to the provider, with state, nonce and the PKCE challenge."""
    oidc = _oidc(request)
    if oidc is None:
        raise NotFound("no identity provider is configured")
    form = _checked_form(request)
    url, pending = oidc.start(
        redirect_uri=base_url(request) + CALLBACK_PATH, next_url=safe_next(form.get("next"))
    )
    response = RedirectResponse(url, status_code=303)
    set_cookie(
        request, response, OIDC_COOKIE, pending.encode(), max_age=OIDC_MAX_AGE, path=CALLBACK_PATH
    )
    return response


@router.get(CALLBACK_PATH)
def signin_callback(
    request: Request, code: str = "", state: str = "", error: str | None = None
) -> Response:
    """Back from the provider: the code exchanged, the ID token verified, a session."""
    oidc = _oidc(request)
    if oidc is None:
        raise NotFound("no identity provider is configured")
    pending = Pending.decode(request.cookies.get(OIDC_COOKIE, ""))
    try:
        if pending is None:
            raise Unauthorized("no sign-in is under way in this browser: start again")
        if error:
            raise Unauthorized(f"the identity provider refused: {error[:80]}")
        principal = oidc.finish(
            pending, state=state, code=code, redirect_uri=base_url(request) + CALLBACK_PATH
        )
    except Unauthorized as exc:
        _audit(request, "signin_refused", client_address(request), f"method=oidc {exc.description}")
        response = _page(request, next_url="/", error=exc.description, status=401)
    else:
        # The cookie came back from the browser: its next= is checked again, never trusted.
        response = _signed_in(request, principal, "oidc", safe_next(pending.next))
    clear_cookie(request, response, OIDC_COOKIE, path=CALLBACK_PATH)  # one use only
    return response


@router.post("/signout")
def signout(request: Request) -> Response:
    """End this browser's session (its own CSRF token required) and go home."""
    check_origin(request)
    form = form_body(request)
    value = request.cookies.get(SESSION_COOKIE, "")
    sessions = request.app.state.sessions
    session = sessions.resolve(value, request.app.state.keys) if value else None
    if session is not None:
        check_token(session.csrf, form.get(CSRF_FIELD))
        sessions.delete(value)
        _audit(request, "signout", session.principal, f"method={session.kind}")
    response = RedirectResponse(base_url(request) + "/", status_code=303)
    clear_cookie(request, response, SESSION_COOKIE)
    return response
