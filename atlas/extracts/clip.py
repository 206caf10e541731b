"""The clip area of an extract, in Lambert-93, and cutting geometries to it.

Semantics (written in every metadata.json): an extract holds the features whose geometry, as the
caller's tier sees it, intersects the area; lines and polygons are cut to the area (only the parts
of the feature's own dimension are kept, so a parcel that merely touches a commune's boundary is
left out); points are kept as they are. A bbox given in another CRS is transformed as a densified
polygon, so the area is exactly the box the caller drew, not a larger Lambert-93 rectangle.

Slivers: two sources never draw a shared boundary with the same vertices (the cadastre and the
communes, a site and its neighbours' parcels), so a cut leaves slivers of the features across it,
a few square centimetres to a few square metres. A cut keeps only the parts of at least
``MIN_PART`` (1 m² for a polygon, 1 m for a line) and at least ``MIN_SHARE`` (0.1 %) of the
feature's own area or length; a feature left with no such part is left out. A feature wholly
inside the area is kept whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from atlas.errors import InvalidInput, NotFound
from atlas.extracts.communes import commune_polygon
from atlas.extracts.request import Clip
from atlas.policy.gate import Gate
from atlas.query.crs import ApiCRS, bbox_area, parse_crs, to_storage
from atlas.query.features import FeatureQuery

MAX_POLYGON_VERTICES = 20_000
SITES = "activity-sites"
MIN_PART = {2: 1.0, 1: 1.0}  # by dimension: square metres of a polygon part, metres of a line
MIN_SHARE = 0.001  # of the feature's own area or length
SEMANTICS = (
    "features whose geometry intersects the area; lines and polygons cut to it (parts of their"
    " own dimension only, so features that only touch the boundary are left out; parts under"
    " 1 m² or 1 m, or under 0.1 % of the feature, are slivers and dropped, and a feature left"
    " with none is left out); points kept"
)


@dataclass(frozen=True)
class ClipArea:
    """A clip area in EPSG:2154 and how the caller named it."""

    kind: str  # bbox | commune | site | polygon
    geometry: BaseGeometry
    described: dict[str, Any] = field(default_factory=dict)

    @property
    def wkt(self) -> str:
        """The area as WKT (EPSG:2154, centimetres): the audit record's ``area``."""
        return shapely.to_wkt(self.geometry, rounding_precision=2)

    def document(self) -> dict[str, Any]:
        """The area for metadata.json."""
        return {
            "kind": self.kind,
            **self.described,
            "area_wkt_epsg2154": self.wkt,
            "area_m2": round(float(self.geometry.area), 1),
            "semantics": SEMANTICS,
        }


def resolve_clip(clip: Clip | None, gate: Gate) -> ClipArea | None:
    """The request's clip as an area, communes and sites read through the caller's gate."""
    if clip is None:
        return None
    if clip.bbox is not None:
        return _bbox_area(clip.bbox, parse_crs(clip.crs, parameter="clip.crs"))
    if clip.commune is not None:
        geometry, described = commune_polygon(gate, clip.commune)
        return ClipArea("commune", _checked(geometry, "clip.commune"), described)
    if clip.site is not None:
        return ClipArea("site", _site_geometry(gate, clip.site), {"site": clip.site})
    assert clip.polygon is not None
    crs = parse_crs(clip.crs, parameter="clip.crs")
    geometry = to_storage(_polygon(clip.polygon), crs)
    return ClipArea("polygon", _checked(geometry, "clip.polygon"), {"crs": crs.uri})


def _bbox_area(values: list[float], crs: ApiCRS) -> ClipArea:
    # The same reading as the items' bbox: across the antimeridian, clipped to where data can
    # be, its edges densified so that the area is the box drawn, not a larger Lambert-93 one.
    geometry = bbox_area(values, crs, parameter="clip.bbox", strict=True)
    if geometry is None:
        raise InvalidInput("clip.bbox: the box lies outside the area the data can cover")
    return ClipArea("bbox", _checked(geometry, "clip.bbox"), {"bbox": values, "crs": crs.uri})


def _site_geometry(gate: Gate, site_id: str) -> BaseGeometry:
    missing = InvalidInput(f"clip.site: no activity site '{site_id[:80]}'")
    try:
        # properties=(): only the outline is read (no field a tier may not see, nothing audited).
        page = gate.query(SITES, FeatureQuery(ids=(site_id,), properties=(), limit=1))
    except NotFound:
        raise missing from None
    if not page.features or page.features[0].geometry is None:
        raise missing
    return _checked(page.features[0].geometry, "clip.site")


def _polygon(document: dict[str, Any]) -> BaseGeometry:
    if document.get("type") not in ("Polygon", "MultiPolygon"):
        raise InvalidInput("clip.polygon: a GeoJSON Polygon or MultiPolygon geometry is expected")
    try:
        geometry = shapely.geometry.shape(document)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError):
        raise InvalidInput("clip.polygon: not a valid GeoJSON geometry") from None
    if shapely.get_num_coordinates(geometry) > MAX_POLYGON_VERTICES:
        raise InvalidInput(f"clip.polygon: more than {MAX_POLYGON_VERTICES} vertices")
    return geometry


def _checked(geometry: BaseGeometry, parameter: str) -> BaseGeometry:
    coordinates = shapely.get_coordinates(geometry)
    if geometry.is_empty or not bool(np.isfinite(coordinates).all()):
        raise InvalidInput(f"{parameter}: the area is empty or out of the CRS's range")
    if not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry).split("[")[0]
        raise InvalidInput(f"{parameter}: the polygon is not valid ({reason[:60]})")
    if geometry.area <= 0:
        raise InvalidInput(f"{parameter}: the area is empty")
    return geometry


def keep_and_cut(geometries: np.ndarray, area: ClipArea) -> tuple[np.ndarray, np.ndarray]:
    """Which rows to keep and their geometry cut to ``area`` (see the module docstring).

    ``geometries`` is an array of shapely geometries (None allowed: such rows are dropped).
    """
    shape = area.geometry
    shapely.prepare(shape)
    present = ~shapely.is_missing(geometries)
    keep = present & shapely.intersects(shape, geometries)
    out = geometries.copy()
    dims = shapely.get_dimensions(geometries)
    covered = keep & shapely.covers(shape, geometries)
    to_cut = np.flatnonzero(keep & ~covered & (dims > 0))
    for i in to_cut:
        cut = _same_dimension(shapely.intersection(geometries[i], shape), geometries[i])
        if cut is None:
            keep[i] = False
        else:
            out[i] = cut
    return keep, out


def _same_dimension(cut: BaseGeometry, original: BaseGeometry) -> BaseGeometry | None:
    """The cut's parts of the original's dimension that are not slivers; None when none is."""
    dim = int(shapely.get_dimensions(original))
    smallest = max(MIN_PART[dim], MIN_SHARE * _size(original, dim))
    parts = [
        part
        for piece in shapely.get_parts(cut)
        for part in shapely.get_parts(piece)  # collections of multi-parts, flattened
        if shapely.get_dimensions(part) == dim and not part.is_empty
    ]
    parts = [part for part in parts if _size(part, dim) >= smallest]
    if not parts:
        return None
    multi = original.geom_type.startswith("Multi") or len(parts) > 1
    if not multi:
        return parts[0]
    if dim == 2:
        return shapely.MultiPolygon(parts)
    return shapely.MultiLineString(parts)


def _size(geometry: BaseGeometry, dim: int) -> float:
    return float(geometry.area if dim == 2 else geometry.length)
