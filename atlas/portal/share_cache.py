"""Share images kept by what they show: a sheet's kind, id and language and the data versions
the public sees, so that a crawler's second fetch is neither drawn again nor, with its ETag, sent
again.

A share image is the public's (``atlas.api.routers.portal_files``) and is drawn from the public's
collections and rasters only: while none of their versions changes, the same image comes out. An
ingest changes a version, hence the key and the ETag, with no purge.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from atlas import __version__
from atlas.policy.gate import Gate

Key = tuple[str, str, str, tuple[tuple[str, int], ...]]
ENTRIES = 128  # about 10 MB of PNGs (~70 kB each)


def data_versions(gate: Gate) -> tuple[tuple[str, int], ...]:
    """(collection, version) of every collection and raster the gate's tier sees that holds data."""
    vectors = [(info.id, info.version) for info in gate.collections()]
    rasters = [(layer.collection_id, int(meta["version"])) for layer, meta in gate.rasters()]
    return tuple(sorted(vectors + rasters))


def card_key(gate: Gate, kind: str, ident: str, lang: str) -> Key:
    """What a share image depends on."""
    return (kind, ident, lang, data_versions(gate))


def etag(key: Key) -> str:
    """A strong ETag of the image of ``key`` (the code's version in it: a new drawing, a new tag)."""
    return '"' + hashlib.sha256(repr((__version__, key)).encode()).hexdigest()[:32] + '"'


class CardCache:
    """PNG bytes by :func:`card_key`, the least recently used dropped beyond ``entries``."""

    def __init__(self, entries: int = ENTRIES) -> None:
        self.entries = entries
        self._cards: OrderedDict[Key, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.drawn = 0  # how many images were drawn and put here (the tests read it)

    def get(self, key: Key) -> bytes | None:
        """The image of ``key``, if kept."""
        with self._lock:
            if key in self._cards:
                self._cards.move_to_end(key)
                return self._cards[key]
        return None

    def put(self, key: Key, data: bytes) -> None:
        """Keep an image just drawn."""
        with self._lock:
            self.drawn += 1
            if self.entries:
                self._cards[key] = data
                while len(self._cards) > self.entries:
                    self._cards.popitem(last=False)
