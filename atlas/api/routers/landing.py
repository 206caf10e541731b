"""Landing page and conformance (OGC API – Features Part 1, 7.2 and 7.4)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from atlas.api.audit import request_id
from atlas.api.auth import caller
from atlas.api.deps import BaseUrl, get_policy
from atlas.api.negotiation import MediaType, NegotiatedRoute, alternate_link
from atlas.api.routers import portal

router = APIRouter(tags=["Capabilities"], route_class=NegotiatedRoute)

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",  # atlas.api.negotiation
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",  # crs, bbox-crs, Content-Crs
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    # CQL2 (atlas/stores/cql2.py): no property-property comparison, arithmetic, temporal or
    # array functions, so those classes are not declared.
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
]


@router.get(
    "/",
    operation_id="getLandingPage",
    summary="Landing page",
    response_model=dict[str, Any],  # the portal's home is a Response, returned as it is
)
def landing(request: Request, base: BaseUrl) -> Any:
    """Links to the API definition, the conformance declaration and the collections.

    A browser that did not ask for an encoding (no ``f``) gets the investor portal's home
    (``atlas.api.routers.portal``); ``f=html`` is this document's own HTML page.
    """
    chosen = request.state.negotiated
    if chosen.format is MediaType.HTML and "f" not in request.query_params:
        gate = get_policy(request).gate(caller(request), request_id(request))
        return portal.home(request, gate)
    return {
        "title": "Atlas",
        "description": "Atlas des parcs d'activités et de l'attractivité du territoire",
        "links": [
            {
                "href": f"{base}/",
                "rel": "self",
                "type": "application/json",
                "title": "this document",
            },
            alternate_link(f"{base}/"),
            {
                "href": f"{base}/api",
                "rel": "service-desc",
                "type": "application/vnd.oai.openapi+json;version=3.0",
            },
            {"href": f"{base}/conformance", "rel": "conformance", "type": "application/json"},
            {"href": f"{base}/collections", "rel": "data", "type": "application/json"},
        ],
    }


@router.get("/conformance", operation_id="getConformanceDeclaration", summary="Conformance classes")
def conformance() -> dict[str, list[str]]:
    """The conformance classes implemented."""
    return {"conformsTo": CONFORMANCE}
