"""Hardening headers on every response: a Content-Security-Policy, nosniff, no referrer, no framing.

Every HTML answer — OGC pages, error pages, the OpenAPI browser at ``/api.html`` — gets
:data:`PAGE_CSP`: scripts and everything else from this origin only, no inline script (data for
the map travels in a ``<script type="application/json">`` block, which is never executed, and
Swagger UI starts from ``/static/atlas/swagger-init.js``), no plugin, no ``<base>``, no framing.
Inline *styles* stay allowed: Leaflet and Swagger UI set some, and a style cannot run code.
Every other answer (JSON, tiles, files) gets :data:`API_CSP`, which allows nothing at all: a
document opened directly in a browser cannot run or load anything (OWASP REST Security Cheat
Sheet, security headers). A route may set its own policy; none does today.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Scope

from atlas.api.response_start import Editor, ResponseStartMiddleware

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HEADERS = {
    "X-Content-Type-Options": "nosniff",  # a JSON or tile body is never sniffed into HTML
    "Referrer-Policy": "no-referrer",  # page URLs carry filters and ids: other sites get nothing
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
}


class SecurityHeaders(ResponseStartMiddleware):
    """ASGI middleware: adds the headers of the module docstring to every response start."""

    def editor(self, scope: Scope) -> Editor:
        """The same edit for every request."""
        return _add_security_headers


def _add_security_headers(headers: MutableHeaders, _message: Message) -> None:
    if "content-security-policy" not in headers:
        html = headers.get("content-type", "").startswith("text/html")
        headers["Content-Security-Policy"] = PAGE_CSP if html else API_CSP
    for name, value in HEADERS.items():
        headers.setdefault(name, value)
