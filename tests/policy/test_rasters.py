"""Rasters read through the gate: a reader bound to a raster the tier sees, never a path."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from atlas.errors import InvalidInput, UnknownCollection
from atlas.layers.base import ReadOptions
from atlas.layers.elevation import read_elevation
from atlas.policy.gate import Policy
from atlas.policy.rasters import RasterReader
from atlas.policy.tiers import Principal, Tier
from atlas.settings import StoreSettings
from atlas.stores import open_store
from atlas.stores.rasters import RasterCatalog

ORIGIN = (650_000.0, 6_860_000.0)  # Lambert-93, near Évry
RES = 2.0


@pytest.fixture
def policy(tmp_path):
    """An elevation raster (50 x 40 pixels of 2 m, value = column index) and no slope."""
    values = np.tile(np.arange(50, dtype="float32"), (40, 1))
    values[0, 0] = -9999.0  # nodata
    dem = tmp_path / "dem.tif"
    profile = {"driver": "GTiff", "width": 50, "height": 40, "count": 1, "dtype": "float32",
               "crs": "EPSG:2154", "transform": from_origin(*ORIGIN, RES, RES), "nodata": -9999.0}  # fmt: skip
    with rasterio.open(dem, "w", **profile) as out:
        out.write(values, 1)
    cog = read_elevation(dem, ReadOptions(), tmp_path).path
    rasters = RasterCatalog(tmp_path / "data")
    rasters.write_version("elevation", cog, {})
    rasters.write_version("elevation", cog, {})  # the reader reads the current one
    store = open_store(StoreSettings(data_dir=tmp_path / "data"))
    yield Policy(store, rasters, audit=None)
    store.close()


@pytest.mark.parametrize("tier", list(Tier))
def test_a_reader_reads_the_current_version_in_windows(policy, tier):
    reader = policy.gate(Principal(tier), "r").raster_reader("elevation")
    assert reader.version == 2
    x0, y0 = ORIGIN
    window = reader.read((x0 + 10.5, y0 - 20.5, x0 + 30.5, y0 - 10.5))  # columns 5..15
    assert window is not None
    cols = np.arange(window.values.shape[1]) + round((window.transform.c - x0) / RES)
    assert np.array_equal(window.values[0], cols.astype("float64"))  # one pixel wider, clipped
    assert window.transform.a == RES and window.valid.all()
    corner = reader.read((x0, y0 - 2, x0 + 2, y0))
    assert corner is not None and not corner.valid[0, 0]  # nodata is not a value
    assert reader.read((0.0, 0.0, 10.0, 10.0)) is None  # off the raster


@pytest.mark.parametrize("collection_id", ["slope", "parcels", "nope"])
def test_only_a_raster_the_tier_sees_with_a_version_gets_a_reader(policy, collection_id):
    with pytest.raises(UnknownCollection):
        policy.gate(Principal(Tier.INTERNAL), "r").raster_reader(collection_id)


def test_a_read_larger_than_the_reader_allows_is_refused(policy):
    bound = policy.gate(Principal(Tier.PUBLIC), "r").raster_reader("elevation")
    small = RasterReader(bound.collection_id, bound.version, bound._path, max_pixels=100)
    x0, y0 = ORIGIN
    assert small.read((x0, y0 - 10, x0 + 10, y0)) is not None  # 7 x 7 pixels
    with pytest.raises(InvalidInput, match="more than one read may hold"):
        small.read((x0, y0 - 80, x0 + 100, y0))
