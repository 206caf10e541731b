"""Rasters: DEM -> COG, slope (Horn, against gdaldem), hostile TIFFs, polygon sampling."""

from __future__ import annotations

import math
import shutil
import struct
import subprocess

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from atlas.errors import HostileInput, InvalidInput
from atlas.layers.base import ReadOptions
from atlas.layers.elevation import read_elevation
from atlas.layers.rasters import sample_mean
from atlas.layers.slope import derive_slope, horn_slope, read_slope
from tests.helpers import in_ci, require_real_data

DEM_SAMPLES = (
    "test_data_77055_627760_LA93_IGN69_50CM.tif",
    "test_mns_hydro_2023_0299_6802_LA93_IGN69_5m.tif",
)
ORIGIN = (650_000.0, 6_860_000.0)  # Lambert-93, near Évry


def _write_dem(path, values, *, res=2.0, crs="EPSG:2154", nodata=-9999.0, origin=ORIGIN):
    profile = {
        "driver": "GTiff",
        "width": values.shape[1],
        "height": values.shape[0],
        "count": 1,
        "dtype": "float32",
        "transform": from_origin(origin[0], origin[1], res, res),
        "nodata": nodata,
    }
    if crs:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as out:
        out.write(values.astype("float32"), 1)
    return path


def _plane(a=0.1, b=0.0, shape=(60, 80), res=2.0):
    rows, cols = np.indices(shape)
    x = cols * res
    y = -rows * res
    return (100.0 + a * x + b * y).astype("float32")


def _huge_tiff(path, width, height):
    """A 150-byte TIFF whose header claims width x height float32 pixels (deflate, one strip)."""
    entries = [
        (256, 4, width),
        (257, 4, height),
        (258, 3, 32),
        (259, 3, 8),
        (262, 3, 1),
        (273, 4, 0),
        (277, 3, 1),
        (278, 4, height),
        (279, 4, 16),
        (339, 3, 3),
    ]
    data_at = 8 + 2 + len(entries) * 12 + 4
    out = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(entries))
    for tag, kind, value in entries:
        value = data_at if tag == 273 else value
        if kind == 3:
            out += struct.pack("<HHIHH", tag, kind, 1, value, 0)
        else:
            out += struct.pack("<HHII", tag, kind, 1, value)
    path.write_bytes(out + struct.pack("<I", 0) + b"\0" * 16)
    return path


# --- elevation -> COG ---------------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.parametrize("name", DEM_SAMPLES)
def test_real_dem_becomes_a_cog_with_values_and_nodata_kept(tmp_path, name):
    source = require_real_data("dem-lidarhd-samples", name)
    result = read_elevation(source, ReadOptions(), tmp_path)
    with rasterio.open(result.path) as cog, rasterio.open(source) as src:
        assert cog.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert cog.profile["tiled"] and cog.profile["compress"] == "deflate"
        assert cog.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "3"
        assert cog.crs.to_epsg() == 2154
        assert cog.nodata == src.nodata
        assert np.array_equal(cog.read(1), src.read(1))
        assert cog.transform == src.transform
        nodata, bounds, res = src.nodata, list(src.bounds), list(src.res)
        valid = src.read(1, masked=True)
    meta = result.metadata
    assert meta["nodata"] == nodata
    assert meta["bounds"] == pytest.approx(bounds)
    assert meta["resolution"] == pytest.approx(res)
    assert meta["min"] == pytest.approx(float(valid.min()))
    assert meta["max"] == pytest.approx(float(valid.max()))


def test_cog_has_overviews_when_larger_than_a_block(tmp_path):
    source = _write_dem(tmp_path / "big.tif", _plane(shape=(1024, 1024)))
    result = read_elevation(source, ReadOptions(), tmp_path)
    with rasterio.open(result.path) as cog:
        assert cog.overviews(1) == [2, 4, 8]
        assert cog.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"


def test_dem_in_another_crs_is_reprojected_to_lambert93(tmp_path):
    values = np.full((50, 50), 42.0, dtype="float32")
    source = _write_dem(
        tmp_path / "wgs84.tif", values, res=0.0005, crs="EPSG:4326", origin=(2.42, 48.63)
    )
    result = read_elevation(source, ReadOptions(), tmp_path)
    with rasterio.open(result.path) as cog:
        assert cog.crs.to_epsg() == 2154
        data = cog.read(1, masked=True)
        assert data.count() > 0 and np.allclose(data.compressed(), 42.0)
    assert any("reprojected" in note for note in result.notes)


def test_dem_without_crs_needs_one(tmp_path):
    source = _write_dem(tmp_path / "nocrs.tif", _plane(), crs=None)
    with pytest.raises(InvalidInput, match="carries no CRS"):
        read_elevation(source, ReadOptions(), tmp_path)
    result = read_elevation(source, ReadOptions(crs="EPSG:2154"), tmp_path)
    with rasterio.open(result.path) as cog:
        assert cog.crs.to_epsg() == 2154


# --- slope --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [(0.1, 0.0), (0.0, 0.5), (0.3, -0.4), (1.0, 0.0)])
def test_slope_of_a_plane_is_its_angle_everywhere_inside(tmp_path, a, b):
    elevation = _write_dem(tmp_path / "plane.tif", _plane(a, b, res=2.0), res=2.0)
    result = derive_slope(elevation, tmp_path)
    with rasterio.open(result.path) as cog:
        slope = cog.read(1)
        nodata = cog.nodata
    inside = slope[1:-1, 1:-1]
    assert np.allclose(inside, math.degrees(math.atan(math.hypot(a, b))), atol=1e-4)
    # Horn needs the full 3 x 3 window: the border has no slope (like gdaldem without -compute_edges).
    assert (slope[0, :] == nodata).all() and (slope[:, -1] == nodata).all()


def test_slope_is_nodata_next_to_a_hole():
    values = _plane(0.2).astype("float32")
    values[10, 10] = -9999.0
    slope = horn_slope(values, -9999.0, 2.0, 2.0)
    assert (slope[9:12, 9:12] == -9999.0).all()
    assert slope[13, 13] == pytest.approx(math.degrees(math.atan(0.2)), abs=1e-4)


@pytest.mark.gdal_cli
@pytest.mark.realdata
@pytest.mark.parametrize("name", DEM_SAMPLES)
def test_slope_matches_gdaldem(tmp_path, name):
    gdaldem = shutil.which("gdaldem")
    if gdaldem is None:
        if in_ci():
            pytest.fail("gdaldem (Debian gdal-bin) is required under CI")
        pytest.skip("gdaldem is not installed")
    cog = read_elevation(require_real_data("dem-lidarhd-samples", name), ReadOptions(), tmp_path)
    ours = derive_slope(cog.path, tmp_path)
    reference = tmp_path / "gdaldem.tif"
    subprocess.run([gdaldem, "slope", "-q", str(cog.path), str(reference)], check=True)
    with rasterio.open(ours.path) as a, rasterio.open(reference) as b:
        mine, theirs = a.read(1), b.read(1)
        assert np.array_equal(mine == a.nodata, theirs == b.nodata)
        valid = mine != a.nodata
        assert np.abs(mine[valid] - theirs[valid]).max() < 1e-3


def test_slope_reader_derives_from_an_elevation_model_or_reads_a_slope(tmp_path):
    dem = _write_dem(tmp_path / "mnt_plane.tif", _plane(0.1) + 200)
    derived = read_slope(dem, ReadOptions(), tmp_path)
    assert derived.metadata["max"] == pytest.approx(math.degrees(math.atan(0.1)), abs=1e-3)
    (tmp_path / "b").mkdir()
    given = _write_dem(tmp_path / "pente.tif", np.full((20, 20), 12.5, dtype="float32"))
    read = read_slope(given, ReadOptions(), tmp_path / "b")
    assert read.metadata["min"] == read.metadata["max"] == 12.5
    # An Atlas COG says what it is in its ATLAS_PRODUCT tag, whatever its name.
    (tmp_path / "c").mkdir()
    again = read_slope(derived.path, ReadOptions(), tmp_path / "c")
    assert again.metadata["max"] == pytest.approx(derived.metadata["max"])


def test_slope_reader_refuses_values_that_are_not_degrees(tmp_path):
    heights = _write_dem(tmp_path / "slope_wrong.tif", _plane(0.1) + 500)
    with pytest.raises(InvalidInput, match="not slope degrees"):
        read_slope(heights, ReadOptions(), tmp_path)


# --- hostile input ------------------------------------------------------------------------------


def test_vrt_renamed_tif_is_refused(tmp_path):
    fake = tmp_path / "dem.tif"
    fake.write_text(
        '<VRTDataset rasterXSize="10" rasterYSize="10"><VRTRasterBand dataType="Float32" band="1">'
        "<SimpleSource><SourceFilename>/etc/passwd</SourceFilename></SimpleSource>"
        "</VRTRasterBand></VRTDataset>"
    )
    with pytest.raises(HostileInput, match="XML"):
        read_elevation(fake, ReadOptions(crs="EPSG:2154"), tmp_path)


def test_file_that_is_not_a_tiff_is_refused(tmp_path):
    fake = tmp_path / "dem.tif"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(HostileInput, match="not a TIFF"):
        read_elevation(fake, ReadOptions(), tmp_path)


def test_tiff_claiming_a_trillion_pixels_is_refused_without_allocating(tmp_path):
    huge = _huge_tiff(tmp_path / "huge.tif", 1_000_000, 1_000_000)
    assert huge.stat().st_size < 1024
    with pytest.raises(HostileInput, match="1000000 x 1000000 pixels"):
        read_elevation(huge, ReadOptions(crs="EPSG:2154"), tmp_path)


def test_raster_over_the_byte_cap_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_INGEST_MAX_RASTER_BYTES", "1000")
    source = _write_dem(tmp_path / "dem.tif", _plane())
    with pytest.raises(HostileInput, match="bytes uncompressed"):
        read_elevation(source, ReadOptions(), tmp_path)


def test_truncated_tiff_is_invalid_input(tmp_path):
    source = _write_dem(tmp_path / "dem.tif", _plane())
    broken = tmp_path / "broken.tif"
    broken.write_bytes(source.read_bytes()[:12])
    with pytest.raises(InvalidInput):
        read_elevation(broken, ReadOptions(), tmp_path)


# --- sampling -----------------------------------------------------------------------------------


def test_sample_mean_over_a_polygon(tmp_path):
    values = np.zeros((50, 50), dtype="float32")
    values[:, 25:] = 10.0
    cog = read_elevation(_write_dem(tmp_path / "dem.tif", values), ReadOptions(), tmp_path).path
    x0, y0 = ORIGIN
    left = shapely.box(x0 + 4, y0 - 40, x0 + 40, y0 - 4)  # columns 2..19: zeros
    both = shapely.box(x0 + 30, y0 - 40, x0 + 70, y0 - 4)  # columns 15..34: half and half
    assert sample_mean(cog, left) == pytest.approx(0.0)
    assert sample_mean(cog, both) == pytest.approx(5.0)
    assert sample_mean(cog, shapely.box(0, 0, 10, 10)) is None
    tiny = shapely.box(x0 + 60.2, y0 - 10.8, x0 + 60.4, y0 - 10.6)  # inside one pixel
    assert sample_mean(cog, tiny) == pytest.approx(10.0)
