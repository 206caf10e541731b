"""Raster input safety, reprojection to Lambert-93 and Cloud-Optimized GeoTIFF writing.

Shared by the elevation and slope layers. Every check that protects the machine runs before a
single pixel is read: the file must really be a TIFF (a VRT is XML that can point GDAL at any
file or URL, so one renamed ``.tif`` is refused), its declared size must fit the ingest caps
(a header costs a few bytes, the allocation it asks for can be terabytes), and GDAL is opened
with the GTiff driver only, without directory listing, sidecar files or network access.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import rasterio.mask
import rasterio.shutil
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import RasterioIOError
from rasterio.io import DatasetReader, MemoryFile
from rasterio.warp import Resampling, calculate_default_transform, reproject
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from atlas.errors import HostileInput, InvalidInput
from atlas.layers.base import RasterResult, ReadOptions
from atlas.layers.io import single_source, sniff_bytes
from atlas.query.crs import resolve_crs
from atlas.settings import IngestSettings
from atlas.types import STORAGE_CRS, STORAGE_EPSG

RASTER_SUFFIXES = (".tif", ".tiff")
# Classic TIFF (little/big endian) and BigTIFF: TIFF 6.0 §2 and the BigTIFF proposal.
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
DEFAULT_NODATA = -9999.0
COG_BLOCKSIZE = 256
# GDAL configuration for untrusted input: no directory listing (sidecar .ovr/.aux.xml/.msk of a
# crafted name cannot be picked up), no PAM sidecar read or written, and the /vsicurl/ family
# limited to an extension nothing has, with no retry, so that nothing is fetched over a network.
SAFE_GDAL_ENV: dict[str, str] = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_PAM_ENABLED": "NO",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".atlas-no-network",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_TIMEOUT": "1",
}


@dataclass(slots=True)
class Grid:
    """One band on a north-up grid: values (nodata filled in), transform, CRS, nodata."""

    values: np.ndarray
    transform: Affine
    crs: CRS
    nodata: float


def safe_env() -> rasterio.Env:
    """A rasterio environment with the untrusted-input GDAL configuration."""
    return rasterio.Env(**SAFE_GDAL_ENV)


def check_tiff(path: Path) -> None:
    """Refuse a file that is not a TIFF by its magic bytes, whatever its name says."""
    head = sniff_bytes(path, 16)
    if head[:4] in TIFF_MAGIC:
        return
    if head.lstrip().startswith(b"<"):
        raise HostileInput(f"'{path.name}' is XML (a VRT?), not a GeoTIFF: refused")
    raise HostileInput(f"'{path.name}' is not a TIFF file (wrong magic bytes): refused")


def check_size(src: DatasetReader, name: str, limits: IngestSettings) -> None:
    """Refuse a raster whose declared size exceeds the caps, before any pixel is read."""
    pixels = src.width * src.height
    if pixels > limits.max_raster_pixels:
        raise HostileInput(
            f"'{name}' declares {src.width} x {src.height} pixels, "
            f"more than the cap of {limits.max_raster_pixels}"
        )
    itemsize = max(np.dtype(d).itemsize for d in src.dtypes)
    size = pixels * src.count * itemsize
    if size > limits.max_raster_bytes:
        raise HostileInput(
            f"'{name}' would take {size} bytes uncompressed, more than {limits.max_raster_bytes}"
        )


@contextmanager
def open_checked(path: Path, limits: IngestSettings | None = None) -> Iterator[DatasetReader]:
    """Open an untrusted GeoTIFF after the magic-byte check, inside the safe GDAL environment."""
    check_tiff(path)
    limits = limits or IngestSettings()
    with safe_env():
        try:
            # driver= restricts the drivers GDALOpenEx may try to GTiff alone.
            src = rasterio.open(path, driver="GTiff")
        except RasterioIOError as exc:
            raise InvalidInput(f"'{path.name}' is not a readable GeoTIFF") from exc
        with src:
            check_size(src, path.name, limits)
            yield src


def source_crs(src: DatasetReader, given: str | None, name: str) -> CRS:
    """The raster's CRS: the file's, else the caller's; an error if neither, or if they differ."""
    wanted = resolve_crs(given)
    if src.crs is None:
        if wanted is None:
            raise InvalidInput(f"'{name}' carries no CRS: give one with --crs EPSG:XXXX")
        return CRS.from_wkt(wanted.to_wkt())
    if wanted is not None and not CRS.from_wkt(wanted.to_wkt()) == src.crs:
        raise InvalidInput(
            f"'{name}' declares {src.crs.to_string()} but --crs differs; remove --crs"
        )
    return src.crs


def read_grid(src: DatasetReader, crs: CRS, limits: IngestSettings | None = None) -> Grid:
    """Band 1 in EPSG:2154: read as is when already Lambert-93, else warped (bilinear)."""
    if src.transform.b != 0 or src.transform.d != 0:
        raise InvalidInput("rotated rasters are not supported: give a north-up GeoTIFF")
    declared = src.nodata
    nodata = DEFAULT_NODATA if declared is None or math.isnan(declared) else float(declared)
    band = src.read(1, masked=True).astype("float32")
    values = band.filled(nodata)
    values[~np.isfinite(values)] = nodata  # NaN or inf samples carry no elevation either
    if crs.to_epsg() == STORAGE_EPSG:
        return Grid(values, src.transform, crs, nodata)
    storage = CRS.from_epsg(STORAGE_EPSG)
    transform, width, height = calculate_default_transform(
        crs, storage, src.width, src.height, *src.bounds
    )
    limits = limits or IngestSettings()
    if width * height > limits.max_raster_pixels:
        raise HostileInput(f"the raster reprojected to {STORAGE_CRS} would exceed the pixel cap")
    out = np.full((height, width), nodata, dtype="float32")
    reproject(
        values,
        out,
        src_transform=src.transform,
        src_crs=crs,
        src_nodata=nodata,
        dst_transform=transform,
        dst_crs=storage,
        dst_nodata=nodata,
        resampling=Resampling.bilinear,
    )
    return Grid(out, transform, storage, nodata)


def _overview_count(width: int, height: int) -> int:
    # Halve until the smallest level fits in about half a block: enough for tiles at low zoom.
    largest = max(width, height)
    return max(0, math.ceil(math.log2(largest / (COG_BLOCKSIZE / 2)))) if largest > 0 else 0


def write_cog(grid: Grid, dest: Path, *, product: str, unit: str | None) -> dict[str, object]:
    """Write ``grid`` as a COG (deflate, floating-point predictor, overviews); its metadata."""
    height, width = grid.values.shape
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": grid.crs,
        "transform": grid.transform,
        "nodata": grid.nodata,
    }
    with safe_env(), MemoryFile() as memory:
        with memory.open(**profile) as tmp:
            tmp.write(grid.values.astype("float32"), 1)
            tmp.update_tags(ATLAS_PRODUCT=product)
            if unit:
                tmp.units = (unit,)
        with memory.open() as tmp:
            # The COG driver is CreateCopy-only: copy the in-memory GTiff into the final layout.
            rasterio.shutil.copy(
                tmp,
                dest,
                driver="COG",
                COMPRESS="DEFLATE",
                PREDICTOR="FLOATING_POINT",  # TIFF predictor 3, for float32 samples
                BLOCKSIZE=str(COG_BLOCKSIZE),
                OVERVIEW_COUNT=str(_overview_count(width, height)),
                OVERVIEW_RESAMPLING="AVERAGE",
                BIGTIFF="IF_SAFER",
            )
    return grid_metadata(grid, product=product, unit=unit)


def grid_metadata(grid: Grid, *, product: str, unit: str | None) -> dict[str, object]:
    """JSON-ready description of a grid: bounds, resolution, size, min/max, nodata."""
    height, width = grid.values.shape
    valid = grid.values[grid.values != grid.nodata]
    valid = valid[np.isfinite(valid)]
    west, north = grid.transform @ (0, 0)
    east, south = grid.transform @ (width, height)
    return {
        "product": product,
        "unit": unit,
        "crs": STORAGE_CRS,
        "bounds": [min(west, east), min(south, north), max(west, east), max(south, north)],
        "resolution": [abs(grid.transform.a), abs(grid.transform.e)],
        "width": width,
        "height": height,
        "dtype": "float32",
        "nodata": grid.nodata,
        "min": float(valid.min()) if valid.size else None,
        "max": float(valid.max()) if valid.size else None,
        "valid_pixels": int(valid.size),
    }


def import_geotiff(
    path: Path, options: ReadOptions, out_dir: Path, *, product: str, unit: str | None
) -> RasterResult:
    """Read an untrusted GeoTIFF, bring it to EPSG:2154 and write it as ``<product>.tif`` COG."""
    source = single_source(path, RASTER_SUFFIXES)
    notes: list[str] = []
    with open_checked(source) as src:
        crs = source_crs(src, options.crs, source.name)
        if src.count > 1:
            notes.append(f"{source.name} has {src.count} bands: band 1 used")
        grid = read_grid(src, crs)
    if crs.to_epsg() != STORAGE_EPSG:
        notes.append(f"reprojected from {crs.to_string()} to {STORAGE_CRS} (bilinear)")
    dest = Path(out_dir) / f"{product}.tif"
    metadata = write_cog(grid, dest, product=product, unit=unit)
    metadata["source"] = source.name
    return RasterResult(path=dest, notes=notes, metadata=metadata)


def read_product_tag(path: Path) -> str | None:
    """The ``ATLAS_PRODUCT`` tag Atlas writes in its COGs, if any (the file is checked first)."""
    with open_checked(path) as src:
        return src.tags().get("ATLAS_PRODUCT")


def pixel_span(
    transform: Affine, bounds: tuple[float, float, float, float], height: int, width: int
) -> tuple[slice, slice]:
    """Rows and columns of the pixels a box touches, one pixel wider, within the grid."""
    xmin, ymin, xmax, ymax = bounds
    col0, row0 = ~transform @ (xmin, ymax)
    col1, row1 = ~transform @ (xmax, ymin)
    rows = slice(
        max(math.floor(min(row0, row1)) - 1, 0), min(math.ceil(max(row0, row1)) + 1, height)
    )
    cols = slice(
        max(math.floor(min(col0, col1)) - 1, 0), min(math.ceil(max(col0, col1)) + 1, width)
    )
    return rows, cols


def sample_mean(cog_path: Path, geometry_2154: BaseGeometry) -> float | None:
    """Mean of the valid pixels inside a Lambert-93 polygon; None when it covers none."""
    with safe_env(), rasterio.open(cog_path, driver="GTiff") as src:
        for all_touched in (False, True):
            # A polygon smaller than a pixel may hold no pixel centre: fall back to touched pixels.
            try:
                data, _ = rasterio.mask.mask(
                    src, [mapping(geometry_2154)], crop=True, filled=False, all_touched=all_touched
                )
            except ValueError:  # the shapes do not overlap the raster
                return None
            band = np.ma.masked_invalid(data[0])
            if band.count():
                return float(band.mean())
    return None
