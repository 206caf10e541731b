"""Hostile and broken input is refused with a clear message before anything is read into a store."""

from __future__ import annotations

import io
import tarfile
import zipfile

import geopandas as gpd
import pytest
import shapely

from atlas.errors import HostileInput, InvalidInput, UnknownCRS
from atlas.layers.io import read_vector, unpacked
from atlas.query.crs import resolve_crs
from atlas.settings import IngestSettings


def _points(tmp_path, name="points.geojson", columns=None):
    frame = gpd.GeoDataFrame(
        columns or {"name": ["a", "b"]},
        geometry=[shapely.Point(2.4, 48.6), shapely.Point(2.5, 48.62)],
        crs=4326,
    )
    path = tmp_path / name
    frame.to_file(path)
    return path


def test_zip_bomb_is_refused(tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("parcels.geojson", b"\0" * (50 * 1024 * 1024))  # 50 MB of zeros -> ~50 KB
    with pytest.raises(HostileInput, match="zip bomb"):
        with unpacked(bomb):
            pass


def test_zip_bomb_with_lying_sizes_is_stopped_while_extracting(tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.geojson", b"\0" * (3 * 1024 * 1024))
    limits = IngestSettings(max_archive_bytes=1024 * 1024, max_compression_ratio=1e9)
    with pytest.raises(HostileInput, match="more than|size cap"):
        with unpacked(bomb, limits):
            pass


@pytest.mark.parametrize("member", ["../evil.geojson", "/etc/evil.geojson", "a/../../evil.geojson"])
def test_path_traversal_in_zip_is_refused(tmp_path, member):
    archive_path = tmp_path / "traversal.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr(member, "{}")
    with pytest.raises(HostileInput, match="outside the archive"):
        with unpacked(archive_path):
            pass
    assert not (tmp_path.parent / "evil.geojson").exists()


def test_path_traversal_and_links_in_tar_are_refused(tmp_path):
    archive_path = tmp_path / "traversal.tar.gz"
    with tarfile.open(archive_path, "w:gz") as archive:
        info = tarfile.TarInfo("../../evil.txt")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(HostileInput, match="outside the archive"):
        with unpacked(archive_path):
            pass
    linked = tmp_path / "link.tar"
    with tarfile.open(linked, "w") as archive:
        info = tarfile.TarInfo("passwd")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        archive.addfile(info)
    with pytest.raises(HostileInput, match="link"):
        with unpacked(linked):
            pass


def test_good_zip_unpacks(tmp_path):
    source = _points(tmp_path)
    archive_path = tmp_path / "good.zip"
    with zipfile.ZipFile(archive_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(source, "data/points.geojson")
    with unpacked(archive_path) as directory:
        frame = read_vector(directory / "data" / "points.geojson")
    assert len(frame) == 2


def test_sql_column_name_is_refused(tmp_path):
    path = tmp_path / "evil.geojson"
    path.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point",'
        '"coordinates":[2.4,48.6]},"properties":{"name; DROP TABLE parcels; --":"x"}}]}'
    )
    with pytest.raises(HostileInput, match="plain identifiers"):
        read_vector(path)


def test_truncated_shapefile_is_refused(tmp_path):
    frame = gpd.GeoDataFrame(
        {"n": range(50)},
        geometry=[shapely.Point(650_000 + i, 6_850_000) for i in range(50)],
        crs=2154,
    )
    frame.to_file(tmp_path / "pts.shp")
    shp = tmp_path / "pts.shp"
    shp.write_bytes(shp.read_bytes()[:-100])
    with pytest.raises(InvalidInput, match="truncated"):
        read_vector(shp)
    (tmp_path / "pts.dbf").unlink()
    with pytest.raises(InvalidInput, match="missing .dbf"):
        read_vector(shp)


def test_not_a_vector_file(tmp_path):
    path = tmp_path / "junk.geojson"
    path.write_text("this is not json")
    with pytest.raises(InvalidInput, match="'junk.geojson' is not a JSON object"):
        read_vector(path)


def test_crs_rules(tmp_path):
    path = _points(tmp_path)
    with pytest.raises(InvalidInput, match="declares"):
        read_vector(path, crs="EPSG:2154")
    assert read_vector(path, crs="EPSG:4326").crs.to_epsg() == 4326
    with pytest.raises(UnknownCRS):
        resolve_crs("EPSG:999999")
    assert resolve_crs("2154").to_epsg() == 2154
