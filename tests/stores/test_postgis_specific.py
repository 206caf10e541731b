"""PostGIS-only behaviour: oracle queries against shapely, tiles, injection, versions, failures."""

from __future__ import annotations

import datetime as dt
import socket
import threading

import geopandas as gpd
import mapbox_vector_tile
import morecantile
import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from pyproj import Transformer

from atlas.errors import (
    EmptyCollection,
    InvalidInput,
    NotFound,
    StoreUnavailable,
    UnknownCollection,
    ValidationFailed,
)
from atlas.layers.base import Classification, FieldSpec, VectorLayer
from atlas.layers.conform import IngestReport
from atlas.query.features import FeatureQuery, SortKey
from atlas.query.filters import Comparison
from atlas.settings import StoreSettings
from atlas.stores import open_store, postgis
from atlas.stores.base import FeatureStore
from atlas.stores.postgis import PostgisStore, engine_url
from atlas.types import BBox, TileXYZ
from tests.stores.postgis_fixtures import fresh_postgis_store, postgis_test_url

pytestmark = pytest.mark.postgis


def _no_reader(path, options):  # these tests write frames directly
    raise NotImplementedError


PLOTS = VectorLayer(
    collection_id="pg-plots",
    title="PostGIS plots",
    description="synthetic plots with awkward field names",
    geometry_type="Polygon",
    id_field="code",
    fields=(
        FieldSpec("code", "string", required=True),
        FieldSpec("SIRET", "string", Classification.BUSINESS),
        FieldSpec("ban-id", "string"),
        FieldSpec("surface", "number"),
        FieldSpec("nb", "integer"),
        FieldSpec("ouvert", "boolean"),
        FieldSpec("date_maj", "date"),
        FieldSpec("horodatage", "datetime"),
    ),
    reader=_no_reader,
    standard="synthetic",
)
POINTS = VectorLayer(
    collection_id="pg-points",
    title="PostGIS points",
    description="synthetic points for tile geometry checks",
    geometry_type="Point",
    id_field="code",
    fields=(FieldSpec("code", "string", required=True), FieldSpec("SIRET", "string")),
    reader=_no_reader,
    standard="synthetic",
)
LAYERS = {PLOTS.collection_id: PLOTS, POINTS.collection_id: POINTS}
ORIGIN = (652_000.0, 6_832_000.0)  # Lambert-93, Grand Paris Sud


def plots(n: int = 150, seed: int = 3) -> gpd.GeoDataFrame:
    """``n`` random boxes with every field type and some nulls."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        x, y = ORIGIN[0] + rng.uniform(0, 3000), ORIGIN[1] + rng.uniform(0, 3000)
        w, h = rng.uniform(20, 200, size=2)
        rows.append(
            {
                "code": f"P{i:04d}",
                "SIRET": None if i % 5 == 0 else f"{rng.integers(10**13, 10**14)}",
                "ban-id": f"91228_{i % 9:04d}",
                "surface": None if i % 11 == 0 else round(float(w * h), 2),
                "nb": int(i % 6),
                "ouvert": bool(i % 3),
                "date_maj": dt.date(2020 + i % 5, 1 + i % 12, 1 + i % 27),
                "horodatage": dt.datetime(2024, 3, 1, 12, i % 60, tzinfo=dt.UTC),
                "geometry": shapely.box(x, y, x + w, y + h),
            }
        )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:2154")
    frame["nb"] = frame["nb"].astype("Int64")
    return frame


def points(n: int = 80, seed: int = 5) -> gpd.GeoDataFrame:
    """``n`` random points."""
    rng = np.random.default_rng(seed)
    xs, ys = ORIGIN[0] + rng.uniform(0, 3000, n), ORIGIN[1] + rng.uniform(0, 3000, n)
    return gpd.GeoDataFrame(
        {"code": [f"Q{i:03d}" for i in range(n)], "SIRET": [f"S{i}" for i in range(n)]},
        geometry=shapely.points(xs, ys),
        crs="EPSG:2154",
    )


def report(layer: VectorLayer, frame: gpd.GeoDataFrame) -> IngestReport:
    """A report as ingest would make it."""
    return IngestReport(collection_id=layer.collection_id, source="test", rows_read=len(frame))


@pytest.fixture
def store():
    with fresh_postgis_store(postgis_test_url(), layers=LAYERS) as instance:
        yield instance


@pytest.fixture
def frame():
    return plots()


@pytest.fixture
def loaded(store, frame):
    store.write_version(PLOTS, frame, report=report(PLOTS, frame))
    return store


def _ids(page):
    return sorted(f.id for f in page.features)


def _all(store, **criteria):
    return store.query(PLOTS.collection_id, FeatureQuery(limit=10_000, **criteria))


def _statements(store) -> list[str]:
    """Every SQL statement the store sends from now on."""
    sent: list[str] = []
    sa.event.listen(
        store._engine, "before_cursor_execute", lambda *args: sent.append(args[2]), named=False
    )
    return sent


# -- the contract and the layout ------------------------------------------------------------


def test_store_implements_the_protocol(store):
    assert isinstance(store, FeatureStore) and store.kind == "postgis"


def test_url_drivers_are_rewritten_to_psycopg3():
    assert engine_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert engine_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert engine_url("postgresql+psycopg2://h/db") == "postgresql+psycopg://h/db"
    with pytest.raises(InvalidInput):
        engine_url("sqlite:///x.db")
    assert "p@" not in repr(PostgisStore("postgresql://u:p@h/db"))


def test_table_layout_types_and_indexes(loaded):
    with loaded._engine.connect() as conn:
        name = conn.execute(
            sa.text(f"SELECT table_name FROM {loaded.schema}.versions WHERE is_current")  # noqa: S608
        ).scalar_one()
        columns = dict(
            conn.execute(
                sa.text(
                    "SELECT column_name, data_type FROM information_schema.columns"
                    " WHERE table_schema = :s AND table_name = :t"
                ),
                {"s": loaded.data_schema, "t": name},
            ).all()
        )
        srids = dict(
            conn.execute(
                sa.text(
                    "SELECT f_geometry_column, srid FROM geometry_columns"
                    " WHERE f_table_schema = :s AND f_table_name = :t"
                ),
                {"s": loaded.data_schema, "t": name},
            ).all()
        )
        indexes = conn.execute(
            sa.text("SELECT indexdef FROM pg_indexes WHERE schemaname = :s AND tablename = :t"),
            {"s": loaded.data_schema, "t": name},
        ).scalars()
        timeout = conn.execute(sa.text("SHOW statement_timeout")).scalar_one()
    assert columns["SIRET"] == "text" and columns["ban-id"] == "text"
    assert columns["surface"] == "double precision" and columns["nb"] == "bigint"
    assert columns["ouvert"] == "boolean" and columns["date_maj"] == "date"
    assert columns["horodatage"] == "timestamp with time zone"
    # The generalised geometries are in global tile units (no SRID), one per zoom of the band.
    assert srids == {"geom": 2154, "geom_3857": 3857} | {f"mvt_z{z}": 0 for z in range(12, 17)}
    assert columns["tile_size"] == "double precision"
    gist = [i for i in indexes if "USING gist" in i]
    assert len(gist) == 2
    assert timeout == "30s"


def test_unknown_and_not_ingested_collections(store):
    with pytest.raises(UnknownCollection):
        store.collection("nope")
    with pytest.raises(UnknownCollection):
        store.query("nope", FeatureQuery())
    with pytest.raises(NotFound):
        store.collection(PLOTS.collection_id)
    with pytest.raises(EmptyCollection):
        store.query(PLOTS.collection_id, FeatureQuery())
    with pytest.raises(EmptyCollection):
        store.tile(PLOTS.collection_id, TileXYZ(0, 0, 0))
    assert store.collections() == [] and store.versions(PLOTS.collection_id) == []


def test_values_round_trip(loaded, frame):
    row = frame.iloc[10]
    got = _by_id(loaded, PLOTS.collection_id, row["code"])
    assert got.properties["SIRET"] is None  # i % 5 == 0
    assert got.properties["surface"] == pytest.approx(row["surface"])
    assert got.properties["nb"] == 4 and isinstance(got.properties["nb"], int)
    assert got.properties["date_maj"] == row["date_maj"]
    assert got.properties["horodatage"] == row["horodatage"]
    assert got.geometry.equals_exact(row.geometry, 1e-6)
    assert _by_id(loaded, PLOTS.collection_id, "P0011").properties["surface"] is None


# -- queries against shapely ---------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_random_bboxes_match_shapely(loaded, frame, seed):
    rng = np.random.default_rng(seed)
    x, y = ORIGIN[0] + rng.uniform(-200, 2800), ORIGIN[1] + rng.uniform(-200, 2800)
    box = (x, y, x + rng.uniform(1, 1500), y + rng.uniform(1, 1500))
    page = _all(loaded, bbox=BBox(*box))
    assert _ids(page) == sorted(frame[frame.intersects(shapely.box(*box))]["code"])
    assert page.number_matched == page.number_returned


def test_ids_filters_and_spatial_predicates_combined(loaded, frame):
    area = shapely.Polygon([(653_000, 6_833_000), (654_500, 6_833_200), (653_800, 6_834_600)])
    centre = shapely.Point(653_500, 6_833_500)
    wanted = tuple(frame["code"].iloc[::2])
    where = (Comparison("nb", ">=", 2), Comparison("ouvert", "=", True))
    page = _all(loaded, ids=wanted, where=where, intersects=area)
    expected = frame[
        frame["code"].isin(wanted) & (frame["nb"] >= 2) & frame["ouvert"] & frame.intersects(area)
    ]
    assert _ids(page) == sorted(expected["code"]) and len(expected)
    near = _all(loaded, within_distance=(centre, 600.0), where=(Comparison("SIRET", "is null"),))
    expected = frame[(frame.distance(centre) <= 600) & frame["SIRET"].isna()]
    assert _ids(near) == sorted(expected["code"]) and len(expected)


@pytest.mark.parametrize(
    ("comparison", "predicate"),
    [
        (Comparison("ban-id", "in", ["91228_0001", "91228_0004"]), lambda r: r["ban-id"][-1] in "14"),
        (Comparison("ban-id", "like", "91228_000%"), lambda r: True),
        (Comparison("SIRET", "is not null"), lambda r: not pd.isna(r["SIRET"])),
        (Comparison("surface", "<", 5000), lambda r: r["surface"] == r["surface"] and r["surface"] < 5000),
        (Comparison("date_maj", "<=", dt.date(2021, 6, 1)), lambda r: r["date_maj"] <= dt.date(2021, 6, 1)),
        (Comparison("nb", "!=", 3), lambda r: r["nb"] != 3),
    ],
)  # fmt: skip
def test_attribute_filters_match_pandas(loaded, frame, comparison, predicate):
    expected = sorted(r["code"] for _, r in frame.iterrows() if predicate(r))
    assert _ids(_all(loaded, where=(comparison,))) == expected


def test_like_is_case_sensitive(loaded):
    assert _all(loaded, where=(Comparison("code", "like", "p00%"),)).number_matched == 0
    assert _all(loaded, where=(Comparison("code", "like", "P00%"),)).number_matched == 100


def test_paging_walks_every_feature_once_in_a_stable_order(loaded, frame):
    sort = (SortKey("nb"), SortKey("ban-id", descending=True))  # many ties: feature_id decides
    seen = []
    for offset in range(0, len(frame) + 20, 20):
        page = loaded.query(PLOTS.collection_id, FeatureQuery(sortby=sort, limit=20, offset=offset))
        assert page.number_matched == len(frame)
        seen += [f.id for f in page.features]
    expected = frame.sort_values(["nb", "ban-id", "code"], ascending=[True, False, True])["code"]
    assert seen == list(expected)
    box = BBox(ORIGIN[0], ORIGIN[1], ORIGIN[0] + 1500, ORIGIN[1] + 1500)
    first = loaded.query(PLOTS.collection_id, FeatureQuery(bbox=box, limit=5, offset=0))
    assert first.number_matched == int(frame.intersects(shapely.box(*box.as_tuple())).sum())
    beyond = loaded.query(PLOTS.collection_id, FeatureQuery(bbox=box, limit=5, offset=10_000))
    assert beyond.features == [] and beyond.number_matched == first.number_matched


def test_properties_subset_and_nulls_sort_last(loaded, frame):
    page = _all(loaded, properties=("SIRET",), sortby=(SortKey("SIRET", descending=True),))
    assert all(set(f.properties) == {"SIRET"} for f in page.features)
    values = [f.properties["SIRET"] for f in page.features]
    nulls = int(frame["SIRET"].isna().sum())
    assert values[-nulls:] == [None] * nulls and None not in values[:-nulls]


# -- tiles ---------------------------------------------------------------------------------


@pytest.mark.parametrize("zoom", [12, 14, 16])
def test_tile_holds_the_features_intersecting_it(store, zoom):
    frame = points()
    store.write_version(POINTS, frame, report=report(POINTS, frame))
    tms = morecantile.tms.get("WebMercatorQuad")
    to_wgs84 = Transformer.from_crs(2154, 4326, always_xy=True)
    tile = tms.tile(*to_wgs84.transform(ORIGIN[0] + 1500, ORIGIN[1] + 1500), zoom)
    data = store.tile(
        POINTS.collection_id, TileXYZ(tile.z, tile.x, tile.y), properties=("SIRET",), extent=512
    ).data
    layer = mapbox_vector_tile.decode(data)[POINTS.collection_id]
    b = tms.xy_bounds(tile)
    projected = frame.geometry.to_crs(3857)
    inside = projected.intersects(shapely.box(b.left, b.bottom, b.right, b.top))
    assert sorted(f["properties"]["id"] for f in layer["features"]) == sorted(frame[inside]["code"])
    assert layer["extent"] == 512
    by_id = dict(zip(frame["code"], projected, strict=True))
    pixel = (b.right - b.left) / 512
    for feature in layer["features"]:
        cx, cy = feature["geometry"]["coordinates"]
        x = b.left + cx / 512 * (b.right - b.left)
        y = b.bottom + cy / 512 * (b.top - b.bottom)  # decode() gives y up by default
        source = by_id[feature["properties"]["id"]]
        assert abs(x - source.x) <= pixel and abs(y - source.y) <= pixel
        assert feature["properties"]["SIRET"] == "S" + feature["properties"]["id"][1:].lstrip("0")


def test_tile_property_must_be_a_field(loaded):
    with pytest.raises(InvalidInput):
        loaded.tile(PLOTS.collection_id, TileXYZ(12, 2074, 1410), properties=("nope",))


# -- hostile input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ['x"; DROP TABLE versions; --', 'SIRET" OR 1=1 --', "geom", "feature_id", "siret"]
)
def test_hostile_field_names_are_refused_before_any_sql(loaded, name):
    sent = _statements(loaded)
    for query in (
        FeatureQuery(where=(Comparison(name, "=", 1),)),
        FeatureQuery(sortby=(SortKey(name),)),
        FeatureQuery(properties=(name,)),
    ):
        with pytest.raises(InvalidInput):
            loaded.query(PLOTS.collection_id, query)
    with pytest.raises(InvalidInput):
        loaded.tile(PLOTS.collection_id, TileXYZ(1, 0, 0), properties=(name,))
    assert sent == []


def test_layer_with_a_hostile_field_name_is_refused_before_any_sql(store, frame):
    bad = VectorLayer(
        collection_id="pg-plots",
        title="bad",
        description="bad",
        geometry_type="Polygon",
        id_field="code",
        fields=(FieldSpec("code", "string"), FieldSpec('a" text); DROP SCHEMA x; --', "string")),
        reader=_no_reader,
        standard="synthetic",
    )
    frame[bad.fields[1].name] = "x"
    sent = _statements(store)
    with pytest.raises(InvalidInput):
        store.write_version(bad, frame, report=report(bad, frame))
    assert not [s for s in sent if "DROP SCHEMA" in s]


@pytest.mark.parametrize(
    "value", ["x' OR '1'='1", "'; DROP TABLE versions; --", "P0001' --", "%' OR ''='"]
)
def test_injection_looking_values_are_just_values(loaded, frame, value):
    for op in ("=", "like"):
        assert _all(loaded, where=(Comparison("code", op, value),)).number_matched == 0
    assert _all(loaded, ids=(value,)).number_matched == 0
    assert loaded.collection(PLOTS.collection_id).count == len(frame)


def test_value_of_the_wrong_type_is_invalid_input(loaded):
    for comparison in (
        Comparison("surface", ">", "big"),
        Comparison("date_maj", "=", "not a date"),
        Comparison("code", "=", 5),
    ):
        with pytest.raises(InvalidInput):
            _all(loaded, where=(comparison,))


# -- versions ------------------------------------------------------------------------------


def _data_tables(store) -> list[str]:
    with store._engine.connect() as conn:
        return sorted(
            conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"),
                {"s": store.data_schema},
            ).scalars()
        )


@pytest.mark.parametrize("point", ["write-midway", "before-switch"])
def test_failure_inside_the_transaction_keeps_the_previous_version(
    loaded, frame, monkeypatch, point
):
    def explode(name):
        if name == point:
            raise RuntimeError(f"simulated failure at {name}")

    monkeypatch.setattr(postgis, "checkpoint", explode)
    before = _data_tables(loaded)
    with pytest.raises(RuntimeError):
        loaded.write_version(PLOTS, frame.iloc[:20], report=report(PLOTS, frame.iloc[:20]))
    info = loaded.collection(PLOTS.collection_id)
    assert (info.version, info.count) == (1, len(frame))
    assert _all(loaded).number_matched == len(frame)
    assert [v.version for v in loaded.versions(PLOTS.collection_id)] == [1]
    assert _data_tables(loaded) == before  # the half-written table went with the rollback
    monkeypatch.setattr(postgis, "checkpoint", lambda name: None)
    again = loaded.write_version(PLOTS, frame.iloc[:20], report=report(PLOTS, frame.iloc[:20]))
    assert again.version == 2 and loaded.collection(PLOTS.collection_id).count == 20


def test_duplicate_ids_are_refused_and_nothing_changes(loaded, frame):
    broken = frame.copy()
    broken.loc[3, "code"] = broken.loc[2, "code"]
    with pytest.raises(ValidationFailed):
        loaded.write_version(PLOTS, broken, report=report(PLOTS, broken))
    assert loaded.collection(PLOTS.collection_id).version == 1


def test_only_the_last_three_versions_are_kept(loaded, frame):
    for n in (10, 20, 30, 40):
        part = frame.iloc[:n]
        loaded.write_version(PLOTS, part, report=report(PLOTS, part))
    versions = loaded.versions(PLOTS.collection_id)
    assert [(v.version, v.count) for v in versions] == [(5, 40), (4, 30), (3, 20)]
    assert versions[0].report["version"] == 5
    assert _data_tables(loaded) == ["pg_plots__v3", "pg_plots__v4", "pg_plots__v5"]
    assert loaded.collection(PLOTS.collection_id).count == 40


def test_concurrent_ingests_of_one_collection_serialise(loaded, frame):
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            part = frame.iloc[:n]
            loaded.write_version(PLOTS, part, report=report(PLOTS, part))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in (11, 22, 33)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    versions = loaded.versions(PLOTS.collection_id)
    assert [v.version for v in versions] == [4, 3, 2]
    assert loaded.collection(PLOTS.collection_id).count == versions[0].count


# -- connections ---------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_closed_port_raises_store_unavailable_without_driver_text():
    store = PostgisStore(
        f"postgresql://atlas:secret@127.0.0.1:{_closed_port()}/atlas", layers=LAYERS
    )
    try:
        for call in (
            store.collections,
            lambda: store.query(PLOTS.collection_id, FeatureQuery()),
            lambda: store.write_version(PLOTS, plots(3), report=report(PLOTS, plots(3))),
        ):
            with pytest.raises(StoreUnavailable) as caught:
                call()
            assert caught.value.description == "store unavailable, retry later"
            assert caught.value.status == 503
    finally:
        store.close()


def test_a_killed_server_connection_is_replaced_by_pre_ping(loaded):
    with loaded._engine.connect() as conn:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    with fresh_postgis_store(postgis_test_url()) as other, other._engine.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
    assert loaded.collection(PLOTS.collection_id).count == 150
    with loaded._engine.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() != pid


def test_statement_timeout_is_a_store_error_not_a_driver_error(frame):
    with fresh_postgis_store(postgis_test_url(), layers=LAYERS, statement_timeout_ms=100) as slow:
        slow.write_version(PLOTS, frame, report=report(PLOTS, frame))  # writes lift the timeout
        with pytest.raises(StoreUnavailable), slow._reading(PLOTS.collection_id) as conn:
            conn.execute(sa.text("SELECT pg_sleep(1)"))


def _by_id(store, collection_id: str, feature_id: str):
    """One feature through the contract's query (the store has no by-id method of its own)."""
    (feature,) = store.query(collection_id, FeatureQuery(ids=(feature_id,), limit=1)).features
    return feature


def test_statements_run_without_parallel_workers_unless_configured(loaded):
    """Requests run side by side: a statement split over PostgreSQL's parallel workers only takes
    the cores the others wait for. The store's sessions say so; a setting restores them."""
    show = sa.text("SHOW max_parallel_workers_per_gather")
    with loaded._reading(PLOTS.collection_id) as conn:
        assert conn.execute(show).scalar_one() == "0"
    settings = StoreSettings(
        database_url=postgis_test_url(), database_schema=loaded.schema, parallel_workers=3
    )
    store = open_store(settings)
    try:
        with store._reading(PLOTS.collection_id) as conn:
            assert conn.execute(show).scalar_one() == "3"
    finally:
        store.close()
