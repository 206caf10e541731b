"""Features: ``/collections/{collectionId}/items[/{featureId}]`` and ``/queryables``.

OGC API – Features Part 1 (items, paging with ``next`` links, numberMatched/numberReturned),
Part 2 (``crs``, ``bbox-crs``, ``Content-Crs``) and Part 3 (``properties``, ``sortby``,
queryables). Everything goes through the caller's gate.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from atlas.api.deps import BaseUrl, CurrentGate
from atlas.api.geojson import GEOJSON, collection_response, feature_document, geojson_response
from atlas.api.negotiation import NegotiatedRoute, alternate_link
from atlas.api.params import ItemsQuery, ResponseCrsQuery
from atlas.query.requests import FeatureRequest
from atlas.stores.base import FeaturePage

router = APIRouter(tags=["Features"], route_class=NegotiatedRoute)

Base = BaseUrl


@router.get(
    "/collections/{collectionId}/items",
    operation_id="getFeatures",
    summary="Features of a collection",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}, "description": "a GeoJSON FeatureCollection"}},
)
def get_features(
    request: Request,
    collectionId: str,  # noqa: N803
    gate: CurrentGate,
    base: Base,
    params: ItemsQuery,
) -> Response:
    """A page of features as the caller's tier sees them."""
    asked = params.request
    page = gate.items(collectionId, asked)
    members = {
        "numberMatched": page.number_matched,
        "numberReturned": page.number_returned,
        "timeStamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "links": _page_links(request, base, collectionId, page),
    }
    return collection_response(page.features, asked.crs, members)


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    operation_id="getFeature",
    summary="One feature",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}, "description": "a GeoJSON Feature"}},
)
def get_feature(
    collectionId: str,  # noqa: N803
    featureId: str,  # noqa: N803
    gate: CurrentGate,
    base: Base,
    crs: ResponseCrsQuery,
) -> Response:
    """One feature; a feature the caller may not see is a 404 like a missing one."""
    feature = gate.feature(collectionId, FeatureRequest(featureId, crs.crs))
    document = feature_document(feature, crs.crs)
    href = f"{base}/collections/{collectionId}"
    document["links"] = [
        {"href": f"{href}/items/{feature.id}", "rel": "self", "type": GEOJSON},
        {"href": href, "rel": "collection", "type": "application/json"},
        alternate_link(f"{href}/items/{feature.id}"),
    ]
    return geojson_response(document, crs.crs)


@router.get(
    "/collections/{collectionId}/queryables",
    operation_id="getQueryables",
    summary="The fields a filter, sortby or properties may name",
    response_class=JSONResponse,
    responses={200: {"content": {"application/schema+json": {}}}},
)
def get_queryables(
    request: Request,
    collectionId: str,  # noqa: N803
    gate: CurrentGate,
    base: Base,
) -> JSONResponse:
    """A JSON Schema of the fields the caller's tier may see (Part 3, 6.2)."""
    queryables = gate.queryables(collectionId)
    properties: dict[str, Any] = {
        "geometry": {"$ref": f"https://geojson.org/schema/{queryables.geometry_type}.json"}
    }
    for spec in queryables.fields:
        properties[spec.name] = _json_schema(spec.type, spec.description, spec.enum)
    return JSONResponse(
        {
            "$schema": "https://json-schema.org/draft/2019-09/schema",
            "$id": f"{base}/collections/{collectionId}/queryables",
            "type": "object",
            "title": queryables.title,
            "properties": properties,
            "additionalProperties": False,
            # The Part 3 draft's list, which GDAL's OAPIF driver (3.6) reads to decide which
            # fields of a -where it may send as a server-side filter (with filter-lang cql-text).
            "queryables": [
                {"id": spec.name, "type": _json_schema(spec.type, "", None)["type"]}
                for spec in queryables.fields
            ],
        },
        media_type=_schema_media_type(request.headers.get("accept", "")),
    )


def _schema_media_type(accept: str) -> str:
    # A client asking for plain JSON only (GDAL 3.6 refuses any other Content-Type) gets it.
    if "application/json" in accept and "application/schema+json" not in accept:
        return "application/json"
    return "application/schema+json"


def _json_schema(kind: str, description: str, enum: tuple[str, ...] | None) -> dict[str, Any]:
    schema: dict[str, Any] = {"description": description}
    if kind in ("date", "datetime"):
        schema.update(type="string", format="date" if kind == "date" else "date-time")
    else:
        schema["type"] = kind
    if enum:
        schema["enum"] = list(enum)
    return schema


def _page_links(
    request: Request, base: str, collection_id: str, page: FeaturePage
) -> list[dict[str, str]]:
    href = f"{base}/collections/{collection_id}/items"
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]

    def link(rel: str, offset: int) -> dict[str, str]:
        query_string = urlencode([*params, ("offset", str(offset))])
        return {"href": f"{href}?{query_string}", "rel": rel, "type": GEOJSON}

    links = [link("self", page.offset)]
    links.append(alternate_link(links[0]["href"]))
    if page.offset + page.limit < page.number_matched:
        links.append(link("next", page.offset + page.limit))
    if page.offset > 0:
        links.append(link("prev", max(page.offset - page.limit, 0)))
    links.append(
        {
            "href": f"{base}/collections/{collection_id}",
            "rel": "collection",
            "type": "application/json",
        }
    )
    return links
