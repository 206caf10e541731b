"""The vector tile cache: per tier, bounded in memory (LRU by bytes), optionally on disk.

A key names everything a tile's bytes depend on: tier, collection, the collection's version,
grid, z/x/y, properties, the budget and its share (:class:`TileKey`). A new version is a new key, so
an ingest is served on the next request with no purge and no restart; old entries age out of
memory, and on disk stay until removed (``ATLAS_TILE_CACHE_DIR`` can be emptied at any time).

Tiers never share an entry: the tier is in the key, each tier has its own memory LRU (one tier's
traffic cannot evict another's) and its own directory on disk. Disk entries are written to a
temporary file and renamed, so the workers of one host share the directory without ever reading
half a tile.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from atlas.stores.base import MvtTile

_HEADER = struct.Struct("<II")  # features, dropped; then the MVT bytes
_ENTRY_OVERHEAD = 200  # bytes an entry costs in memory besides its tile (key, object)


@dataclass(frozen=True, slots=True)
class TileKey:
    """Everything one layer of a tile depends on."""

    tier: str
    collection_id: str
    version: int
    grid: str
    z: int
    x: int
    y: int
    properties: tuple[str, ...]
    layers: int  # the budget share (1: a collection's own tile)
    budget: str = ""  # the tile budget, "features/bytes": another budget is another tile

    @property
    def text(self) -> str:
        """The key as one line (hashed for file names and ETags)."""
        return (
            f"{self.tier}|{self.collection_id}@{self.version}|{self.grid}|"
            f"{self.z}/{self.x}/{self.y}|{','.join(self.properties)}|{self.layers}|{self.budget}"
        )

    @property
    def digest(self) -> str:
        """A stable hash of the key."""
        return hashlib.sha256(self.text.encode()).hexdigest()


class _Lru:
    """An LRU of tiles bounded by their bytes (one per tier)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0
        self._entries: OrderedDict[TileKey, MvtTile] = OrderedDict()

    def get(self, key: TileKey) -> MvtTile | None:
        tile = self._entries.get(key)
        if tile is not None:
            self._entries.move_to_end(key)
        return tile

    def put(self, key: TileKey, tile: MvtTile) -> None:
        size = len(tile.data) + _ENTRY_OVERHEAD
        if size > self.max_bytes:
            return  # a tile larger than the whole cache would only evict everything else
        old = self._entries.pop(key, None)
        if old is not None:
            self.used -= len(old.data) + _ENTRY_OVERHEAD
        self._entries[key] = tile
        self.used += size
        while self.used > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.used -= len(evicted.data) + _ENTRY_OVERHEAD


class TileCache:
    """Tiles by :class:`TileKey`, in memory per tier and optionally on disk; thread-safe."""

    def __init__(self, *, memory_bytes: int, directory: Path | None = None) -> None:
        self.memory_bytes = memory_bytes
        self.directory = directory
        self._tiers: dict[str, _Lru] = {}
        self._lock = threading.Lock()

    def get(self, key: TileKey) -> MvtTile | None:
        """The cached tile, from memory then disk; None when neither has it."""
        if self.memory_bytes:
            with self._lock:
                tile = self._lru(key.tier).get(key)
            if tile is not None:
                return tile
        tile = self._read(key)
        if tile is not None:
            self._remember(key, tile)
        return tile

    def put(self, key: TileKey, tile: MvtTile) -> None:
        """Keep ``tile`` in memory and, when a directory is set, on disk."""
        self._remember(key, tile)
        self._write(key, tile)

    def memory_used(self, tier: str) -> int:
        """Bytes held in memory for ``tier``."""
        with self._lock:
            lru = self._tiers.get(tier)
            return lru.used if lru else 0

    def path(self, key: TileKey) -> Path | None:
        """Where the tile lives on disk (None without a directory)."""
        if self.directory is None:
            return None
        digest = key.digest
        return self.directory / key.tier / key.grid / str(key.z) / digest[:2] / f"{digest}.mvt"

    def _lru(self, tier: str) -> _Lru:
        lru = self._tiers.get(tier)
        if lru is None:
            lru = self._tiers[tier] = _Lru(self.memory_bytes)
        return lru

    def _remember(self, key: TileKey, tile: MvtTile) -> None:
        if self.memory_bytes:
            with self._lock:
                self._lru(key.tier).put(key, tile)

    def _read(self, key: TileKey) -> MvtTile | None:
        path = self.path(key)
        if path is None:
            return None
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        if len(raw) < _HEADER.size:
            return None  # not ours: read the tile again, the next put replaces the file
        features, dropped = _HEADER.unpack_from(raw)
        return MvtTile(raw[_HEADER.size :], features, features + dropped)

    def _write(self, key: TileKey, tile: MvtTile) -> None:
        path = self.path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # A temporary file in the same directory, then an atomic rename: another worker reads
        # the old file or the new one, never a half-written tile.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".mvt")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(_HEADER.pack(tile.features, tile.dropped) + tile.data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
