"""Map tiles (OGC API – Tiles, *map* tiles) of elevation, slope and flood hazard, per tier.

- ``elevation``: a hillshade (``style=hillshade``, the default) or a hypsometric tint shaded by
  it (``style=hypsometric``), from the COG read one pixel wider (bilinear) so that tiles join.
- ``slope``: the slope COG (degrees, nearest neighbour: a class is never an average) in the
  percent classes of ``colormaps.SLOPE_CLASSES``.
- ``flood-hazard``: the PPR hazard zones are a *vector* collection (COVADIS ``N_ZONE_ALEA``), so
  its map tiles rasterise the zones the caller sees (``Gate.frame``) in their ``classe_alea``
  classes, the highest class winning where zones overlap; zones without a class are not drawn.

Every read goes through the caller's gate: a raster through the reader it binds to the current
version (``Gate.raster_reader``), the zones through the tier's view. A tile off the data is
``None`` (the API answers 204 No Content); a tile that touches data is 256 px, transparent where
there is none. Tiles are cached and tagged like vector tiles (``atlas.tiles.cache``: keyed by
tier, collection, version, grid, z/x/y, with the style and format): an ingest changes the
version, hence the key and the ETag, with no purge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import morecantile
import numpy as np
from rasterio.features import rasterize
from rasterio.transform import from_bounds

from atlas.errors import InvalidInput, UnknownCollection
from atlas.policy.gate import Gate
from atlas.policy.rasters import RasterReader
from atlas.query.crs import transform_geometry, transformer
from atlas.query.features import FeatureQuery
from atlas.query.grids import TileGrid
from atlas.stores.base import MvtTile
from atlas.tiles import render
from atlas.tiles.cache import TileCache, TileKey
from atlas.tiles.colormaps import FLOOD_CLASSES, SLOPE_CLASSES
from atlas.tiles.render import ImageFormat
from atlas.types import STORAGE_CRS, STORAGE_EPSG, TileXYZ

TILE_SIZE = 256
ZONES = "flood-hazard"
# collection -> its styles, the default first
STYLES: dict[str, tuple[str, ...]] = {
    "elevation": ("hillshade", "hypsometric"),
    "slope": ("classes",),
    ZONES: ("classes",),
}


@dataclass(frozen=True, slots=True)
class MapTileRequest:
    """One map tile: checked collection, grid, tile, style and format."""

    collection_id: str
    grid: TileGrid
    tile: TileXYZ
    style: str
    image_format: ImageFormat


@dataclass(frozen=True, slots=True)
class MapSource:
    """What a tile is drawn from, as the caller may read it, and its version."""

    collection_id: str
    version: int
    reader: RasterReader | None  # None: the hazard zones, read through the gate


def check_style(collection_id: str, style: str | None) -> str:
    """The style asked for, or the collection's default; UnknownCollection for a collection
    without map tiles (hidden or unknown alike), InvalidInput for a style it does not have."""
    styles = STYLES.get(collection_id)
    if styles is None:
        raise UnknownCollection(collection_id)
    if style is None:
        return styles[0]
    if style not in styles:
        shown = style if len(style) <= 40 else style[:40] + "…"
        raise InvalidInput(
            f"style: '{shown}' is not one of {', '.join(styles)} for {collection_id}"
        )
    return style


def open_source(gate: Gate, collection_id: str) -> MapSource:
    """The collection's current version through the gate; UnknownCollection when hidden."""
    check_style(collection_id, None)
    if collection_id == ZONES:
        return MapSource(collection_id, gate.collection(collection_id).version, None)
    reader = gate.raster_reader(collection_id)
    return MapSource(collection_id, reader.version, reader)


def tile_key(gate: Gate, source: MapSource, request: MapTileRequest) -> TileKey:
    """The vector tiles' cache key, the style and format in place of the properties (``map:``
    cannot start a field name, so a map tile and a vector tile never share a key)."""
    t = request.tile
    return TileKey(
        tier=gate.tier.value,
        collection_id=source.collection_id,
        version=source.version,
        grid=request.grid.id,
        z=t.z,
        x=t.x,
        y=t.y,
        properties=(f"map:{request.style}", request.image_format.value),
        layers=1,
    )


def etag(key: TileKey) -> str:
    """A strong ETag of the tile's representation: it changes with the version, never otherwise
    (the tier is in the key: one tier's validator never matches another's tile)."""
    return '"' + key.digest[:32] + '"'


class MapTiles:
    """Serves map tiles through the caller's gate and a :class:`TileCache` (None: no cache)."""

    def __init__(self, cache: TileCache | None) -> None:
        self.cache = cache

    def tile(self, gate: Gate, source: MapSource, request: MapTileRequest) -> bytes | None:
        """The encoded tile, from the cache when it holds it; None when no data falls in it."""
        key = tile_key(gate, source, request)
        hit = self.cache.get(key) if self.cache is not None else None
        if hit is not None:
            return hit.data or None
        data = map_tile(gate, source, request)
        if self.cache is not None:  # an empty tile is cached too: the 204 costs no read
            self.cache.put(key, MvtTile(data or b"", 0, 0))
        return data


def map_tile(gate: Gate, source: MapSource, request: MapTileRequest) -> bytes | None:
    """The encoded tile; None when no data falls in it."""
    if source.reader is None:
        drawn = _zones(gate, request)
    elif source.collection_id == "elevation":
        drawn = _elevation(source.reader, request)
    else:
        drawn = _slope(source.reader, request)
    if drawn is None:
        return None
    rgb, valid, exact = drawn
    return render.encode(rgb, valid, request.image_format, exact=exact)


Drawn = tuple[np.ndarray, np.ndarray, bool] | None


def ground_scale(grid: TileGrid, tile: TileXYZ) -> float:
    """Ground metres per grid unit at the tile: cos(latitude) in Web Mercator, 1 in Lambert-93."""
    if grid.epsg == STORAGE_EPSG:
        return 1.0  # Lambert-93's scale error is under 0.1 % over mainland France
    bounds = grid.tms.bounds(morecantile.Tile(tile.x, tile.y, tile.z))  # geographic
    return math.cos(math.radians((bounds.bottom + bounds.top) / 2))


def _elevation(reader: RasterReader, request: MapTileRequest) -> Drawn:
    read = reader.tile(
        request.tile, request.grid.tms, size=TILE_SIZE, buffer=1, resampling="bilinear"
    )
    if read is None:
        return None
    res = read.cell_size * ground_scale(request.grid, request.tile)
    shade, valid = render.hillshade(read.values, read.valid, res, res)
    if not valid.any():
        return None
    if request.style == "hypsometric":
        return render.hypsometric(read.values[1:-1, 1:-1], shade), valid, False
    return render.grey(shade), valid, False


def slope_percent(degrees: Any) -> Any:
    """Slope in percent (``100·tan``) from degrees, as the site-selection criterion reads it."""
    return np.tan(np.radians(degrees)) * 100


def _slope(reader: RasterReader, request: MapTileRequest) -> Drawn:
    read = reader.tile(request.tile, request.grid.tms, size=TILE_SIZE)
    if read is None or not read.valid.any():
        return None
    codes = render.classify(slope_percent(read.values), SLOPE_CLASSES)
    return render.paint(codes, read.valid, SLOPE_CLASSES), read.valid, True


def zone_classes(gate: Gate, grid: TileGrid, tile: TileXYZ) -> tuple[np.ndarray, np.ndarray]:
    """The hazard class of each pixel of the tile and where a zone covers it, from the zones
    the caller sees (highest class on top)."""
    query = FeatureQuery(bbox=grid.bbox_2154(tile), properties=("classe_alea",))
    frame = gate.frame(ZONES, query, action="read")
    frame = frame[frame["classe_alea"].notna() & frame.geometry.notna()]
    shapes = []
    moved = None if grid.epsg == STORAGE_EPSG else transformer(STORAGE_CRS, f"EPSG:{grid.epsg}")
    for geometry, code in sorted(
        zip(frame.geometry, frame["classe_alea"], strict=True), key=lambda pair: int(pair[1])
    ):
        shapes.append(
            (geometry if moved is None else transform_geometry(geometry, moved), int(code) + 1)
        )
    burned = np.zeros((TILE_SIZE, TILE_SIZE), dtype="int16")
    if shapes:
        transform = from_bounds(*grid.bounds(tile), TILE_SIZE, TILE_SIZE)
        burned = rasterize(shapes, out_shape=burned.shape, transform=transform, dtype="int16")
    return burned - 1, burned > 0


def _zones(gate: Gate, request: MapTileRequest) -> Drawn:
    codes, valid = zone_classes(gate, request.grid, request.tile)
    if not valid.any():
        return None
    return render.paint(codes, valid, FLOOD_CLASSES), valid, True
