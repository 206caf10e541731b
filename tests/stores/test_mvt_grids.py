"""Tiles of both grids on both stores against the source features: decoded with
mapbox_vector_tile, compared with shapely in tile units (within the tile's precision: one unit of
simplification plus half a unit of snapping), the tile's bounds from morecantile."""

from __future__ import annotations

import mapbox_vector_tile
import morecantile
import pytest
import shapely
from pyproj import Transformer
from shapely.affinity import affine_transform

from atlas.query.grids import LAMBERT_93, WEB_MERCATOR, grids
from atlas.types import TileXYZ
from tests.stores.fixtures import CONTRACT_LAYER

CID = CONTRACT_LAYER.collection_id
EXTENT, BUFFER = 4096, 64
PRECISION = 1.5  # tile units
# Zooms where a tile is about 1 km wide: the contract plots (50-150 m) cross tile edges.
ZOOMS = {WEB_MERCATOR: 15, LAMBERT_93: 10}


def _covering(frame, grid_id: str) -> list[TileXYZ]:
    to_lonlat = Transformer.from_crs(2154, 4326, always_xy=True)
    west, south, east, north = to_lonlat.transform_bounds(*frame.total_bounds)
    tms = grids()[grid_id].tms
    return [TileXYZ(t.z, t.x, t.y) for t in tms.tiles(west, south, east, north, [ZOOMS[grid_id]])]


def _in_tile_units(geometry, bounds):
    """A geometry of the grid's CRS in tile units, y up (as mapbox_vector_tile decodes)."""
    left, bottom, right, top = bounds
    sx, sy = EXTENT / (right - left), EXTENT / (top - bottom)
    return affine_transform(geometry, [sx, 0, 0, sy, -left * sx, -bottom * sy])


@pytest.mark.parametrize("grid_id", [WEB_MERCATOR, LAMBERT_93])
def test_tiles_hold_the_source_features_within_the_tile_precision(loaded, frame, grid_id):
    grid = grids()[grid_id]
    projected = frame.to_crs(grid.epsg)
    tiles = _covering(frame, grid_id)
    assert len(tiles) >= 4  # several tiles: clipping at tile edges is exercised
    compared = 0
    for tile in tiles:
        # Oracle bounds: morecantile's own TileMatrixSet, not the code under test.
        b = morecantile.tms.get(WEB_MERCATOR).xy_bounds(tile.x, tile.y, tile.z)
        if grid_id == LAMBERT_93:
            b = grid.tms.xy_bounds(tile.x, tile.y, tile.z)
        bounds = (b.left, b.bottom, b.right, b.top)
        mvt = loaded.tile(CID, tile, grid=grid)
        decoded = {}
        if mvt.data:
            layer = mapbox_vector_tile.decode(mvt.data)[CID]
            assert layer["extent"] == EXTENT
            decoded = {
                f["properties"]["id"]: shapely.geometry.shape(f["geometry"])
                for f in layer["features"]
            }
        inner = shapely.box(0, 0, EXTENT, EXTENT)
        buffered = shapely.box(-BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
        expected = {}
        for fid, geometry in zip(projected["terr_id"], projected.geometry, strict=True):
            units = _in_tile_units(geometry, bounds)
            if units.intersection(inner).area > 1.0:
                expected[fid] = units.intersection(buffered)
        assert set(expected) <= set(decoded), (tile, set(expected) - set(decoded))
        for fid, got in decoded.items():
            source = _in_tile_units(projected.geometry[projected["terr_id"] == fid].iloc[0], bounds)
            want = expected.get(fid, source.intersection(buffered))
            assert got.hausdorff_distance(want) <= PRECISION, (tile, fid)
            assert abs(got.area - want.area) <= PRECISION * want.length, (tile, fid)
            compared += 1
    assert compared >= len(frame)  # every plot was compared at least once


def test_a_lambert_93_tile_is_not_a_web_mercator_one(loaded, frame):
    # Same z/x/y, two grids: different places, so different contents (the grid is really used).
    tile = _covering(frame, LAMBERT_93)[0]
    lambert = loaded.tile(CID, tile, grid=grids()[LAMBERT_93])
    mercator = loaded.tile(CID, tile, grid=grids()[WEB_MERCATOR])
    assert lambert.features > 0 and mercator.features == 0
