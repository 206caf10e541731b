"""Pixels to colours: hillshade, hypsometric tint, classes, and the PNG / WebP encoding.

Pure numpy on arrays a tile read gave; nothing here reads data. The hillshade is GDAL's
(``gdaldem hillshade``, Horn's gradient, default light): a pixel whose 3 x 3 window is not all
valid gets no shade, as gdaldem without ``-compute_edges`` does, so tiles read one pixel wider
join without seams.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence

import numpy as np
from rio_tiler.utils import render

from atlas.tiles.colormaps import (
    HILLSHADE_ALTITUDE,
    HILLSHADE_AZIMUTH,
    HYPSOMETRIC_STOPS,
    RasterClass,
)


class ImageFormat(enum.StrEnum):
    """The encodings of map tiles, as ``f`` names them."""

    PNG = "png"
    WEBP = "webp"

    @property
    def media_type(self) -> str:
        """The IANA media type."""
        return f"image/{self.value}"


def horn_gradient(
    values: np.ndarray, valid: np.ndarray, xres: float, yres: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dz/dx (east) and dz/dy (north) of the inner pixels, and where the 3 x 3 window is full."""
    z = values
    a, b, c = z[:-2, :-2], z[:-2, 1:-1], z[:-2, 2:]
    d, f = z[1:-1, :-2], z[1:-1, 2:]
    g, h, i = z[2:, :-2], z[2:, 1:-1], z[2:, 2:]
    dzdx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8 * xres)
    dzdy = ((a + 2 * b + c) - (g + 2 * h + i)) / (8 * yres)  # row 0 is north
    rows, cols = values.shape
    full = np.ones((rows - 2, cols - 2), dtype=bool)
    for dy in range(3):
        for dx in range(3):
            full &= valid[dy : dy + rows - 2, dx : dx + cols - 2]
    return dzdx, dzdy, full


def hillshade(
    values: np.ndarray,
    valid: np.ndarray,
    xres: float,
    yres: float,
    *,
    azimuth: float = HILLSHADE_AZIMUTH,
    altitude: float = HILLSHADE_ALTITUDE,
) -> tuple[np.ndarray, np.ndarray]:
    """Shade 1–255 of the inner pixels (``values`` is one pixel wider on each side) and validity.

    ``xres``/``yres`` are ground metres per pixel, so that slopes are true whatever the grid.
    """
    dzdx, dzdy, full = horn_gradient(values, valid, xres, yres)
    sun_az = math.radians(azimuth)
    sun_alt = math.radians(altitude)
    # Light direction (east, north, up) and the surface normal (-dz/dx, -dz/dy, 1).
    light = (math.sin(sun_az) * math.cos(sun_alt), math.cos(sun_az) * math.cos(sun_alt))
    up = math.sin(sun_alt)
    cosine = (up - light[0] * dzdx - light[1] * dzdy) / np.sqrt(1 + dzdx**2 + dzdy**2)
    shade = np.where(cosine <= 0, 1.0, 1 + 254 * cosine)
    return np.where(full, shade, 0).astype("uint8"), full


def hypsometric(values: np.ndarray, shade: np.ndarray) -> np.ndarray:
    """RGB (3, h, w) of the tint at ``values`` (metres), darkened by ``shade`` (1–255)."""
    heights = [stop for stop, _ in HYPSOMETRIC_STOPS]
    light = 0.35 + 0.65 * shade.astype("float64") / 255  # ambient light keeps shadows readable
    channels = [
        np.interp(values, heights, [color[band] for _, color in HYPSOMETRIC_STOPS]) * light
        for band in range(3)
    ]
    return np.clip(np.stack(channels), 0, 255).astype("uint8")


def grey(shade: np.ndarray) -> np.ndarray:
    """RGB (3, h, w) of a grey hillshade."""
    return np.stack([shade, shade, shade]).astype("uint8")


def classify(values: np.ndarray, classes: Sequence[RasterClass]) -> np.ndarray:
    """The class code of each value by the classes' [lower, upper) ranges (ordered, contiguous)."""
    edges = [c.lower for c in classes[1:]]
    indices = np.digitize(values, np.asarray(edges, dtype="float64"))
    codes = np.asarray([c.code for c in classes])
    return codes[indices]


def paint(codes: np.ndarray, valid: np.ndarray, classes: Sequence[RasterClass]) -> np.ndarray:
    """RGB (3, h, w) of class codes; invalid pixels black (the alpha hides them)."""
    lookup = np.zeros((max(c.code for c in classes) + 1, 3), dtype="uint8")
    for item in classes:
        lookup[item.code] = item.color
    rgb = lookup[np.where(valid, codes, 0)]
    rgb[~valid] = 0
    return np.moveaxis(rgb, -1, 0)


def encode(rgb: np.ndarray, valid: np.ndarray, image_format: ImageFormat, *, exact: bool) -> bytes:
    """PNG or WebP, transparent where ``valid`` is False; ``exact`` keeps WebP lossless
    (classes must decode to their colours; a hillshade may be lossy)."""
    mask = np.where(valid, 255, 0).astype("uint8")
    if image_format is ImageFormat.PNG:
        return render(rgb, mask, img_format="PNG")
    if exact:
        return render(rgb, mask, img_format="WEBP", LOSSLESS="TRUE")
    return render(rgb, mask, img_format="WEBP", QUALITY="85")
