"""Coordinate reference systems (OGC API – Features Part 2), and the one transformer factory.

Geometry is stored in Lambert-93. A response can be asked in CRS84 (lon/lat, the default, as
Part 1 requires), EPSG:4326 (latitude first: the EPSG definition's axis order, which Part 2
requires servers to honour), Lambert-93, the CC49 conic zone used by Essonne's surveyors
(EPSG:3949), or Web Mercator. ``bbox`` values follow the axis order of ``bbox-crs``.

A bbox is cut to where the data can be before it is reprojected: Lambert-93 is defined over
metropolitan France only, and the whole-world box that a GIS client zoomed out sends
(``-180,-90,180,90``) does not reproject to a box around France (pyproj gives one that starts
6,000 km north of it). So a box is first clipped to the area of use of both its CRS and
Lambert-93; in a geographic CRS a box whose west edge is east of its east edge crosses the
antimeridian (OGC API Features Part 1, 7.15.3) and means its two halves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from atlas.errors import InvalidInput, UnknownCRS
from atlas.types import STORAGE_CRS

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"  # lon/lat on WGS 84 (OGC's URI)
CRS84_CODE = "OGC:CRS84"  # the same CRS as pyproj names it
_EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
SUPPORTED: dict[str, str] = {
    CRS84: CRS84_CODE,
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


def resolve_crs(value: str | int | CRS | None) -> CRS | None:
    """A pyproj CRS from 'EPSG:2154', '2154', a WKT or an OGC URI; UnknownCRS when unresolvable."""
    if value is None or isinstance(value, CRS):
        return value
    text = str(value).strip()
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        return _crs(text)
    except CRSError as exc:
        raise UnknownCRS(f"unknown CRS '{text[:60]}'") from exc


@lru_cache(maxsize=64)
def transformer(source: str, target: str = STORAGE_CRS, *, always_xy: bool = True) -> Transformer:
    """The cached transformer from ``source`` to ``target`` (codes, URIs or WKT).

    ``always_xy`` (the default, for files and GeoDataFrames): x is easting or longitude in both.
    ``always_xy=False``: each CRS's own axis order, as OGC API Features Part 2 and CQL2 want
    coordinates (EPSG:4326 is lat, lon; CRS84 lon, lat). Building one costs milliseconds of
    PROJ database reads, hence the cache.
    """
    return Transformer.from_crs(_crs(source), _crs(target), always_xy=always_xy)


def transform_geometry(geometry: BaseGeometry, moved: Transformer) -> BaseGeometry:
    """``geometry`` with every coordinate passed through ``moved``."""

    return shapely.transform(geometry, _mover(moved))


def _mover(moved: Transformer) -> Callable[[np.ndarray], np.ndarray]:
    """shapely.transform's function: an (n, 2) array of coordinates through ``moved``."""

    def move(xy: np.ndarray) -> np.ndarray:
        x, y = moved.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return move


@lru_cache(maxsize=64)
def _crs(code: str) -> CRS:
    return CRS.from_user_input(code)


def from_storage(geometry: BaseGeometry | None, target: ApiCRS) -> BaseGeometry | None:
    """A Lambert-93 geometry in ``target``'s coordinates and axis order."""
    if geometry is None or target.is_storage:
        return geometry
    return transform_geometry(geometry, transformer(STORAGE_CRS, target.code, always_xy=False))


def many_from_storage(geometries: np.ndarray, target: ApiCRS) -> np.ndarray:
    """Lambert-93 geometries (an object array, None allowed) in ``target``, in one PROJ call
    over all their coordinates (a page of features: one call instead of one per feature)."""
    if target.is_storage or len(geometries) == 0:
        return geometries
    moved = transformer(STORAGE_CRS, target.code, always_xy=False)
    return np.asarray(shapely.transform(geometries, _mover(moved)), dtype=object)


def to_storage(geometry: BaseGeometry, source: ApiCRS) -> BaseGeometry:
    """A geometry given in ``source`` (its axis order) in Lambert-93."""
    if source.is_storage:
        return geometry
    return transform_geometry(geometry, transformer(source.code, STORAGE_CRS, always_xy=False))


Box = tuple[float, float, float, float]


def bbox_parts(
    values: Sequence[float], source: ApiCRS, *, parameter: str = "bbox", strict: bool = False
) -> tuple[Box, ...]:
    """The parts of a bbox (in ``source``'s axis order) where Lambert-93 data can lie, in that
    order: two when it crosses the antimeridian, none when it lies outside; ``strict`` refuses
    empty boxes (an area), else a zero-width box is a point or a line."""
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise InvalidInput(f"{parameter}: expected 4 finite numbers")
    if source.is_storage:
        _ordered(values, parameter, strict)
        return (tuple(values),)  # type: ignore[return-value]
    if not source.crs.is_geographic:
        _ordered(values, parameter, strict)
        return _clipped_projected(tuple(values), source, strict)  # type: ignore[arg-type]
    return _geographic_parts(tuple(values), source, parameter, strict)  # type: ignore[arg-type]


def _geographic_parts(values: Box, source: ApiCRS, parameter: str, strict: bool) -> tuple[Box, ...]:
    lat_first = source.code == "EPSG:4326"
    a, b, c, d = values
    west, south, east, north = (b, a, d, c) if lat_first else (a, b, c, d)
    order = "lat,lon" if lat_first else "lon,lat"
    if not all(-90 <= v <= 90 for v in (south, north)) or not all(
        -180 <= v <= 180 for v in (west, east)
    ):
        raise InvalidInput(f"{parameter}: out of range for {source.code} (axis order {order})")
    if south > north:
        raise InvalidInput(f"{parameter}: the lower corner must come first (min <= max latitude)")
    if strict and (south == north or west == east):
        raise InvalidInput(f"{parameter}: the area is empty")
    # Part 1, 7.15.3: west > east is a box across the antimeridian, i.e. its two halves.
    halves = [(west, east)] if west <= east else [(west, 180.0), (-180.0, east)]
    w0, s0, e0, n0 = usable_area(source)
    parts = []
    for w, e in halves:
        w, e, s, n = max(w, w0), min(e, e0), max(south, s0), min(north, n0)
        if (w < e and s < n) if strict else (w <= e and s <= n):
            parts.append((s, w, n, e) if lat_first else (w, s, e, n))
    return tuple(parts)


def bbox_area(
    values: Sequence[float], source: ApiCRS, *, parameter: str = "bbox", strict: bool = False
) -> BaseGeometry | None:
    """What a bbox in ``source``'s axis order selects, as a Lambert-93 geometry (None: nothing).

    In Lambert-93 it is the box itself. From any other CRS it is the box's own outline with its
    edges densified and reprojected: a lon/lat box is not a rectangle in Lambert-93 (its
    parallels are arcs, its meridians converge), and the envelope of its corners would select
    features outside it. Across the antimeridian its two halves; a zero-width box is a line or
    a point (see :func:`bbox_parts`).
    """
    parts = [
        _part_in_storage(p, source)
        for p in bbox_parts(values, source, parameter=parameter, strict=strict)
    ]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


# A parallel of Lambert-93 is an arc of radius over 5,000 km: a chord of 500 m departs from it
# by under 1 cm, so edges are cut into pieces of at most that (and at most 64 per edge).
MAX_CHORD_M = 500.0
MAX_SEGMENTS = 64


def _part_in_storage(part: Box, source: ApiCRS) -> BaseGeometry:
    x0, y0, x1, y1 = part
    outline = shapely.envelope(shapely.MultiPoint([(x0, y0), (x1, y1)]))  # a line if flat
    if source.is_storage:
        return outline
    move = transformer(source.code, STORAGE_CRS, always_xy=False)
    xs, ys = move.transform([x0, x1, x0], [y0, y0, y1])
    along_x = math.hypot(xs[1] - xs[0], ys[1] - ys[0])  # metres of the first edge of each axis
    along_y = math.hypot(xs[2] - xs[0], ys[2] - ys[0])
    steps = [
        size / min(max(math.ceil(metres / MAX_CHORD_M), 1), MAX_SEGMENTS)
        for size, metres in ((x1 - x0, along_x), (y1 - y0, along_y))
        if size > 0
    ]
    densified = shapely.segmentize(outline, min(steps)) if steps else outline
    return to_storage(densified, source)


@cache
def usable_area(source: ApiCRS) -> Box:
    """Where both ``source`` and Lambert-93 are defined: lon/lat west, south, east, north."""
    mine, storage = source.crs.area_of_use, _crs(STORAGE_CRS).area_of_use
    if mine is None or storage is None:  # every CRS of SUPPORTED declares one
        raise RuntimeError(f"{source.code} or {STORAGE_CRS} declares no area of use")
    return (
        max(mine.west, storage.west),
        max(mine.south, storage.south),
        min(mine.east, storage.east),
        min(mine.north, storage.north),
    )


def _clipped_projected(values: Box, source: ApiCRS, strict: bool) -> tuple[Box, ...]:
    # The usable area in the source's own coordinates (a box containing it), then the overlap.
    x0, y0, x1, y1 = transformer(CRS84_CODE, source.code, always_xy=False).transform_bounds(
        *usable_area(source), densify_pts=21
    )
    xmin, ymin = max(values[0], x0), max(values[1], y0)
    xmax, ymax = min(values[2], x1), min(values[3], y1)
    kept = (xmin < xmax and ymin < ymax) if strict else (xmin <= xmax and ymin <= ymax)
    return ((xmin, ymin, xmax, ymax),) if kept else ()


def _ordered(values: Sequence[float], parameter: str, strict: bool) -> None:
    a, b, c, d = values
    if a > c or b > d or (strict and (a == c or b == d)):
        relation = "<" if strict else "<="
        raise InvalidInput(
            f"{parameter}: the lower corner must come first (min {relation} max on both axes)"
        )
