"""Vector tiles as served: a collection's own tile and the multi-layer tileset, through the cache.

Every layer of every tile is read with ``Gate.tile`` (the tier's rows, fields and geometry) and
kept under a :class:`~atlas.tiles.cache.TileKey` holding the tier and the collection's current
version (``Gate.tile_stamp``, or the version in the gate's collection list): an ingest is served
on the next request. A tile whose reading the gate audits (exact water network, personal
fields) is read every time, never kept: the audit log sees every read.

The multi-layer tile is the concatenation of one encoded layer per collection the tier sees
(an MVT is a repeated ``layers`` field, so concatenated tiles are one valid tile), each layer
from its minzoom, each with its share of the tile budget so that the whole stays within it.
Bad addresses (unknown grid or format, z/x/y outside the grid) are refused by
:func:`address` before any gate or store is asked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from atlas import __version__
from atlas.errors import InvalidInput
from atlas.policy.gate import Gate
from atlas.policy.tiles import TileBudget
from atlas.query.grids import TileGrid, grid
from atlas.query.requests import TileRequest
from atlas.stores.base import CollectionInfo, MvtTile
from atlas.tiles.cache import TileCache, TileKey
from atlas.types import BBox, TileXYZ

MVT = "application/vnd.mapbox-vector-tile"
FORMATS = ("mvt", "pbf")  # ``f``: both names of the one vector tile format


@dataclass(frozen=True, slots=True)
class TileAddress:
    """A checked tile address: the grid and z/x/y within its matrices."""

    grid: TileGrid
    tile: TileXYZ


def address(grid_id: str, z: int, x: int, y: int, f: str | None = None) -> TileAddress:
    """The address, or NotFound (grid) / InvalidInput (format, z/x/y) naming what is wrong."""
    found = grid(grid_id)
    if f is not None and f not in FORMATS:
        shown = f if len(f) <= 20 else f[:20] + "…"
        raise InvalidInput(f"f: vector tiles are {' or '.join(FORMATS)}, not '{shown}'")
    return TileAddress(found, found.check(z, x, y))


@dataclass(frozen=True, slots=True)
class ServedTile:
    """A tile as the API sends it: bytes, counts, its ETag and the version it was read from."""

    data: bytes
    features: int
    dropped: int
    etag: str
    version: str
    modified: bool = True  # False: the client's If-None-Match named this ETag; no bytes read


@dataclass(frozen=True, slots=True)
class TilesetLayer:
    """One collection of the tier's multi-layer tileset: as seen, its minzoom, its fields."""

    info: CollectionInfo
    min_zoom: int
    properties: tuple[str, ...]  # the visible fields whose reading is not audited


def tileset_layers(gate: Gate) -> list[TilesetLayer]:
    """The collections the caller sees that hold geometry, with what their tileset layers carry."""
    out = []
    for info in gate.collections():
        if info.bbox is None:
            continue  # no geometry the tier sees (absent, or none stored): nothing to draw
        view = gate.view(info.id)
        # Personal or sensitive fields stay out of the shared tileset (ask a collection's own
        # tile with ``properties`` for them): its tiles can then be cached for the tier.
        properties = tuple(n for n in view.field_names if n not in view.audited_fields)
        out.append(TilesetLayer(info, gate.tile_min_zoom(info.id), properties))
    return out


def tileset_version(layers: Iterable[TilesetLayer]) -> str:
    """One version for the tileset: changes when any of its collections gets a new version."""
    text = ",".join(f"{layer.info.id}@{layer.info.version}" for layer in layers)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class NotCached(Exception):
    """A tile asked for from the cache only is not there (or may not be kept: ``audited``)."""

    def __init__(self, key: str, *, audited: bool) -> None:
        super().__init__(key)
        self.audited = audited


class VectorTiles:
    """Serves vector tiles through the caller's gate and a :class:`TileCache`."""

    def __init__(self, cache: TileCache | None, budget: TileBudget) -> None:
        self.cache = cache
        self._budget = f"{budget.max_features}/{budget.max_bytes}"

    def collection_tile(
        self,
        gate: Gate,
        collection_id: str,
        where: TileAddress,
        properties: tuple[str, ...],
        *,
        known: frozenset[str] = frozenset(),
        cached_only: bool = False,
    ) -> ServedTile:
        """A collection's own tile (one layer); not read when its ETag is in ``known``;
        :class:`NotCached` rather than a read when ``cached_only``."""
        request = TileRequest(where.tile, properties, grid=where.grid.id)
        stamp = gate.tile_stamp(collection_id, request)
        key = self._key(gate, collection_id, stamp.version, request)
        etag, version = _etag([key]), str(stamp.version)
        if etag in known:
            return ServedTile(b"", 0, 0, etag, version, modified=False)
        mvt = self._read(
            gate, collection_id, key, request, audited=stamp.audited, cached_only=cached_only
        )
        return ServedTile(mvt.data, mvt.features, mvt.dropped, etag, version)

    def tileset_tile(
        self,
        gate: Gate,
        where: TileAddress,
        *,
        known: frozenset[str] = frozenset(),
        cached_only: bool = False,
    ) -> ServedTile:
        """The multi-layer tile of every collection the caller sees at this zoom and place;
        not read when its ETag is in ``known``; :class:`NotCached` rather than a read when
        ``cached_only``."""
        every = tileset_layers(gate)
        area = where.grid.bbox_2154(where.tile)
        layers = [layer for layer in every if _in_tile(layer, where.tile.z, area)]
        requests = [
            TileRequest(where.tile, layer.properties, where.grid.id, len(layers))
            for layer in layers
        ]
        keys = [
            self._key(gate, layer.info.id, layer.info.version, request)
            for layer, request in zip(layers, requests, strict=True)
        ]
        etag, version = _etag(keys), tileset_version(every)
        if etag in known:
            return ServedTile(b"", 0, 0, etag, version, modified=False)
        parts = [
            self._read(
                gate,
                layer.info.id,
                key,
                request,
                audited=gate.view(layer.info.id).audited(layer.properties),
                cached_only=cached_only,
            )
            for layer, request, key in zip(layers, requests, keys, strict=True)
        ]
        return ServedTile(
            b"".join(p.data for p in parts),
            sum(p.features for p in parts),
            sum(p.dropped for p in parts),
            etag,
            version,
        )

    def _key(self, gate: Gate, collection_id: str, version: int, request: TileRequest) -> TileKey:
        t = request.tile
        return TileKey(
            gate.tier.value,
            collection_id,
            version,
            request.grid,
            t.z,
            t.x,
            t.y,
            request.properties,
            request.layers,
            self._budget,
        )

    def _read(  # noqa: PLR0913
        self,
        gate: Gate,
        collection_id: str,
        key: TileKey,
        request: TileRequest,
        *,
        audited: bool,
        cached_only: bool = False,
    ) -> MvtTile:
        hit = None if audited or self.cache is None else self.cache.get(key)
        if hit is not None:
            return hit
        if cached_only:
            raise NotCached(key.text, audited=audited)
        mvt = gate.tile(collection_id, request)
        if audited or self.cache is None:
            return mvt
        self.cache.put(key, mvt)
        return mvt


def _in_tile(layer: TilesetLayer, z: int, tile: BBox) -> bool:
    """From the layer's minzoom, and where the tier's features are (saves empty reads)."""
    if z < layer.min_zoom:
        return False
    bbox = layer.info.bbox
    if bbox is None:
        return False  # no geometry the tier sees: nothing to draw
    return not (
        bbox[0] > tile.xmax or bbox[2] < tile.xmin or bbox[1] > tile.ymax or bbox[3] < tile.ymin
    )


def _etag(keys: list[TileKey]) -> str:
    # The keys fix the bytes (same tier, versions, grid, address, fields and budget: same
    # tile), so the ETag is known before the tile is read; the code version covers encoders.
    text = "\n".join([__version__, *(key.text for key in keys)])
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'
