"""The filter tree on both stores (part of the contract suite): FeatureQuery.filter, count(),
frame() and tile filters, against a pandas/shapely oracle with SQL three-valued logic.

Every test here only reads, so one store of each kind is loaded once for the module.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import geopandas as gpd
import mapbox_vector_tile
import morecantile
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from atlas.errors import InvalidInput
from atlas.query.cql2 import parse_filter
from atlas.query.features import FeatureQuery, SortKey, query_field_names
from atlas.query.filters import (
    And,
    Between,
    Comparison,
    In,
    IsNull,
    Like,
    Not,
    Or,
    SpatialPredicate,
)
from atlas.types import TileXYZ
from tests.stores.fixtures import CONTRACT_LAYER, NAMES, contract_frame, contract_report
from tests.stores.oracle import matching_ids
from tests.stores.postgis_fixtures import make_postgis_store, postgis_test_url

CID = CONTRACT_LAYER.collection_id
LAYERS = {CID: CONTRACT_LAYER}


@pytest.fixture(scope="module")
def frame():
    return contract_frame()


@pytest.fixture(
    scope="module", params=["embedded", pytest.param("postgis", marks=pytest.mark.postgis)]
)
def loaded(request, frame, tmp_path_factory):
    """A store of each kind holding the contract frame, shared by the module's read-only tests."""
    if request.param == "embedded":
        from atlas.stores.embedded import EmbeddedStore

        store = EmbeddedStore(tmp_path_factory.mktemp("filters"), layers=LAYERS)
    else:
        store = make_postgis_store(postgis_test_url(), layers=LAYERS)
    try:
        store.write_version(CONTRACT_LAYER, frame, report=contract_report(frame))
        yield store
    finally:
        if request.param == "postgis":
            store.drop_schema()
        store.close()


def _ids(page):
    return sorted(f.id for f in page.features)


# -- the filter tree (FeatureQuery.filter, tile filters, count, frame) ---------------------------

CENTRE = shapely.Point(655_800, 6_835_800)
AREA = CENTRE.buffer(330)
ACROSS = shapely.LineString([(654_990, 6_835_090), (656_700, 6_836_300)])


def _plot(frame, index):
    return frame.geometry.iloc[index]


def _spatial_cases(frame):
    plot = _plot(frame, 9)
    xmin, ymin, xmax, ymax = plot.bounds
    return [
        SpatialPredicate("intersects", AREA),
        SpatialPredicate("within", shapely.box(655_000, 6_835_000, 656_000, 6_836_000)),
        SpatialPredicate("contains", plot.centroid),
        SpatialPredicate("disjoint", AREA),
        SpatialPredicate("equals", plot),
        SpatialPredicate("touches", shapely.box(xmax, ymin, xmax + 5, ymax)),
        SpatialPredicate("crosses", ACROSS),
        SpatialPredicate("overlaps", AREA),
    ]


FILTERS = [
    Comparison("terr_nom", "=", "Les Épinettes"),
    Comparison("terr_nom", "!=", "Les Épinettes"),
    Comparison("terr_m2_prix", ">", 70),
    Comparison("nb_lots", "<=", 2),
    Comparison("terr_utile", "=", False),
    Comparison("terr_actu_date", ">=", dt.date(2024, 10, 1)),
    Comparison("terr_maj", "<", dt.datetime(2024, 5, 10, 12, tzinfo=dt.UTC)),
    Comparison("terr_nom", "<", "Parc"),  # byte order in both stores
    Between("terr_m2_prix", 50, 60.5),
    Between("terr_actu_date", dt.date(2024, 3, 1), dt.date(2024, 6, 30)),
    Between("terr_nom", "A", "Z"),
    Like("terr_nom", "%pinettes"),
    Like("terr_nom", "les%"),  # case-sensitive: only the lower-case one
    Like("terr_nom", "Saint_%"),
    Like("terr_nom", "100\\% b%"),  # an escaped wildcard is a plain character
    Like("terr_nom", "%\\_%"),
    Like("terr_nom", "%\\\\%"),
    In("nb_lots", (0, 4)),
    In("terr_nom", ("LES EPINETTES", "東京 🏭", "nope")),
    In("site_id", ()),
    IsNull("nb_lots"),
    IsNull("terr_nom"),
    Not(IsNull("ban-id")),
    Not(Comparison("nb_lots", "=", 1)),  # NULL stays NULL under NOT: those plots are left out
    Not(In("nb_lots", (1, 2))),
    Comparison("terr_nom", "=", "les epinettes", casei=True, accenti=True),
    Comparison("terr_nom", "=", "LES ÉPINETTES", casei=True),
    Comparison("terr_nom", "=", "Saint-Eloi", accenti=True),
    Like("terr_nom", "saint-%", casei=True, accenti=True),
    In("terr_nom", ("les epinettes", "SAINT-ELOI"), casei=True, accenti=True),
    And(Comparison("terr_m2_prix", ">=", 50), Comparison("terr_utile", "=", True)),
    Or(Comparison("nb_lots", "=", 3), Like("site_id", "%2")),
    And(
        Or(Comparison("nb_lots", ">", 2), IsNull("nb_lots")),
        Not(
            Or(Comparison("site_id", "=", "91228_SITE-ECO_00001"), Between("terr_m2_prix", 60, 80))
        ),
        Or(Not(Comparison("terr_utile", "=", True)), Not(Not(Like("terr_nom", "%é%")))),
    ),
    Not(And(Comparison("terr_m2_prix", "<", 70), Comparison("nb_lots", "=", 2))),
    And(),
    Or(),
]


@pytest.mark.parametrize("expression", FILTERS, ids=repr)
def test_filter_tree_matches_the_oracle(loaded, frame, expression):
    page = loaded.query(CID, FeatureQuery(filter=expression, limit=1000))
    expected = matching_ids(frame, expression, "terr_id")
    assert _ids(page) == expected
    trivial = expression in (In("site_id", ()), And(), Or())
    assert trivial or 0 < len(expected) < len(frame)  # the case really tells rows apart
    assert page.number_matched == len(expected)
    assert loaded.count(CID, FeatureQuery(filter=expression)) == len(expected)


@pytest.mark.parametrize("index", range(8))
def test_spatial_predicates_match_shapely(loaded, frame, index):
    predicate = _spatial_cases(frame)[index]
    page = loaded.query(CID, FeatureQuery(filter=predicate, limit=1000))
    method = "geom_equals" if predicate.op == "equals" else predicate.op
    expected = sorted(frame[getattr(frame.geometry, method)(predicate.geometry)]["terr_id"])
    assert _ids(page) == expected and expected
    mixed = And(predicate, Not(Comparison("terr_utile", "=", True)))
    assert _ids(loaded.query(CID, FeatureQuery(filter=mixed, limit=1000))) == matching_ids(
        frame, mixed, "terr_id"
    )


def test_where_filter_and_spatial_criteria_are_all_anded(loaded, frame):
    filter_ = Or(Comparison("nb_lots", "=", 1), Like("terr_nom", "%Épinettes"))
    query = FeatureQuery(
        where=(Comparison("terr_utile", "=", True),),
        filter=filter_,
        intersects=shapely.box(655_000, 6_835_000, 656_200, 6_836_600),
        limit=1000,
    )
    expected = matching_ids(
        frame[frame.intersects(query.intersects)],
        And(*query.where, filter_),
        "terr_id",
    )
    assert _ids(loaded.query(CID, query)) == expected and expected


@pytest.mark.parametrize("value", [n for n in NAMES if n is not None] + ["", "%", "_", "'", "\\"])
def test_hostile_strings_are_plain_values(loaded, frame, value):
    escaped = "".join("\\" + c if c in "%_\\" else c for c in value)
    for expression in (
        Comparison("terr_nom", "=", value),
        In("terr_nom", (value, "another")),
        Like("terr_nom", escaped),
        Like("terr_nom", f"%{escaped}%", casei=True),
        Not(Comparison("terr_nom", "=", value, casei=True, accenti=True)),
    ):
        page = loaded.query(CID, FeatureQuery(filter=expression, limit=1000))
        assert _ids(page) == matching_ids(frame, expression, "terr_id"), expression
    assert loaded.collection(CID).count == len(frame)


@pytest.mark.parametrize(
    "expression",
    [
        Comparison("terr_m2_prix", ">", "12"),
        Comparison("nb_lots", "=", True),
        Comparison("terr_utile", "=", "true"),
        Comparison("terr_actu_date", "<", "2024-02-30"),
        Comparison("terr_actu_date", "=", 20240101),
        Comparison("terr_maj", ">", "yesterday"),
        Comparison("site_id", "=", 91228),
        Comparison("site_id", "=", None),
        Comparison("terr_m2_prix", "=", float("nan")),
        Between("terr_m2_prix", 1, "x"),
        In("nb_lots", (1, "2")),
        Like("terr_m2_prix", "4%"),
        Like("terr_nom", "abc\\"),
        Comparison("nb_lots", "=", 1, casei=True),
        Comparison("terr_nom", "=", "a\x00b"),
        Comparison("terr_nom", "=", "\ud800"),
        Or(IsNull("site_id"), Comparison("terr_surf_brute", "<=", [1, 2])),
    ],
    ids=repr,
)
def test_literal_of_the_wrong_type_is_invalid_input(loaded, expression):
    with pytest.raises(InvalidInput) as caught:
        loaded.query(CID, FeatureQuery(filter=expression))
    assert "Error" not in caught.value.description and "SELECT" not in caught.value.description
    with pytest.raises(InvalidInput):
        loaded.count(CID, FeatureQuery(filter=expression))
    with pytest.raises(InvalidInput):
        loaded.tile(CID, TileXYZ(15, 16_592, 11_283), filter=expression)


def test_typed_literals_are_converted_not_refused(loaded, frame):
    as_text = Comparison("terr_actu_date", ">=", "2024-10-01")
    as_date = Comparison("terr_actu_date", ">=", dt.date(2024, 10, 1))
    assert _ids(loaded.query(CID, FeatureQuery(filter=as_text, limit=1000))) == matching_ids(
        frame, as_date, "terr_id"
    )
    naive = Comparison("terr_maj", "<", dt.datetime(2024, 5, 3))  # read as UTC
    aware = Comparison("terr_maj", "<", dt.datetime(2024, 5, 3, tzinfo=dt.UTC))
    assert _ids(loaded.query(CID, FeatureQuery(filter=naive, limit=1000))) == matching_ids(
        frame, aware, "terr_id"
    )
    half = Comparison("nb_lots", "<", 2.5)
    assert _ids(loaded.query(CID, FeatureQuery(filter=half, limit=1000))) == matching_ids(
        frame, half, "terr_id"
    )


def test_fields_inside_the_tree_are_checked_and_reported(loaded):
    hidden = And(Comparison("site_id", "=", "x"), Or(IsNull("terr_owner"), Like("ban-id", "9%")))
    query = FeatureQuery(filter=hidden, sortby=(SortKey("nb_lots"),), properties=("site_id",))
    assert query_field_names(query) == [
        "site_id",
        "terr_owner",
        "ban-id",
        "nb_lots",
        "site_id",
    ]
    with pytest.raises(InvalidInput, match="^unknown field 'terr_owner'$"):
        loaded.query(CID, query)
    with pytest.raises(InvalidInput, match="^unknown field 'terr_owner'$"):
        loaded.count(CID, query)
    with pytest.raises(InvalidInput, match="^unknown field 'terr_owner'$"):
        loaded.frame(CID, query)
    with pytest.raises(InvalidInput, match="^unknown field 'terr_owner'$"):
        loaded.tile(CID, TileXYZ(15, 16_592, 11_283), filter=hidden)
    with pytest.raises(InvalidInput):
        loaded.query(CID, FeatureQuery(filter=Comparison('x"; DROP TABLE features; --', "=", 1)))


def _tile_of(x, y, z=14):
    tms = morecantile.tms.get("WebMercatorQuad")
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(x, y)
    tile = tms.tile(lon, lat, z)
    return TileXYZ(tile.z, tile.x, tile.y), tms.xy_bounds(tile)


def test_tile_row_filter_drops_the_rows_it_excludes(loaded, frame):
    tile, b = _tile_of(655_700, 6_835_700)
    envelope = shapely.box(b.left, b.bottom, b.right, b.top)
    in_tile = frame[frame.geometry.to_crs(3857).intersects(envelope)]
    on_market = In("terr_nom", ("Les Épinettes", "Saint-Éloi", "x' OR '1'='1"))
    data = loaded.tile(CID, tile, properties=("terr_nom",), filter=on_market).data
    features = mapbox_vector_tile.decode(data)[CID]["features"]
    got = sorted(f["properties"]["id"] for f in features)
    expected = matching_ids(in_tile, on_market, "terr_id")
    assert got == expected and expected
    assert len(expected) < len(in_tile)  # the filter did exclude rows of this tile
    assert {f["properties"]["terr_nom"] for f in features} <= set(on_market.values)
    unfiltered = mapbox_vector_tile.decode(loaded.tile(CID, tile).data)[CID]["features"]
    assert len(unfiltered) == len(in_tile)
    spatial = And(on_market, SpatialPredicate("intersects", AREA))
    data = loaded.tile(CID, tile, filter=spatial).data
    got = sorted(f["properties"]["id"] for f in mapbox_vector_tile.decode(data)[CID]["features"])
    assert got == matching_ids(in_tile, spatial, "terr_id")
    assert loaded.tile(CID, tile, filter=In("terr_nom", ())).data == b""


def _page_frame(page, names):
    rows = [{"terr_id": f.id, **f.properties} for f in page.features]
    return pd.DataFrame(rows, columns=list(dict.fromkeys(["terr_id", *names])))


def test_frame_holds_what_query_returns(loaded, frame):
    expression = Or(Comparison("terr_m2_prix", ">", 75), IsNull("nb_lots"))
    query = FeatureQuery(filter=expression, sortby=(SortKey("terr_m2_prix", descending=True),))
    got = loaded.frame(CID, query)
    page = loaded.query(CID, dataclasses.replace(query, limit=1000))
    assert isinstance(got, gpd.GeoDataFrame) and got.crs.to_epsg() == 2154
    assert list(got.columns) == [*CONTRACT_LAYER.field_names, "geometry"]
    assert list(got["terr_id"]) == [f.id for f in page.features]  # same order
    assert list(got.index) == list(range(len(got)))
    for position, feature in enumerate(page.features):
        row = got.iloc[position]
        for name, value in feature.properties.items():
            assert _same(row[name], value), (name, row[name], value)
        assert row.geometry.equals_exact(feature.geometry, 1e-6)
    assert str(got["nb_lots"].dtype) == "Int64" and str(got["terr_utile"].dtype) == "boolean"
    assert got["terr_m2_prix"].dtype == "float64"
    assert all(isinstance(v, dt.date) for v in got["terr_actu_date"])
    assert str(got["terr_maj"].dtype).startswith("datetime64") and got["terr_maj"].dt.tz is not None


def _same(left, right):
    if right is None:
        return left is None or pd.isna(left)
    if isinstance(right, dt.datetime):
        return pd.Timestamp(left) == pd.Timestamp(right)
    return left == right


def test_frame_of_everything_round_trips_the_written_frame(loaded, frame):
    got = loaded.frame(CID)
    assert len(got) == len(frame)
    expected = frame.sort_values("terr_id").reset_index(drop=True)
    assert list(got["terr_id"]) == list(expected["terr_id"])
    assert got.geometry.geom_equals_exact(expected.geometry, 1e-6).all()
    pd.testing.assert_series_equal(
        got["terr_m2_prix"], expected["terr_m2_prix"].astype("float64"), check_names=False
    )
    assert list(got["terr_nom"].where(got["terr_nom"].notna(), None)) == list(expected["terr_nom"])


def test_frame_subset_and_empty(loaded):
    subset = loaded.frame(CID, FeatureQuery(properties=("site_id", "nb_lots"), limit=3))
    assert list(subset.columns) == ["site_id", "nb_lots", "geometry"]
    assert len(subset) == 60  # paging does not apply to a frame
    empty = loaded.frame(CID, FeatureQuery(filter=In("site_id", ())))
    assert len(empty) == 0 and empty.crs.to_epsg() == 2154
    assert list(empty.columns) == [*CONTRACT_LAYER.field_names, "geometry"]


def test_cql2_filters_run_the_same_on_the_store(loaded, frame):
    fields = {f.name: f for f in CONTRACT_LAYER.fields}
    text = (
        "(CASEI(terr_nom) LIKE 'les%' OR ACCENTI(terr_nom) = 'Saint-Eloi')"
        " AND terr_m2_prix BETWEEN 40 AND 90 AND NOT nb_lots IN (3)"
    )
    expression = parse_filter(text, "cql2-text", fields=fields)
    page = loaded.query(CID, FeatureQuery(filter=expression, limit=1000))
    assert _ids(page) == matching_ids(frame, expression, "terr_id") and page.features
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(*CENTRE.coords[0])
    spatial = parse_filter(f"S_INTERSECTS(geometry, POINT({lon} {lat}))", fields=fields)
    inside = frame[frame.intersects(CENTRE)]["terr_id"]
    assert _ids(loaded.query(CID, FeatureQuery(filter=spatial))) == sorted(inside)


def test_ids_that_no_store_can_hold_are_invalid_input(loaded):
    for bad in ("a\x00b", "\udcff"):
        with pytest.raises(InvalidInput):
            loaded.query(CID, FeatureQuery(ids=(bad,)))
    assert loaded.count(CID, FeatureQuery(ids=("x' OR '1'='1", "東京"))) == 0
