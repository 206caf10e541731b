"""The embedded store's catalog: which version of every collection is served, in ONE file.

``<data_dir>/vector/catalog.json`` maps each collection to its current version and to the
versions served before it that are still kept (oldest first, the current one last). It is
replaced whole with ``os.replace`` under a lock, so one replacement switches several collections
at once: a network and the plots and sites whose water indicators were computed from it become
current together, or none of them does (a per-collection pointer could not promise that).

A version file the catalog does not list was never served: its ingest died before the switch.
It is neither listed nor kept; the next switch of its collection removes it.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from atlas.stores.files import atomic_write, exclusive

CATALOG_FILE = "catalog.json"
_LOCK_FILE = ".catalog.lock"
# Before the catalog, each collection directory held its own ``CURRENT`` pointer.
_LEGACY_POINTER = "CURRENT"
_META_FILE = re.compile(r"^v(\d+)\.json$")


@dataclass(frozen=True, slots=True)
class Served:
    """One collection's served versions still kept, oldest first; the last is the current one."""

    versions: tuple[int, ...]

    @property
    def current(self) -> int:
        """The version readers get."""
        return self.versions[-1]


_Stamp = tuple[int, int, int]


class Catalog:
    """Reads (cached while the file is unchanged) and atomic switches of the catalog file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / CATALOG_FILE
        self._cache: tuple[_Stamp, dict[str, Served]] | None = None
        self._guard = threading.Lock()

    def entries(self) -> dict[str, Served]:
        """Every served collection; one ``stat`` when the file has not changed since last read."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return {}
        cache = self._cache
        if cache is not None and cache[0] == _stamp(stat):
            return cache[1]
        with self._guard:
            try:
                with open(self.path, encoding="utf-8") as handle:
                    # The stamp of the file actually read, even if it was replaced meanwhile.
                    stamp = _stamp(os.fstat(handle.fileno()))
                    entries = _parse(handle.read())
            except FileNotFoundError:
                return {}
            self._cache = (stamp, entries)
        return entries

    def current(self, collection_id: str) -> int | None:
        """The served version of a collection; None when it was never switched."""
        served = self.entries().get(collection_id)
        return served.current if served else None

    def switch(self, versions: Mapping[str, int], *, keep: int) -> dict[str, Served]:
        """Make ``versions`` current together in one atomic replace; the entries now served.

        Each collection keeps its ``keep`` newest served versions (the new one included).
        """
        with exclusive(self.root / _LOCK_FILE):
            entries = self._read_locked()
            for collection_id, version in versions.items():
                before = entries.get(collection_id, Served(()))
                entries[collection_id] = Served((*before.versions, version)[-keep:])
            atomic_write(self.path, _dump(entries))
        return entries

    def adopt_legacy(self, *, keep: int) -> None:
        """Build the catalog from the per-collection ``CURRENT`` pointers of an older data dir.

        The complete versions up to the pointed one are taken as served: they were, unless an
        ingest died between its file and its pointer; the ones above it never were.
        """
        if self.path.exists():
            return
        with exclusive(self.root / _LOCK_FILE):
            if self.path.exists():
                return
            entries = {}
            for pointer in sorted(self.root.glob(f"*/{_LEGACY_POINTER}")):
                current = int(json.loads(pointer.read_text())["version"])
                older = sorted(n for n in _complete_versions(pointer.parent) if n < current)
                entries[pointer.parent.name] = Served((*older, current)[-keep:])
            if not entries:
                return
            atomic_write(self.path, _dump(entries))
            for pointer in self.root.glob(f"*/{_LEGACY_POINTER}"):
                pointer.unlink(missing_ok=True)  # the catalog is the only pointer from now on

    def _read_locked(self) -> dict[str, Served]:
        try:
            return _parse(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}


def _stamp(stat: os.stat_result) -> _Stamp:
    # os.replace gives a new inode: a switch within the mtime granularity still changes it.
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _parse(text: str) -> dict[str, Served]:
    document = json.loads(text)
    return {
        collection_id: Served(tuple(int(v) for v in entry["served"]))
        for collection_id, entry in document["collections"].items()
        if entry["served"]
    }


def _dump(entries: Mapping[str, Served]) -> str:
    collections = {
        collection_id: {"current": served.current, "served": list(served.versions)}
        for collection_id, served in sorted(entries.items())
    }
    return json.dumps({"collections": collections}, indent=1)


def _complete_versions(directory: Path) -> list[int]:
    """Versions with both their data file and their metadata."""
    out = []
    for meta in directory.iterdir():
        match = _META_FILE.match(meta.name)
        if match and (directory / f"v{match.group(1)}.duckdb").exists():
            out.append(int(match.group(1)))
    return out
