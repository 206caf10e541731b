"""Shared value types."""

from __future__ import annotations

import math
from dataclasses import dataclass

from atlas.errors import InvalidInput

STORAGE_CRS = "EPSG:2154"  # Lambert-93: the legal projection of metropolitan France
STORAGE_EPSG = 2154


@dataclass(frozen=True, slots=True)
class BBox:
    """An axis-aligned box (xmin, ymin, xmax, ymax) in a given CRS."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float

    def __post_init__(self) -> None:
        values = (self.xmin, self.ymin, self.xmax, self.ymax)
        if not all(math.isfinite(v) for v in values):
            raise InvalidInput("bbox values must be finite numbers")
        if self.xmin > self.xmax or self.ymin > self.ymax:
            raise InvalidInput("bbox must be xmin,ymin,xmax,ymax with min <= max")

    def as_tuple(self) -> tuple[float, float, float, float]:
        """The four numbers in order."""
        return (self.xmin, self.ymin, self.xmax, self.ymax)


@dataclass(frozen=True, slots=True)
class TileXYZ:
    """A Web Mercator tile address."""

    z: int
    x: int
    y: int

    def __post_init__(self) -> None:
        if not 0 <= self.z <= 24:
            raise InvalidInput("tile zoom must be between 0 and 24")
        n = 1 << self.z
        if not (0 <= self.x < n and 0 <= self.y < n):
            raise InvalidInput(f"tile x and y must be between 0 and {n - 1} at zoom {self.z}")
