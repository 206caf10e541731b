"""Vector tiles: ``/tileMatrixSets`` and ``/collections/{collectionId}/tiles/…`` (OGC API – Tiles).

Tiles and their TileJSON come through the caller's gate: attributes, rows and geometry are
those the tier sees, and the TileJSON ``bounds`` are computed from those rows only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from atlas.api.deps import CurrentGate, base_url
from atlas.api.params import short
from atlas.api.responses import wgs84_bbox
from atlas.errors import InvalidInput, NotFound
from atlas.query.requests import TileRequest
from atlas.types import TileXYZ

router = APIRouter(tags=["Tiles"])

Base = Annotated[str, Depends(base_url)]
MVT = "application/vnd.mapbox-vector-tile"
TMS_ID = "WebMercatorQuad"
MIN_ZOOM, MAX_ZOOM = 0, 22
# What the tile budget did (ATLAS_TILE_MAX_FEATURES, _MAX_BYTES): features kept, and left out.
FEATURES_HEADER = "Atlas-Tile-Features"
DROPPED_HEADER = "Atlas-Tile-Dropped"


def _check_tms(tms: str) -> None:
    if tms != TMS_ID:
        raise NotFound(f"tile matrix set '{short(tms)}' not found; this server has {TMS_ID}")


@router.get("/tileMatrixSets", operation_id="getTileMatrixSetsList", summary="Tile grids")
def tile_matrix_sets(base: Base) -> dict[str, Any]:
    """The one tile grid served: OGC WebMercatorQuad."""
    return {
        "tileMatrixSets": [
            {
                "id": TMS_ID,
                "title": "Google Maps Compatible for the World",
                "uri": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
                "links": [{"href": f"{base}/tileMatrixSets/{TMS_ID}", "rel": "self"}],
            }
        ]
    }


@router.get(
    "/tileMatrixSets/{tileMatrixSetId}",
    operation_id="getTileMatrixSet",
    summary="One tile grid",
)
def tile_matrix_set(tileMatrixSetId: str) -> dict[str, Any]:  # noqa: N803
    """The definition of WebMercatorQuad (from morecantile)."""
    import morecantile

    _check_tms(tileMatrixSetId)
    return morecantile.tms.get(TMS_ID).model_dump(mode="json", exclude_none=True)


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}",
    operation_id="getTileSet",
    summary="TileJSON of a collection's vector tiles",
)
def tilejson(
    collectionId: str,  # noqa: N803
    tileMatrixSetId: str,  # noqa: N803
    gate: CurrentGate,
    base: Base,
) -> dict[str, Any]:
    """TileJSON 3.0; bounds from the features the caller sees."""
    _check_tms(tileMatrixSetId)
    tileset = gate.tileset(collectionId)
    info = tileset.info
    fields = {f.name: f.description or f.type for f in info.fields}
    return {
        "tilejson": "3.0.0",
        "name": info.title,
        "tiles": [f"{base}/collections/{collectionId}/tiles/{TMS_ID}/{{z}}/{{x}}/{{y}}"],
        "minzoom": tileset.min_zoom,
        "maxzoom": MAX_ZOOM,
        "bounds": wgs84_bbox(info.bbox) or [-180, -85.05, 180, 85.05],
        "vector_layers": [{"id": collectionId, "fields": fields}],
    }


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/{z}/{x}/{y}",
    operation_id="getTile",
    summary="One vector tile",
    response_class=Response,
    responses={
        200: {
            "content": {MVT: {}},
            "description": f"the tile; {FEATURES_HEADER} says how many features it holds and"
            f" {DROPPED_HEADER} how many the tile budget left out (the smallest)",
        },
        204: {"description": "no feature in the tile"},
        404: {"description": "unknown collection, or a zoom below the collection's minzoom"},
    },
)
def get_tile(  # noqa: PLR0913
    collectionId: str,  # noqa: N803
    tileMatrixSetId: str,  # noqa: N803
    z: int,
    x: int,
    y: int,
    gate: CurrentGate,
    properties: Annotated[
        str | None, Query(description="fields to put in the tile, comma-separated")
    ] = None,
) -> Response:
    """An MVT tile within the tile budget; 204 when nothing the caller sees falls in it."""
    _check_tms(tileMatrixSetId)
    if not MIN_ZOOM <= z <= MAX_ZOOM:
        raise InvalidInput(f"z: must be between {MIN_ZOOM} and {MAX_ZOOM}")
    names = tuple(n.strip() for n in (properties or "").split(",") if n.strip())
    mvt = gate.tile(collectionId, TileRequest(TileXYZ(z, x, y), names))
    headers = {FEATURES_HEADER: str(mvt.features), DROPPED_HEADER: str(mvt.dropped)}
    if not mvt.data:
        return Response(status_code=204, headers=headers)
    return Response(content=mvt.data, media_type=MVT, headers=headers)
