"""Request bodies: every POST, PUT, PATCH and DELETE body is JSON, bounded in size and depth.

One ASGI middleware, :class:`JsonBodies`, reads the body before any route runs and answers in the
project's error shape when it is:

- larger than ``ATLAS_BODY_MAX_BYTES`` (413; a ``Content-Length`` over it is refused unread, and
  a streamed body is cut as soon as it passes the cap, so memory stays bounded);
- not declared JSON (``application/json`` or ``application/*+json``; 415);
- not UTF-8 (RFC 8259 section 8.1), nested deeper than ``ATLAS_BODY_MAX_DEPTH`` arrays and
  objects, or not valid JSON, ``NaN``, ``Infinity`` and numbers past a double (``1e999``)
  included (400).

The depth is measured before parsing, with numpy over the bytes (strings blanked out): Python's
``json`` recurses once per level, and 100,000 ``[`` raise ``RecursionError`` — a 500 — in any
route that parses them. Routes then parse a body known to be small and shallow; the parsed value
is left in the request state for :func:`json_body`. An empty body passes: a route decides
whether it needs one. The browser's sign-in forms (:data:`FORM_PATHS`) are the one exception:
there the body is ``application/x-www-form-urlencoded`` under the same size cap, parsed by
:func:`parse_form` (at most 32 fields, each once but the lists of :data:`FORM_LISTS`) for
:func:`form_body`.
"""

from __future__ import annotations

import json
import math
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

import anyio
import numpy as np
from fastapi import Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atlas.api.error_responses import atlas_error
from atlas.errors import AtlasError, InvalidInput, PayloadTooLarge, UnsupportedMediaType

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STATE_KEY = "json_body"
FORM_KEY = "form_body"
# The HTML forms (atlas.api.routers.signin, selection_pages): urlencoded, never JSON; every other
# path takes JSON.
FORM_PATHS = frozenset({"/signin", "/signin/oidc", "/signout", "/selection/extract", "/exports"})
# Fields a form may repeat (the extracts page's layer boxes), joined with commas (collection ids
# have none); 32 fields: the staff's layers (up to 16) and the form's own, still bounded.
FORM_LISTS = frozenset({"collections"})
_FORM_FIELDS = 32
_OPEN = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSE = np.frombuffer(b"]}", dtype=np.uint8)


class _ClientGone(Exception):
    """The client disconnected before its body arrived: nobody to answer."""


class JsonBodies:
    """ASGI middleware: bodies of POST/PUT/PATCH/DELETE requests bounded, checked, parsed once."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_depth: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read and check the body, then hand it to the app as one message."""
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            body = await self._read(receive, headers)
            if body.strip() and scope["path"] in FORM_PATHS:
                # The browser's sign-in forms post urlencoded text: parsed here, as bounded.
                scope.setdefault("state", {})[FORM_KEY] = parse_form(
                    body, headers.get("content-type")
                )
            elif body.strip():
                check_media_type(headers.get("content-type"))
                # Tens of milliseconds for a megabyte: off the event loop, as the handlers are.
                value = await anyio.to_thread.run_sync(
                    partial(parse_json, body, max_depth=self.max_depth)
                )
                scope.setdefault("state", {})[STATE_KEY] = value
        except _ClientGone:
            return
        except AtlasError as exc:
            response = await atlas_error(Request(scope), exc)
            await response(scope, _replay(b"", receive), send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive, headers: Headers) -> bytes:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise self._too_large()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"the body is larger than {self.max_bytes} bytes")


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives ``body`` first, then what the server sends (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def check_media_type(content_type: str | None) -> None:
    """Refuse a body not declared as JSON in UTF-8 (415, naming what was sent)."""
    if not content_type:
        raise UnsupportedMediaType("the body must be JSON: send Content-Type: application/json")
    media, *params = (part.strip().lower() for part in content_type.split(";"))
    subtype = media.removeprefix("application/")
    if subtype == media or not (subtype == "json" or subtype.endswith("+json")):
        raise UnsupportedMediaType(
            f"the body must be JSON (Content-Type: application/json), not '{media[:60]}'"
        )
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
            raise UnsupportedMediaType("a JSON body is UTF-8 (RFC 8259): charset must be utf-8")


def parse_form(body: bytes, content_type: str | None) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body: each field once (415/400 otherwise)."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType(
            "a form posts application/x-www-form-urlencoded, not " + f"'{media[:60] or 'nothing'}'"
        )
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), strict_parsing=True, max_num_fields=_FORM_FIELDS, errors="strict"
        )
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("the form is not valid urlencoded UTF-8 text") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields and name in FORM_LISTS:
            fields[name] += f",{value}"
        elif name in fields:
            raise InvalidInput(f"the form sends '{name[:40]}' twice")
        else:
            fields[name] = value
    return fields


def form_body(request: Request) -> dict[str, str]:
    """The request's form fields as :class:`JsonBodies` parsed them; ``{}`` when none."""
    return request.scope.get("state", {}).get(FORM_KEY, {})


def nesting_depth(body: bytes) -> int:
    """How deep arrays and objects nest in ``body`` (strings ignored), without parsing it."""
    raw = np.frombuffer(body, dtype=np.uint8)
    if raw.size == 0:
        return 0
    # Vectorised, so that no input costs more than a few passes over its bytes (a regex over
    # strings is quadratic on '"\\"\\"…' without an end). A quote is escaped when an odd run
    # of backslashes precedes it; a bracket counts when an even number of quotes precede it.
    index = np.arange(raw.size)
    backslash = raw == ord("\\")
    last_other = np.maximum.accumulate(np.where(backslash, -1, index))
    run_before = np.concatenate(([0], (index - last_other)[:-1]))
    quote = (raw == ord('"')) & (run_before % 2 == 0)
    inside = (np.cumsum(quote) - quote) % 2 == 1
    step = np.isin(raw, _OPEN).astype(np.int8) - np.isin(raw, _CLOSE).astype(np.int8)
    return int(np.cumsum(np.where(inside, 0, step), dtype=np.int64).max(initial=0))


def _no_constant(name: str) -> Any:
    raise InvalidInput(f"the body is not valid JSON: {name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: valid JSON, but no finite number a route can use
        raise InvalidInput(f"the body holds a number out of range: {text[:40]}")
    return value


def parse_json(body: bytes, *, max_depth: int) -> Any:
    """``body`` parsed, or a 400 saying why not (encoding, depth, syntax)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the body is not UTF-8 text (byte {exc.start})") from None
    depth = nesting_depth(body)
    if depth > max_depth:
        raise InvalidInput(f"the body nests arrays and objects deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise InvalidInput(f"the body is not valid JSON: {str(exc)[:100]}") from None


async def json_body(request: Request) -> Any:
    """The request's JSON body as :class:`JsonBodies` parsed it; ``{}`` when there was none."""
    return request.scope.get("state", {}).get(STATE_KEY, {})


# For the OpenAPI document of every operation taking a body (400 is documented everywhere).
BODY_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"description": "the body is larger than ATLAS_BODY_MAX_BYTES"},
    415: {"description": "the body is not declared JSON (Content-Type: application/json)"},
}
