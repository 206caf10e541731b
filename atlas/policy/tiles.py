"""Vector tiles built from a gate's own query, for views the store cannot tile by itself.

When a tier sees generalised geometry, the store's ``ST_AsMVT`` would encode the exact one; so
those tiles are encoded here, from features that already went through the view. Tile bounds
come from morecantile's WebMercatorQuad, the OGC TileMatrixSet the API serves.
"""

from __future__ import annotations

from functools import cache

import geopandas as gpd
import mapbox_vector_tile
import morecantile
import shapely
from pyproj import Transformer
from shapely.geometry import box

from atlas.types import BBox, TileXYZ

EXTENT = 4096
BUFFER = 64  # tile units kept around the tile so that lines and outlines join across tiles


@cache
def _tms() -> morecantile.TileMatrixSet:
    return morecantile.tms.get("WebMercatorQuad")


@cache
def _to_2154() -> Transformer:
    return Transformer.from_crs("EPSG:3857", "EPSG:2154", always_xy=True)


def tile_bounds_3857(tile: TileXYZ) -> tuple[float, float, float, float]:
    """The tile's bounds in Web Mercator metres."""
    b = _tms().xy_bounds(morecantile.Tile(tile.x, tile.y, tile.z))
    return (b.left, b.bottom, b.right, b.top)


def tile_bbox_2154(tile: TileXYZ, *, margin: float = 0.0) -> BBox:
    """A Lambert-93 box that contains the tile and its buffer, plus ``margin`` metres."""
    left, bottom, right, top = tile_bounds_3857(tile)
    pad = (right - left) * BUFFER / EXTENT
    xmin, ymin, xmax, ymax = _to_2154().transform_bounds(
        left - pad, bottom - pad, right + pad, top + pad, densify_pts=21
    )
    return BBox(xmin - margin, ymin - margin, xmax + margin, ymax + margin)


def tile_area_wkt(tile: TileXYZ) -> str:
    """The tile as a Lambert-93 polygon (WKT), for the audit log."""
    b = tile_bbox_2154(tile)
    return shapely.to_wkt(box(b.xmin, b.ymin, b.xmax, b.ymax), rounding_precision=1)


def encode(
    collection_id: str, frame: gpd.GeoDataFrame, tile: TileXYZ, properties: tuple[str, ...]
) -> bytes:
    """One MVT layer named after the collection; ``b""`` when nothing falls in the tile."""
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if frame.empty:
        return b""
    bounds = tile_bounds_3857(tile)
    pad = (bounds[2] - bounds[0]) * BUFFER / EXTENT
    clip = box(bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)
    mercator = frame.to_crs("EPSG:3857")
    features = []
    for row, geometry in zip(
        mercator[["id", *properties]].itertuples(index=False), mercator.geometry, strict=True
    ):
        clipped = geometry.intersection(clip)
        if clipped.is_empty:
            continue
        values = dict(zip(["id", *properties], row, strict=True))
        features.append(
            {"geometry": clipped, "properties": {k: _mvt_value(v) for k, v in values.items()}}
        )
    if not features:
        return b""
    return mapbox_vector_tile.encode(
        [{"name": collection_id, "features": features}],
        default_options={"quantize_bounds": bounds, "extents": EXTENT},
    )


def _mvt_value(value: object) -> object:
    # MVT values are strings, numbers or booleans; dates and other objects travel as text.
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def count_features(data: bytes, collection_id: str) -> int:
    """How many features an MVT holds in the collection's layer (for the audit log)."""
    if not data:
        return 0
    decoded = mapbox_vector_tile.decode(data)
    return len(decoded.get(collection_id, {}).get("features", []))
