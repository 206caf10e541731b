"""Which tiles of a zoom some feature's box meets (``atlas.stores.occupancy``), against the
tile grid's own bounds, and the embedded store's tiles with and without the shortcut."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from atlas.query.grids import WEB_MERCATOR, grids
from atlas.stores import occupancy
from atlas.stores.embedded import EmbeddedStore
from atlas.stores.occupancy import Occupancy
from atlas.types import TileXYZ
from tests.stores.fixtures import CONTRACT_LAYER, contract_report

GRID = grids()[WEB_MERCATOR]
CID = CONTRACT_LAYER.collection_id


def _meets(box: tuple[float, float, float, float], tile: TileXYZ) -> bool:
    """What the tile statements ask: the box and the tile's bounds meet, edges included."""
    left, bottom, right, top = GRID.bounds(tile)
    return box[2] >= left and box[0] <= right and box[3] >= bottom and box[1] <= top


def _occupancy(z: int, boxes: list[tuple[float, float, float, float]]) -> Occupancy:
    columns = np.array(boxes, dtype=np.float64).T
    return Occupancy.of_boxes(z, *columns)


def test_a_box_inside_a_tile_occupies_that_tile_only():
    tile = TileXYZ(16, 33211, 22608)
    left, bottom, right, top = GRID.bounds(tile)
    box = (left + 100, bottom + 100, left + 200, bottom + 150)
    held = _occupancy(16, [box])
    assert held.may_hold(tile.x, tile.y)
    neighbours = [(tile.x + dx, tile.y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    assert [n for n in neighbours if held.may_hold(*n)] == [(tile.x, tile.y)]
    assert held.tiles == 1


def test_a_box_on_an_edge_occupies_both_tiles_and_a_wide_one_every_tile_it_crosses():
    tile = TileXYZ(15, 16605, 11304)
    left, bottom, right, top = GRID.bounds(tile)
    on_edge = (left - 50, bottom + 10, left, bottom + 20)  # ends exactly on the west edge
    size = right - left
    wide = (left + 10, bottom - 1.5 * size, left + 2.2 * size, bottom - 0.5 * size)
    held = _occupancy(15, [on_edge, wide])
    assert held.may_hold(tile.x, tile.y) and held.may_hold(tile.x - 1, tile.y)
    crossed = {(tile.x + i, tile.y + j) for i in range(3) for j in (1, 2)}
    assert crossed <= {
        (x, y)
        for x in range(tile.x - 2, tile.x + 5)
        for y in range(tile.y - 2, tile.y + 5)
        if held.may_hold(x, y)
    }


def test_random_boxes_agree_with_the_grids_bounds():
    """Never "empty" for a tile a box meets; "may hold" only for tiles a box meets or nearly."""
    rng = np.random.default_rng(20261206)
    z = 14
    origin = GRID.bounds(TileXYZ(z, 8300, 5650))
    size = origin[2] - origin[0]
    x0, y0 = origin[0], origin[1]
    corners = rng.uniform(0, 8 * size, size=(300, 2)) + (x0, y0)
    extents = rng.exponential(0.3 * size, size=(300, 2))
    boxes = [(x, y, x + w, y + h) for (x, y), (w, h) in zip(corners, extents, strict=True)]
    held = _occupancy(z, boxes)
    for x in range(8298, 8312):
        for y in range(5638, 5653):
            tile = TileXYZ(z, x, y)
            meets = any(_meets(b, tile) for b in boxes)
            assert held.may_hold(x, y) == meets, tile


def test_too_many_tiles_to_keep_means_every_tile_may_hold(monkeypatch):
    monkeypatch.setattr(occupancy, "MAX_KEYS", 10)
    left, bottom, right, top = GRID.bounds(TileXYZ(16, 33211, 22608))
    size = right - left
    held = _occupancy(16, [(left, bottom, left + 5 * size, bottom + 5 * size)])
    assert held.tiles is None
    assert held.may_hold(0, 0) and held.may_hold(33211, 22608)


def test_boxes_over_many_tiles_are_kept_as_ranges_and_still_count():
    """A commune-sized box next to parcel-sized ones: its tiles are not keys, yet may hold."""
    z = 16
    left, bottom, right, top = GRID.bounds(TileXYZ(z, 33211, 22608))
    size = right - left
    small = (left + 10, bottom + 10, left + 20, bottom + 20)
    huge = (left - 30 * size, bottom - 20 * size, left - 10 * size, bottom - 5 * size)
    held = _occupancy(z, [small, huge])
    assert held.tiles == 1  # the small box's tile; the huge one is a range
    assert held.may_hold(33211, 22608)
    assert held.may_hold(33211 - 20, 22608 + 10)  # inside the huge box
    assert not held.may_hold(33211 - 5, 22608)  # between the two
    assert not held.may_hold(33211 - 40, 22608 + 10)  # west of the huge box


@pytest.mark.parametrize("z", [12, 14, 16])
def test_embedded_tiles_are_the_same_with_the_shortcut(tmp_path, frame, z):
    """Every tile over the contract plots and a ring of empty tiles around them, and a plot too
    small to be drawn at z12 alone in its tile: the same answers as the store gives when it does
    not know which tiles are empty, and the shortcut taken for some of them."""
    left, bottom = frame.total_bounds[:2]
    tiny = frame.iloc[[0]].copy()
    tiny["terr_id"] = "91228_TERRAIN-ECO_99999"
    tiny["geometry"] = [shapely.box(left - 3000, bottom - 3000, left - 2999.5, bottom - 2999.5)]
    frame = pd.concat([frame, tiny], ignore_index=True)
    store = EmbeddedStore(tmp_path, layers={CID: CONTRACT_LAYER})
    store.write_version(CONTRACT_LAYER, frame, report=contract_report(frame))
    west, south, east, north = Transformer.from_crs(2154, 4326, always_xy=True).transform_bounds(
        *frame.total_bounds
    )
    inner = list(GRID.tms.tiles(west, south, east, north, [z]))
    xs, ys = [t.x for t in inner], [t.y for t in inner]
    tiles = [
        TileXYZ(z, x, y)
        for x in range(min(xs) - 2, max(xs) + 3)
        for y in range(min(ys) - 2, max(ys) + 3)
    ]
    asked = []
    may_hold = store._may_hold
    store._may_hold = lambda *a: asked.append(may_hold(*a)) or asked[-1]
    with_shortcut = [store.tile(CID, t) for t in tiles]
    ring = 4 * (len(set(xs)) + len(set(ys))) + 16
    assert asked.count(False) >= ring  # the ring at least answered without DuckDB
    store._may_hold = lambda *_: True  # every tile asked of DuckDB, as before the shortcut
    without = [store.tile(CID, t) for t in tiles]
    assert with_shortcut == without
    assert sum(1 for t in without if t.features) >= 1


def test_a_feature_not_drawn_at_a_zoom_does_not_occupy_its_tile(tmp_path, frame):
    """Half a metre square (0.75 m in Web Mercator here), 30 km from the others: nothing of it
    is left at z12 (a tile unit is 2.4 m), so its tile is empty there without a statement;
    drawn at z14 and z16."""
    left, bottom = frame.total_bounds[:2]
    tiny = frame.iloc[[0]].copy()
    tiny["terr_id"] = "91228_TERRAIN-ECO_99999"
    tiny["geometry"] = [shapely.box(left - 30_000, bottom, left - 29_999.5, bottom + 0.5)]
    frame = pd.concat([frame, tiny], ignore_index=True)
    store = EmbeddedStore(tmp_path, layers={CID: CONTRACT_LAYER})
    store.write_version(CONTRACT_LAYER, frame, report=contract_report(frame))
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(
        left - 29_999.75, bottom + 0.25
    )
    table = store._table(CID)
    for z, drawn in ((12, False), (14, True), (16, True)):
        t = GRID.tms.tile(lon, lat, z)
        tile = TileXYZ(z, t.x, t.y)
        assert store._may_hold(CID, table, tile) is drawn, z
        assert store.tile(CID, tile).features == int(drawn), z
