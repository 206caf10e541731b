"""TileJSON 3.0.0 for a collection's vector tiles and for the tier's multi-layer tileset.

Everything comes from the caller's gate: the layers and fields the tier sees, the bounds of the
rows and geometry it sees. Tile URLs carry the version they were read from (``?v=``), so a tile
URL names one content forever and public tiles can be cached as immutable; the next ingest gives
the TileJSON new URLs.
"""

from __future__ import annotations

import math
from typing import Any

from atlas.layers.base import FieldSpec
from atlas.policy.gate import Gate
from atlas.query.crs import CRS84_CODE, transformer
from atlas.query.grids import TileGrid
from atlas.tiles.vector import TilesetLayer, tileset_layers, tileset_version
from atlas.types import STORAGE_CRS

WORLD = [-180.0, -85.0511, 180.0, 85.0511]


def collection_tilejson(gate: Gate, base: str, collection_id: str, grid: TileGrid) -> dict:
    """TileJSON of one collection's tiles, as the caller sees it."""
    tileset = gate.tileset(collection_id)
    info = tileset.info
    url = f"{base}/collections/{collection_id}/tiles/{grid.id}/{{z}}/{{x}}/{{y}}?v={info.version}"
    return {
        "tilejson": "3.0.0",
        "name": info.title,
        "version": _semver(str(info.version)),
        "scheme": "xyz",
        "tiles": [url],
        "minzoom": tileset.min_zoom,
        "maxzoom": grid.max_zoom,
        "bounds": crs84_bounds([info.bbox]),
        "vector_layers": [
            {
                "id": collection_id,
                "description": info.title,
                "minzoom": tileset.min_zoom,
                "maxzoom": grid.max_zoom,
                "fields": _fields(info.fields),
            }
        ],
    }


def tileset_tilejson(gate: Gate, base: str, grid: TileGrid) -> dict:
    """TileJSON of the multi-layer tileset: every collection the caller sees, its fields."""
    layers = tileset_layers(gate)
    version = tileset_version(layers)
    return {
        "tilejson": "3.0.0",
        "name": f"Atlas ({gate.tier.value})",
        "scheme": "xyz",
        "tiles": [f"{base}/tiles/{grid.id}/{{z}}/{{x}}/{{y}}?v={version}"],
        "minzoom": min((layer.min_zoom for layer in layers), default=0),
        "maxzoom": grid.max_zoom,
        "bounds": crs84_bounds([layer.info.bbox for layer in layers]),
        "vector_layers": [_vector_layer(layer, grid) for layer in layers],
    }


def _vector_layer(layer: TilesetLayer, grid: TileGrid) -> dict[str, Any]:
    names = set(layer.properties)
    return {
        "id": layer.info.id,
        "description": layer.info.title,
        "minzoom": layer.min_zoom,
        "maxzoom": grid.max_zoom,
        "fields": _fields(f for f in layer.info.fields if f.name in names),
    }


def _fields(fields: Any) -> dict[str, str]:
    out = {"id": "feature id"}  # every feature carries its id (``feature_id AS id``)
    out.update({f.name: f.description or f.type for f in fields if isinstance(f, FieldSpec)})
    return out


def crs84_bounds(boxes: list[tuple[float, float, float, float] | None]) -> list[float]:
    """The CRS84 box around Lambert-93 boxes (densified edges, outward to ~1 cm); the world
    when there is none."""
    known = [b for b in boxes if b is not None and all(math.isfinite(v) for v in b)]
    if not known:
        return list(WORLD)
    union = (
        min(b[0] for b in known),
        min(b[1] for b in known),
        max(b[2] for b in known),
        max(b[3] for b in known),
    )
    xmin, ymin, xmax, ymax = transformer(STORAGE_CRS, CRS84_CODE).transform_bounds(
        *union, densify_pts=21
    )
    return [
        math.floor(xmin * 1e7) / 1e7,
        math.floor(ymin * 1e7) / 1e7,
        math.ceil(xmax * 1e7) / 1e7,
        math.ceil(ymax * 1e7) / 1e7,
    ]


def _semver(version: str) -> str:
    # TileJSON's ``version`` is semver: the collection's version as the major number.
    return f"{version}.0.0"
