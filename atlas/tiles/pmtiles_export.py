"""The public tier as one PMTiles v3 archive: the static copy any web host or CDN serves.

``atlas export pmtiles --tier public OUT_DIR`` writes every collection the public tier sees as
multi-layer vector tiles (one MVT layer per collection, each from its minzoom, each read with
``Gate.tile`` exactly as the API's tileset tile is: the tier's rows, fields and geometry, its
share of the tile budget), in WebMercatorQuad over the extent of what the tier sees, from the
lowest minzoom to ``max_zoom``. Nothing is read but through the gate, and the gate is the
public one: any other tier is refused, since a file once published cannot be taken back.

The default ``max_zoom`` is 14, the vector basemap convention (OpenMapTiles, Protomaps): a z14
tile of the agglomeration is ≈ 1.6 km wide, so one of its 4,096 tile units is ≈ 0.4 m — finer
than any public geometry (establishments are generalised to 50 m) — and MapLibre overzooms it
for z15 and beyond, so every further zoom would multiply the tiles by four for the same
drawing. The archive is named after the UTC day and the tileset version (the one the API's
TileJSON puts in its tile URLs, which changes whenever any collection gets a new version):
``atlas-public-<YYYYMMDD>-<version>.pmtiles``, a name that is never reused for other content.
"""

from __future__ import annotations

import datetime as dt
import gzip
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

from atlas.errors import InvalidInput
from atlas.layers import catalog
from atlas.policy.gate import Gate
from atlas.policy.tiers import Tier
from atlas.query.grids import WEB_MERCATOR, grid
from atlas.query.requests import TileRequest
from atlas.tiles.tilejson import crs84_bounds
from atlas.tiles.vector import TilesetLayer, tileset_layers, tileset_version
from atlas.types import TileXYZ

DEFAULT_MAX_ZOOM = 14
ATTRIBUTION = "Atlas — Licence Ouverte / Open Licence 2.0 (Etalab)"
OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL 1.0)"
# FieldType -> the value types of TileJSON vector_layers (dates are ISO text in tiles).
_MVT_TYPES = {"integer": "Number", "number": "Number", "boolean": "Boolean"}

Progress = Callable[[int, int], None]  # (tiles done, tiles planned)


@dataclass(frozen=True, slots=True)
class PmtilesExport:
    """What an export wrote."""

    path: Path
    tiles: int  # tiles holding features (empty ones are not stored)
    planned: int  # tiles read
    layers: tuple[str, ...]
    min_zoom: int
    max_zoom: int

    def summary(self) -> str:
        """One line for the CLI."""
        size = self.path.stat().st_size
        return (
            f"wrote {self.path.name}: {self.tiles} tiles (of {self.planned} read), "
            f"z{self.min_zoom}-{self.max_zoom}, {size / 1e6:.1f} MB, "
            f"layers {', '.join(self.layers)}"
        )


def export_pmtiles(
    gate: Gate,
    out_dir: Path,
    *,
    max_zoom: int = DEFAULT_MAX_ZOOM,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> PmtilesExport:
    """Write the public tier's tileset as one PMTiles archive in ``out_dir``."""
    if gate.tier is not Tier.PUBLIC:
        raise InvalidInput(
            f"a PMTiles export is for the public tier only (it is published), not {gate.tier.value}"
        )
    mercator = grid(WEB_MERCATOR)
    if not 0 <= max_zoom <= mercator.max_zoom:
        raise InvalidInput(f"max zoom: 0 to {mercator.max_zoom}, not {max_zoom}")
    layers = [
        layer
        for layer in tileset_layers(gate)
        if layer.info.bbox is not None and layer.min_zoom <= max_zoom
    ]
    if not layers:
        raise InvalidInput("the public tier sees no collection holding data: nothing to export")
    min_zoom = min(min(layer.min_zoom for layer in layers), max_zoom)
    day = today or dt.datetime.now(dt.UTC).date()
    name = f"atlas-public-{day:%Y%m%d}-{tileset_version(layers)}.pmtiles"
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = _plan(layers, min_zoom, max_zoom)
    partial = out_dir / f".{name}.{os.getpid()}.partial"  # two exports at once never share one
    try:
        with open(partial, "wb") as out:
            writer = Writer(out)
            written = _write_tiles(gate, writer, plan, progress)
            if not written:
                raise InvalidInput("no tile holds a feature: nothing to export")
            writer.finalize(_header(layers, min_zoom, max_zoom), _metadata(layers, max_zoom))
        os.replace(partial, out_dir / name)  # a reader never sees a half-written archive
    finally:
        partial.unlink(missing_ok=True)
    ids = tuple(layer.info.id for layer in layers)
    return PmtilesExport(out_dir / name, written, len(plan), ids, min_zoom, max_zoom)


def _plan(
    layers: list[TilesetLayer], min_zoom: int, max_zoom: int
) -> list[tuple[int, TileXYZ, list[TilesetLayer]]]:
    """Every tile to read, in tile-id order (the writer's clustered order), with its layers:
    those from whose minzoom on the tile covers the extent the tier sees of them."""
    mercator = grid(WEB_MERCATOR)
    plan = []
    for z in range(min_zoom, max_zoom + 1):
        at_zoom: dict[TileXYZ, list[TilesetLayer]] = {}
        for layer in layers:
            if z >= layer.min_zoom:
                west, south, east, north = crs84_bounds([layer.info.bbox])
                for tile in mercator.covering((west, south, east, north), z):
                    at_zoom.setdefault(tile, []).append(layer)
        plan += [(zxy_to_tileid(t.z, t.x, t.y), t, ls) for t, ls in at_zoom.items()]
    return sorted(plan, key=lambda entry: entry[0])


def _write_tiles(
    gate: Gate,
    writer: Writer,
    plan: list[tuple[int, TileXYZ, list[TilesetLayer]]],
    progress: Progress | None,
) -> int:
    """Read each planned tile through the gate, write those holding features; how many."""
    written = 0
    for done, (tile_id, tile, layers) in enumerate(plan, start=1):
        parts = [
            gate.tile(
                layer.info.id,
                TileRequest(tile, layer.properties, grid=WEB_MERCATOR, layers=len(layers)),
            ).data
            for layer in layers
        ]
        data = b"".join(parts)  # one MVT layer per collection: concatenated, one valid tile
        if data:
            # gzip without a timestamp: the same data gives the same archive bytes.
            writer.write_tile(tile_id, gzip.compress(data, mtime=0))
            written += 1
        if progress is not None:
            progress(done, len(plan))
    return written


def _header(layers: list[TilesetLayer], min_zoom: int, max_zoom: int) -> dict:
    west, south, east, north = crs84_bounds([layer.info.bbox for layer in layers])
    return {
        "tile_type": TileType.MVT,
        "tile_compression": Compression.GZIP,
        "min_zoom": min_zoom,
        "max_zoom": max_zoom,
        # Outward to the next 1e-7 degree: the header's box holds every feature.
        "min_lon_e7": math.floor(west * 1e7),
        "min_lat_e7": math.floor(south * 1e7),
        "max_lon_e7": math.ceil(east * 1e7),
        "max_lat_e7": math.ceil(north * 1e7),
        "center_zoom": min(max(min_zoom, 11), max_zoom),
        "center_lon_e7": int((west + east) / 2 * 1e7),
        "center_lat_e7": int((south + north) / 2 * 1e7),
    }


def _metadata(layers: list[TilesetLayer], max_zoom: int) -> dict:
    """TileJSON-like metadata (PMTiles v3 spec): vector_layers with their fields, bounds,
    attribution, and the collections' versions the tiles were read from."""
    osm = any("OpenStreetMap" in catalog()[layer.info.id].standard for layer in layers)
    return {
        "name": "Atlas (public)",
        "description": "The public tier of Atlas: every collection it sees, as vector tiles.",
        "attribution": ATTRIBUTION + (f"; {OSM_ATTRIBUTION}" if osm else ""),
        "version": tileset_version(layers),
        "type": "overlay",
        "format": "pbf",
        "bounds": crs84_bounds([layer.info.bbox for layer in layers]),
        "vector_layers": [
            {
                "id": layer.info.id,
                "description": layer.info.title,
                "minzoom": layer.min_zoom,
                "maxzoom": max_zoom,
                "fields": {
                    "id": "String",
                    **{
                        f.name: _MVT_TYPES.get(f.type, "String")
                        for f in layer.info.fields
                        if f.name in layer.properties
                    },
                },
            }
            for layer in layers
        ],
        "atlas:versions": {layer.info.id: layer.info.version for layer in layers},
    }
