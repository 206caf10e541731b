"""Landing page and conformance (OGC API – Features Part 1, 7.2 and 7.4)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from atlas.api.deps import base_url

router = APIRouter(tags=["Capabilities"])

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]


@router.get("/", operation_id="getLandingPage", summary="Landing page")
def landing(base: Annotated[str, Depends(base_url)]) -> dict[str, Any]:
    """Links to the API definition, the conformance declaration and the collections."""
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
