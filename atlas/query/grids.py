"""Tile grids (OGC TileMatrixSets) the API serves, from morecantile's registry, and their math.

Two grids:

- ``WebMercatorQuad`` (OGC 17-083r4 annex D), morecantile's own: what web maps and MapLibre use.
- ``LambertNinetyThreeQuad``: a quad grid in EPSG:2154 (Lambert-93, the legal projection of
  metropolitan France) for GIS users who work in it; ours, registered in morecantile with its
  custom TMS. Top-left origin (0, 7 200 000) m, extent 0 – 1 310 720 m east by 5 889 280 –
  7 200 000 m north (metropolitan France and Corsica: x 99 000 – 1 243 000, y 6 046 000 –
  7 111 000), 256-pixel tiles, cell size 5 120 m at zoom 0 halving at each zoom (1 310 720 m a
  tile at z0, 0.3125 m a pixel at z14), zooms 0 – 20. IGN's Géoplateforme WMTS ``LAMB93`` sets
  are not quads and differ per product, hence a grid of our own whose tiles nest like Web
  Mercator's.

Stores and the policy take a :class:`TileGrid` (bounds of a tile in the grid's CRS, the geometry
column it tiles); services and the API find grids by id here. Nothing here reads data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import morecantile
import pyproj

from atlas.errors import InvalidInput, NotFound
from atlas.types import STORAGE_EPSG, BBox, TileXYZ

WEB_MERCATOR = "WebMercatorQuad"
LAMBERT_93 = "LambertNinetyThreeQuad"
LAMBERT_93_EXTENT = (0.0, 5_889_280.0, 1_310_720.0, 7_200_000.0)
DEFAULT_GRID = WEB_MERCATOR
MVT_EXTENT = 4096  # tile units across one tile
MVT_BUFFER = 64  # tile units kept around the tile so that strokes join across tiles


@dataclass(frozen=True, slots=True)
class TileGrid:
    """One tile grid: its morecantile TileMatrixSet, served zooms and the store column it tiles."""

    id: str
    title: str
    uri: str | None
    epsg: int
    max_zoom: int
    tms: morecantile.TileMatrixSet

    @property
    def column(self) -> str:
        """The stored geometry column in this grid's CRS (both stores keep 2154 and 3857)."""
        return "geom" if self.epsg == STORAGE_EPSG else "geom_3857"

    def bounds(self, tile: TileXYZ) -> tuple[float, float, float, float]:
        """The tile's (left, bottom, right, top) in the grid's CRS."""
        b = self.tms.xy_bounds(morecantile.Tile(tile.x, tile.y, tile.z))
        return (b.left, b.bottom, b.right, b.top)

    def tolerance(self, z: int, extent: int = MVT_EXTENT) -> float:
        """One tile unit at zoom ``z`` in the grid's CRS units: the simplification tolerance."""
        matrix = self.tms.matrix(z)
        return matrix.cellSize * matrix.tileWidth / extent

    def check(self, z: int, x: int, y: int) -> TileXYZ:
        """The tile, or InvalidInput naming what lies outside this grid's matrices."""
        if not 0 <= z <= self.max_zoom:
            raise InvalidInput(f"z: {self.id} has zooms 0 to {self.max_zoom}, not {z}")
        columns, rows = self.size(z)
        if not (0 <= x < columns and 0 <= y < rows):
            raise InvalidInput(
                f"x, y: at zoom {z} {self.id} has columns 0 to {columns - 1}"
                f" and rows 0 to {rows - 1}"
            )
        return TileXYZ(z, x, y)

    def size(self, z: int) -> tuple[int, int]:
        """Columns and rows of the matrix at zoom ``z`` (every tile request checks them)."""
        return _matrix_size(self.id, z)

    def bbox_2154(self, tile: TileXYZ, *, margin: float = 0.0) -> BBox:
        """A Lambert-93 box holding the tile, its MVT buffer and ``margin`` metres more."""
        left, bottom, right, top = self.bounds(tile)
        pad = (right - left) * MVT_BUFFER / MVT_EXTENT
        box = (left - pad, bottom - pad, right + pad, top + pad)
        if self.epsg != STORAGE_EPSG:
            box = _to_2154(self.epsg).transform_bounds(*box, densify_pts=21)
        return BBox(box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin)

    def covering(self, bbox: tuple[float, float, float, float], z: int) -> list[TileXYZ]:
        """The tiles at ``z`` that cover a CRS84 (lon/lat) box."""
        tiles = self.tms.tiles(*bbox, zooms=[z])
        return [self.check(t.z, t.x, t.y) for t in tiles]


@cache
def _to_2154(epsg: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(epsg, STORAGE_EPSG, always_xy=True)


@cache
def _registry() -> morecantile.defaults.TileMatrixSets:
    lambert = morecantile.TileMatrixSet.custom(
        list(LAMBERT_93_EXTENT),
        pyproj.CRS.from_epsg(STORAGE_EPSG),
        id=LAMBERT_93,
        title="Lambert-93 quad grid of metropolitan France (EPSG:2154)",
        maxzoom=20,
    )
    return morecantile.tms.register({LAMBERT_93: lambert})


@cache
def _matrix_size(grid_id: str, z: int) -> tuple[int, int]:
    matrix = grids()[grid_id].tms.matrix(z)
    return int(matrix.matrixWidth), int(matrix.matrixHeight)


@cache
def grids() -> dict[str, TileGrid]:
    """The served grids by id, WebMercatorQuad first."""
    registry = _registry()
    mercator = registry.get(WEB_MERCATOR)
    return {
        WEB_MERCATOR: TileGrid(
            WEB_MERCATOR,
            "Google Maps Compatible for the World",
            "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
            3857,
            22,
            mercator,
        ),
        LAMBERT_93: TileGrid(
            LAMBERT_93,
            "Lambert-93 quad grid of metropolitan France (EPSG:2154)",
            None,
            STORAGE_EPSG,
            20,
            registry.get(LAMBERT_93),
        ),
    }


def grid(grid_id: str) -> TileGrid:
    """The grid named ``grid_id``; NotFound naming the served ones otherwise."""
    found = grids().get(grid_id)
    if found is None:
        shown = grid_id if len(grid_id) <= 60 else grid_id[:60] + "…"
        raise NotFound(f"tile matrix set '{shown}' not found; this server has {', '.join(grids())}")
    return found
