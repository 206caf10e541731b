"""Map tiles of the served demo (both stores) against oracles that share no code with them.

- slope classes against a rasterio ``WarpedVRT`` of the slope COG onto the tile, classified with
  the documented percent bounds;
- the hillshade: its input (the elevation rio-tiler reads, one pixel wider) against the same
  warp, and its shade against ``gdaldem hillshade`` run on that warp;
- flood-hazard classes against shapely point-in-polygon at the pixel centres of the zones read
  from the demo's GeoJSON file;
- both tile grids (WebMercatorQuad and the Lambert-93 quad grid), a coarse and a fine zoom.
"""

from __future__ import annotations

import math
import subprocess
import warnings

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import rasterio.warp
import shapely
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.transform import from_bounds
from rasterio.vrt import WarpedVRT

from atlas.layers.flood_hazard import hazard_class
from atlas.policy.gate import Policy
from atlas.policy.tiers import Principal, Tier
from atlas.query.grids import LAMBERT_93, WEB_MERCATOR, grid
from atlas.stores import open_store
from atlas.stores.rasters import RasterCatalog
from atlas.tiles.colormaps import FLOOD_CLASSES, SLOPE_CLASSES
from atlas.tiles.raster import MapTileRequest, map_tile, open_source
from atlas.tiles.render import ImageFormat
from atlas.types import TileXYZ
from tests.conftest import STORE_KINDS

SIZE = 256
SLOPE_BOUNDS_PCT = [2.0, 5.0, 10.0, 15.0]  # the legend's classes, written out: the oracle's own
CASES = [(WEB_MERCATOR, 11), (WEB_MERCATOR, 14), (LAMBERT_93, 9), (LAMBERT_93, 12)]


@pytest.fixture(scope="module", params=STORE_KINDS)
def policy(request, demo_sources):
    """A policy over the session's demo on each store kind (no audit: nothing here is audited)."""
    demo = request.getfixturevalue(f"demo_{request.param}")
    store = open_store(demo.settings.store)
    yield Policy(store, RasterCatalog(demo.settings.store.data_dir), audit=None)
    store.close()


def _gate(policy: Policy, tier: Tier = Tier.PUBLIC):
    return policy.gate(Principal(tier), "test")


def _cog(policy: Policy, cid: str):
    path, _ = policy.rasters.current(cid)
    return path


def _steep_tile(policy: Policy, grid_id: str, z: int) -> TileXYZ:
    """The tile holding the steepest pixel of the slope COG's middle: relief, several classes."""
    with rasterio.open(_cog(policy, "slope")) as src:
        band = src.read(1, masked=True)
        h, w = band.shape
        middle = band[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]  # away from the data's edge
        row, col = np.unravel_index(np.ma.argmax(middle), middle.shape)
        x, y = src.xy(row + h // 4, col + w // 4)
    lon, lat = rasterio.warp.transform("EPSG:2154", "EPSG:4326", [x], [y])
    tile = grid(grid_id).tms.tile(lon[0], lat[0], z)
    return TileXYZ(tile.z, tile.x, tile.y)


def _render(policy, cid, grid_id, tile, style, fmt=ImageFormat.PNG) -> np.ndarray | None:
    gate = _gate(policy)
    request = MapTileRequest(cid, grid(grid_id), tile, style, fmt)
    data = map_tile(gate, open_source(gate, cid), request)
    if data is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile(data) as memory, memory.open() as image:
            pixels = image.read()
    if pixels.shape[0] == 3:  # an opaque WebP has no alpha channel
        pixels = np.concatenate([pixels, np.full_like(pixels[:1], 255)])
    return pixels


def _warp(cog, grid_id, tile, resampling, pad=0):
    """The COG warped onto the tile (``pad`` pixels wider) by rasterio alone."""
    tms_grid = grid(grid_id)
    left, bottom, right, top = tms_grid.bounds(tile)
    res = (right - left) / SIZE
    bounds = (left - pad * res, bottom - pad * res, right + pad * res, top + pad * res)
    n = SIZE + 2 * pad
    with rasterio.open(cog) as src:
        options = {"crs": f"EPSG:{tms_grid.epsg}", "resampling": resampling}
        with WarpedVRT(
            src, transform=from_bounds(*bounds, n, n), width=n, height=n, **options
        ) as vrt:
            band = vrt.read(1, masked=True)
    return band, bounds


def _codes(pixels: np.ndarray, classes) -> np.ndarray:
    """Class codes of decoded pixels by their legend colour; -1 where transparent."""
    codes = np.full(pixels.shape[1:], -1)
    for item in classes:
        same = (pixels[:3] == np.asarray(item.color)[:, None, None]).all(axis=0)
        codes[same & (pixels[3] > 0)] = item.code
    return codes


@pytest.mark.parametrize(("grid_id", "z"), CASES)
def test_slope_classes_match_a_rasterio_warp(policy, grid_id, z):
    tile = _steep_tile(policy, grid_id, z)
    pixels = _render(policy, "slope", grid_id, tile, "classes")
    assert pixels is not None
    drawn = _codes(pixels, SLOPE_CLASSES)
    assert ((drawn >= 0) == (pixels[3] > 0)).all()  # every drawn pixel has a legend colour
    band, _ = _warp(_cog(policy, "slope"), grid_id, tile, Resampling.nearest)
    percent = np.tan(np.radians(band.filled(0).astype("float64"))) * 100
    expected = np.where(np.ma.getmaskarray(band), -1, np.digitize(percent, SLOPE_BOUNDS_PCT))
    assert (expected >= 0).sum() > 1000  # a tile inside the data, not a test of nothing
    # Coarse zooms read the overviews (averaged degrees): a class may flip at a bound there.
    assert (drawn == expected).mean() >= (0.99 if z < 12 else 0.999)
    assert len(np.unique(expected[expected >= 0])) >= 2


@pytest.mark.gdal_cli
@pytest.mark.parametrize(("grid_id", "z"), CASES)
def test_hillshade_matches_gdaldem_on_the_same_input(policy, tmp_path, grid_id, z):
    tile = _steep_tile(policy, grid_id, z)
    cog = _cog(policy, "elevation")
    band, bounds = _warp(cog, grid_id, tile, Resampling.bilinear, pad=1)
    # The input: what rio-tiler reads through the gate's reader is the warp's elevation.
    read = (
        _gate(policy)
        .raster_reader("elevation")
        .tile(tile, grid(grid_id).tms, buffer=1, resampling="bilinear")
    )
    assert read is not None and read.values.shape == band.shape
    both = read.valid & ~np.ma.getmaskarray(band)
    assert both.sum() > 10_000  # a coarse tile may straddle the data's edge
    # At coarse zooms rio-tiler reads an overview then resamples it (two bilinear steps where
    # the warp takes one): decimetres apart there, the same to the millimetre at finer zooms.
    gap = np.abs(read.values[both] - band.data[both])
    if z < 12:
        assert np.percentile(gap, 99) < 0.25 and gap.max() < 1.0
    else:
        assert gap.max() < 1e-3
    # The shade: gdaldem on the warp (its -s converts Web Mercator metres to ground metres).
    scale = 1.0
    if grid_id == WEB_MERCATOR:
        top_lat = math.degrees(math.atan(math.sinh(bounds[3] / 6378137.0)))
        bottom_lat = math.degrees(math.atan(math.sinh(bounds[1] / 6378137.0)))
        scale = math.cos(math.radians((top_lat + bottom_lat) / 2))
    dem, shaded = tmp_path / "dem.tif", tmp_path / "shade.tif"
    n = band.shape[0]
    profile = {"driver": "GTiff", "width": n, "height": n, "count": 1, "dtype": "float64",
               "crs": f"EPSG:{grid(grid_id).epsg}", "transform": from_bounds(*bounds, n, n),
               "nodata": -9999.0}  # fmt: skip
    with rasterio.open(dem, "w", **profile) as out:
        out.write(band.filled(-9999.0), 1)
    subprocess.run(
        ["gdaldem", "hillshade", "-q", "-s", str(scale), str(dem), str(shaded)], check=True
    )
    with rasterio.open(shaded) as src:
        oracle = src.read(1)[1:-1, 1:-1].astype(int)
    pixels = _render(policy, "elevation", grid_id, tile, "hillshade")
    assert pixels is not None
    ours = pixels[0].astype(int)
    common = (oracle > 0) & (pixels[3] > 0)
    assert common.sum() > 10_000
    assert np.percentile(np.abs(ours[common] - oracle[common]), 99) <= 1
    assert np.ptp(ours[common]) > 5  # relief, not a flat grey


def test_hypsometric_tint_is_shaded_and_transparent_alike(policy):
    tile = _steep_tile(policy, WEB_MERCATOR, 13)
    grey = _render(policy, "elevation", WEB_MERCATOR, tile, "hillshade")
    tint = _render(policy, "elevation", WEB_MERCATOR, tile, "hypsometric")
    assert grey is not None and tint is not None
    assert ((grey[3] > 0) == (tint[3] > 0)).all()
    assert not (tint[0] == tint[1]).all()  # colour, not grey


@pytest.mark.parametrize(
    ("grid_id", "z"), [(WEB_MERCATOR, 13), (WEB_MERCATOR, 15), (LAMBERT_93, 11)]
)
def test_flood_classes_match_the_zones_at_pixel_centres(policy, demo_sources, grid_id, z):
    zones = gpd.read_file(demo_sources["flood-hazard"]).to_crs(2154)
    zones["code"] = [
        hazard_class(s, n) for s, n in zip(zones["nivalea_st"], zones["nivalea"], strict=True)
    ]
    # The tile around the middle of the zones, so that it holds several classes.
    middle = zones.union_all().representative_point()
    lon, lat = rasterio.warp.transform("EPSG:2154", "EPSG:4326", [middle.x], [middle.y])
    found = grid(grid_id).tms.tile(lon[0], lat[0], z)
    tile = TileXYZ(found.z, found.x, found.y)
    pixels = _render(policy, "flood-hazard", grid_id, tile, "classes", ImageFormat.WEBP)
    assert pixels is not None
    drawn = _codes(pixels, FLOOD_CLASSES)
    left, bottom, right, top = grid(grid_id).bounds(tile)
    step = (right - left) / SIZE
    xs = left + (np.arange(SIZE) + 0.5) * step
    ys = top - (np.arange(SIZE) + 0.5) * step
    gx, gy = np.meshgrid(xs, ys)
    px, py = rasterio.warp.transform(
        f"EPSG:{grid(grid_id).epsg}", "EPSG:2154", gx.ravel(), gy.ravel()
    )
    points = shapely.points(px, py)
    tree = shapely.STRtree(zones.geometry.values)
    expected = np.full(points.shape, -1)
    hit_point, hit_zone = tree.query(points, predicate="within")
    for point, zone in zip(hit_point, hit_zone, strict=True):
        expected[point] = max(expected[point], zones["code"].iloc[zone])
    expected = expected.reshape(SIZE, SIZE)
    assert (expected >= 0).sum() > 500
    assert (drawn == expected).mean() >= 0.995
    assert len(np.unique(expected[expected >= 0])) >= 2


def test_tiles_off_the_data_are_none_for_every_collection(policy):
    far = grid(WEB_MERCATOR).tms.tile(-4.5, 48.4, 12)  # Brest
    tile = TileXYZ(far.z, far.x, far.y)
    for cid, style in (
        ("elevation", "hillshade"),
        ("slope", "classes"),
        ("flood-hazard", "classes"),
    ):
        assert _render(policy, cid, WEB_MERCATOR, tile, style) is None
    assert _gate(policy).raster_reader("elevation").tile(tile, grid(WEB_MERCATOR).tms) is None
