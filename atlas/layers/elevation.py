"""Elevation: a digital elevation model (IGN RGE ALTI / LiDAR HD MNT) stored as a COG in Lambert-93.

The input is a GeoTIFF (the IGN distributes RGE ALTI and LiDAR HD MNT/MNS tiles as GeoTIFF in
EPSG:2154, heights in metres above IGN69); another CRS is reprojected to EPSG:2154 with bilinear
resampling. The nodata value of the source (9999 or -9999 in IGN tiles) is kept.
"""

from __future__ import annotations

from pathlib import Path

from atlas.layers.base import RasterLayer, RasterResult, ReadOptions
from atlas.layers.rasters import import_geotiff

PRODUCT = "elevation"
UNIT = "m"


def read_elevation(path: Path, options: ReadOptions, out_dir: Path) -> RasterResult:
    """Read a DEM GeoTIFF and write it as ``elevation.tif`` (COG, EPSG:2154) in ``out_dir``."""
    return import_geotiff(path, options, out_dir, product=PRODUCT, unit=UNIT)


LAYER = RasterLayer(
    collection_id="elevation",
    title="Elevation",
    description="Digital elevation model (metres, IGN69 heights), Lambert-93 COG.",
    unit=UNIT,
    reader=read_elevation,
    standard="IGN RGE ALTI / LiDAR HD GeoTIFF (EPSG:2154)",
)
