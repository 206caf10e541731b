"""Spatial criteria, and extents, for a tier that sees generalised geometry, decided on that geometry.

If a bbox were tested against the exact position, moving a small box around a business would
reveal the position the tier is only given to 50 m. So the store is asked for candidates in a
box grown by the tolerance, the candidates are generalised, and the bbox / intersects / distance
criteria are applied to the generalised geometry. CQL2 spatial predicates are not offered to
such a tier at all (``geometry`` answers like an unknown field). For the same reason the extent
of the collection (its document, its TileJSON ``bounds``) is the extent of the generalised
geometry: the exact one would give away the westernmost, easternmost… positions to the metre.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from atlas.query.features import FeatureQuery
from atlas.query.fields import unknown_fields
from atlas.query.filters import And, Expression, Not, Or, SpatialPredicate
from atlas.types import BBox

# Candidates fetched at most for one generalised spatial query (establishments: a few hundred).
MAX_CANDIDATES = 200_000


def has_spatial_criteria(query: FeatureQuery) -> bool:
    """True when the query selects by location."""
    return (
        query.bbox is not None or query.intersects is not None or query.within_distance is not None
    )


def refuse_spatial_filter(expression: Expression | None) -> None:
    """A spatial predicate in a filter answers like a filter on an unknown field."""
    if expression is None:
        return
    if isinstance(expression, SpatialPredicate):
        raise unknown_fields(["geometry"])
    if isinstance(expression, And | Or):
        for arg in expression.args:
            refuse_spatial_filter(arg)
    elif isinstance(expression, Not):
        refuse_spatial_filter(expression.arg)


def candidate_query(query: FeatureQuery, tolerance: float) -> FeatureQuery:
    """The query without its spatial criteria, within their box grown by ``tolerance``."""
    boxes = []
    if query.bbox is not None:
        boxes.append(query.bbox.as_tuple())
    if query.intersects is not None:
        boxes.append(query.intersects.bounds)
    if query.within_distance is not None:
        geometry, distance = query.within_distance
        xmin, ymin, xmax, ymax = geometry.bounds
        boxes.append((xmin - distance, ymin - distance, xmax + distance, ymax + distance))
    xmin = min(b[0] for b in boxes) - tolerance
    ymin = min(b[1] for b in boxes) - tolerance
    xmax = max(b[2] for b in boxes) + tolerance
    ymax = max(b[3] for b in boxes) + tolerance
    return dataclasses.replace(
        query,
        bbox=BBox(xmin, ymin, xmax, ymax),
        intersects=None,
        within_distance=None,
        limit=MAX_CANDIDATES,
        offset=0,
    )


def matches(geometry: shapely.Geometry | None, query: FeatureQuery) -> bool:
    """Whether the (generalised) geometry meets every spatial criterion of ``query``."""
    if geometry is None:
        return False
    if query.bbox is not None and not shapely.intersects(
        geometry, shapely.box(*query.bbox.as_tuple())
    ):
        return False
    if query.intersects is not None and not shapely.intersects(geometry, query.intersects):
        return False
    if query.within_distance is not None:
        target, distance = query.within_distance
        if not shapely.dwithin(geometry, target, distance):
            return False
    return True


def generalise(geometry: BaseGeometry, tolerance: float) -> BaseGeometry:
    """The geometry at the precision ``tolerance`` (m): points snapped to a grid, others simplified."""
    if tolerance <= 0:
        return geometry
    if geometry.geom_type in ("Point", "MultiPoint"):
        return shapely.set_precision(geometry, tolerance)
    return shapely.simplify(geometry, tolerance, preserve_topology=True)


def seen_bounds(
    geometries: gpd.GeoSeries, treatment: str, tolerance: float
) -> tuple[float, float, float, float] | None:
    """The bbox of ``geometries`` as a tier treating them so sees them (None: nothing to see)."""
    present = geometries[geometries.notna() & ~geometries.is_empty]
    if treatment == "absent" or not len(present):
        return None
    if treatment == "generalised":
        seen = np.array([generalise(g, tolerance) for g in present], dtype=object)
        seen = seen[~shapely.is_empty(seen)]
        if not len(seen):
            return None
        return tuple(float(v) for v in shapely.total_bounds(seen))  # type: ignore[return-value]
    return tuple(float(v) for v in present.total_bounds)  # type: ignore[return-value]
