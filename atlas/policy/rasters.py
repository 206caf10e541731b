"""Rasters read through the gate: a reader bound to one raster the caller may see, not a path.

``Gate.raster_reader`` hands one out only for a raster the tier sees that holds a version (any
other answers like an unknown collection), bound to that version's COG and to the most one read
may hold (``MAX_READ_PIXELS``), so that a service never opens a file of its own choosing nor
reads a whole national raster into memory. Map tiles and point values go through the same
reader (``tile``, ``point``: rio-tiler over the bound COG), so no path ever reaches the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import morecantile
import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.windows import Window
from rio_tiler.errors import PointOutsideBounds
from rio_tiler.io import Reader

from atlas.errors import InvalidInput
from atlas.layers.rasters import pixel_span, safe_env
from atlas.types import STORAGE_EPSG, TileXYZ

MAX_READ_PIXELS = 64_000_000  # 512 MB of float64: a window over a whole agglomeration at 1 m


@dataclass(frozen=True, slots=True)
class RasterWindow:
    """Band 1 over a window: values (float64), which pixels hold one, where the window lies."""

    values: np.ndarray
    valid: np.ndarray  # False at nodata and non-finite pixels
    transform: Affine  # of the window, in EPSG:2154


@dataclass(frozen=True, slots=True)
class RasterTile:
    """Band 1 on a tile's grid: values (float64), which pixels hold one, the pixel size."""

    values: np.ndarray  # (size + 2·buffer) square, row 0 at the top of the tile
    valid: np.ndarray
    cell_size: float  # in the grid's CRS units


@dataclass(frozen=True, slots=True)
class PointValue:
    """Band 1 at a point of the raster: its value, or None at nodata."""

    value: float | None


@dataclass(frozen=True, slots=True)
class RasterReader:
    """One raster version as the caller may read it."""

    collection_id: str
    version: int
    _path: Path
    max_pixels: int = MAX_READ_PIXELS

    def read(self, bounds: tuple[float, float, float, float]) -> RasterWindow | None:
        """The pixels a Lambert-93 box touches, one pixel wider; None when it lies off the raster."""
        with safe_env(), rasterio.open(self._path, driver="GTiff") as src:
            rows, cols = pixel_span(src.transform, bounds, src.height, src.width)
            if rows.start >= rows.stop or cols.start >= cols.stop:
                return None
            size = (rows.stop - rows.start) * (cols.stop - cols.start)
            if size > self.max_pixels:
                raise InvalidInput(
                    f"{self.collection_id}: the area covers {size} pixels, more than one read"
                    f" may hold ({self.max_pixels})"
                )
            window = Window(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)
            band = src.read(1, window=window, masked=True)
            transform = src.window_transform(window)
        values = np.ma.getdata(band).astype("float64")
        return RasterWindow(values, ~np.ma.getmaskarray(band) & np.isfinite(values), transform)

    def tile(
        self,
        tile: TileXYZ,
        tms: morecantile.TileMatrixSet,
        *,
        size: int = 256,
        buffer: int = 0,
        resampling: Literal["nearest", "bilinear"] = "nearest",
    ) -> RasterTile | None:
        """Band 1 warped onto one tile of ``tms`` (``buffer`` pixels wider on each side), by
        rio-tiler; None when the tile lies off the raster."""
        with safe_env(), rasterio.open(self._path, driver="GTiff") as src:
            with Reader(str(self._path), dataset=src, tms=tms) as cog:
                if not cog.tile_exists(tile.x, tile.y, tile.z):
                    return None
                image = cog.tile(
                    tile.x,
                    tile.y,
                    tile.z,
                    tilesize=size,
                    indexes=1,
                    buffer=buffer or None,
                    reproject_method=resampling,
                    resampling_method=resampling,
                )
        band = image.array[0]
        values = np.ma.getdata(band).astype("float64")
        valid = ~np.ma.getmaskarray(band) & np.isfinite(values)
        return RasterTile(values, valid, tms.matrix(tile.z).cellSize)

    def point(self, x: float, y: float) -> PointValue | None:
        """Band 1 at a Lambert-93 point (the pixel holding it); None when it lies off the raster."""
        with safe_env(), rasterio.open(self._path, driver="GTiff") as src:
            with Reader(str(self._path), dataset=src) as cog:
                try:
                    sampled = cog.point(x, y, coord_crs=CRS.from_epsg(STORAGE_EPSG), indexes=1)
                except PointOutsideBounds:
                    return None
        band = sampled.array
        value = float(np.ma.getdata(band)[0])
        if bool(np.ma.getmaskarray(band)[0]) or not np.isfinite(value):
            return PointValue(None)
        return PointValue(value)
