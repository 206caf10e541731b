"""The OpenAPI document per tier (``/api``) and its browser (``/api.html``, vendored Swagger UI).

FastAPI builds one document from the routes. What a caller receives is that document as its
tier may call it:

- an operation declared for some tiers only (``openapi_extra=callable_by(...)``, e.g. the staff's
  ``/inventory/export``) is left out for the others, and so is every component schema no
  remaining operation refers to: the document names nothing the caller may not call;
- every operation documents its error answers with the body modelled as ``Error``
  (``{code, description[, requestId]}``, JSON or the HTML error page): 400 and 404 everywhere,
  401 and 429 where a key is read, 5XX; FastAPI's 422 goes, since invalid input is a 400 here.

The tier comes from ``CurrentPrincipal``, the dependency of every route: a bad key is a 401.
Collections are path parameters (``{collectionId}``), never an enum, so the document lists no
collection by name; the tier's collections are at ``/collections``.
"""

from __future__ import annotations

import copy
import json
from html import escape
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse

from atlas.api.auth import CurrentPrincipal
from atlas.policy.tiers import Tier

TIERS_KEY = "x-atlas-tiers"
ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "description": "Every error answer: what went wrong, safe to show; 5xx say little.",
    "required": ["code", "description"],
    "properties": {
        "code": {
            "type": "string",
            "description": "OGC API exception code",
            "examples": ["InvalidParameterValue", "NotFound", "Unauthorized", "ServerError"],
        },
        "description": {"type": "string", "description": "what was wrong, for a person"},
        "requestId": {
            "type": "string",
            "description": "5xx only: the request's id (also X-Request-Id), to quote in a report",
        },
    },
    "additionalProperties": False,
}
_ERRORS = {
    "400": "invalid parameter or body: the description names it",
    "404": "not found: unknown path, collection, feature or job (what a caller may not see, alike)",
    "5XX": "the service failed or is unavailable (503: Retry-After); the body carries requestId",
}
_KEY_ERRORS = {
    "401": "the Authorization or X-API-Key header is not a valid key (WWW-Authenticate: Bearer)",
    "429": "the caller's rate limit is exhausted (Retry-After)",
}
_ERROR_CONTENT = {
    "application/json": {"schema": ERROR_REF},
    "text/html": {"schema": {"type": "string"}},
}
SWAGGER = "/static/vendor/swagger-ui"


def callable_by(*tiers: Tier) -> dict[str, Any]:
    """``openapi_extra`` of a route only ``tiers`` may call (the route itself must refuse others)."""
    return {TIERS_KEY: [tier.value for tier in tiers]}


def complete_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document with the error answers of every operation (computed once per app)."""
    cached = getattr(app.state, "openapi_complete", None)
    if cached is None:
        cached = copy.deepcopy(app.openapi())
        for operations in cached["paths"].values():
            for operation in operations.values():
                _document_errors(operation)
        cached.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        app.state.openapi_complete = cached  # the same bytes whichever request makes it first
    return cached


def _document_errors(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)  # FastAPI's; invalid input answers 400 (atlas.api.error_responses)
    errors = {**_ERRORS, **(_KEY_ERRORS if operation.get("security") else {})}
    for status, description in errors.items():
        response = responses.setdefault(status, {"description": description})
        response.setdefault("content", copy.deepcopy(_ERROR_CONTENT))


def tier_document(app: FastAPI, tier: Tier) -> dict[str, Any]:
    """The document as ``tier`` may call it: other tiers' operations and their schemas left out."""
    document = copy.deepcopy(complete_document(app))
    for path, operations in list(document["paths"].items()):
        for method, operation in list(operations.items()):
            allowed = operation.get(TIERS_KEY) if isinstance(operation, dict) else None
            if allowed is not None and tier.value not in allowed:
                del operations[method]
        if not any(isinstance(o, dict) and "responses" in o for o in operations.values()):
            del document["paths"][path]
    _prune_schemas(document)
    used_tags = {
        t for ops in document["paths"].values() for o in ops.values() for t in o.get("tags", [])
    }
    if "tags" in document:
        document["tags"] = [t for t in document["tags"] if t["name"] in used_tags]
    return document


def _prune_schemas(document: dict[str, Any]) -> None:
    """Drop the component schemas nothing outside ``components.schemas`` reaches."""
    schemas = document.get("components", {}).get("schemas", {})
    outside = {k: v for k, v in document.items() if k != "components"}
    outside["securitySchemes"] = document.get("components", {}).get("securitySchemes", {})
    reached: set[str] = set()
    pending = _refs(outside)
    while pending:
        name = pending.pop()
        if name not in reached and name in schemas:
            reached.add(name)
            pending |= _refs(schemas[name])
    for name in set(schemas) - reached:
        del schemas[name]


def _refs(node: Any) -> set[str]:
    """The names of the component schemas that ``node`` refers to."""
    prefix = '"#/components/schemas/'
    text = json.dumps(node)
    return {part.split('"', 1)[0] for part in text.split(prefix)[1:]}


def install_api_docs(app: FastAPI) -> None:
    """``/api``: the caller's document; ``/api.html``: Swagger UI over it, no inline script."""

    @app.get("/api", include_in_schema=False)
    def openapi_document(principal: CurrentPrincipal) -> JSONResponse:
        return JSONResponse(tier_document(app, principal.tier))

    @app.get("/api.html", include_in_schema=False)
    def api_browser() -> HTMLResponse:
        # swagger-init.js starts Swagger UI and sends the key given through "Authorize" when it
        # fetches /api, so the browser shows what that key's tier may call.
        return HTMLResponse(
            "<!doctype html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(app.title)} — API</title>\n"
            f'<link rel="stylesheet" href="{SWAGGER}/swagger-ui.css">\n'
            f'<link rel="icon" type="image/png" href="{SWAGGER}/favicon-32x32.png">\n'
            "</head>\n<body>\n"
            '<div id="swagger-ui" data-openapi-url="/api"></div>\n'
            f'<script src="{SWAGGER}/swagger-ui-bundle.js"></script>\n'
            '<script src="/static/atlas/swagger-init.js"></script>\n'
            "</body>\n</html>\n"
        )
