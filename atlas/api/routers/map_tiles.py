"""Map tiles, legends and point values of elevation, slope and flood hazard (``atlas.tiles.raster``).

OGC API – Tiles map tiles (``/collections/{collectionId}/map/tiles/{tileMatrixSetId}/{z}/{x}/{y}``,
PNG or WebP by ``f`` or ``Accept``) and their TileJSON, a legend per style, and an OGC API – EDR
position query. Everything is read through the caller's gate; bad input (collection, grid, tile,
style, format, point) is refused before any data is read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response

from atlas.api.deps import BaseUrl, CurrentGate, CurrentSettings
from atlas.api.negotiation import accept_media
from atlas.api.params import short
from atlas.api.responses import wgs84_bbox
from atlas.errors import InvalidInput
from atlas.query.crs import parse_crs
from atlas.query.grids import grid, grids
from atlas.tiles.legend import legend
from atlas.tiles.position import parse_point, position
from atlas.tiles.raster import (
    MapTileRequest,
    MapTiles,
    check_style,
    etag,
    open_source,
    tile_key,
)
from atlas.tiles.render import ImageFormat

router = APIRouter(tags=["Map tiles"])

Base = BaseUrl

StyleParam = Annotated[
    str | None,
    Query(
        description="elevation: hillshade (default) or hypsometric; slope, flood-hazard: classes"
    ),
]
# A URL carrying the version it was built for (TileJSON's tile URLs) names content that never
# changes: shared caches may keep it for good; an ingest makes TileJSON hand out new URLs.
IMMUTABLE = "public, max-age=31536000, immutable"
MAX_ZOOM = 22


def image_format(f: str | None, accept: str | None) -> ImageFormat:
    """``f`` when given (png or webp), else the image type Accept ranks highest, else PNG."""
    if f is not None:
        try:
            return ImageFormat(f.lower())
        except ValueError:
            raise InvalidInput(f"f: '{short(f)}' is not one of png, webp") from None
    chosen = accept_media(accept, tuple(fmt.media_type for fmt in ImageFormat))
    return ImageFormat(chosen.split("/")[1]) if chosen else ImageFormat.PNG
    return ImageFormat.PNG


@router.get(
    "/collections/{collectionId}/map/tiles",
    operation_id="getCollectionMapTileSetsList",
    summary="The map tilesets of a collection, one per tile grid",
)
def map_tilesets(collectionId: str, gate: CurrentGate, base: Base) -> dict[str, Any]:  # noqa: N803
    """OGC API – Tiles tileset list: each grid's TileJSON and tile template."""
    check_style(collectionId, None)
    source = open_source(gate, collectionId)
    href = f"{base}/collections/{collectionId}/map/tiles"
    return {
        "tilesets": [
            {
                "title": f"{collectionId} ({tms.id})",
                "dataType": "map",
                "crs": f"http://www.opengis.net/def/crs/EPSG/0/{tms.epsg}",
                "tileMatrixSetURI": tms.uri,
                "links": [
                    {"href": f"{href}/{tms.id}", "rel": "self", "type": "application/json"},
                    {
                        "href": f"{base}/tileMatrixSets/{tms.id}",
                        "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                        "type": "application/json",
                    },
                    {
                        "href": f"{href}/{tms.id}/{{tileMatrix}}/{{tileCol}}/{{tileRow}}"
                        f"?v={source.version}",
                        "rel": "item",
                        "type": "image/png",
                        "templated": True,
                    },
                ],
            }
            for tms in grids().values()
        ]
    }


@router.get(
    "/collections/{collectionId}/map/tiles/{tileMatrixSetId}",
    operation_id="getCollectionMapTileSet",
    summary="TileJSON of a collection's map tiles",
)
def map_tilejson(  # noqa: PLR0913
    collectionId: str,  # noqa: N803
    tileMatrixSetId: str,  # noqa: N803
    gate: CurrentGate,
    base: Base,
    style: StyleParam = None,
    f: Annotated[str | None, Query(description="tile format: png (default) or webp")] = None,
) -> dict[str, Any]:
    """TileJSON 3.0 whose tile URL carries the current version (``v``)."""
    chosen = check_style(collectionId, style)
    fmt = image_format(f, None)
    tms = grid(tileMatrixSetId)
    source = open_source(gate, collectionId)
    bounds = _bounds(gate, collectionId)
    url = f"{base}/collections/{collectionId}/map/tiles/{tms.id}/{{z}}/{{x}}/{{y}}"
    return {
        "tilejson": "3.0.0",
        "name": collectionId,
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [f"{url}?v={source.version}&style={chosen}&f={fmt.value}"],
        "minzoom": 0,
        "maxzoom": min(MAX_ZOOM, tms.max_zoom),
        "tileSize": 256,
        "bounds": wgs84_bbox(bounds) or [-180, -85.05, 180, 85.05],
        "legend": f"{base}/collections/{collectionId}/legend?style={chosen}",
    }


def _bounds(gate: Any, collection_id: str) -> tuple[float, float, float, float] | None:
    if collection_id == "flood-hazard":
        return gate.collection(collection_id).bbox
    _, meta = gate.raster(collection_id)
    found = meta.get("bounds")
    return tuple(found) if isinstance(found, list) and len(found) == 4 else None


@router.get(
    "/collections/{collectionId}/map/tiles/{tileMatrixSetId}/{z}/{x}/{y}",
    operation_id="getCollectionMapTile",
    summary="One map tile (PNG or WebP)",
    response_class=Response,
    responses={
        200: {
            "content": {"image/png": {}, "image/webp": {}},
            "description": "256 px, transparent where the collection holds no data",
        },
        204: {"description": "no data in the tile (off the raster or the zones)"},
        304: {"description": "If-None-Match names the current ETag"},
    },
)
def get_map_tile(  # noqa: PLR0913
    collectionId: str,  # noqa: N803
    tileMatrixSetId: str,  # noqa: N803
    z: int,
    x: int,
    y: int,
    gate: CurrentGate,
    http: Request,
    style: StyleParam = None,
    f: Annotated[str | None, Query(description="png or webp (else Accept decides)")] = None,
    v: Annotated[int | None, Query(description="the version TileJSON put in the URL")] = None,
    accept: Annotated[str | None, Header()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """A map tile; 204 off the data, 304 when the client holds it already."""
    chosen = check_style(collectionId, style)
    fmt = image_format(f, accept)
    tms = grid(tileMatrixSetId)
    if z > MAX_ZOOM:
        raise InvalidInput(f"z: map tiles go up to zoom {MAX_ZOOM}")
    request = MapTileRequest(collectionId, tms, tms.check(z, x, y), chosen, fmt)
    source = open_source(gate, collectionId)
    tiles: MapTiles = http.app.state.map_tiles
    tag = etag(tile_key(gate, source, request))
    headers = {"ETag": tag, "Vary": "Accept"}
    if v is not None and v == source.version:
        headers["Cache-Control"] = IMMUTABLE
    if if_none_match and tag in (t.strip() for t in if_none_match.split(",")):
        return Response(status_code=304, headers=headers)
    data = tiles.tile(gate, source, request)
    if data is None:
        return Response(status_code=204, headers=headers)
    return Response(content=data, media_type=fmt.media_type, headers=headers)


@router.get(
    "/collections/{collectionId}/legend",
    operation_id="getCollectionLegend",
    summary="Legend of a collection's map tiles",
)
def get_legend(
    collectionId: str,  # noqa: N803
    gate: CurrentGate,
    style: StyleParam = None,
) -> dict[str, Any]:
    """Classes (or light and ramp), colours and labels in French and English."""
    check_style(collectionId, style)
    open_source(gate, collectionId)  # a collection the caller may not see is unknown
    return legend(collectionId, style)


@router.get(
    "/collections/{collectionId}/position",
    operation_id="getCollectionPosition",
    summary="The value at a point (OGC API – EDR position)",
    response_class=JSONResponse,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def get_position(
    collectionId: str,  # noqa: N803
    gate: CurrentGate,
    settings: CurrentSettings,
    coords: Annotated[str, Query(description="WKT POINT(lon lat) in CRS84, or in crs")],
    crs: Annotated[
        str | None, Query(description="CRS of coords: CRS84 (default) or EPSG:2154")
    ] = None,
) -> JSONResponse:
    """A GeoJSON Feature: elevation (m), slope (% and class) or flood-hazard class and labels."""
    check_style(collectionId, None)  # a collection without values: 404 before the point's 400
    point = parse_point(coords, parse_crs(crs), settings.territory.bbox)
    feature = position(gate, collectionId, point)
    return JSONResponse(feature, media_type="application/geo+json")
