"""``FeatureQuery``: which features, in the storage CRS, with paging — what a gate asks a store."""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

from atlas.errors import InvalidInput
from atlas.query.filters import Comparison, Expression, check_expression, expression_fields
from atlas.types import BBox


@dataclass(frozen=True, slots=True)
class SortKey:
    """One ``sortby`` key."""

    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class FeatureQuery:
    """Which features, in the storage CRS; every criterion is ANDed (``where`` and ``filter`` too)."""

    bbox: BBox | None = None
    ids: tuple[str, ...] | None = None
    where: tuple[Comparison, ...] = ()
    filter: Expression | None = None  # a CQL2 filter, a tier's row filter…
    intersects: BaseGeometry | None = None
    within_distance: tuple[BaseGeometry, float] | None = None  # (geometry, metres)
    properties: tuple[str, ...] | None = None  # None: all fields
    sortby: tuple[SortKey, ...] = ()
    limit: int = 100
    offset: int = 0

    def __post_init__(self) -> None:
        if self.limit < 0 or self.offset < 0:
            raise InvalidInput("limit and offset must be zero or positive")
        if self.within_distance is not None and not self.within_distance[1] >= 0:
            raise InvalidInput("the distance must be zero or positive")
        if self.filter is not None:
            check_expression(self.filter)


def query_field_names(query: FeatureQuery) -> list[str]:
    """Every field a query names (filters, the filter tree, sort keys, properties)."""
    names = [c.field for c in query.where] + expression_fields(query.filter)
    names += [s.field for s in query.sortby]
    return names + list(query.properties or ())
