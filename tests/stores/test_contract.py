"""The store contract, run on both stores; oracles are shapely, morecantile and mapbox-vector-tile."""

from __future__ import annotations

import datetime as dt

import mapbox_vector_tile
import morecantile
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from atlas.errors import EmptyCollection, InvalidInput, UnknownCollection
from atlas.query.features import FeatureQuery, SortKey
from atlas.query.filters import Comparison
from atlas.stores.base import MvtTile
from atlas.types import BBox, TileXYZ
from tests.stores.fixtures import CONTRACT_LAYER, contract_report

CID = CONTRACT_LAYER.collection_id


def _ids(page):
    return sorted(f.id for f in page.features)


def test_empty_store_has_no_collection(store):
    assert store.collections() == []
    with pytest.raises((EmptyCollection, UnknownCollection)):
        store.collection(CID)
    with pytest.raises(UnknownCollection):
        store.collection("no-such-thing")


def test_write_then_describe(loaded, frame):
    info = loaded.collection(CID)
    assert info.count == len(frame)
    assert info.version == 1
    assert info.bbox == pytest.approx(tuple(frame.total_bounds), abs=1e-6)
    assert [c.id for c in loaded.collections()] == [CID]


def test_values_round_trip_with_types(loaded, frame):
    row = frame.iloc[14]
    feature = _by_id(loaded, CID, row["terr_id"])
    assert feature.properties["terr_surf_brute"] == pytest.approx(row["terr_surf_brute"])
    assert feature.properties["nb_lots"] is None and pd.isna(row["nb_lots"])
    other = _by_id(loaded, CID, frame.iloc[15]["terr_id"])
    assert other.properties["nb_lots"] == int(frame.iloc[15]["nb_lots"])
    assert feature.properties["terr_utile"] is bool(row["terr_utile"])
    assert feature.properties["terr_actu_date"] == row["terr_actu_date"]
    assert isinstance(feature.properties["terr_actu_date"], dt.date)
    assert feature.properties["ban-id"] is None and pd.isna(row["ban-id"])
    assert (
        _by_id(loaded, CID, frame.iloc[0]["terr_id"]).properties["ban-id"]
        == frame.iloc[0]["ban-id"]
    )
    assert feature.geometry.equals_exact(row.geometry, 1e-6)


def test_unknown_feature_is_absent(loaded):
    assert loaded.query(CID, FeatureQuery(ids=("nope",), limit=1)).features == []


def test_bbox_matches_shapely(loaded, frame):
    box = (655_150.0, 6_835_150.0, 655_700.0, 6_835_900.0)
    page = loaded.query(CID, FeatureQuery(bbox=BBox(*box), limit=1000))
    expected = sorted(frame[frame.intersects(shapely.box(*box))]["terr_id"])
    assert _ids(page) == expected
    assert page.number_matched == len(expected) > 0


@pytest.mark.parametrize(
    ("comparison", "predicate"),
    [
        (
            Comparison("site_id", "=", "91228_SITE-ECO_00001"),
            lambda r: r["site_id"] == "91228_SITE-ECO_00001",
        ),
        (Comparison("terr_m2_prix", ">=", 80.0), lambda r: r["terr_m2_prix"] >= 80),
        (Comparison("terr_m2_prix", "<", 45), lambda r: r["terr_m2_prix"] < 45),
        (
            Comparison("nb_lots", "in", [1, 3]),
            lambda r: not pd.isna(r["nb_lots"]) and r["nb_lots"] in (1, 3),
        ),
        (Comparison("nb_lots", "is null"), lambda r: pd.isna(r["nb_lots"])),
        (
            Comparison("ban-id", "like", "91228_001%"),
            lambda r: str(r["ban-id"]).startswith("91228_001"),
        ),
        (Comparison("terr_utile", "=", True), lambda r: bool(r["terr_utile"])),
        (
            Comparison("terr_actu_date", ">", dt.date(2024, 6, 30)),
            lambda r: r["terr_actu_date"] > dt.date(2024, 6, 30),
        ),
    ],
)
def test_attribute_filters(loaded, frame, comparison, predicate):
    page = loaded.query(CID, FeatureQuery(where=(comparison,), limit=1000))
    expected = sorted(r["terr_id"] for _, r in frame.iterrows() if predicate(r))
    assert _ids(page) == expected


def test_paging_sorting_and_counts(loaded, frame):
    query = FeatureQuery(sortby=(SortKey("terr_m2_prix", descending=True),), limit=7, offset=14)
    page = loaded.query(CID, query)
    expected = list(frame.sort_values("terr_m2_prix", ascending=False)["terr_id"])[14:21]
    assert [f.id for f in page.features] == expected
    assert page.number_matched == len(frame)
    assert page.number_returned == 7
    last = loaded.query(CID, FeatureQuery(limit=50, offset=len(frame) - 3))
    assert last.number_returned == 3 and last.number_matched == len(frame)


def test_ids_and_properties_subset(loaded, frame):
    wanted = tuple(frame["terr_id"].iloc[[3, 9, 27]])
    page = loaded.query(CID, FeatureQuery(ids=wanted, properties=("terr_m2_prix",)))
    assert _ids(page) == sorted(wanted)
    assert all(set(f.properties) == {"terr_m2_prix"} for f in page.features)


def test_intersects_and_within_distance_match_shapely(loaded, frame):
    area = shapely.Point(655_800, 6_835_800).buffer(330)
    page = loaded.query(CID, FeatureQuery(intersects=area, limit=1000))
    assert _ids(page) == sorted(frame[frame.intersects(area)]["terr_id"])
    point = shapely.Point(655_500, 6_835_500)
    page = loaded.query(CID, FeatureQuery(within_distance=(point, 250.0), limit=1000))
    assert _ids(page) == sorted(frame[frame.distance(point) <= 250]["terr_id"])
    assert page.number_matched > 0


def test_unknown_field_and_hostile_value(loaded):
    with pytest.raises(InvalidInput):
        loaded.query(CID, FeatureQuery(where=(Comparison('x"; DROP TABLE features; --', "=", 1),)))
    with pytest.raises(InvalidInput):
        loaded.query(CID, FeatureQuery(sortby=(SortKey("1; select pg_sleep(10)"),)))
    page = loaded.query(CID, FeatureQuery(where=(Comparison("site_id", "=", "x' OR '1'='1"),)))
    assert page.number_matched == 0
    assert loaded.collection(CID).count == 60


def test_filter_value_of_wrong_type_is_invalid_input(loaded):
    with pytest.raises(InvalidInput):
        loaded.query(CID, FeatureQuery(where=(Comparison("terr_m2_prix", ">", "not-a-number"),)))


def test_tile_matches_source_features(loaded, frame):
    tms = morecantile.tms.get("WebMercatorQuad")
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(655_600, 6_835_600)
    tile = tms.tile(lon, lat, 15)
    data = loaded.tile(CID, TileXYZ(tile.z, tile.x, tile.y), properties=("site_id",)).data
    decoded = mapbox_vector_tile.decode(data)
    features = decoded[CID]["features"]
    got = sorted(f["properties"]["id"] for f in features)
    bounds = tms.xy_bounds(tile)
    envelope = shapely.box(bounds.left, bounds.bottom, bounds.right, bounds.top)
    projected = frame.geometry.to_crs(3857)
    expected = sorted(frame[projected.intersects(envelope)]["terr_id"])
    assert got == expected and got
    assert all("site_id" in f["properties"] for f in features)
    assert decoded[CID]["extent"] == 4096


def test_tile_outside_data_is_empty(loaded):
    assert loaded.tile(CID, TileXYZ(10, 0, 0)) == MvtTile(b"", 0, 0)


def test_new_version_replaces_and_history_is_kept(loaded, frame):
    smaller = frame.iloc[:10]
    info = loaded.write_version(CONTRACT_LAYER, smaller, report=contract_report(smaller))
    assert info.version == 2
    assert loaded.collection(CID).count == 10
    assert loaded.query(CID, FeatureQuery(limit=1000)).number_matched == 10
    assert [v.version for v in loaded.versions(CID)] == [2, 1]


def test_failed_write_leaves_previous_version(loaded, frame):
    broken = frame.copy()
    broken.loc[5, "terr_id"] = broken.loc[4, "terr_id"]  # duplicate id: the store refuses it
    with pytest.raises(Exception):  # noqa: B017 - any failure; what matters is what stays served
        loaded.write_version(CONTRACT_LAYER, broken, report=contract_report(broken))
    assert loaded.collection(CID).version == 1
    assert loaded.query(CID, FeatureQuery(limit=1000)).number_matched == len(frame)
    again = loaded.write_version(
        CONTRACT_LAYER, frame.iloc[:5], report=contract_report(frame.iloc[:5])
    )
    assert loaded.collection(CID).count == 5 and again.version >= 2


def _by_id(store, collection_id: str, feature_id: str):
    """One feature through the contract's query (the store has no by-id method of its own)."""
    (feature,) = store.query(collection_id, FeatureQuery(ids=(feature_id,), limit=1)).features
    return feature
