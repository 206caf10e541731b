"""The public tier's PMTiles archive, on both stores: read back with the pmtiles reader and with
GDAL's PMTiles driver, its tiles decoded and compared with what the public gate gives."""

from __future__ import annotations

import gzip
import uuid
from collections import defaultdict
from pathlib import Path

import mapbox_vector_tile
import pyogrio
import pytest
import shapely
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType

from atlas.errors import InvalidInput
from atlas.policy.gate import Gate
from atlas.policy.rules import vector_view, visible_ids
from atlas.policy.tiers import Principal, Tier
from atlas.query.features import FeatureQuery
from atlas.query.requests import TileRequest
from atlas.tiles.pmtiles_export import export_pmtiles
from atlas.types import TileXYZ
from tests.policy.oracle import HIDDEN_COLLECTIONS, HIDDEN_FIELDS, Secrets

MAX_ZOOM = 13  # the default (14) doubles the tiles read for the same checks


def _gate(served, tier: Tier = Tier.PUBLIC) -> Gate:
    policy = served.client.app.state.policy
    return policy.gate(Principal(tier=tier, name="test"), uuid.uuid4().hex)


@pytest.fixture(scope="module")
def archive(served, tmp_path_factory) -> Path:
    """The demo's public archive, exported once per store kind."""
    out = tmp_path_factory.mktemp(f"pmtiles-{served.kind}")
    result = export_pmtiles(_gate(served), out, max_zoom=MAX_ZOOM)
    assert result.path.parent == out and result.tiles > 0
    return result.path


def _tiles(path: Path) -> dict[tuple[int, int, int], dict]:
    """Every tile of the archive, gunzipped and decoded, by (z, x, y)."""
    with open(path, "rb") as fh:
        source = MmapSource(fh)
        assert Reader(source).header()["tile_compression"] == Compression.GZIP
        return {
            zxy: mapbox_vector_tile.decode(gzip.decompress(data)) for zxy, data in all_tiles(source)
        }


def test_header_and_metadata(served, archive) -> None:
    with open(archive, "rb") as fh:
        reader = Reader(MmapSource(fh))
        header, metadata = reader.header(), reader.metadata()
    assert archive.name.startswith("atlas-public-") and archive.suffix == ".pmtiles"
    assert header["tile_type"] == TileType.MVT and header["max_zoom"] == MAX_ZOOM
    assert header["min_zoom"] == 0  # the communes' minzoom
    layers = {layer["id"]: layer for layer in metadata["vector_layers"]}
    public = set(visible_ids(Tier.PUBLIC)) & {c.id for c in _gate(served).collections()}
    assert set(layers) == public and {"roads", "waterways", "water-bodies"} <= public
    assert not set(layers) & HIDDEN_COLLECTIONS[Tier.PUBLIC]
    for collection_id, layer in layers.items():
        view = vector_view(collection_id, Tier.PUBLIC)
        assert view is not None
        assert set(layer["fields"]) <= {"id", *view.field_names}
        assert not set(layer["fields"]) & HIDDEN_FIELDS[Tier.PUBLIC]
    assert layers["roads"]["minzoom"] == 10 and layers["roads"]["fields"]["highway"] == "String"
    assert "OpenStreetMap" in metadata["attribution"]
    west, south, east, north = metadata["bounds"]
    assert 2.3 < west < east < 2.7 and 48.5 < south < north < 48.75  # Grand Paris Sud
    assert header["min_lon_e7"] == pytest.approx(west * 1e7, abs=1)


def test_tiles_hold_the_public_features_and_nothing_else(served, archive) -> None:
    tiles = _tiles(archive)
    gate = _gate(served)
    seen: dict[str, set[str]] = defaultdict(set)
    for (z, _x, _y), layers in tiles.items():
        for collection_id, layer in layers.items():
            view = vector_view(collection_id, Tier.PUBLIC)
            assert view is not None, collection_id  # only collections the public sees
            for feature in layer["features"]:
                assert set(feature["properties"]) <= {"id", *view.field_names}
                if z == MAX_ZOOM:
                    seen[collection_id].add(str(feature["properties"]["id"]))
    for collection_id, ids in seen.items():
        page = gate.query(collection_id, FeatureQuery(properties=(), limit=100_000))
        public = {str(f.id) for f in page.features}
        if collection_id == "services":  # a dense point layer: the budget may leave some out
            assert ids <= public
        else:
            assert ids == public, collection_id
    # Whole values, as the leak matrix searches them (a buyer's name may begin a listed one's).
    values = {
        str(v)
        for layers in tiles.values()
        for layer in layers.values()
        for feature in layer["features"]
        for v in feature["properties"].values()
    }
    assert not values & set(Secrets(served.sources).forbidden_strings(Tier.PUBLIC))


def test_a_tile_is_the_public_gates_tile(served, archive) -> None:
    """A z13 road tile: same features as the gate's own tile, geometry within one tile unit."""
    tiles = _tiles(archive)
    z, x, y = max(
        (k for k, v in tiles.items() if k[0] == MAX_ZOOM and "roads" in v),
        key=lambda k: len(tiles[k]["roads"]["features"]),
    )
    gate = _gate(served)
    layer_count = len(tiles[(z, x, y)])
    direct = mapbox_vector_tile.decode(
        gate.tile("roads", TileRequest(TileXYZ(z, x, y), ("osm_id", "highway", "name"))).data
    )
    archived = tiles[(z, x, y)]["roads"]
    assert layer_count >= 1 and archived["extent"] == 4096
    by_id = {f["properties"]["id"]: f for f in archived["features"]}
    assert set(by_id) == {f["properties"]["id"] for f in direct["roads"]["features"]}
    for feature in direct["roads"]["features"]:
        mine = by_id[feature["properties"]["id"]]
        assert mine["properties"]["highway"] == feature["properties"]["highway"]
        a, b = shapely.geometry.shape(mine["geometry"]), shapely.geometry.shape(feature["geometry"])
        assert a.hausdorff_distance(b) <= 1.0


def test_gdal_reads_the_archive(archive) -> None:
    """GDAL's PMTiles driver (3.8+; pyogrio's GDAL — Debian's 3.6 ogrinfo has none)."""
    assert pyogrio.__gdal_version__ >= (3, 8, 0)
    assert "PMTiles" in pyogrio.list_drivers()
    layers = {str(name) for name, _ in pyogrio.list_layers(archive)}
    assert {"communes", "roads", "waterways", "water-bodies"} <= layers
    assert not layers & HIDDEN_COLLECTIONS[Tier.PUBLIC]
    roads = pyogrio.read_dataframe(archive, layer="roads")
    assert len(roads) > 0 and roads.crs.to_epsg() == 3857
    assert set(roads["highway"]) <= {"motorway", "trunk", "secondary", "residential"}
    communes = pyogrio.read_dataframe(archive, layer="communes")
    assert "Évry-Courcouronnes" in set(communes["nom_officiel"])


@pytest.mark.parametrize("tier", [Tier.B2B, Tier.INTERNAL])
def test_other_tiers_are_refused(served, tier, tmp_path) -> None:
    with pytest.raises(InvalidInput, match="public tier only"):
        export_pmtiles(_gate(served, tier), tmp_path, max_zoom=5)
    assert list(tmp_path.iterdir()) == []


def test_same_data_same_bytes_and_name(served, tmp_path) -> None:
    first = export_pmtiles(_gate(served), tmp_path / "a", max_zoom=8).path
    second = export_pmtiles(_gate(served), tmp_path / "b", max_zoom=8).path
    assert first.name == second.name and first.read_bytes() == second.read_bytes()
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no partial file left


def test_the_cli_exports_the_public_tier_and_refuses_others(demo_embedded, tmp_path) -> None:
    from tests.test_cli import run_atlas

    data_dir = demo_embedded.settings.store.data_dir
    refused = run_atlas("export", "pmtiles", "--tier", "b2b", str(tmp_path), data_dir=data_dir)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip().count("\n") == 0 and "public tier only" in refused.stderr
    done = run_atlas(
        "export", "pmtiles", "--max-zoom", "6", "--quiet", str(tmp_path), data_dir=data_dir
    )
    assert done.returncode == 0, done.stderr
    (archive,) = tmp_path.glob("atlas-public-*.pmtiles")
    assert done.stdout.startswith(f"wrote {archive.name}: ") and "z0-6" in done.stdout
