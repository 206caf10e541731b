"""Which WebMercatorQuad tiles of a zoom a version's features may touch, from their stored boxes.

A map asks for every tile of its view, and around the parks most of them hold nothing: the
embedded store answers those without a statement (DuckDB plans and scans ≈ 0.7 ms for a tile it
then finds empty; 36 % of the z16 tiles over the demo parcels' extent are). The keys are kept
sorted in one array (a lookup is a binary search); they err on the side of "may hold": a box
within a hair of a tile's edge counts for the tile beyond it, and a layer whose features would
need more than ``MAX_KEYS`` keys at a zoom gets no shortcut at that zoom.
"""

from __future__ import annotations

import numpy as np

from atlas.stores.mvt import WEB_MERCATOR_ORIGIN

MAX_KEYS = 2_000_000  # 16 MB of keys: 200,000 parcels take about 300,000 at z16
_EDGE = 1e-6  # of a tile's width: a box this close to an edge counts for both tiles


class Occupancy:
    """The tiles of one zoom that some feature's box meets (edges included)."""

    def __init__(self, z: int, keys: np.ndarray | None) -> None:
        self.z = z
        self._keys = keys  # None: too many to keep, every tile may hold features

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
        columns, rows = i1 - i0 + 1, j1 - j0 + 1
        counts = columns * rows
        total = int(counts.sum())
        if total > MAX_KEYS:
            return cls(z, None)
        feature = np.repeat(np.arange(len(counts)), counts)
        k = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        x = i0[feature] + k % columns[feature]
        y = j0[feature] + k // columns[feature]
        return cls(z, np.unique((x << 32) | y))

    def may_hold(self, x: int, y: int) -> bool:
        """False only when no feature's box meets tile x/y of this zoom."""
        keys = self._keys
        if keys is None:
            return True
        key = (x << 32) | y
        i = int(np.searchsorted(keys, key))
        return i < len(keys) and int(keys[i]) == key

    @property
    def tiles(self) -> int | None:
        """How many tiles may hold features (None: not kept)."""
        return None if self._keys is None else len(self._keys)
