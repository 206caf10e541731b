"""Which WebMercatorQuad tiles of a zoom a version's features may touch, from their stored boxes.

A map asks for every tile of its view, and around the parks most of them hold nothing: the
embedded store answers those without a statement (DuckDB plans and scans ≈ 0.7 ms for a tile it
then finds empty; 36 % of the z16 tiles over the demo parcels' extent are). The keys are kept
sorted in one array (a lookup is a binary search), the few boxes over many tiles as ranges; they
err on the side of "may hold": a box within a hair of a tile's edge counts for the tile beyond
it, and a layer whose features would need more than ``MAX_KEYS`` keys at a zoom gets no shortcut
at that zoom.
"""

from __future__ import annotations

import numpy as np

from atlas.stores.mvt import WEB_MERCATOR_ORIGIN

MAX_KEYS = 2_000_000  # 16 MB of keys: 200,000 parcels take about 300,000 at z16
WIDE = 64  # tiles: a box over more is kept as its range, not as keys
CHUNK = 100_000  # boxes expanded at a time (bounds the temporary arrays)
_EDGE = 1e-6  # of a tile's width: a box this close to an edge counts for both tiles


class Occupancy:
    """The tiles of one zoom that some feature's box meets (edges included)."""

    def __init__(self, z: int, keys: np.ndarray | None, wide: np.ndarray | None = None) -> None:
        self.z = z
        self._keys = keys  # None: too many to keep, every tile may hold features
        # Boxes over more than WIDE tiles (a forest, a commune), as tile ranges checked one by
        # one: a few of them would otherwise take more keys than all the rest.
        self._wide = wide if wide is not None else np.zeros((0, 4), dtype=np.int64)

    @classmethod
    def of_boxes(
        cls, z: int, xmin: np.ndarray, ymin: np.ndarray, xmax: np.ndarray, ymax: np.ndarray
    ) -> Occupancy:
        """From Web Mercator boxes (EPSG:3857 metres), one per feature."""
        size = 2 * WEB_MERCATOR_ORIGIN / 2**z
        last = 2**z - 1

        def index(values: np.ndarray, nudge: float) -> np.ndarray:
            return np.clip(np.floor(values / size + nudge), 0, last).astype(np.int64)

        # Columns from the west, rows from the north (y down), as WebMercatorQuad numbers them.
        i0 = index(np.asarray(xmin, dtype=np.float64) + WEB_MERCATOR_ORIGIN, -_EDGE)
        i1 = index(np.asarray(xmax, dtype=np.float64) + WEB_MERCATOR_ORIGIN, _EDGE)
        j0 = index(WEB_MERCATOR_ORIGIN - np.asarray(ymax, dtype=np.float64), -_EDGE)
        j1 = index(WEB_MERCATOR_ORIGIN - np.asarray(ymin, dtype=np.float64), _EDGE)
        counts = (i1 - i0 + 1) * (j1 - j0 + 1)
        wide = counts > WIDE
        narrow = ~wide
        if int(counts[narrow].sum()) > MAX_KEYS:
            return cls(z, None)
        chunks = [
            _keys(i0[part], i1[part], j0[part], j1[part])
            for part in np.array_split(np.flatnonzero(narrow), max(1, int(narrow.sum()) // CHUNK))
        ]
        keys = np.unique(np.concatenate(chunks)) if chunks else np.zeros(0, dtype=np.int64)
        return cls(z, keys, np.column_stack([i0[wide], i1[wide], j0[wide], j1[wide]]))

    def may_hold(self, x: int, y: int) -> bool:
        """False only when no feature's box meets tile x/y of this zoom."""
        keys = self._keys
        if keys is None:
            return True
        key = (x << 32) | y
        i = int(np.searchsorted(keys, key))
        if i < len(keys) and int(keys[i]) == key:
            return True
        w = self._wide
        return bool(np.any((w[:, 0] <= x) & (x <= w[:, 1]) & (w[:, 2] <= y) & (y <= w[:, 3])))

    @property
    def tiles(self) -> int | None:
        """How many tile keys are kept (None: not kept; wide boxes' tiles not counted)."""
        return None if self._keys is None else len(self._keys)


def _keys(i0: np.ndarray, i1: np.ndarray, j0: np.ndarray, j1: np.ndarray) -> np.ndarray:
    """The sorted keys ``x << 32 | y`` of every tile of each range (i0..i1, j0..j1)."""
    columns = i1 - i0 + 1
    counts = columns * (j1 - j0 + 1)
    total = int(counts.sum())
    feature = np.repeat(np.arange(len(counts)), counts)
    k = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    x = i0[feature] + k % columns[feature]
    y = j0[feature] + k // columns[feature]
    return np.unique((x << 32) | y)
