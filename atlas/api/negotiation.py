"""Content negotiation, in one place: ``f=json|html`` or the Accept header, and the language.

OGC API – Features Part 1, 7.8 (HTML) and 7.7 (GeoJSON): a resource is served in every encoding
the server supports, chosen by the client. Here ``f`` wins when given; otherwise the Accept
header decides, and a browser (which puts ``text/html`` before ``*/*``) gets HTML while clients
that ask for JSON, for ``*/*`` or for nothing get JSON. Pages are in French unless ``lang=en`` or
an Accept-Language preferring English says otherwise.

:class:`NegotiatedRoute` is the route class of the routers serving OGC resources: the handler
always builds its JSON document through the caller's gate, and the HTML page is rendered from
that very document (``atlas.api.html``). Nothing reaches a page that the JSON would not carry,
so the tier policy holds for both encodings by construction.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

HTML = "text/html"
VARY = "Accept, Accept-Language"  # what the choice reads, on pages and on every error answer


class MediaType(enum.StrEnum):
    """The encodings of the OGC resources, as ``f`` names them."""

    JSON = "json"
    HTML = "html"


class Lang(enum.StrEnum):
    """The languages of the HTML pages (JSON documents carry data, not prose)."""

    FR = "fr"
    EN = "en"


DEFAULT_LANG = Lang.FR
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
# What a machine client means by JSON; a bare */* or application/* is JSON too.
_JSON_TYPES = {"*/*", "application/*", "application/json", "application/geo+json"}
# Operation id -> template: the resources that have an HTML page.
TEMPLATES = {
    "getLandingPage": "landing.html",
    "getConformanceDeclaration": "conformance.html",
    "getCollections": "collections.html",
    "describeCollection": "collection.html",
    "getFeatures": "items.html",
    "getFeature": "item.html",
    "getQueryables": "queryables.html",
}


@dataclass(frozen=True, slots=True)
class Negotiated:
    """The encoding and language chosen for one response."""

    format: MediaType
    lang: Lang
    lang_asked: bool = False  # lang came from the query: links keep it


def _ranked(header: str | None) -> list[tuple[str, float]]:
    """The entries of an Accept or Accept-Language header, most wanted first (RFC 9110 12.4.2)."""
    entries = []
    for index, raw in enumerate((header or "").split(",")):
        value, *params = (p.strip() for p in raw.split(";"))
        if not value:
            continue
        weight = 1.0
        for param in params:
            name, _, number = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(number)
                except ValueError:
                    weight = 0.0
        if weight > 0:
            entries.append((-weight, index, value.lower()))
    return [(value, -weight) for weight, _, value in sorted(entries)]


def accept_format(header: str | None) -> MediaType:
    """HTML when the client prefers an HTML type to every JSON one; JSON otherwise."""
    for media_type, _ in _ranked(header):
        if media_type in _HTML_TYPES:
            return MediaType.HTML
        if media_type in _JSON_TYPES or media_type.endswith("+json"):
            return MediaType.JSON
    return MediaType.JSON


def accept_media(header: str | None, offered: tuple[str, ...]) -> str | None:
    """The offered media type the Accept header ranks highest (``*/*`` or ``type/*`` take the
    first offered of that type); None when it names none of them (map tiles: images)."""
    for media_type, _ in _ranked(header):
        if media_type in offered:
            return media_type
        kind = media_type.split("/")[0]
        for candidate in offered:
            if media_type == "*/*" or (
                media_type.endswith("/*") and candidate.startswith(kind + "/")
            ):
                return candidate
    return None


def accept_language(header: str | None) -> Lang:
    """The first language of Accept-Language that the pages exist in; French by default."""
    for tag, _ in _ranked(header):
        primary = tag.split("-")[0]
        if primary in Lang.__members__.values():
            return Lang(primary)
    return DEFAULT_LANG


async def negotiate(
    request: Request,
    f: Annotated[
        MediaType | None,
        Query(description="encoding: json (GeoJSON/JSON) or html; default from Accept"),
    ] = None,
    lang: Annotated[
        Lang | None,
        Query(description="language of the HTML pages; default from Accept-Language, else fr"),
    ] = None,
) -> Negotiated:
    """The encoding and language of this response (also left on ``request.state``)."""
    chosen = Negotiated(
        format=f or accept_format(request.headers.get("accept")),
        lang=lang or accept_language(request.headers.get("accept-language")),
        lang_asked=lang is not None,
    )
    request.state.negotiated = chosen
    return chosen


def negotiated(request: Request) -> Negotiated:
    """What :func:`negotiate` chose, or where it did not run (an unknown path, an error before it,
    a route without pages) the same choice made leniently: an ``f`` or ``lang`` that is not one of
    ours is ignored, so that an error page can still be chosen."""
    chosen = getattr(request.state, "negotiated", None)
    if chosen is None:
        f = request.query_params.get("f", "")
        lang = request.query_params.get("lang", "")
        known_f = f in MediaType.__members__.values()
        known_lang = lang in Lang.__members__.values()
        headers = request.headers
        chosen = Negotiated(
            format=MediaType(f) if known_f else accept_format(headers.get("accept")),
            lang=Lang(lang) if known_lang else accept_language(headers.get("accept-language")),
            lang_asked=known_lang,
        )
        request.state.negotiated = chosen
    return chosen


def with_params(href: str, **params: str | None) -> str:
    """``href`` with query parameters set (or removed when None)."""
    parts = urlsplit(href)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def alternate_link(href: str) -> dict[str, str]:
    """The ``alternate`` link of a JSON document to its HTML page (Part 1, 7.8, links)."""
    return {"href": with_params(href, f="html"), "rel": "alternate", "type": HTML, "title": "HTML"}


def _with_html(responses: dict[int | str, dict[str, Any]] | None) -> dict[int | str, Any]:
    """The route's documented responses, with text/html added to the 200."""
    out = {code: dict(spec) for code, spec in (responses or {}).items()}
    ok = out.setdefault(200, {})
    ok["content"] = {**ok.get("content", {}), HTML: {"schema": {"type": "string"}}}
    return out


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class NegotiatedRoute(APIRoute):
    """A route answering JSON, or HTML rendered from the same JSON document.

    Routes whose operation id has a template (``TEMPLATES``) get the ``f`` and ``lang``
    parameters and ``text/html`` in their OpenAPI; the others are left as they are.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        self.template = TEMPLATES.get(kwargs.get("operation_id") or "")
        if self.template is not None:
            kwargs["dependencies"] = [*(kwargs.get("dependencies") or []), Depends(negotiate)]
            kwargs["responses"] = _with_html(kwargs.get("responses"))
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Handler:
        """The handler, wrapped: the HTML page when HTML was asked.

        Errors are not caught here: the application's handlers (``atlas.api.error_responses``)
        answer them as an HTML page or JSON by the same choice, on every route alike.
        """
        handler = super().get_route_handler()
        template = self.template
        if template is None:
            return handler

        async def negotiated_handler(request: Request) -> Response:
            response = await handler(request)
            if request.state.negotiated.format is MediaType.HTML:
                response = _as_html(request, response, template)
            response.headers["Vary"] = VARY
            return response

        return negotiated_handler


def _as_html(request: Request, response: Response, template: str) -> Response:
    """The JSON ``response`` as an HTML page; other bodies (204, tiles) pass unchanged."""
    if "json" not in response.headers.get("content-type", ""):
        return response
    from atlas.api.html import render

    document = json.loads(bytes(response.body))
    content_crs = response.headers.get("content-crs")
    page = render(request, template, document, status=response.status_code, content_crs=content_crs)
    for name in ("Retry-After", "WWW-Authenticate", "Content-Crs"):
        if name in response.headers:
            page.headers[name] = response.headers[name]
    return page
