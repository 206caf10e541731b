"""Tile grids against morecantile and pyproj: bounds, matrices, the Lambert-93 grid's definition,
Lambert-93 boxes that contain the tile, and refusals that name what was wrong."""

from __future__ import annotations

import morecantile
import pytest
import shapely
from pyproj import Transformer

from atlas.errors import InvalidInput, NotFound
from atlas.query.grids import LAMBERT_93, WEB_MERCATOR, grid, grids
from atlas.types import TileXYZ


def test_web_mercator_is_morecantile_s():
    reference = morecantile.tms.get("WebMercatorQuad")
    mercator = grid(WEB_MERCATOR)
    for z, x, y in [(0, 0, 0), (12, 2075, 1411), (16, 33200, 22580)]:
        b = reference.xy_bounds(x, y, z)
        assert mercator.bounds(TileXYZ(z, x, y)) == pytest.approx(
            (b.left, b.bottom, b.right, b.top)
        )
    assert mercator.column == "geom_3857" and mercator.epsg == 3857


def test_the_lambert_93_grid_is_a_quad_over_metropolitan_france():
    lambert = grid(LAMBERT_93)
    assert lambert.epsg == 2154 and lambert.column == "geom"
    assert lambert.bounds(TileXYZ(0, 0, 0)) == (0.0, 5_889_280.0, 1_310_720.0, 7_200_000.0)
    for z in (0, 5, 14, 20):
        matrix = lambert.tms.matrix(z)
        assert (matrix.matrixWidth, matrix.matrixHeight) == (2**z, 2**z)
        assert matrix.cellSize == pytest.approx(5120 / 2**z)
    # Metropolitan France and Corsica (EPSG:2154's area of use) fit in the zoom-0 tile.
    to_l93 = Transformer.from_crs(4326, 2154, always_xy=True)
    france = shapely.box(*to_l93.transform_bounds(-4.8, 42.3, 8.2, 51.1))
    assert shapely.box(*lambert.bounds(TileXYZ(0, 0, 0))).contains(france)
    # Registered in morecantile: the TileMatrixSet document round-trips.
    document = lambert.tms.model_dump(mode="json", exclude_none=True)
    assert morecantile.TileMatrixSet.model_validate(document).id == LAMBERT_93


@pytest.mark.parametrize("grid_id", [WEB_MERCATOR, LAMBERT_93])
def test_the_lambert_93_box_contains_the_tile_and_its_buffer(grid_id):
    tile_grid = grid(grid_id)
    tile = tile_grid.covering((2.43, 48.62, 2.44, 48.63), 14)[0]
    left, bottom, right, top = tile_grid.bounds(tile)
    pad = (right - left) * 64 / 4096
    outline = shapely.box(left - pad, bottom - pad, right + pad, top + pad).segmentize(
        (right - left) / 50
    )
    to_l93 = Transformer.from_crs(tile_grid.epsg, 2154, always_xy=True)
    in_l93 = shapely.transform(outline, lambda c: list(zip(*to_l93.transform(*c.T), strict=True)))
    box = tile_grid.bbox_2154(tile)
    assert shapely.box(*box.as_tuple()).buffer(1e-6).contains(in_l93)


def test_addresses_outside_the_grid_name_the_bounds():
    lambert = grid(LAMBERT_93)
    with pytest.raises(InvalidInput, match="zooms 0 to 20"):
        lambert.check(21, 0, 0)
    with pytest.raises(InvalidInput, match="columns 0 to 3 and rows 0 to 3"):
        lambert.check(2, 4, 0)
    with pytest.raises(InvalidInput, match="rows 0 to 1"):
        grid(WEB_MERCATOR).check(1, 0, -1)
    assert grid(WEB_MERCATOR).check(22, 1, 2) == TileXYZ(22, 1, 2)


def test_an_unknown_grid_names_the_served_ones():
    with pytest.raises(NotFound, match="WebMercatorQuad, LambertNinetyThreeQuad"):
        grid("WorldCRS84Quad")
    assert list(grids()) == [WEB_MERCATOR, LAMBERT_93]
