"""Coordinate reference systems of the API (OGC API – Features Part 2).

Geometry is stored in Lambert-93. A response can be asked in CRS84 (lon/lat, the default, as
Part 1 requires), EPSG:4326 (latitude first: the EPSG definition's axis order, which Part 2
requires servers to honour), Lambert-93, the CC49 conic zone used by Essonne's surveyors
(EPSG:3949), or Web Mercator. ``bbox`` values follow the axis order of ``bbox-crs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from atlas.errors import UnknownCRS
from atlas.types import STORAGE_CRS, BBox

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
SUPPORTED: dict[str, str] = {
    CRS84: "OGC:CRS84",
    f"{_EPSG}4326": "EPSG:4326",
    f"{_EPSG}2154": "EPSG:2154",
    f"{_EPSG}3949": "EPSG:3949",
    f"{_EPSG}3857": "EPSG:3857",
}
STORAGE_URI = f"{_EPSG}2154"


@dataclass(frozen=True, slots=True)
class ApiCRS:
    """A CRS the API speaks: its OGC URI and its pyproj definition."""

    uri: str
    code: str

    @property
    def crs(self) -> CRS:
        """The pyproj CRS."""
        return _crs(self.code)

    @property
    def is_storage(self) -> bool:
        """True for Lambert-93: no transformation needed."""
        return self.code == STORAGE_CRS


def parse_crs(value: str | None, *, parameter: str = "crs") -> ApiCRS:
    """The CRS a parameter names (a URI of the list, or its short 'EPSG:…' form); CRS84 if None."""
    if value is None or not value.strip():
        return ApiCRS(CRS84, SUPPORTED[CRS84])
    text = value.strip().strip("[]")  # Part 2 allows the safe-CURIE form [EPSG:4326]
    for uri, code in SUPPORTED.items():
        if text in (uri, code) or text.replace("http://", "https://", 1) == uri.replace(
            "http://", "https://", 1
        ):
            return ApiCRS(uri, code)
    names = ", ".join(SUPPORTED)
    raise UnknownCRS(f"{parameter}: unsupported CRS '{text[:80]}'; supported: {names}")


@cache
def _crs(code: str) -> CRS:
    return CRS.from_user_input(code)


@cache
def _transformer(source: str, target: str) -> Transformer:
    # always_xy=False: coordinates in each CRS's own axis order (EPSG:4326 is lat, lon).
    return Transformer.from_crs(_crs(source), _crs(target), always_xy=False)


def from_storage(geometry: BaseGeometry | None, target: ApiCRS) -> BaseGeometry | None:
    """A Lambert-93 geometry in ``target``'s coordinates and axis order."""
    if geometry is None or target.is_storage:
        return geometry
    transformer = _transformer(STORAGE_CRS, target.code)
    return shapely.transform(geometry, lambda xy: _apply(transformer, xy))


def to_storage(geometry: BaseGeometry, source: ApiCRS) -> BaseGeometry:
    """A geometry given in ``source`` (its axis order) in Lambert-93."""
    if source.is_storage:
        return geometry
    transformer = _transformer(source.code, STORAGE_CRS)
    return shapely.transform(geometry, lambda xy: _apply(transformer, xy))


def bbox_to_storage(values: tuple[float, float, float, float], source: ApiCRS) -> BBox:
    """A bbox in ``source``'s axis order as a Lambert-93 box containing it (densified edges)."""
    a, b, c, d = values
    if source.is_storage:
        return BBox(a, b, c, d)
    transformer = _transformer(source.code, STORAGE_CRS)
    xmin, ymin, xmax, ymax = transformer.transform_bounds(a, b, c, d, densify_pts=21)
    return BBox(xmin, ymin, xmax, ymax)


def _apply(transformer: Transformer, xy):  # noqa: ANN001, ANN202 - shapely passes an (n, 2) array
    import numpy as np

    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])
