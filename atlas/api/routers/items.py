"""Features: ``/collections/{collectionId}/items[/{featureId}]`` and ``/queryables``.

OGC API – Features Part 1 (items, paging with ``next`` links, numberMatched/numberReturned),
Part 2 (``crs``, ``bbox-crs``, ``Content-Crs``) and Part 3 (``properties``, ``sortby``,
queryables). Everything goes through the caller's gate.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

import shapely
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from atlas.api.audit import bbox_wkt
from atlas.api.deps import CurrentGate, base_url, get_settings
from atlas.api.geojson import GEOJSON, feature_document, geojson_response
from atlas.api.negotiation import NegotiatedRoute, alternate_link
from atlas.api.params import (
    parse_bbox,
    parse_limit,
    parse_properties,
    parse_sortby,
    property_filters,
)
from atlas.policy.filters import FilterLang, tier_filter
from atlas.query.crs import SUPPORTED, parse_crs
from atlas.query.features import FeatureQuery
from atlas.settings import Settings

router = APIRouter(tags=["Features"], route_class=NegotiatedRoute)

Base = Annotated[str, Depends(base_url)]
AppSettings = Annotated[Settings, Depends(get_settings)]

# Past it a store's OFFSET overflows (PostgreSQL bigint); no collection comes near it.
MAX_OFFSET = 1_000_000_000
_CRS_HELP = "CRS of the response geometry, one of: " + ", ".join(SUPPORTED)


@router.get(
    "/collections/{collectionId}/items",
    operation_id="getFeatures",
    summary="Features of a collection",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}, "description": "a GeoJSON FeatureCollection"}},
)
def get_features(  # noqa: PLR0913 - the OGC parameters, each parsed once
    request: Request,
    collectionId: str,  # noqa: N803
    gate: CurrentGate,
    base: Base,
    settings: AppSettings,
    bbox: Annotated[
        str | None,
        Query(description="minx,miny,maxx,maxy in bbox-crs; lon/lat with minx > maxx crosses 180°"),
    ] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", description=_CRS_HELP)] = None,
    crs: Annotated[str | None, Query(description=_CRS_HELP)] = None,
    limit: Annotated[int | None, Query(description="page size")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="features to skip")] = 0,
    properties: Annotated[
        str | None, Query(description="fields to return, comma-separated")
    ] = None,
    sortby: Annotated[str | None, Query(description="+field or -field, comma-separated")] = None,
    filter_: Annotated[
        str | None, Query(alias="filter", description="a CQL2 filter (OGC API Features Part 3)")
    ] = None,
    filter_lang: Annotated[
        FilterLang, Query(alias="filter-lang", description="language of filter")
    ] = "cql2-text",
    filter_crs: Annotated[
        str | None, Query(alias="filter-crs", description="CRS of filter geometries; " + _CRS_HELP)
    ] = None,
) -> Response:
    """A page of features as the caller's tier sees them."""
    fields = gate.queryables(collectionId)
    response_crs = parse_crs(crs)
    query = FeatureQuery(
        filter=tier_filter(filter_, filter_lang, gate.view(collectionId), filter_crs=filter_crs),
        **parse_bbox(bbox, parse_crs(bbox_crs, parameter="bbox-crs")),
        where=property_filters(request.query_params.multi_items(), fields),
        properties=parse_properties(properties, fields),
        sortby=parse_sortby(sortby, fields),
        limit=parse_limit(
            limit, default=settings.api.default_limit, cap=settings.caps.page(gate.tier.value)
        ),
        offset=offset,
    )
    page = gate.query(collectionId, query, area=_area(query))
    document = {
        "type": "FeatureCollection",
        "features": [feature_document(f, response_crs) for f in page.features],
        "numberMatched": page.number_matched,
        "numberReturned": page.number_returned,
        "timeStamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "links": _page_links(request, base, collectionId, page.number_matched, query),
    }
    return geojson_response(document, response_crs)


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
    crs: Annotated[str | None, Query(description=_CRS_HELP)] = None,
) -> Response:
    """One feature; a feature the caller may not see is a 404 like a missing one."""
    response_crs = parse_crs(crs)
    gate.collection(collectionId)
    feature = gate.feature(collectionId, featureId)
    document = feature_document(feature, response_crs)
    href = f"{base}/collections/{collectionId}"
    document["links"] = [
        {"href": f"{href}/items/{feature.id}", "rel": "self", "type": GEOJSON},
        {"href": href, "rel": "collection", "type": "application/json"},
        alternate_link(f"{href}/items/{feature.id}"),
    ]
    return geojson_response(document, response_crs)


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
    info = gate.collection(collectionId)
    properties: dict[str, Any] = {
        "geometry": {"$ref": f"https://geojson.org/schema/{info.geometry_type}.json"}
    }
    for spec in gate.queryables(collectionId):
        properties[spec.name] = _json_schema(spec.type, spec.description, spec.enum)
    return JSONResponse(
        {
            "$schema": "https://json-schema.org/draft/2019-09/schema",
            "$id": f"{base}/collections/{collectionId}/queryables",
            "type": "object",
            "title": info.title,
            "properties": properties,
            "additionalProperties": False,
            # The Part 3 draft's list, which GDAL's OAPIF driver (3.6) reads to decide which
            # fields of a -where it may send as a server-side filter (with filter-lang cql-text).
            "queryables": [
                {"id": spec.name, "type": _json_schema(spec.type, "", None)["type"]}
                for spec in gate.queryables(collectionId)
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
    request: Request, base: str, collection_id: str, matched: int, query: FeatureQuery
) -> list[dict[str, str]]:
    href = f"{base}/collections/{collection_id}/items"
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]

    def link(rel: str, offset: int) -> dict[str, str]:
        query_string = urlencode([*params, ("offset", str(offset))])
        return {"href": f"{href}?{query_string}", "rel": rel, "type": GEOJSON}

    links = [link("self", query.offset)]
    links.append(alternate_link(links[0]["href"]))
    if query.offset + query.limit < matched:
        links.append(link("next", query.offset + query.limit))
    if query.offset > 0:
        links.append(link("prev", max(query.offset - query.limit, 0)))
    links.append(
        {
            "href": f"{base}/collections/{collection_id}",
            "rel": "collection",
            "type": "application/json",
        }
    )
    return links


def _area(query: FeatureQuery) -> str | None:
    if query.intersects is not None:  # the halves of a box across the antimeridian
        return shapely.to_wkt(query.intersects, rounding_precision=2)
    return bbox_wkt(query.bbox) if query.bbox is not None else None
