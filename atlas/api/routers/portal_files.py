"""A sheet's files: its PDF through the caller's gate, its share image through a public one.

- ``/sites/{site_id}.pdf``, ``/plots/{terr_id}.pdf``: the sheet the page shows the caller, as an
  A4 PDF to download (``atlas.portal.pdf``) — a partner's PDF has the prices, the public's not.
- ``/share/sites/{site_id}.png``, ``/share/plots/{terr_id}.png``: the 1200 × 630 image that the
  sheets' OpenGraph and Twitter tags name (``atlas.portal.share_card``). A shared link's image is
  fetched by anyone's crawler and kept by social networks, so it is always built through a
  *public* gate, whoever asks: a plot the public does not see has no image, for anyone. Images
  are kept and tagged by the public's data versions (``atlas.portal.share_cache``).

Like the sheets' pages (``atlas.api.routers.portal``), these are files for people, not API
operations (out of the OpenAPI document), and an id the gate has no such site or plot for
answers exactly as an unknown path. Register this router before the pages' router: its
``/sites/{site_id}`` would take ``X.pdf`` for an id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from atlas.api.audit import request_id
from atlas.api.auth import CurrentPrincipal
from atlas.api.deps import CurrentGate, base_url, get_policy, get_settings
from atlas.api.negotiation import negotiated, with_params
from atlas.errors import InvalidInput, NotFound, UnknownCollection
from atlas.policy.gate import Gate
from atlas.policy.rasters import RasterReader
from atlas.policy.tiers import Tier
from atlas.portal.pdf import filename, render_pdf
from atlas.portal.share_cache import CardCache, card_key, etag
from atlas.portal.share_card import render_card
from atlas.portal.sheet import Sheet
from atlas.portal.sheets import contact_of, plot_sheet, site_sheet

router = APIRouter(include_in_schema=False)
MAX_ID = 200  # characters: CNIG ids are about 25; longer is not an id, whatever the data holds
Kind = Literal["site", "plot"]
BUILDERS: dict[Kind, Callable[..., Sheet]] = {"site": site_sheet, "plot": plot_sheet}
VARY = "Accept-Language"


def _sheet(request: Request, gate: Gate, kind: Kind, ident: str) -> Sheet:
    """The sheet ``gate`` gives of a site or plot; the unknown-path 404 when it has none."""
    if len(ident) > MAX_ID:
        name = "site_id" if kind == "site" else "terr_id"
        raise InvalidInput(f"{name}: longer than {MAX_ID} characters, not an id")
    contact = contact_of(get_settings(request).contact)
    try:
        return BUILDERS[kind](gate, ident, negotiated(request).lang.value, contact=contact)
    except NotFound:
        raise HTTPException(status_code=404) from None


def _relief(gate: Gate) -> RasterReader | None:
    """Our elevation raster for the map's hillshade, when the tier sees one that is loaded."""
    try:
        return gate.raster_reader("elevation")
    except UnknownCollection:
        return None


def _pdf(request: Request, gate: Gate, kind: Kind, ident: str) -> Response:
    sheet = _sheet(request, gate, kind, ident)
    lang = sheet.lang
    url = base_url(request) + sheet.path
    data = render_pdf(
        sheet, url=with_params(url, lang="en") if lang == "en" else url, relief=_relief(gate)
    )
    headers = {
        "Content-Disposition": f'attachment; filename="{filename(sheet)}"',
        "Content-Language": lang,
        "Vary": VARY,
    }
    return Response(data, media_type="application/pdf", headers=headers)


def _card(request: Request, principal: CurrentPrincipal, kind: Kind, ident: str) -> Response:
    # The caller's name (audit), the public's view (what a shared image may show anyone).
    public = dataclasses.replace(principal, tier=Tier.PUBLIC)
    gate = get_policy(request).gate(public, request_id(request))
    lang = negotiated(request).lang.value
    key = card_key(gate, kind, ident, lang)
    tag = etag(key)
    headers = {"Content-Language": lang, "Vary": VARY, "ETag": tag}
    # A tag matches only the key it was made from, and this answer reads no data: a made-up tag
    # of a hidden id gets the 304 a made-up id's would, telling nothing of what exists.
    if tag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    cards = _cards(request)
    data = cards.get(key)
    if data is None:
        data = render_card(_sheet(request, gate, kind, ident), relief=_relief(gate))
        cards.put(key, data)
    return Response(data, media_type="image/png", headers=headers)


def _cards(request: Request) -> CardCache:
    """The app's share images (made with the app: ``create_app``'s lifespan)."""
    return request.app.state.share_cards


@router.get("/sites/{site_id}.pdf")
def site_pdf(request: Request, gate: CurrentGate, site_id: str) -> Response:
    """A site's sheet as PDF, as the caller's tier sees it."""
    return _pdf(request, gate, "site", site_id)


@router.get("/plots/{terr_id}.pdf")
def plot_pdf(request: Request, gate: CurrentGate, terr_id: str) -> Response:
    """A plot's sheet as PDF, as the caller's tier sees it (the public: plots for sale only)."""
    return _pdf(request, gate, "plot", terr_id)


@router.get("/share/sites/{site_id}.png")
def site_card(request: Request, principal: CurrentPrincipal, site_id: str) -> Response:
    """A site's share image, the public's view whoever asks."""
    return _card(request, principal, "site", site_id)


@router.get("/share/plots/{terr_id}.png")
def plot_card(request: Request, principal: CurrentPrincipal, terr_id: str) -> Response:
    """A plot's share image, the public's view whoever asks (none for a plot not for sale)."""
    return _card(request, principal, "plot", terr_id)
