"""``GET /maps/{tier}``: the generated Folium map of a tier (``atlas.maps``), for callers holding it.

Anyone gets ``/maps/public``; ``/maps/b2b`` and ``/maps/internal`` only callers of that tier or
above (``atlas.policy.tiers.holds``). Any other caller, and any other name, gets exactly what an
unknown path gets (the router's own 404), checked before anything else the request carries. The
map is built through a gate of the *requested* tier bound to the caller's identity (audit), so
the staff's view of the public map is the public map. Pages are cached per (tier, language, data
versions) on ``app.state.maps``; each carries its own Content-Security-Policy: this origin only,
its own inline scripts by hash (``atlas.maps.page``).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException

from atlas.api.audit import request_id
from atlas.api.auth import CurrentPrincipal
from atlas.api.deps import get_policy, get_settings
from atlas.api.negotiation import Lang, accept_language
from atlas.maps.context import MapContext
from atlas.maps.labels import Lang as MapLang
from atlas.maps.service import MapCache
from atlas.policy.tiers import Tier, holds

router = APIRouter(tags=["Maps"])


@router.get(
    "/maps/{tier}",
    operation_id="getMap",
    summary="The interactive map of a tier (public, b2b, internal)",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {}}, "description": "the map page, self-contained"},
        404: {"description": "not a tier, or a tier the caller does not hold"},
    },
)
def get_map(
    tier: str,
    principal: CurrentPrincipal,
    request: Request,
    lang: Annotated[Lang | None, Query(description="fr (default) or en")] = None,
    accept_language_header: Annotated[str | None, Header(alias="accept-language")] = None,
) -> HTMLResponse:
    """The map of ``tier`` in French or English, built through that tier's gate."""
    wanted = Tier(tier) if tier in Tier.__members__.values() else None
    if wanted is None or not holds(principal.tier, wanted):
        raise HTTPException(status_code=404)  # the router's answer to an unknown path
    chosen = lang or accept_language(accept_language_header)
    settings = get_settings(request)
    as_tier = dataclasses.replace(principal, tier=wanted)  # the caller's name, the map's tier
    ctx = MapContext(
        get_policy(request).gate(as_tier, request_id(request)),
        lang=MapLang(chosen.value),
        basemap_url=settings.maps.basemap_url,
        basemap_attribution=settings.maps.basemap_attribution,
    )
    maps: MapCache = request.app.state.maps
    page = maps.page(ctx)
    headers = {
        "Content-Security-Policy": page.csp,
        "Content-Language": chosen.value,
        "Vary": "Accept-Language, Authorization, Cookie",
    }
    return HTMLResponse(page.html, headers=headers)
