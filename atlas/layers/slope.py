"""Slope in degrees, read from a slope GeoTIFF or derived from an elevation COG (Horn's method).

Horn (1981), "Hill shading and the reflectance map", Proc. IEEE 69(1): the gradient at a pixel is
estimated from its 8 neighbours with weights 1-2-1, which is also what ``gdaldem slope`` computes
by default. Like gdaldem without ``-compute_edges``, a pixel on the border or with a nodata
neighbour gets nodata: a slope needs the whole 3 x 3 window.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from atlas.errors import InvalidInput
from atlas.layers.base import RasterLayer, RasterResult, ReadOptions
from atlas.layers.io import single_source
from atlas.layers.rasters import (
    DEFAULT_NODATA,
    RASTER_SUFFIXES,
    Grid,
    import_geotiff,
    open_checked,
    read_grid,
    read_product_tag,
    source_crs,
    write_cog,
)

PRODUCT = "slope"
UNIT = "degree"
# File names the IGN and common tools give elevation models (MNT, MNS, RGE ALTI, LiDAR HD…).
_ELEVATION_NAME = re.compile(r"(mnt|mns|dtm|dsm|dem|rgealti|rge_alti|elevation|altitude)", re.I)
_SLOPE_NAME = re.compile(r"(slope|pente)", re.I)


def horn_slope(values: np.ndarray, nodata: float, xres: float, yres: float) -> np.ndarray:
    """Slope in degrees of a 2-D elevation array (Horn), nodata where the 3 x 3 window is not full."""
    z = values.astype("float64")
    valid = (values != nodata) & np.isfinite(values)
    out = np.full(values.shape, DEFAULT_NODATA, dtype="float32")
    if min(values.shape) < 3:
        return out
    a, b, c = z[:-2, :-2], z[:-2, 1:-1], z[:-2, 2:]
    d, f = z[1:-1, :-2], z[1:-1, 2:]
    g, h, i = z[2:, :-2], z[2:, 1:-1], z[2:, 2:]
    dzdx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8 * xres)
    dzdy = ((g + 2 * h + i) - (a + 2 * b + c)) / (8 * yres)
    slope = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))
    full = np.ones_like(slope, dtype=bool)
    for dy in range(3):
        for dx in range(3):
            full &= valid[dy : dy + values.shape[0] - 2, dx : dx + values.shape[1] - 2]
    out[1:-1, 1:-1] = np.where(full, slope, DEFAULT_NODATA)
    return out


def derive_slope(elevation_cog: Path, out_dir: Path, *, crs: str | None = None) -> RasterResult:
    """Slope (degrees) of an elevation GeoTIFF/COG, written as ``slope.tif`` COG in ``out_dir``.

    The elevation is brought to EPSG:2154 first, so the pixel size is in metres like the heights.
    """
    with open_checked(elevation_cog) as src:
        grid = read_grid(src, source_crs(src, crs, elevation_cog.name))
    xres, yres = abs(grid.transform.a), abs(grid.transform.e)
    slope = horn_slope(grid.values, grid.nodata, xres, yres)
    result = Grid(slope, grid.transform, grid.crs, DEFAULT_NODATA)
    dest = Path(out_dir) / f"{PRODUCT}.tif"
    metadata = write_cog(result, dest, product=PRODUCT, unit=UNIT)
    origin = f"derived from {elevation_cog.name} (Horn)"
    metadata["source"] = origin
    return RasterResult(path=dest, notes=[origin], metadata=metadata)


def read_slope(path: Path, options: ReadOptions, out_dir: Path) -> RasterResult:
    """Read a slope GeoTIFF, or derive slope when the input is an elevation model.

    What the input is comes from, in order: ``--layer elevation|slope``; the ``ATLAS_PRODUCT``
    tag of an Atlas COG; the file name (MNT, DEM… vs slope, pente); the values (a slope is
    within 0–90 degrees).
    """
    source = single_source(path, RASTER_SUFFIXES)
    kind = _input_kind(source, options)
    if kind == "elevation":
        return derive_slope(source, out_dir, crs=options.crs)
    result = import_geotiff(source, options, out_dir, product=PRODUCT, unit=UNIT)
    low, high = result.metadata.get("min"), result.metadata.get("max")
    if isinstance(low, float) and isinstance(high, float) and (low < 0 or high > 90):
        raise InvalidInput(
            f"'{source.name}' holds values {low:.1f}..{high:.1f}: not slope degrees; "
            "give --layer elevation to derive slope from an elevation model"
        )
    return result


def _input_kind(source: Path, options: ReadOptions) -> str:
    if options.layer in ("elevation", "slope"):
        return options.layer
    if options.layer is not None:
        raise InvalidInput("for slope, --layer is 'elevation' (derive) or 'slope' (read as is)")
    tag = read_product_tag(source)
    if tag in ("elevation", "slope"):
        return tag
    if _SLOPE_NAME.search(source.name):
        return "slope"
    if _ELEVATION_NAME.search(source.name):
        return "elevation"
    with open_checked(source) as src:
        band = src.read(1, masked=True)
    low, high = (float(band.min()), float(band.max())) if band.count() else (0.0, 0.0)
    return "slope" if 0 <= low and high <= 90 else "elevation"


LAYER = RasterLayer(
    collection_id="slope",
    title="Slope",
    description="Terrain slope in degrees (Horn's method), Lambert-93 COG.",
    unit=UNIT,
    reader=read_slope,
    standard="Derived from IGN RGE ALTI / LiDAR HD elevation (Horn 1981, as gdaldem slope)",
)
