"""Vector tiles: the budget every tile keeps, and tiles of views the store cannot tile by itself.

Every tile the gate serves stays within a :class:`TileBudget` (``ATLAS_TILE_MAX_FEATURES`` and
``_MAX_BYTES``): the store keeps the largest features up to the feature cap, and
:func:`within_budget` lowers that cap until the encoded bytes fit too, so a dense tile loses its
smallest features first and says how many (``MvtTile.dropped``).

When a tier sees generalised geometry, the store's ``ST_AsMVT`` would encode the exact one; so
those tiles are encoded here (:func:`encode`), from features that already went through the view,
with the same per-zoom simplification and largest-first cap as the stores' SQL
(``atlas.stores.mvt``), in the tile grid's CRS (``atlas.query.grids``: WebMercatorQuad or the
Lambert-93 grid, morecantile TileMatrixSets).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import mapbox_vector_tile
import shapely
from shapely.geometry import box

from atlas.query.grids import DEFAULT_GRID, MVT_BUFFER, MVT_EXTENT, TileGrid, grids
from atlas.stores.base import MvtTile
from atlas.types import BBox, TileXYZ

EXTENT = MVT_EXTENT
BUFFER = MVT_BUFFER


@dataclass(frozen=True, slots=True)
class TileBudget:
    """The most one tile may hold (``ATLAS_TILE_MAX_FEATURES``, ``ATLAS_TILE_MAX_BYTES``)."""

    max_features: int = 10_000
    max_bytes: int = 500_000


def within_budget(render: Callable[[int], MvtTile], budget: TileBudget) -> MvtTile:
    """``render(limit)`` with the largest ``limit`` whose tile fits the budget's bytes too."""
    tile = render(budget.max_features)
    while len(tile.data) > budget.max_bytes:
        # Bytes grow about linearly with features: aim 10 % under, and always drop some, so
        # that the loop ends (an empty tile fits any budget).
        estimate = int(tile.features * budget.max_bytes / len(tile.data) * 0.9)
        tile = render(max(0, min(estimate, tile.features - 1)))
    return tile


def shared(budget: TileBudget, layers: int) -> TileBudget:
    """One layer's share of the budget when ``layers`` layers make one tile."""
    if layers <= 1:
        return budget
    return TileBudget(max(1, budget.max_features // layers), max(1, budget.max_bytes // layers))


def tile_bbox_2154(tile: TileXYZ, grid: TileGrid | None = None, *, margin: float = 0.0) -> BBox:
    """A Lambert-93 box that contains the tile and its buffer, plus ``margin`` metres."""
    return (grid or grids()[DEFAULT_GRID]).bbox_2154(tile, margin=margin)


def tile_area_wkt(tile: TileXYZ, grid: TileGrid | None = None) -> str:
    """The tile as a Lambert-93 polygon (WKT), for the audit log."""
    b = tile_bbox_2154(tile, grid)
    return shapely.to_wkt(box(b.xmin, b.ymin, b.xmax, b.ymax), rounding_precision=1)


def encode(  # noqa: PLR0913 - the tile, its contents and its cap
    collection_id: str,
    frame: gpd.GeoDataFrame,
    tile: TileXYZ,
    properties: tuple[str, ...],
    *,
    limit: int | None = None,
    grid: TileGrid | None = None,
) -> MvtTile:
    """One MVT layer named after the collection, the ``limit`` largest features at most, in
    ``grid`` (WebMercatorQuad by default)."""
    grid = grid or grids()[DEFAULT_GRID]
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if frame.empty:
        return MvtTile(b"", 0, 0)
    bounds = grid.bounds(tile)
    pad = (bounds[2] - bounds[0]) * BUFFER / EXTENT
    clip = box(bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)
    projected = frame.to_crs(f"EPSG:{grid.epsg}")
    # As the stores' SQL does: simplified at one tile unit, clipped, largest first, then ids.
    tolerance = grid.tolerance(tile.z, EXTENT)
    geometries = projected.geometry.simplify(tolerance, preserve_topology=False).intersection(clip)
    records = projected[["id", *properties]].to_dict("records")
    candidates = [(g, r) for g, r in zip(geometries, records, strict=True) if not g.is_empty]
    candidates.sort(key=lambda c: (-_size(c[0]), str(c[1]["id"])))
    kept = sorted(candidates[:limit], key=lambda c: str(c[1]["id"]))  # id order, as in SQL
    features = [
        {"geometry": g, "properties": {k: _mvt_value(v) for k, v in r.items()}} for g, r in kept
    ]
    if not features:
        return MvtTile(b"", 0, len(candidates))
    data = mapbox_vector_tile.encode(
        [{"name": collection_id, "features": features}],
        default_options={"quantize_bounds": bounds, "extents": EXTENT},
    )
    return MvtTile(data, len(features), len(candidates))


def _size(geometry: shapely.Geometry) -> float:
    return geometry.area or geometry.length  # polygons by area, lines by length, points 0


def _mvt_value(value: object) -> object:
    # MVT values are strings, numbers or booleans; dates and other objects travel as text, in
    # the ISO 8601 forms the stores' SQL writes (datetimes in UTC).
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
