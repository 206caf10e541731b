"""A 25 m elevation model: the Seine and Essonne valleys cut into the Brie and Hurepoix plateaux.

Valley floors at 33–40 m NGF, plateaux at 85–95 m, valley sides a kilometre or two wide, plus
smooth noise; written as a float32 GeoTIFF in EPSG:2154 with nodata -9999 beyond 1.5 km of the
territory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import shapely
from affine import Affine

from atlas.demo.territory import Territory

RESOLUTION = 25.0
NODATA = -9999.0


@dataclass(frozen=True)
class Dem:
    """Elevation grid (row 0 at the north) and its georeferencing."""

    values: np.ndarray  # float32, NODATA outside
    west: float
    north: float

    def sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Elevation at Lambert-93 points (nearest cell; NaN outside the grid)."""
        col = ((np.asarray(x) - self.west) // RESOLUTION).astype(int)
        row = ((self.north - np.asarray(y)) // RESOLUTION).astype(int)
        ok = (row >= 0) & (row < self.values.shape[0]) & (col >= 0) & (col < self.values.shape[1])
        out = np.full(len(col), np.nan)
        out[ok] = self.values[row[ok], col[ok]]
        out[out == NODATA] = np.nan
        return out


def build_dem(territory: Territory, rng) -> Dem:
    """The elevation model over the territory's bounds plus 1.5 km."""
    xmin, ymin, xmax, ymax = territory.bounds
    west, north = np.floor(xmin / 1000) * 1000 - 1500, np.ceil(ymax / 1000) * 1000 + 1500
    east, south = np.ceil(xmax / 1000) * 1000 + 1500, np.floor(ymin / 1000) * 1000 - 1500
    cols, rows = int((east - west) / RESOLUTION), int((north - south) / RESOLUTION)
    x = west + (np.arange(cols) + 0.5) * RESOLUTION
    y = north - (np.arange(rows) + 0.5) * RESOLUTION
    gx, gy = np.meshgrid(x, y)
    points = shapely.points(gx.ravel(), gy.ravel())
    d_seine = shapely.distance(territory.seine, points).reshape(gx.shape)
    d_essonne = shapely.distance(territory.essonne, points).reshape(gx.shape)
    # The Seine runs north: its floor drops ~3 m across the territory.
    floor = 36.0 - 3.0 * (gy - ymin) / (ymax - ymin)
    plateau = 88.0 + 4.0 * (gx - xmin) / (xmax - xmin) + _smooth_noise(rng, gx.shape, 80, 4.0)
    seine = floor + (plateau - floor) * _smoothstep((d_seine - 250.0) / 1800.0)
    essonne = 40.0 + (plateau - 40.0) * _smoothstep((d_essonne - 120.0) / 1100.0)
    values = np.minimum(seine, essonne) + _smooth_noise(rng, gx.shape, 12, 0.8)
    outside = ~shapely.contains_xy(territory.envelope.buffer(1500), gx, gy)
    values = np.where(outside, NODATA, values).astype(np.float32)
    return Dem(values=values, west=float(west), north=float(north))


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _smooth_noise(rng, shape: tuple[int, int], step: int, amplitude: float) -> np.ndarray:
    """Gaussian noise on a coarse grid (every ``step`` cells), bilinearly interpolated."""
    rows, cols = shape
    coarse = rng.normal(0.0, amplitude, (rows // step + 2, cols // step + 2))
    r = np.arange(rows) / step
    c = np.arange(cols) / step
    r0, c0 = r.astype(int), c.astype(int)
    fr, fc = (r - r0)[:, None], (c - c0)[None, :]
    top = coarse[r0][:, c0] * (1 - fc) + coarse[r0][:, c0 + 1] * fc
    bottom = coarse[r0 + 1][:, c0] * (1 - fc) + coarse[r0 + 1][:, c0 + 1] * fc
    return top * (1 - fr) + bottom * fr


def write_dem(path: Path, dem: Dem) -> Path:
    """A tiled, deflate-compressed float32 GeoTIFF (EPSG:2154, nodata -9999)."""
    rows, cols = dem.values.shape
    profile = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:2154",
        "transform": Affine(RESOLUTION, 0.0, dem.west, 0.0, -RESOLUTION, dem.north),
        "nodata": NODATA,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "predictor": 3,
    }
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=False), rasterio.open(path, "w", **profile) as out:
        out.write(dem.values, 1)
        out.update_tags(AREA_OR_POINT="Area", SOURCE="atlas demo territory (synthetic)")
    return path
