"""Rasters read through the gate: a reader bound to one raster the caller may see, not a path.

``Gate.raster_reader`` hands one out only for a raster the tier sees that holds a version (any
other answers like an unknown collection), bound to that version's COG and to the most one read
may hold (``MAX_READ_PIXELS``), so that a service never opens a file of its own choosing nor
reads a whole national raster into memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.windows import Window

from atlas.errors import InvalidInput
from atlas.layers.rasters import pixel_span, safe_env

MAX_READ_PIXELS = 64_000_000  # 512 MB of float64: a window over a whole agglomeration at 1 m


@dataclass(frozen=True, slots=True)
class RasterWindow:
    """Band 1 over a window: values (float64), which pixels hold one, where the window lies."""

    values: np.ndarray
    valid: np.ndarray  # False at nodata and non-finite pixels
    transform: Affine  # of the window, in EPSG:2154


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
