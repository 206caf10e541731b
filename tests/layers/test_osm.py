"""The base-map layers (roads, waterways, water bodies) from OpenStreetMap: the real OSM fixture
(Melun, Le Coudray-Montceaux, Saint-Martin-d'Hères), a PBF, areas written here, both stores,
and the OSM-specific hostile files (DOCTYPE, external entities)."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - the test's own oracle of a trusted fixture
from collections import Counter
from pathlib import Path

import pyogrio
import pytest
import shapely

from atlas.errors import HostileInput
from atlas.ingest import ingest_path
from atlas.layers import get_layer
from atlas.layers.base import ReadOptions, VectorLayer
from atlas.layers.conform import conform
from atlas.layers.formats import ALLOWED_VECTOR_DRIVERS, check_input
from atlas.layers.roads import HIGHWAY_CLASSES
from atlas.layers.sandbox import isolated_vector_read
from atlas.query.crs import transformer
from atlas.settings import IngestSettings, Settings, StoreSettings
from tests.helpers import require_real_data

FIXTURE = ("osm-fixture-melun-coudray", "osm_fixture.osm")
PBF = Path(pyogrio.__file__).parent / "tests" / "fixtures" / "sample.osm.pbf"


def _layer(collection_id: str) -> VectorLayer:
    layer = get_layer(collection_id)
    assert isinstance(layer, VectorLayer)
    return layer


def _ways(path: Path) -> list[tuple[str, dict[str, str], list[str]]]:
    """(id, tags, node refs) of every way, read with ElementTree: the oracle."""
    root = ET.parse(path).getroot()  # noqa: S314 - the trusted real fixture
    return [
        (
            way.get("id", ""),
            {t.get("k", ""): t.get("v", "") for t in way.iter("tag")},
            [nd.get("ref", "") for nd in way.iter("nd")],
        )
        for way in root.iter("way")
    ]


def _read(collection_id: str, path: Path):
    layer = _layer(collection_id)
    frame, report = conform(layer.reader(path, ReadOptions()), layer, source=path.name)
    assert report.rejected == [] and report.repaired == [], report.summary()
    return frame.set_index("osm_id"), report


@pytest.mark.realdata
def test_roads_of_the_real_fixture_are_its_highway_ways() -> None:
    path = require_real_data(*FIXTURE)
    roads, report = _read("roads", path)
    expected = {w: tags for w, tags, _ in _ways(path) if tags.get("highway") in HIGHWAY_CLASSES}
    assert len(expected) == 45 and report.kept == 45  # 120 ways, 45 of them highways
    assert set(roads.index) == {f"way/{w}" for w in expected}
    assert roads.crs.to_epsg() == 2154
    by_class = Counter(roads["highway"])
    assert by_class == Counter(tags["highway"] for tags in expected.values())
    assert by_class["residential"] == 15 and by_class["tertiary"] == 7
    for way, tags in expected.items():
        assert (roads.fillna("").loc[f"way/{way}", "name"] or None) == tags.get("name"), way
    # Rue de Villiers, Saint-Martin-d'Hères: its 7 ways are the tertiary ones.
    assert set(roads.index[roads["name"] == "Rue de Villiers"]) == set(
        roads.index[roads["highway"] == "tertiary"]
    )


@pytest.mark.realdata
def test_road_geometry_is_the_ways_nodes_in_lambert_93() -> None:
    path = require_real_data(*FIXTURE)
    roads, _ = _read("roads", path)
    root = ET.parse(path).getroot()  # noqa: S314
    nodes = {
        n.get("id"): (float(n.get("lon", 0)), float(n.get("lat", 0))) for n in root.iter("node")
    }
    to_l93 = transformer("EPSG:4326", "EPSG:2154")
    for way, tags, refs in _ways(path):
        if tags.get("highway") not in HIGHWAY_CLASSES:
            continue
        lon, lat = zip(*(nodes[r] for r in refs), strict=True)
        expected = shapely.LineString(zip(*to_l93.transform(lon, lat), strict=True))
        assert shapely.equals_exact(roads.loc[f"way/{way}", "geometry"], expected, 0.01), way


@pytest.mark.realdata
def test_waterways_of_the_real_fixture() -> None:
    path = require_real_data(*FIXTURE)
    waterways, _ = _read("waterways", path)
    expected = [w for w, tags, _ in _ways(path) if "waterway" in tags]
    assert list(waterways.index) == [f"way/{w}" for w in expected]
    assert waterways.iloc[0][["waterway", "name"]].tolist() == ["river", "L'Isère"]
    # The Isère at Saint-Martin-d'Hères (Grenoble), in Lambert-93 metres.
    x, y = waterways.geometry.iloc[0].coords[0]
    assert 900_000 < x < 930_000 and 6_440_000 < y < 6_470_000


@pytest.mark.realdata
@pytest.mark.parametrize("collection_id", ["roads", "waterways"])
def test_the_real_fixture_ingests_through_the_sandbox(catalog_store, tmp_path, collection_id):
    path = require_real_data(*FIXTURE)
    settings = Settings(store=StoreSettings(data_dir=tmp_path / "data", database_url=None))
    report = ingest_path(catalog_store, collection_id, path, settings=settings, progress=False)
    stored = catalog_store.frame(collection_id).set_index("osm_id").sort_index()
    direct, _ = _read(collection_id, path)
    assert report.kept == len(stored) == len(direct) > 0
    assert stored.crs.to_epsg() == 2154
    assert list(stored.index) == sorted(direct.index)
    column = "highway" if collection_id == "roads" else "waterway"
    assert Counter(stored[column]) == Counter(direct[column])
    assert (
        stored["name"].fillna("").tolist() == direct.loc[stored.index, "name"].fillna("").tolist()
    )


def test_a_pbf_extract_is_read_in_the_sandbox() -> None:
    """GDAL's OSM driver reads .osm.pbf too (pyogrio's own sample, node ids out of order)."""
    assert check_input(PBF).name == "OpenStreetMap PBF"
    result = isolated_vector_read(_layer("roads"), PBF, ReadOptions(), IngestSettings())
    every = pyogrio.read_dataframe(PBF, layer="lines", USE_CUSTOM_INDEXING="NO")
    highways = every[every["highway"].isin(HIGHWAY_CLASSES)]
    assert len(result.frame) == len(highways) > 0
    assert sorted(result.frame["osm_id"]) == sorted(f"way/{i}" for i in highways["osm_id"])


_AREAS = """<?xml version='1.0' encoding='UTF-8'?>
<!-- water areas drawn here: a lake, a river with an island, a riverbank, a lawn -->
<osm version='0.6' generator='test'>
{nodes}
  <way id='1'>{lake}<tag k='natural' v='water'/><tag k='water' v='lake'/><tag k='name' v='Lac'/></way>
  <way id='2'>{outer}</way>
  <way id='3'>{inner}</way>
  <way id='4'>{bank}<tag k='waterway' v='riverbank'/></way>
  <way id='5'>{lawn}<tag k='landuse' v='grass'/></way>
  <relation id='7'><member type='way' ref='2' role='outer'/><member type='way' ref='3' role='inner'/>
    <tag k='type' v='multipolygon'/><tag k='natural' v='water'/><tag k='water' v='river'/>
    <tag k='name' v='La Seine'/></relation>
</osm>
"""


def _areas(directory: Path) -> tuple[Path, dict[str, shapely.Polygon]]:
    """An OSM file of four areas around Évry (lon/lat squares), and the water ones expected."""
    squares = {
        "lake": (2.430, 48.620, 0.004),
        "outer": (2.440, 48.620, 0.010),
        "inner": (2.443, 48.623, 0.002),
        "bank": (2.460, 48.620, 0.003),
        "lawn": (2.470, 48.620, 0.003),
    }
    nodes, refs, rings = [], {}, {}
    for number, (name, (lon, lat, side)) in enumerate(squares.items()):
        ring = [(lon, lat), (lon + side, lat), (lon + side, lat + side), (lon, lat + side)]
        ids = [100 + 10 * number + i for i in range(4)]
        nodes += [
            f"  <node id='{i}' lat='{y}' lon='{x}'/>" for i, (x, y) in zip(ids, ring, strict=True)
        ]
        refs[name] = "".join(f"<nd ref='{i}'/>" for i in [*ids, ids[0]])
        rings[name] = shapely.Polygon(ring)
    path = directory / "areas.osm"
    path.write_text(_AREAS.format(nodes="\n".join(nodes), **refs), encoding="utf-8")
    river = shapely.Polygon(rings["outer"].exterior, [rings["inner"].exterior])
    return path, {"way/1": rings["lake"], "relation/7": river, "way/4": rings["bank"]}


def test_water_bodies_are_water_areas_ways_and_relations(tmp_path) -> None:
    path, expected = _areas(tmp_path)
    bodies, report = _read("water-bodies", path)
    assert sorted(bodies.index) == sorted(expected)  # the lawn is no water body
    assert bodies.loc["relation/7", ["natural", "water", "name"]].tolist() == [
        "water", "river", "La Seine"
    ]  # fmt: skip
    assert bodies.loc["way/4", "waterway"] == "riverbank"
    to_l93 = transformer("EPSG:4326", "EPSG:2154")
    for osm_id, polygon in expected.items():
        projected = shapely.transform(
            polygon,
            lambda xy: shapely.get_coordinates(  # noqa: B023 - used at once
                shapely.points(*to_l93.transform(xy[:, 0], xy[:, 1]))
            ),
        )
        assert bodies.loc[osm_id, "geometry"].area == pytest.approx(projected.area, rel=1e-6)
        assert len(bodies.loc[osm_id, "geometry"].geoms[0].interiors) == len(polygon.interiors)


# --- hostile OSM files ------------------------------------------------------------------------


def _with_doctype(directory: Path, entity: str) -> Path:
    path = directory / "roads.osm"
    path.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        f"<!DOCTYPE osm [ <!ENTITY leak SYSTEM '{entity}'> ]>\n"
        "<osm version='0.6'>\n"
        "  <node id='1' lat='48.62' lon='2.43'/><node id='2' lat='48.63' lon='2.44'/>\n"
        "  <way id='1'><nd ref='1'/><nd ref='2'/><tag k='highway' v='residential'/>"
        "<tag k='name' v='&leak;'/></way>\n</osm>\n",
        encoding="utf-8",
    )
    return path


def test_the_osm_driver_is_allowed_deliberately() -> None:
    assert "OSM" in ALLOWED_VECTOR_DRIVERS


@pytest.mark.parametrize(
    "entity", ["file:///etc/hostname", "http://127.0.0.1:9/secret", "secret.txt"]
)
def test_a_doctype_is_refused_and_nothing_is_stored(catalog_store, tmp_path, entity) -> None:
    (tmp_path / "secret.txt").write_text("TOP SECRET", encoding="utf-8")
    path = _with_doctype(tmp_path, entity)
    settings = Settings(store=StoreSettings(data_dir=tmp_path / "data", database_url=None))
    with pytest.raises(HostileInput, match="DOCTYPE") as caught:
        ingest_path(catalog_store, "roads", path, settings=settings, progress=False)
    assert "\n" not in str(caught.value) and str(tmp_path) not in str(caught.value)
    assert catalog_store.versions("roads") == []


def test_gdal_itself_expands_no_entity(tmp_path) -> None:
    """Behind the sniffing, the parser would not read the named file either: it fails."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    path = _with_doctype(tmp_path, secret.as_uri())
    with pytest.raises(pyogrio.errors.FeatureError, match="parsing"):
        pyogrio.read_dataframe(path, layer="lines")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"<?xml version='1.0'?><OGRVRTDataSource/>", "no <osm> root"),
        (
            b"<?xml version='1.0'?><!-- a --><!DOCTYPE osm [<!ENTITY a 'b'>]><!-- c --><osm/>",
            "DOCTYPE",
        ),
        (b"<osmChange version='0.6'/>", "no <osm> root"),
        (b'{"type": "FeatureCollection"}', "no <osm> root"),
    ],
)
def test_only_osm_xml_passes_as_osm(tmp_path, content, words) -> None:
    path = tmp_path / "extract.osm"
    path.write_bytes(content)
    with pytest.raises(HostileInput, match=words):
        check_input(path)


def test_only_a_pbf_passes_as_pbf(tmp_path) -> None:
    path = tmp_path / "extract.osm.pbf"
    path.write_bytes(b"<?xml version='1.0'?><osm/>")
    with pytest.raises(HostileInput, match="PBF"):
        check_input(path)
