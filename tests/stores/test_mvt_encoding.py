"""The numpy MVT encoder (``atlas.stores.mvt_encoding``), read back by two decoders that are
not ours: mapbox_vector_tile (protobuf) and, for whole layers, GDAL's MVT driver."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal

import mapbox_vector_tile
import numpy as np
import pytest
import shapely

from atlas.stores.mvt_encoding import LINESTRING, POINT, POLYGON, encode_layer, geometry_kind


def _decoded(data: bytes, name: str = "t") -> list[dict]:
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})[name]["features"]


def _surveyor(ring: list[list[float]]) -> float:
    return sum(
        ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1] for i in range(len(ring) - 1)
    )


def _array(*geometries) -> np.ndarray:
    return np.array(list(geometries), dtype=object)


def test_polygons_keep_their_rings_oriented_as_mvt_asks_whoever_drew_them():
    shell = [(10, 10), (100, 10), (100, 100), (10, 100)]
    hole = [(20, 20), (20, 30), (30, 30), (30, 20)]
    ours = shapely.Polygon(shell, [hole])
    reversed_ = shapely.Polygon(shell[::-1], [hole[::-1]])
    data, n, _ = encode_layer("t", _array(ours, reversed_), {"id": ["a", "b"]}, kind=POLYGON)
    assert n == 2
    for feature in _decoded(data):
        exterior, interior = feature["geometry"]["coordinates"]
        # MVT 2.1 §4.3.4.4: exterior rings positive by the surveyor's formula in tile
        # coordinates (y down), interior ones negative.
        assert _surveyor(exterior) > 0 > _surveyor(interior)
        assert shapely.geometry.shape(feature["geometry"]).equals(ours)


def test_multipolygons_lines_and_points_come_back_whole():
    multi = shapely.MultiPolygon([shapely.box(200, 200, 300, 300), shapely.box(400, 400, 500, 500)])
    data, _, _ = encode_layer("t", _array(multi), {"id": ["m"]}, kind=POLYGON)
    assert shapely.geometry.shape(_decoded(data)[0]["geometry"]).equals(multi)
    lines = shapely.MultiLineString([[(0, 0), (10, 0), (10, 10)], [(50, 50), (60, 70)]])
    data, _, _ = encode_layer("t", _array(lines), {"id": ["l"]}, kind=LINESTRING)
    assert shapely.geometry.shape(_decoded(data)[0]["geometry"]).equals(lines)
    points = shapely.MultiPoint([(1, 2), (3, 4), (4000, 4090)])
    data, _, _ = encode_layer(
        "t", _array(points, shapely.Point(7, 8)), {"id": ["p", "q"]}, kind=POINT
    )
    first, second = _decoded(data)
    assert shapely.geometry.shape(first["geometry"]).equals(points)
    # The cursor starts again at (0, 0) for each feature (MVT 2.1 §4.3.1).
    assert second["geometry"]["coordinates"] == [7, 8]


def test_offsets_move_global_units_to_the_tiles():
    square = shapely.box(8192 + 10, 4096 + 20, 8192 + 30, 4096 + 40)
    data, _, _ = encode_layer(
        "t",
        _array(square, shapely.box(1, 1, 5, 5)),
        {"id": ["g", "t"]},
        kind=POLYGON,
        offsets=np.array([[8192, 4096], [0, 0]]),
    )
    got = {f["properties"]["id"]: shapely.geometry.shape(f["geometry"]) for f in _decoded(data)}
    assert got["g"].equals(shapely.box(10, 20, 30, 40)) and got["t"].equals(shapely.box(1, 1, 5, 5))


def test_degenerate_geometries_are_no_features_and_properties_stay_aligned():
    flat = shapely.Polygon([(0, 0), (10, 0), (20, 0)])  # no area
    shell_gone = shapely.Polygon([(0, 0), (0, 0), (0, 0), (0, 0)])
    point_line = shapely.LineString([(5, 5), (5, 5)])
    good = shapely.box(0, 0, 10, 10)
    data, n, _ = encode_layer(
        "t",
        _array(flat, None, shapely.Polygon(), shell_gone, good),
        {"id": ["flat", "none", "empty", "gone", "good"], "v": [1, 2, 3, 4, 5]},
        kind=POLYGON,
    )
    assert n == 1
    (feature,) = _decoded(data)
    assert feature["properties"] == {"id": "good", "v": 5}
    data, n, _ = encode_layer(
        "t",
        _array(point_line, shapely.LineString([(0, 0), (0, 0), (3, 4)])),
        {"id": ["dot", "line"]},
        kind=LINESTRING,
    )
    assert n == 1 and _decoded(data)[0]["geometry"]["coordinates"] == [[0, 0], [3, 4]]
    assert encode_layer("t", _array(None), {"id": ["x"]}, kind=POINT) == (b"", 0, 0)
    assert encode_layer("t", _array(), {}, kind=POINT) == (b"", 0, 0)


def test_a_limit_keeps_the_first_drawable_features_and_counts_them_all():
    flat = shapely.Polygon([(0, 0), (10, 0), (20, 0)])  # nothing to draw: neither kept nor counted
    squares = [shapely.box(i * 10, 0, i * 10 + 5, 5) for i in range(5)]
    geometries = _array(squares[0], flat, *squares[1:])
    ids = ["a", "flat", "b", "c", "d", "e"]
    data, kept, drawable = encode_layer("t", geometries, {"id": ids}, kind=POLYGON, limit=3)
    assert (kept, drawable) == (3, 5)
    assert [f["properties"]["id"] for f in _decoded(data)] == ["a", "b", "c"]
    assert encode_layer("t", geometries, {"id": ids}, kind=POLYGON, limit=0) == (b"", 0, 5)


def test_features_without_tags_anywhere_in_the_layer():
    boxes = [shapely.box(i * 10, 0, i * 10 + 5, 5) for i in range(4)]
    for values in (["x", None, "y", None], [None, "x", None, None], [None] * 4):
        data, n, _ = encode_layer("t", _array(*boxes), {"v": values}, kind=POLYGON)
        got = [f["properties"].get("v") for f in _decoded(data)]
        assert n == 4 and got == values


def test_values_of_every_kind_and_missing_ones():
    squares = _array(*(shapely.box(i * 10, 0, i * 10 + 5, 5) for i in range(4)))
    data, _, _ = encode_layer(
        "t",
        squares,
        {
            "id": ["a", "b", "c", "d"],
            "text": ["x", "é ü", None, "x"],
            "count": [0, -3, 2**40, None],
            "price": [1.5, float("nan"), Decimal("2.25"), -0.5],
            "open": [True, False, None, True],
        },
        kind=POLYGON,
    )
    got = {f["properties"]["id"]: f["properties"] for f in _decoded(data)}
    assert got["a"] == {"id": "a", "text": "x", "count": 0, "price": 1.5, "open": True}
    assert got["b"] == {"id": "b", "text": "é ü", "count": -3, "open": False}
    assert got["c"] == {"id": "c", "count": 2**40, "price": 2.25}
    assert got["d"] == {"id": "d", "text": "x", "price": -0.5, "open": True}
    layer = mapbox_vector_tile.decode(data)["t"]
    assert layer["extent"] == 4096 and layer["version"] == 2


def test_the_layer_kind_follows_the_declared_geometry():
    assert geometry_kind("MultiPolygon") == POLYGON
    assert geometry_kind("LineString") == LINESTRING
    assert geometry_kind("Point") == POINT


@pytest.mark.gdal_cli
def test_gdal_reads_the_encoded_layer(tmp_path):
    polygons = _array(
        shapely.Polygon(
            [(10, 10), (100, 10), (100, 100), (10, 100)], [[(20, 20), (20, 30), (30, 30), (30, 20)]]
        ),
        shapely.MultiPolygon([shapely.box(200, 200, 300, 300), shapely.box(400, 400, 500, 500)]),
    )
    data, _, _ = encode_layer("plots", polygons, {"id": ["a", "b"], "n": [1, 2]}, kind=POLYGON)
    path = tmp_path / "0.mvt"
    path.write_bytes(data)
    out = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", str(path), "plots"],
        capture_output=True,
        text=True,
        check=True,
    )
    layer = json.loads(out.stdout)
    assert layer["name"] == "plots"
    features = {f["properties"]["id"]: f for f in layer["features"]}
    assert features["a"]["properties"]["n"] == 1
    # GDAL gives the layer's one type (MultiPolygon) to every feature: a holed square stays one
    # polygon with its hole, the pair of squares two polygons.
    a, b = (shapely.geometry.shape(features[i]["geometry"]) for i in ("a", "b"))
    assert shapely.get_num_geometries(a) == 1 and shapely.get_num_interior_rings(a.geoms[0]) == 1
    assert a.area == 90 * 90 - 10 * 10
    assert shapely.get_num_geometries(b) == 2 and b.area == 2 * 100 * 100
