"""The tile cache: LRU by bytes per tier, tiers never share an entry, the disk shared by two
caches (two workers of one host) with whole files only, keys that change with every part."""

from __future__ import annotations

import dataclasses
import threading

from atlas.stores.base import MvtTile
from atlas.tiles.cache import TileCache, TileKey


def _key(tier: str = "public", x: int = 0, version: int = 1) -> TileKey:
    return TileKey(tier, "parcels", version, "WebMercatorQuad", 14, x, 0, ("id",), 1, "10/500")


def _tile(size: int, marker: int = 1) -> MvtTile:
    return MvtTile(bytes([marker]) * size, 3, 5)


def test_memory_is_bounded_by_bytes_least_recently_used_out():
    cache = TileCache(memory_bytes=3_000)
    for x in range(3):
        cache.put(_key(x=x), _tile(800))
    assert cache.get(_key(x=0)) is not None  # 0 is now the most recent
    cache.put(_key(x=3), _tile(800))  # over 3,000 bytes with overheads: evicts 1, the oldest
    assert cache.get(_key(x=1)) is None
    assert all(cache.get(_key(x=x)) is not None for x in (0, 2, 3))
    assert cache.memory_used("public") <= 3_000
    cache.put(_key(x=9), _tile(10_000))  # larger than the cache: not kept, evicts nothing
    assert cache.get(_key(x=9)) is None and cache.get(_key(x=0)) is not None


def test_tiers_have_their_own_entries_and_memory():
    cache = TileCache(memory_bytes=2_000)
    cache.put(_key("internal"), _tile(1_000, marker=7))
    assert cache.get(_key("public")) is None  # same collection, version, grid, address
    for x in range(10):  # public traffic cannot evict the internal tier's tiles
        cache.put(_key("public", x=x), _tile(1_000))
    assert cache.get(_key("internal")) == _tile(1_000, marker=7)


def test_every_part_of_the_key_changes_it():
    key = _key()
    changes = {
        "tier": "b2b",
        "collection_id": "sites",
        "version": 2,
        "grid": "LambertNinetyThreeQuad",
        "z": 15,
        "x": 1,
        "y": 1,
        "properties": ("id", "area"),
        "layers": 3,
        "budget": "10/600",
    }
    digests = {dataclasses.replace(key, **{name: value}).digest for name, value in changes.items()}
    assert len(digests | {key.digest}) == len(changes) + 1


def test_the_disk_is_shared_by_two_caches_with_whole_files(tmp_path):
    writer = TileCache(memory_bytes=0, directory=tmp_path)
    reader = TileCache(memory_bytes=1_000_000, directory=tmp_path)
    tile = MvtTile(b"\x1a\x05layer" * 1000, 12, 20)
    writer.put(_key(), tile)
    assert reader.get(_key()) == tile  # counts too: 12 kept, 8 dropped
    assert reader.get(_key("internal")) is None
    path = writer.path(_key())
    assert path is not None and path.relative_to(tmp_path).parts[:2] == (
        "public",
        "WebMercatorQuad",
    )
    assert not list(tmp_path.rglob(".tmp-*"))  # written aside, then renamed

    # Writers racing on one key: a reader only ever sees one of the whole tiles.
    tiles = [MvtTile(bytes([m]) * 200_000, m, m) for m in range(1, 5)]
    seen: list[MvtTile | None] = []

    def write(t: MvtTile) -> None:
        for _ in range(20):
            TileCache(memory_bytes=0, directory=tmp_path).put(_key(x=5), t)

    def read() -> None:
        for _ in range(200):
            seen.append(TileCache(memory_bytes=0, directory=tmp_path).get(_key(x=5)))

    threads = [threading.Thread(target=write, args=(t,)) for t in tiles]
    threads.append(threading.Thread(target=read))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(s is None or s in tiles for s in seen)
    assert any(s is not None for s in seen)
