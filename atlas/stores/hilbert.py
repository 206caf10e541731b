"""Rows in Hilbert-curve order of their boxes' centres: features near each other on the ground
land near each other in a file, so a box or a tile meets few of its row groups."""

from __future__ import annotations

import numpy as np

ORDER = 16  # cells of 1/65,536 of the data's extent a side


def hilbert_order(bounds: np.ndarray) -> np.ndarray:
    """The row order (indices) sorting ``bounds`` — an (n, 4) array of xmin, ymin, xmax, ymax,
    NaN for a missing geometry (placed last) — along a Hilbert curve over their extent."""
    bounds = np.asarray(bounds, dtype=np.float64).reshape(-1, 4)
    cx = (bounds[:, 0] + bounds[:, 2]) / 2
    cy = (bounds[:, 1] + bounds[:, 3]) / 2
    known = np.isfinite(cx) & np.isfinite(cy)
    if not known.any():
        return np.arange(len(bounds))
    side = (1 << ORDER) - 1

    def cells(values: np.ndarray) -> np.ndarray:
        low, high = values[known].min(), values[known].max()
        span = high - low or 1.0
        scaled = np.where(known, (values - low) / span * side, 0.0)
        return np.clip(scaled, 0, side).astype(np.int64)

    keys = hilbert_keys(cells(cx), cells(cy))
    keys = np.where(known, keys, np.iinfo(np.int64).max)
    return np.argsort(keys, kind="stable")


def hilbert_keys(x: np.ndarray, y: np.ndarray, order: int = ORDER) -> np.ndarray:
    """The distance along the Hilbert curve of 2**order cells a side of each cell (x, y)."""
    n = 1 << order
    x, y = x.astype(np.int64).copy(), y.astype(np.int64).copy()
    d = np.zeros(len(x), dtype=np.int64)
    s = n >> 1
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        # Rotate the quadrant so that the curve's next level is read in its own frame.
        flip = ~ry & rx
        x = np.where(flip, n - 1 - x, x)
        y = np.where(flip, n - 1 - y, y)
        x, y = np.where(~ry, y, x), np.where(~ry, x, y)
        s >>= 1
    return d
