"""Every format written on both stores and read back: GDAL's ogrinfo (GeoParquet: pyarrow, since
Debian's GDAL 3.6 has no Parquet driver), CRS, layer names, feature counts equal to the gate's,
fields; a reprojected case against pyproj; the same data bytes from both stores."""

from __future__ import annotations

import hashlib
import json

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import CRS, Transformer

from atlas.policy.tiers import Tier
from tests.extracts.helpers import estimate, ogr_layers, run

COLLECTIONS = ["activity-sites", "activity-plots", "establishments", "water-pipes", "services"]
FORMATS = ["gpkg", "shapefile", "geojson", "csv", "flatgeobuf", "geoparquet"]
LAYERS = {c: c.replace("-", "_") for c in COLLECTIONS}
GEOMETRIES = {
    "activity_sites": "Multi Polygon",
    "activity_plots": "Polygon",
    "establishments": "Multi Point",
    "water_pipes": "Multi Line String",
    "services": "Point",
}
# Data files whose bytes must not depend on the store (GeoPackage and the dBase header carry a
# write date; metadata.json the creation time).
COMPARED = {
    "geojson": ".geojson",
    "csv": ".csv",
    "flatgeobuf": ".fgb",
    "geoparquet": ".parquet",
    "shapefile": ".shp",
}
_DIGESTS: dict[str, dict[str, str]] = {}


@pytest.mark.gdal_cli
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_back_with_the_gate_counts(served, tmp_path, fmt: str) -> None:
    body = {"collections": COLLECTIONS, "format": fmt}
    expected = estimate(served, Tier.INTERNAL, body)
    job = run(served, Tier.INTERNAL, body, tmp_path)
    assert job.status["result"]["counts"] == expected
    assert all(n > 0 for n in expected.values())
    metadata = job.metadata
    assert metadata["crs"]["code"] == "EPSG:2154"
    assert [layer["features"] for layer in metadata["layers"]] == [expected[c] for c in COLLECTIONS]
    for collection_id, name in LAYERS.items():
        if fmt == "geoparquet":
            _check_parquet(job.path(fmt, name), expected[collection_id], 2154)
            continue
        layers = ogr_layers(job.path(fmt, name))
        layer = layers[name]
        assert (layer.count, layer.epsg) == (expected[collection_id], 2154), (fmt, name)
        geometry = GEOMETRIES[name]
        if fmt == "shapefile":  # a Shapefile polygon holds one or several rings: "Polygon"
            geometry = geometry.replace("Multi ", "") if "Point" not in geometry else geometry
        assert layer.geometry == geometry, (fmt, name, layer.geometry)
    if fmt == "gpkg":
        assert sorted(ogr_layers(job.path(fmt, "x"))) == sorted(LAYERS.values())


def _check_parquet(path, count: int, epsg: int) -> None:
    frame = gpd.read_parquet(path)
    assert len(frame) == count
    assert frame.crs.to_epsg() == epsg


@pytest.mark.gdal_cli
def test_shapefile_names_fields_of_ten_characters_and_says_so(served, tmp_path) -> None:
    job = run(
        served, Tier.INTERNAL, {"collections": ["activity-sites"], "format": "shapefile"}, tmp_path
    )
    assert (tmp_path / "activity_sites.cpg").read_text().strip() == "UTF-8"
    assert CRS((tmp_path / "activity_sites.prj").read_text()).to_epsg() == 2154
    fields = job.metadata["layers"][0]["fields"]
    written = [f.get("file_name", f["name"]) for f in fields]
    assert all(len(n) <= 10 for n in written)
    assert len({n.lower() for n in written}) == len(written)
    assert ogr_layers(job.path("shapefile", "activity_sites"))["activity_sites"].fields == written
    renamed = {f["name"]: f["file_name"] for f in fields if "file_name" in f}
    assert renamed["site_voca_industrielle"] != renamed["site_voca_commerciale"]


@pytest.mark.gdal_cli
@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "csv"])
def test_a_reprojected_extract_matches_pyproj(served, tmp_path, fmt: str) -> None:
    """EPSG:3949 (CC49, Essonne's surveyors): same rows, coordinates transformed by pyproj."""
    base = {"collections": ["activity-plots"], "format": fmt}
    lambert = run(served, Tier.INTERNAL, base, tmp_path / "l93")
    cc49 = run(served, Tier.INTERNAL, {**base, "crs": "EPSG:3949"}, tmp_path / "cc49")
    assert ogr_layers(cc49.path(fmt, "activity_plots"))["activity_plots"].epsg == 3949
    assert cc49.metadata["crs"]["code"] == "EPSG:3949"
    source = pyogrio.read_dataframe(lambert.path(fmt, "activity_plots"))
    target = pyogrio.read_dataframe(cc49.path(fmt, "activity_plots"))
    assert list(source["terr_id"]) == list(target["terr_id"])
    transformer = Transformer.from_crs(2154, 3949, always_xy=True)
    expected = shapely.transform(
        np.asarray(source.geometry.values, dtype=object),
        lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])),
    )
    got = np.asarray(target.geometry.values, dtype=object)
    assert np.allclose(shapely.get_coordinates(got), shapely.get_coordinates(expected), atol=1e-6)


def test_crs84_geojson_is_rfc7946(served, tmp_path) -> None:
    body = {"collections": ["services"], "format": "geojson", "crs": "OGC:CRS84"}
    job = run(served, Tier.PUBLIC, body, tmp_path)
    document = json.loads(job.path("geojson", "services").read_text(encoding="utf-8"))
    assert "crs" not in document  # RFC 7946: CRS84 implied
    lon, lat = document["features"][0]["geometry"]["coordinates"]
    assert 2.2 < lon < 2.7 and 48.4 < lat < 48.8


def test_csv_xy_columns(served, tmp_path) -> None:
    body = {"collections": ["activity-plots", "services"], "format": "csv", "csv-geometry": "xy"}
    job = run(served, Tier.INTERNAL, body, tmp_path)
    plots = pyogrio.read_dataframe(job.path("csv", "activity_plots"))
    wkt_job = run(served, Tier.INTERNAL, {**body, "csv-geometry": "wkt"}, tmp_path / "wkt")
    outlines = pyogrio.read_dataframe(wkt_job.path("csv", "activity_plots"))
    assert plots.crs.to_epsg() == 2154
    # x/y of a polygon: a point on its surface, so inside the plot.
    inside = shapely.within(plots.geometry.values, outlines.geometry.values)
    assert inside.all()
    services = pyogrio.read_dataframe(job.path("csv", "services"))
    assert len(services) == job.status["result"]["counts"]["services"]


@pytest.mark.parametrize("fmt", list(COMPARED))
def test_both_stores_write_the_same_data_bytes(served, tmp_path, fmt: str) -> None:
    """The embedded store's run records digests; PostGIS' run (after it) must match them."""
    body = {"collections": COLLECTIONS + ["parcels"], "format": fmt}
    job = run(served, Tier.INTERNAL, body, tmp_path)
    digests = {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(tmp_path.glob(f"*{COMPARED[fmt]}"))
    }
    assert len(digests) == len(body["collections"])
    metadata = job.metadata
    for volatile in ("job", "request_id", "created"):
        metadata.pop(volatile)
    for layer in metadata["layers"]:
        layer.pop("source_updated")
    digests["metadata.json"] = hashlib.sha256(json.dumps(metadata).encode()).hexdigest()
    recorded = _DIGESTS.setdefault(fmt, {})
    for kind, other in recorded.items():
        assert digests == other, f"{fmt}: {served.kind} differs from {kind}"
    recorded[served.kind] = digests
