"""Per-zoom generalised geometry written at ingest (``atlas.stores.mvt.tile_columns``) on both
stores: a tile's features wholly inside it are drawn from the stored geometry, the others clipped
as before, and tables written before these columns existed are still tiled (the old way), with
the same features within the tile's precision."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from pyproj import Transformer

from atlas.query.grids import WEB_MERCATOR, grids
from atlas.stores.embedded import EmbeddedStore, connect
from atlas.stores.mvt import generalised, generalised_zooms, tile_column_names
from atlas.stores.postgis import PostgisStore, engine_url
from atlas.stores.sql import quote, version_table
from atlas.types import TileXYZ
from tests.stores.fixtures import CONTRACT_LAYER, contract_frame, contract_report

CID = CONTRACT_LAYER.collection_id
GRID = grids()[WEB_MERCATOR]
Z = 15  # a tile about 1.2 km wide: the contract plots (50-150 m) lie inside and across edges
PRECISION = 1.5  # tile units: one of simplification, half of snapping


def _tiles(frame) -> list[TileXYZ]:
    west, south, east, north = Transformer.from_crs(2154, 4326, always_xy=True).transform_bounds(
        *frame.total_bounds
    )
    return [TileXYZ(t.z, t.x, t.y) for t in GRID.tms.tiles(west, south, east, north, [Z])]


def _decoded(store, tile: TileXYZ) -> dict[str, shapely.Geometry]:
    data = store.tile(CID, tile).data
    if not data:
        return {}
    features = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})[CID]
    return {
        f["properties"]["id"]: shapely.geometry.shape(f["geometry"]) for f in features["features"]
    }


def _inside(frame, tile: TileXYZ) -> list[str]:
    """Ids of the features whose Web Mercator box lies within the tile (no clipping needed)."""
    left, bottom, right, top = GRID.bounds(tile)
    boxes = shapely.bounds(frame.to_crs(3857).geometry.values)
    within = (
        (boxes[:, 0] > left) & (boxes[:, 2] < right) & (boxes[:, 1] > bottom) & (boxes[:, 3] < top)
    )
    return list(frame["terr_id"][within])


def _run(store, sql: str) -> None:
    """SQL on the collection's current version table, as its owner would."""
    version = store.collection(CID).version
    if isinstance(store, PostgisStore):
        engine = sa.create_engine(engine_url(store.url))
        table = f"{quote(store.data_schema)}.{quote(version_table(CID, version))}"
        view = f"{quote(store.schema)}.{quote(CID)}"
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(sql.format(table=table, view=view)))
        finally:
            engine.dispose()
        return
    con = connect(str(store.root / CID / f"v{version}.duckdb"))
    try:
        con.execute(sql.format(table="features"))
    finally:
        con.close()


def _reopened(store):
    """A new instance on the same data: what a restarted server would read."""
    if isinstance(store, PostgisStore):
        return PostgisStore(store.url, schema=store.schema, layers={CID: CONTRACT_LAYER})
    return EmbeddedStore(store.root.parent, layers={CID: CONTRACT_LAYER})


def test_generalised_geometry_is_whole_tile_units_of_its_zoom():
    # A 100 m square near Melun in Web Mercator: at z15 a unit is 0.30 m, at z12 2.39 m.
    square = shapely.box(290_000.0, 6_204_000.0, 290_100.0, 6_204_100.0)
    zigzag = shapely.Polygon(
        [(290_000 + i, 6_204_000 + (0.2 if i % 2 else 0)) for i in range(0, 101)]
        + [(290_100, 6_204_100), (290_000, 6_204_100)]
    )
    z15, z12 = (generalised(np.array([square, zigzag]), z, "Polygon") for z in (15, 12))
    unit = 2 * 20037508.342789244 / 2**15 / 4096
    coords = shapely.get_coordinates(z15[0])
    assert np.array_equal(coords, np.round(coords))  # snapped to whole units
    assert coords[:, 0].min() == round((290_000 + 20037508.342789244) / unit)
    assert coords[:, 1].min() == round((20037508.342789244 - 6_204_100) / unit)  # y down
    assert shapely.area(z15[0]) == pytest.approx((100 / unit) ** 2, rel=0.01)
    # The 0.2 m zig-zag is below a unit at z12 and z15: simplified away, only the corners left.
    assert len(shapely.get_coordinates(z12[1])) == 5 and shapely.is_valid(z12[1])
    # Too small to keep one unit at z0: nothing left.
    assert generalised(np.array([square]), 0, "Polygon")[0] is None


def test_the_band_starts_at_the_layers_minzoom():
    assert list(generalised_zooms(CONTRACT_LAYER)) == [12, 13, 14, 15, 16]
    parcels = type(CONTRACT_LAYER)(**{**CONTRACT_LAYER.__dict__, "min_zoom": 13})
    assert list(generalised_zooms(parcels)) == [13, 14, 15, 16]
    assert "mvt_z13" in tile_column_names(parcels) and "mvt_z12" not in tile_column_names(parcels)


def test_a_feature_inside_a_tile_is_drawn_from_its_stored_geometry(loaded, frame):
    tile = max(_tiles(frame), key=lambda t: len(_inside(frame, t)))
    fid = _inside(frame, tile)[0]
    # Replace the stored z15 geometry of one feature by a triangle: the tile must draw it.
    x0, y0 = tile.x * 4096, tile.y * 4096
    corners = [(100, 100), (100, 300), (300, 100), (100, 100)]
    triangle = "POLYGON((" + ", ".join(f"{x0 + x} {y0 + y}" for x, y in corners) + "))"
    value = f"ST_GeomFromText('{triangle}')"
    if not isinstance(loaded, PostgisStore):
        value = f"ST_AsWKB({value})"  # the embedded store keeps them as WKB
    # Our own test values (an id of the fixture, numbers): no outside input in this SQL.
    _run(loaded, f"UPDATE {{table}} SET mvt_z{Z} = {value} WHERE feature_id = '{fid}'")  # noqa: S608
    drawn = _decoded(_reopened(loaded), tile)[fid]
    assert shapely.equals(drawn, shapely.Polygon([(100, 100), (100, 300), (300, 100)]))


def test_every_ring_is_oriented_as_mvt_asks(loaded, frame):
    # MVT 2.1 §4.3.4.4: exterior rings positive by the surveyor's formula in tile coordinates
    # (y down); features drawn from the stored geometry and clipped ones alike.
    rings = 0
    for tile in _tiles(frame):
        data = loaded.tile(CID, tile).data
        features = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
        for feature in features[CID]["features"]:
            geometry = feature["geometry"]
            polygons = (
                [geometry["coordinates"]]
                if geometry["type"] == "Polygon"
                else geometry["coordinates"]
            )
            for polygon in polygons:
                exterior = polygon[0]
                area = sum(
                    exterior[i][0] * exterior[i + 1][1] - exterior[i + 1][0] * exterior[i][1]
                    for i in range(len(exterior) - 1)
                )
                assert area > 0, (tile, feature["properties"]["id"])
                rings += 1
    assert rings > len(frame)


def test_tables_without_the_tile_columns_are_tiled_with_the_same_features(loaded, frame):
    tiles = _tiles(frame)
    assert len(tiles) >= 4 and any(_inside(frame, t) for t in tiles)
    before = {tile: _decoded(loaded, tile) for tile in tiles}
    assert sum(len(d) for d in before.values()) > len(frame)  # features across tile edges too
    drop = ", ".join(f"DROP COLUMN {c} CASCADE" for c in tile_column_names(CONTRACT_LAYER))
    if isinstance(loaded, PostgisStore):  # the collection's view goes with them: made again
        _run(
            loaded,
            f"ALTER TABLE {{table}} {drop}; CREATE VIEW {{view}} AS SELECT * FROM {{table}}",  # noqa: S608
        )
    else:
        loaded.close()  # the file is attached by this process: let go of it first
        # DuckDB drops no column of an indexed table: the table as the previous code wrote it.
        _run(
            loaded,
            f"CREATE TABLE old AS SELECT * EXCLUDE ({', '.join(tile_column_names(CONTRACT_LAYER))})"  # noqa: S608
            " FROM features; DROP TABLE features; ALTER TABLE old RENAME TO features;"
            " CREATE INDEX features_geom_3857 ON features USING RTREE (geom_3857)",
        )
    old = _reopened(loaded)
    for tile in tiles:
        after = _decoded(old, tile)
        assert set(after) == set(before[tile]), tile
        for fid, geometry in after.items():
            assert geometry.hausdorff_distance(before[tile][fid]) <= PRECISION, (tile, fid)
            assert abs(geometry.area - before[tile][fid].area) <= PRECISION * geometry.length


def test_embedded_files_keep_rows_near_each_other_in_small_row_groups(tmp_path):
    # 20,000 plots on a 142 x 142 grid, written in a shuffled order.
    frame = contract_frame(20_000).sample(frac=1.0, random_state=3).reset_index(drop=True)
    store = EmbeddedStore(tmp_path / "data", layers={CID: CONTRACT_LAYER})
    try:
        store.write_version(CONTRACT_LAYER, frame, report=contract_report(frame))
        version = store.collection(CID).version
    finally:
        store.close()
    con = connect(str(tmp_path / "data" / "vector" / CID / f"v{version}.duckdb"))
    try:
        groups = con.execute(
            "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('features')"
        ).fetchone()[0]
        x, y = np.array(
            con.execute("SELECT bbox_xmin, bbox_ymin FROM features ORDER BY rowid").fetchall()
        ).T
    finally:
        con.close()
    assert groups >= 3  # 8,192 rows a group, not DuckDB's 122,880
    # Consecutive rows are neighbours on the ground (Hilbert order): 200 m apart on this grid,
    # where the shuffled input's consecutive rows are ~10 km apart.
    steps = np.hypot(np.diff(x), np.diff(y))
    assert np.median(steps) < 300
