"""One error shape everywhere: ``{"code", "description"}``, plus ``requestId`` on 5xx.

Every failure answers through :func:`error_response`: Atlas's own errors (``atlas.errors``),
invalid parameters, Starlette's 404 for an unknown path and 405 for a wrong method, and any
exception nothing else handled (a 500 that says little; the log says everything). A caller that
asked for HTML (``f=html``, or a browser's ``Accept``) gets the HTML error page with the same
text, as the OGC pages do, so every error answer varies on ``Accept`` and ``Accept-Language``.

Unexpected exceptions are caught by :class:`UnexpectedErrors`, a middleware placed *inside* the
request-id, cache-header and security-header middlewares: an exception handler registered for
``Exception`` would run in Starlette's outermost ``ServerErrorMiddleware``, and its 500 would
leave without ``Vary``, ``Cache-Control`` or ``X-Request-Id``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atlas.api.audit import request_id
from atlas.api.html import render
from atlas.api.negotiation import VARY, MediaType, negotiated
from atlas.errors import AtlasError

log = logging.getLogger("atlas.api")

# OGC API codes for the statuses Starlette raises itself; others are named after the status.
_HTTP_CODES = {400: "InvalidParameterValue", 404: "NotFound", 405: "MethodNotAllowed"}
UNKNOWN_PATH = "no resource at this path"  # also what a staff-only route tells anyone else


def error_response(
    request: Request,
    status: int,
    code: str,
    description: str,
    *,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error answer: JSON ``{code, description[, requestId]}`` or the HTML error page."""
    body = {"code": code, "description": description}
    if status >= 500:
        body["requestId"] = request_id(request)  # the X-Request-Id the log lines carry
    response: Response | None = None
    if negotiated(request).format is MediaType.HTML:
        response = _page(request, body, status)
    if response is None:
        response = JSONResponse(body, status_code=status)
    response.headers.update(headers or {})
    response.headers["Vary"] = VARY
    return response


def _page(request: Request, body: dict[str, str], status: int) -> Response | None:
    try:
        return render(request, "error.html", body, status=status)
    except Exception:  # an error while answering an error: the JSON body still goes out
        log.exception("error page of request %s failed", request_id(request))
        return None


async def atlas_error(request: Request, exc: AtlasError) -> Response:
    """An Atlas error: its status, code and safe text; 5xx say little (``exc.public``)."""
    if exc.status >= 500:
        log.error("request %s failed: %s", request_id(request), exc, exc_info=exc)
        description = exc.public or "the service is unavailable, retry later"
        headers = {**exc.headers, "Retry-After": "5"}
        return error_response(request, exc.status, exc.code, description, headers=headers)
    # WWW-Authenticate on 401, Retry-After on 429.
    return error_response(request, exc.status, exc.code, exc.description, headers=exc.headers)


async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
    """A parameter or body FastAPI could not parse: 400 naming the first one."""
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
    description = f"{where}: {first.get('msg', 'invalid')}".strip(": ")
    return error_response(request, 400, "InvalidParameterValue", description)


async def http_error(request: Request, exc: HTTPException) -> Response:
    """Starlette's and FastAPI's own errors (unknown path, wrong method…) in the Atlas shape."""
    status = exc.status_code
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    code = _HTTP_CODES.get(status) or phrase.title().replace(" ", "").replace("-", "")
    if status == 405:
        allowed = (exc.headers or {}).get("Allow")
        description = f"method {request.method} not allowed here" + (
            f"; allowed: {allowed}" if allowed else ""
        )
    elif exc.detail and exc.detail != phrase:
        description = str(exc.detail)[:200]
    else:
        description = UNKNOWN_PATH if status == 404 else phrase.lower()
    return error_response(request, status, code, description, headers=exc.headers)


def unexpected_error(request: Request, exc: Exception) -> Response:
    """A failure nothing else handled: a generic 500 with the request id; the log has the rest."""
    log.error("request %s failed", request_id(request), exc_info=exc)
    return error_response(request, 500, "ServerError", "internal error")


class UnexpectedErrors:
    """ASGI middleware: an exception no handler took becomes :func:`unexpected_error`'s 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; answer a generic 500 if it raises before its answer started."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # half an answer is out: nothing valid can follow, let the server cut it
                raise
            await unexpected_error(Request(scope), exc)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers; the app adds :class:`UnexpectedErrors` with its middlewares."""
    app.add_exception_handler(AtlasError, atlas_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, http_error)  # type: ignore[arg-type]
