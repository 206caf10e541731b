"""The tile query of both stores (``atlas.stores.mvt``): every field type, the feature cap keeping
the largest features, counts, per-zoom simplification, and stable bytes; oracles are the source
frame, shapely and morecantile."""

from __future__ import annotations

import datetime as dt

import mapbox_vector_tile
import morecantile
import pytest
import shapely
from pyproj import Transformer

from atlas.stores.mvt import tolerance_m
from atlas.types import TileXYZ
from tests.stores.fixtures import CONTRACT_LAYER, contract_frame, contract_report

CID = CONTRACT_LAYER.collection_id
TMS = morecantile.tms.get("WebMercatorQuad")
EVERY_FIELD = tuple(f.name for f in CONTRACT_LAYER.fields)


def _tile_of_everything(frame) -> TileXYZ:
    """The deepest tile that holds every feature of the frame."""
    to_wgs84 = Transformer.from_crs(2154, 4326, always_xy=True)
    xmin, ymin, xmax, ymax = frame.total_bounds
    for z in range(16, 0, -1):
        low = TMS.tile(*to_wgs84.transform(xmin, ymin), z)
        high = TMS.tile(*to_wgs84.transform(xmax, ymax), z)
        if low == high:
            return TileXYZ(z, low.x, low.y)
    raise AssertionError("the frame spans the world")


def _decoded(data: bytes) -> list[dict]:
    return mapbox_vector_tile.decode(data)[CID]["features"]


def test_every_field_type_goes_into_a_tile(loaded, frame):
    tile = _tile_of_everything(frame)
    mvt = loaded.tile(CID, tile, properties=EVERY_FIELD)
    features = {f["properties"]["id"]: f["properties"] for f in _decoded(mvt.data)}
    assert mvt.features == mvt.matched == len(frame) == len(features)
    for row in frame.itertuples(index=False):
        got = features[row.terr_id]
        # Dates and datetimes as ISO 8601 text, datetimes in UTC, on both stores.
        assert got["terr_actu_date"] == row.terr_actu_date.isoformat()
        assert got["terr_maj"] == row.terr_maj.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert got["terr_surf_brute"] == pytest.approx(row.terr_surf_brute)
        assert got["terr_utile"] is row.terr_utile
        assert got.get("terr_nom") == (row.terr_nom if isinstance(row.terr_nom, str) else None)


def test_the_cap_keeps_the_largest_features_and_counts_the_others(loaded, frame):
    tile = _tile_of_everything(frame)
    areas = dict(zip(frame["terr_id"], frame.geometry.to_crs(3857).area, strict=True))
    largest_first = sorted(areas, key=lambda i: (-areas[i], i))
    for limit in (1, 7, 25):
        mvt = loaded.tile(CID, tile, limit=limit)
        kept = sorted(f["properties"]["id"] for f in _decoded(mvt.data))
        assert kept == sorted(largest_first[:limit])
        assert (mvt.features, mvt.matched, mvt.dropped) == (limit, len(frame), len(frame) - limit)
    assert loaded.tile(CID, tile, limit=0).data == b""


def test_the_same_tile_is_the_same_bytes(loaded, frame):
    tile = _tile_of_everything(frame)
    first = loaded.tile(CID, tile, properties=EVERY_FIELD, limit=30)
    assert first.data and loaded.tile(CID, tile, properties=EVERY_FIELD, limit=30) == first


def test_geometry_is_simplified_for_the_zoom(store):
    # One ring of 2,000 vertices: at z10 a tile unit is ~9.8 m, so the 1 m zig-zag goes.
    x0, y0 = 655_000.0, 6_835_000.0
    ring = [
        (x0 + 2 * i + (0.5 if i % 2 else 0.0), y0 + (0.5 if i % 2 else 0.0)) for i in range(1000)
    ]
    ring += [(x0 + 2000 - 2 * i, y0 + 800 + (0.5 if i % 2 else 0.0)) for i in range(1000)]
    polygon = shapely.Polygon(ring)
    frame = contract_frame(1)
    frame["geometry"] = [polygon]
    store.write_version(CONTRACT_LAYER, frame, report=contract_report(frame))
    vertices = {}
    for z in (10, 16):
        centre = Transformer.from_crs(2154, 4326, always_xy=True).transform(x0 + 1000, y0 + 10)
        t = TMS.tile(*centre, z)
        (feature,) = _decoded(store.tile(CID, TileXYZ(z, t.x, t.y)).data)
        vertices[z] = len(shapely.geometry.shape(feature["geometry"]).exterior.coords)
    assert tolerance_m(10, 4096) == pytest.approx(9.55, abs=0.01)
    assert vertices[10] < 50 < vertices[16]
