"""The tier's multi-layer tileset (``/tiles/{tileMatrixSetId}[/{z}/{x}/{y}]``) and its MapLibre
styles (``/styles``), through the caller's gate (``atlas.tiles``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from atlas.api.deps import BaseUrl, CurrentGate
from atlas.api.routers.tiles import (
    TILE_RESPONSES,
    Format,
    IfNoneMatch,
    Tiles,
    Version,
    etags,
    tile_response,
)
from atlas.query.grids import grid
from atlas.tiles.styles import style, style_ids
from atlas.tiles.tilejson import tileset_tilejson
from atlas.tiles.vector import address

router = APIRouter(tags=["Tiles"])

Base = BaseUrl


@router.get(
    "/tiles/{tileMatrixSetId}",
    operation_id="getDatasetVectorTileSet",
    summary="TileJSON of every collection the caller sees, as one tileset",
)
def dataset_tilejson(
    tileMatrixSetId: str,  # noqa: N803
    gate: CurrentGate,
    base: Base,
) -> dict[str, Any]:
    """TileJSON 3.0 with a vector layer per collection (its minzoom and the tier's fields)."""
    return tileset_tilejson(gate, base, grid(tileMatrixSetId))


@router.get(
    "/tiles/{tileMatrixSetId}/{z}/{x}/{y}",
    operation_id="getDatasetVectorTile",
    summary="One multi-layer vector tile",
    response_class=Response,
    responses=TILE_RESPONSES,
)
def get_dataset_tile(  # noqa: PLR0913
    tileMatrixSetId: str,  # noqa: N803
    z: int,
    x: int,
    y: int,
    gate: CurrentGate,
    tiles: Tiles,
    v: Version = None,
    f: Format = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """An MVT with a layer per collection the caller sees from its minzoom, within one budget."""
    where = address(tileMatrixSetId, z, x, y, f)  # before any read: bad input costs nothing
    served = tiles.tileset_tile(gate, where, known=etags(if_none_match))
    return tile_response(served, gate.tier, v)


@router.get("/styles", operation_id="getStyles", summary="Map styles")
def styles(base: Base) -> dict[str, Any]:
    """The MapLibre styles served (each drawn for the caller's tier)."""
    return {
        "styles": [
            {
                "id": sid,
                "links": [
                    {
                        "href": f"{base}/styles/{sid}",
                        "rel": "stylesheet",
                        "type": "application/vnd.mapbox.style+json",
                    }
                ],
            }
            for sid in style_ids()
        ]
    }


@router.get(
    "/styles/{styleId}",
    operation_id="getStyle",
    summary="A MapLibre style for the caller's tier",
)
def get_style(styleId: str, gate: CurrentGate, base: Base) -> dict[str, Any]:  # noqa: N803
    """Style spec v8 over the tier's tileset: our colours, no labels (no glyphs are served)."""
    return style(gate, base, styleId)
