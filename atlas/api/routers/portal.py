"""The investor portal's pages: home, directory of activity sites, search, site and plot sheets.

Pages for people, not API operations (left out of the OpenAPI document, like sign-in). Each page
is built by ``atlas.portal`` from the caller's gate — a session's tier exactly as a key's — and
rendered here; an id the caller has no such site or plot for answers exactly as an unknown path.
The home is ``/`` for browsers (``atlas.api.routers.landing`` hands it over), JSON clients keep
the OGC landing document, and ``/?f=html`` stays the API's own HTML landing page.

Register this router after any other route under ``/sites/…`` or ``/plots/…`` (the PDFs):
``/sites/{site_id}`` would otherwise take ``X.pdf`` for an id.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from atlas.api.deps import CurrentGate, base_url, get_settings
from atlas.api.html import render
from atlas.api.negotiation import VARY, negotiated, with_params
from atlas.errors import NotFound
from atlas.policy.gate import Gate
from atlas.portal import words
from atlas.portal.linked_data import plot_listing, site_place, summary
from atlas.portal.sheet import Sheet
from atlas.portal.sheets import contact_of, plot_sheet, site_sheet
from atlas.portal.territory import SiteRow, SortKey, directory, search, sort_rows, totals

router = APIRouter(include_in_schema=False)
MAX_QUERY = 100  # characters of a search: longer is not a name anyone types


def _page(request: Request, template: str, document: dict[str, Any], status: int = 200) -> Response:
    """A portal page in the negotiated language, with the portal's words at hand (``w``)."""
    lang = negotiated(request).lang.value
    document = {
        **document,
        "w": lambda key, **v: words.text(key, lang, **v),
        "fmt": lambda x, digits=1: words.number(float(x), lang, digits),
        "date": lambda day: words.date(day, lang),
    }
    response = render(request, f"portal/{template}", document, status=status)
    response.headers["Vary"] = VARY
    response.headers["Content-Language"] = lang
    return response


def home(request: Request, gate: Gate) -> Response:
    """The portal's home: the territory's figures, a search box and a map of the sites."""
    lang = negotiated(request).lang.value
    rows = directory(gate, lang)
    shapes = _sites_geojson(request, rows)
    return _page(
        request,
        "home.html",
        # The map of the caller's own tier: /maps/{tier} serves a tier to those holding it.
        {"rows": rows, "totals": totals(gate, rows), "shapes": shapes, "tier": gate.tier.value},
    )


def _sites_geojson(request: Request, rows: list[SiteRow]) -> dict[str, Any]:
    """The sites' outlines for the home map, each linking to its sheet."""
    page_lang = negotiated(request)
    lang = page_lang.lang.value if page_lang.lang_asked or page_lang.lang.value != "fr" else None
    base = base_url(request)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": json.loads(json.dumps(r.outline.__geo_interface__)),
                "properties": {
                    "role": "site",
                    "label": r.name,
                    "href": with_params(f"{base}/sites/{quote(r.site_id, safe='')}", lang=lang),
                },
            }
            for r in rows
            if r.outline is not None and not r.outline.is_empty
        ],
    }


@router.get("/sites")
def sites_page(
    request: Request,
    gate: CurrentGate,
    sort: Annotated[SortKey, Query(description="column to sort by")] = "name",
    order: Annotated[Literal["asc", "desc"], Query(description="ascending or descending")] = "asc",
) -> Response:
    """The directory of activity sites: a sortable table and two bar charts."""
    lang = negotiated(request).lang.value
    rows = sort_rows(directory(gate, lang), sort, order == "desc")
    return _page(
        request,
        "directory.html",
        {"rows": rows, "totals": totals(gate, rows), "sort": sort, "order": order},
    )


@router.get("/search")
def search_page(
    request: Request,
    gate: CurrentGate,
    q: Annotated[str, Query(max_length=MAX_QUERY, description="a name, commune or id")] = "",
) -> Response:
    """Search results, or straight to the sheet of an exact site or plot id."""
    lang = negotiated(request)
    found = search(gate, q, lang.lang.value)
    if found.redirect is not None:
        keep = lang.lang.value if lang.lang_asked else None
        return RedirectResponse(with_params(base_url(request) + found.redirect, lang=keep), 303)
    return _page(request, "search.html", {"q": q, "found": found})


def _sheet_page(request: Request, sheet: Sheet, linked: dict[str, Any]) -> Response:
    base = base_url(request)
    collection = "activity-sites" if sheet.kind == "site" else "activity-plots"
    ident = quote(sheet.id, safe="")  # an id is one path segment, whatever it holds
    document = {
        "sheet": sheet,
        "url": base + sheet.path,
        "pdf": f"{base}/{sheet.kind}s/{ident}.pdf",
        "image": f"{base}/share/{sheet.kind}s/{ident}.png",
        "data": f"{base}/collections/{collection}/items/{ident}",
        "description": summary(sheet),
        "linked": linked,
        "shapes": _shapes_geojson(sheet),
    }
    return _page(request, "sheet.html", document)


def _shapes_geojson(sheet: Sheet) -> dict[str, Any]:
    """The sheet's map: its shapes by role, subject last (drawn on top)."""
    ordered = sorted(sheet.shapes, key=lambda s: s.role.value == "subject")
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": json.loads(json.dumps(s.geometry.__geo_interface__)),
                "properties": {"role": s.role.value, "label": s.label},
            }
            for s in ordered
            if not s.geometry.is_empty
        ],
    }


@router.get("/sites/{site_id}")
def site_page(request: Request, gate: CurrentGate, site_id: str) -> Response:
    """A site's sheet; an unknown or hidden site is the unknown-path 404."""
    lang = negotiated(request).lang.value
    contact = contact_of(get_settings(request).contact)
    try:
        sheet = site_sheet(gate, site_id, lang, contact=contact)
    except NotFound:
        raise HTTPException(status_code=404) from None
    return _sheet_page(request, sheet, site_place(sheet, base_url(request) + sheet.path))


@router.get("/plots/{terr_id}")
def plot_page(request: Request, gate: CurrentGate, terr_id: str) -> Response:
    """A plot's sheet; a plot the caller may not see (off the market, for the public) is the
    unknown-path 404, like a plot that does not exist."""
    lang = negotiated(request).lang.value
    contact = contact_of(get_settings(request).contact)
    try:
        sheet = plot_sheet(gate, terr_id, lang, contact=contact)
    except NotFound:
        raise HTTPException(status_code=404) from None
    url = base_url(request) + sheet.path
    return _sheet_page(request, sheet, plot_listing(gate, sheet, url))
