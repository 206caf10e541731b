"""The clip area of an extract, in Lambert-93, and cutting geometries to it.

Semantics (written in every metadata.json): an extract holds the features whose geometry, as the
caller's tier sees it, intersects the area; lines and polygons are cut to the area (only the parts
of the feature's own dimension are kept, so a parcel that merely touches a commune's boundary is
left out); points are kept as they are. A bbox given in another CRS is transformed as a densified
polygon, so the area is exactly the box the caller drew, not a larger Lambert-93 rectangle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from atlas.api.crs import ApiCRS, bbox_parts, parse_crs, to_storage
from atlas.errors import InvalidInput, NotFound
from atlas.extracts.communes import CommuneBoundaries
from atlas.extracts.request import Clip
from atlas.policy.gate import Gate
from atlas.stores.base import FeatureQuery

MAX_POLYGON_VERTICES = 20_000
SITES = "activity-sites"
SEMANTICS = (
    "features whose geometry intersects the area; lines and polygons cut to it (parts of their"
    " own dimension only, so features that only touch the boundary are left out); points kept"
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


def resolve_clip(
    clip: Clip | None, gate: Gate, communes: Callable[[], CommuneBoundaries]
) -> ClipArea | None:
    """The request's clip as an area, resolved through the caller's gate (sites) or boundaries."""
    if clip is None:
        return None
    if clip.bbox is not None:
        return _bbox_area(clip.bbox, parse_crs(clip.crs, parameter="clip.crs"))
    if clip.commune is not None:
        boundaries = communes()
        geometry = boundaries.polygon(clip.commune)
        described = {"commune": clip.commune, "boundaries": boundaries.source}
        return ClipArea("commune", _checked(geometry, "clip.commune"), described)
    if clip.site is not None:
        return ClipArea("site", _site_geometry(gate, clip.site), {"site": clip.site})
    assert clip.polygon is not None
    crs = parse_crs(clip.crs, parameter="clip.crs")
    geometry = to_storage(_polygon(clip.polygon), crs)
    return ClipArea("polygon", _checked(geometry, "clip.polygon"), {"crs": crs.uri})


def _bbox_area(values: list[float], crs: ApiCRS) -> ClipArea:
    # The same reading as the items' bbox: across the antimeridian, clipped to where data can be.
    parts = bbox_parts(values, crs, parameter="clip.bbox", strict=True)
    if not parts:
        raise InvalidInput("clip.bbox: the box lies outside the area the data can cover")
    polygons = []
    for a, b, c, d in parts:
        box = shapely.box(a, b, c, d)
        if not crs.is_storage:
            box = shapely.segmentize(box, max(c - a, d - b) / 20)  # its edges curve in Lambert-93
        polygons.append(to_storage(box, crs))
    geometry = polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)
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
    dim = shapely.get_dimensions(original)
    parts = [
        part
        for piece in shapely.get_parts(cut)
        for part in shapely.get_parts(piece)  # collections of multi-parts, flattened
        if shapely.get_dimensions(part) == dim and not part.is_empty
    ]
    if not parts:
        return None
    multi = original.geom_type.startswith("Multi") or len(parts) > 1
    if not multi:
        return parts[0]
    if dim == 2:
        return shapely.MultiPolygon(parts)
    return shapely.MultiLineString(parts)
