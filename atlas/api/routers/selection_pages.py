"""The portal's site-selection and extract pages (for people: not in the OpenAPI document).

- ``GET /selection``: the criteria form (partners and staff) and, for the criteria of the query
  string — the same names as ``GET /site-selection``, so the page URL is the search's permalink —
  the ranked plots on a map, as a table (each plot linking to its sheet ``/plots/{terr_id}``), a
  GeoJSON download (``/site-selection``) and an extract form. The public gets the sign-in
  invitation and no result.
- ``GET /maps/{tier}/selection``: the b2b or internal map with the result layer (composed in
  ``atlas.portal.selection_map``), to callers holding that tier (others: the unknown-path 404).
- ``POST /selection/extract``: an extract job of the plots meeting every criterion.
- ``GET /exports`` and ``POST /exports`` (staff; anyone else gets the unknown-path 404): layers,
  CRS and format, then ``GET /exports/{jobId}``: the job's status until its download link.

The search form is a GET (a read: nothing changes, and its URL is the permalink); the forms that
start a job are POSTs checked like the sign-in forms: our Origin, and the session's CSRF token.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from atlas.api.audit import request_id
from atlas.api.auth import CurrentPrincipal
from atlas.api.bodies import form_body
from atlas.api.deps import base_url, get_policy, get_settings
from atlas.api.html import render
from atlas.api.negotiation import negotiated
from atlas.api.portal_words import words
from atlas.api.sessions import CSRF_FIELD, check_origin, check_token, current_session
from atlas.errors import InvalidInput
from atlas.maps.context import MapContext
from atlas.maps.labels import Lang
from atlas.maps.page import render as render_map
from atlas.policy.gate import Gate
from atlas.policy.tiers import Principal, Tier, holds
from atlas.portal import extract_form
from atlas.portal import selection as form
from atlas.portal.selection_map import selection_map
from atlas.selection import criteria_params

router = APIRouter(include_in_schema=False)
EXPORTS = "/exports"


def _lang(request: Request) -> Lang:
    return Lang(negotiated(request).lang.value)


def _gate(request: Request, principal: Principal) -> Gate:
    return get_policy(request).gate(principal, request_id(request))


def _checked_form(request: Request) -> dict[str, str]:
    """The posted form, after the Origin check and the session's CSRF token (403 otherwise).

    These forms belong to a signed-in browser: without a session there is no token to match
    (API clients start jobs with ``POST /extracts``)."""
    check_origin(request)
    fields = form_body(request)
    session = current_session(request)
    check_token(session.csrf if session else None, fields.get(CSRF_FIELD))
    return fields


def _staff_only(principal: Principal) -> None:
    if not holds(principal.tier, Tier.INTERNAL):
        raise HTTPException(status_code=404)  # the router's answer to an unknown path


def _page(request: Request, template: str, document: dict[str, Any], status: int = 200) -> Response:
    """A page in the negotiated language: caches keep one copy per Accept-Language."""
    response = render(request, template, document, status=status)
    response.headers["Vary"] = "Accept-Language"  # the credential headers join it (cache_headers)
    return response


def _invitation(request: Request) -> Response:
    """The public's page: what the tool is and the sign-in link, no form and no result."""
    return _page(request, "selection.html", {"words": words(_lang(request)), "public": True})


@router.get("/selection")
def selection_page(request: Request, principal: CurrentPrincipal) -> Response:
    """The form, and the result of the query's criteria (partners and staff)."""
    if principal.tier is Tier.PUBLIC:
        return _invitation(request)
    lang, gate = _lang(request), _gate(request, principal)
    base = base_url(request)
    document: dict[str, Any] = {"words": words(lang), "public": False, "error": None}
    status = 200
    raw: dict[str, Any] = {}
    try:
        raw = form.raw_criteria(request.query_params.multi_items())
        selection = form.run_selection(gate, raw)
    except InvalidInput as exc:
        document["error"], status, selection = exc.description, 400, None
    document["fields"] = form.form_fields(gate, raw, lang)  # refused or not, as the reader typed
    if selection is not None:
        query = urlencode(criteria_params(selection.criteria))
        document.update(
            selection=selection,
            query=query,
            columns=form.table_columns(selection, lang),
            rows=form.table_rows(selection, lang),
            geojson=form.result_geojson(selection.plots, base + "/plots/{terr_id}"),
            api_url=f"{base}/site-selection" + (f"?{query}" if query else ""),
            map_url=f"{base}/maps/{principal.tier.value}/selection?"
            + urlencode([*parse_qsl(query), ("lang", lang)]),
            formats=extract_form.format_options(),
            crss=extract_form.crs_options(),
        )
    return _page(request, "selection.html", document, status=status)


@router.get("/maps/{tier}/selection")
def selection_map_page(tier: str, request: Request, principal: CurrentPrincipal) -> Response:
    """The b2b or internal map with the result of the query's criteria as a layer; like
    ``/maps/{tier}``, any other tier or caller gets the unknown-path 404."""
    wanted = Tier(tier) if tier in (Tier.B2B, Tier.INTERNAL) else None
    if wanted is None or not holds(principal.tier, wanted):
        raise HTTPException(status_code=404)
    lang = _lang(request)
    # The requested tier's gate, with the caller's name for the audit (as /maps/{tier}).
    gate = _gate(request, dataclasses.replace(principal, tier=wanted))
    selection = form.run_selection(gate, form.raw_criteria(request.query_params.multi_items()))
    settings = get_settings(request)
    ctx = MapContext(
        gate,
        lang=lang,
        basemap_url=settings.maps.basemap_url,
        basemap_attribution=settings.maps.basemap_attribution,
    )
    page = render_map(selection_map(ctx, selection), lang, settings.maps.basemap_url)
    headers = {
        "Content-Security-Policy": page.csp,
        "Content-Language": lang.value,
        "Vary": "Accept-Language",
    }
    return HTMLResponse(page.html, headers=headers)


@router.post("/selection/extract")
def selection_extract(request: Request, principal: CurrentPrincipal) -> Response:
    """Start the extract of the search's passing plots; to its status page."""
    if principal.tier is Tier.PUBLIC:
        raise HTTPException(status_code=404)
    fields = _checked_form(request)
    gate = _gate(request, principal)
    raw = form.raw_criteria(parse_qsl(fields.get("query", ""), keep_blank_values=True))
    extract = extract_form.selection_request(form.run_selection(gate, raw), fields)
    return _started(request, gate, extract)


@router.get(EXPORTS)
def exports_page(request: Request, principal: CurrentPrincipal) -> Response:
    """The staff's extract form: layers they may extract, format, CRS, an optional commune."""
    _staff_only(principal)
    gate = _gate(request, principal)
    document = {
        "words": words(_lang(request)),
        "layers": extract_form.layer_options(gate),
        "formats": extract_form.format_options(),
        "crss": extract_form.crs_options(),
    }
    return _page(request, "exports.html", document)


@router.post(EXPORTS)
def exports_start(request: Request, principal: CurrentPrincipal) -> Response:
    """Start the extract of the form; to its status page."""
    _staff_only(principal)
    fields = _checked_form(request)
    # The ticked layers come as one comma-separated field (atlas.api.bodies.FORM_LISTS).
    collections = [c for c in fields.get("collections", "").split(",") if c]
    extract = extract_form.extract_request(fields, collections)
    return _started(request, _gate(request, principal), extract)


def _started(request: Request, gate: Gate, extract: Any) -> Response:
    state = extract_form.start_extract(
        gate, extract, request.app.state.extracts, get_settings(request)
    )
    lang = negotiated(request).lang.value
    href = f"{base_url(request)}{EXPORTS}/{state.job_id}?lang={lang}"
    return RedirectResponse(href, status_code=303)


@router.get(EXPORTS + "/{jobId}")
def export_job_page(jobId: str, request: Request, principal: CurrentPrincipal) -> Response:  # noqa: N803
    """The caller's job: status and progress (the page reloads itself) until its download."""
    state = request.app.state.extracts.get(jobId, principal)  # another's job: 404 like none
    lang = _lang(request)
    document = {
        "words": words(lang),
        "job": dataclasses.asdict(state),
        "status": extract_form.status_word(state.status, lang),
        "running": state.status in ("accepted", "running"),
        "download": f"{base_url(request)}/extracts/{state.job_id}/download",
    }
    response = _page(request, "export_job.html", document)
    response.headers["Cache-Control"] = "no-store"
    return response
