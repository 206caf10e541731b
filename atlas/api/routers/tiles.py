"""Vector tiles: ``/tileMatrixSets`` and ``/collections/{collectionId}/tiles/…`` (OGC API – Tiles).

Tiles and their TileJSON come through the caller's gate (``atlas.tiles``): attributes, rows and
geometry are those the tier sees, and the TileJSON ``bounds`` are computed from those rows only.
Tiles carry an ``ETag`` (``If-None-Match`` → 304); a tile URL naming the current version
(TileJSON's ``?v=``) is ``public, max-age=31536000, immutable`` for the public tier, and every
credentialed answer stays ``private`` (``atlas.api.cache_headers``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response

from atlas.api.deps import BaseUrl, CurrentGate
from atlas.policy.tiers import Tier
from atlas.query.grids import grid, grids
from atlas.tiles.tilejson import collection_tilejson
from atlas.tiles.vector import MVT, ServedTile, VectorTiles, address

router = APIRouter(tags=["Tiles"])

Base = BaseUrl
# What the tile budget did (ATLAS_TILE_MAX_FEATURES, _MAX_BYTES): features kept, and left out.
FEATURES_HEADER = "Atlas-Tile-Features"
DROPPED_HEADER = "Atlas-Tile-Dropped"
# A URL naming the version it was read from names content that never changes.
IMMUTABLE = "public, max-age=31536000, immutable"
Version = Annotated[
    str | None, Query(description="the version TileJSON put in the tile URL (cache busting)")
]
Format = Annotated[str | None, Query(description="mvt (default) or pbf: the same format")]
IfNoneMatch = Annotated[str | None, Header(description="ETags the client holds")]

TILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {MVT: {}},
        "description": f"the tile; {FEATURES_HEADER} says how many features it holds and"
        f" {DROPPED_HEADER} how many the tile budget left out (the smallest)",
    },
    204: {"description": "no feature in the tile"},
    304: {"description": "If-None-Match names the tile's current ETag"},
    400: {"description": "z/x/y outside the grid's matrices, or an unknown format"},
    404: {"description": "unknown grid or collection, or a zoom below the collection's minzoom"},
}


async def vector_tiles(request: Request) -> VectorTiles:
    """The app's vector tile service (cache included)."""
    tiles: VectorTiles = request.app.state.vector_tiles
    return tiles


Tiles = Annotated[VectorTiles, Depends(vector_tiles)]


def etags(header: str | None) -> frozenset[str]:
    """The ETags of an If-None-Match header (weak ones compare as strong: RFC 9110 13.1.2)."""
    if not header:
        return frozenset()
    return frozenset(t.strip().removeprefix("W/") for t in header.split(",") if t.strip())


def tile_response(served: ServedTile, tier: Tier, v: str | None) -> Response:
    """The tile, 204 or 304, with its ETag and, for the public tier, its Cache-Control."""
    headers = {"ETag": served.etag}
    if tier == Tier.PUBLIC and v == served.version:
        headers["Cache-Control"] = IMMUTABLE  # credentialed callers: the middleware's private
    if not served.modified:
        return Response(status_code=304, headers=headers)
    headers[FEATURES_HEADER] = str(served.features)
    headers[DROPPED_HEADER] = str(served.dropped)
    if not served.data:
        return Response(status_code=204, headers=headers)
    return Response(content=served.data, media_type=MVT, headers=headers)


@router.get("/tileMatrixSets", operation_id="getTileMatrixSetsList", summary="Tile grids")
def tile_matrix_sets(base: Base) -> dict[str, Any]:
    """The tile grids served: WebMercatorQuad and the Lambert-93 grid."""
    return {
        "tileMatrixSets": [
            {
                "id": g.id,
                "title": g.title,
                "crs": f"http://www.opengis.net/def/crs/EPSG/0/{g.epsg}",
                **({"uri": g.uri} if g.uri else {}),
                "links": [{"href": f"{base}/tileMatrixSets/{g.id}", "rel": "self"}],
            }
            for g in grids().values()
        ]
    }


@router.get(
    "/tileMatrixSets/{tileMatrixSetId}",
    operation_id="getTileMatrixSet",
    summary="One tile grid",
)
def tile_matrix_set(tileMatrixSetId: str) -> dict[str, Any]:  # noqa: N803
    """The grid's OGC TileMatrixSet 2.0 definition (from morecantile)."""
    return grid(tileMatrixSetId).tms.model_dump(mode="json", exclude_none=True)


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
    """TileJSON 3.0; bounds from the features the caller sees, tile URLs with the version."""
    return collection_tilejson(gate, base, collectionId, grid(tileMatrixSetId))


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/{z}/{x}/{y}",
    operation_id="getTile",
    summary="One vector tile",
    response_class=Response,
    responses=TILE_RESPONSES,
)
def get_tile(  # noqa: PLR0913
    collectionId: str,  # noqa: N803
    tileMatrixSetId: str,  # noqa: N803
    z: int,
    x: int,
    y: int,
    gate: CurrentGate,
    tiles: Tiles,
    properties: Annotated[
        str | None, Query(description="fields to put in the tile, comma-separated")
    ] = None,
    v: Version = None,
    f: Format = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """An MVT tile within the tile budget; 204 when nothing the caller sees falls in it."""
    where = address(tileMatrixSetId, z, x, y, f)  # before any read: bad input costs nothing
    names = tuple(n.strip() for n in (properties or "").split(",") if n.strip())
    served = tiles.collection_tile(gate, collectionId, where, names, known=etags(if_none_match))
    return tile_response(served, gate.tier, v)
