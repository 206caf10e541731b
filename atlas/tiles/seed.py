"""Seeding: fill the tile cache of one tier with the multi-layer tiles of a zoom range.

``atlas tiles seed --tier public --zoom 10-15`` reads every tile of the tier's tileset that
covers the tier's data at each zoom (each layer from its minzoom), through a gate of that tier,
and writes them to the disk cache (``ATLAS_TILE_CACHE_DIR``), where the API's workers find them
under the same keys. Tiles whose reading is audited are never cached, so seeding skips nothing
the API would have kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from atlas.errors import InvalidInput
from atlas.policy.gate import Gate
from atlas.query.grids import TileGrid
from atlas.tiles.tilejson import crs84_bounds
from atlas.tiles.vector import TileAddress, VectorTiles, tileset_layers


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What a seeding run did."""

    tiles: int  # tiles read
    empty: int  # of which held no feature
    bytes: int  # encoded bytes written


def zoom_range(text: str, grid: TileGrid) -> range:
    """``"10-15"`` or ``"12"`` as a range of zooms within the grid; InvalidInput otherwise."""
    low, _, high = text.partition("-")
    try:
        first, last = int(low), int(high or low)
    except ValueError:
        raise InvalidInput(f"--zoom: '{text[:20]}' is not a zoom or a range like 10-15") from None
    if not 0 <= first <= last <= grid.max_zoom:
        raise InvalidInput(f"--zoom: {grid.id} has zooms 0 to {grid.max_zoom}, low to high")
    return range(first, last + 1)


def seed_addresses(gate: Gate, grid: TileGrid, zooms: Iterable[int]) -> list[TileAddress]:
    """The tiles of the caller's tileset over the data it sees, zoom by zoom."""
    layers = tileset_layers(gate)
    bbox = crs84_bounds([layer.info.bbox for layer in layers if layer.info.bbox is not None])
    lowest = min((layer.min_zoom for layer in layers), default=0)
    if not layers:
        return []
    return [
        TileAddress(grid, tile)
        for z in zooms
        if z >= lowest
        for tile in grid.covering((bbox[0], bbox[1], bbox[2], bbox[3]), z)
    ]


def seed(
    tiles: VectorTiles,
    gate: Gate,
    addresses: list[TileAddress],
    *,
    wrap: Callable[[list[TileAddress]], Iterable[TileAddress]] = iter,
) -> SeedReport:
    """Read every address through ``tiles`` (so into its cache); ``wrap`` shows progress."""
    if tiles.cache is None or tiles.cache.directory is None:
        raise InvalidInput("ATLAS_TILE_CACHE_DIR is not set: seeding fills the disk cache")
    count = empty = size = 0
    for where in wrap(addresses):
        served = tiles.tileset_tile(gate, where)
        count += 1
        empty += not served.data
        size += len(served.data)
    return SeedReport(count, empty, size)
