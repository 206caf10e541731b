"""An OGC request read against a tier's view: the one place its fields, filter, bbox and page
size are given their meaning (``Gate.items``, ``Gate.tile``).

A field the tier may not see is refused with the words a nonexistent one gets; a CQL2 filter is
parsed over the tier's fields (``policy.filters``); a bbox becomes the Lambert-93 area it
selects; the page size is held to the tier's cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import shapely

from atlas.audit.record import bbox_wkt
from atlas.errors import InvalidInput
from atlas.policy.filters import tier_filter
from atlas.policy.rules import TierView
from atlas.policy.tiers import Tier
from atlas.query.crs import bbox_area
from atlas.query.features import FeatureQuery
from atlas.query.fields import field_map
from atlas.query.filters import Comparison
from atlas.query.requests import BBoxRequest, ItemsRequest
from atlas.query.values import typed_value
from atlas.settings import Settings
from atlas.types import BBox


@dataclass(frozen=True, slots=True)
class Paging:
    """Page sizes: the default, and each tier's cap (ATLAS_API_DEFAULT_LIMIT, ATLAS_CAP_PAGE_*)."""

    default: int = 100
    caps: Mapping[Tier, int] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_settings(cls, settings: Settings) -> Paging:
        """The page sizes ``settings`` configure."""
        caps = {tier: settings.caps.page(tier.value) for tier in Tier}
        return cls(settings.api.default_limit, MappingProxyType(caps))

    def cap(self, tier: Tier) -> int:
        """The largest page ``tier`` may ask for."""
        return self.caps.get(tier, self.default)

    def limit(self, tier: Tier, requested: int | None) -> int:
        """The page size: the default when none was asked; 400 over the tier's cap."""
        cap = self.cap(tier)
        if requested is None:
            return min(self.default, cap)
        if requested < 1:
            raise InvalidInput("limit: must be a positive integer")
        if requested > cap:
            raise InvalidInput(
                f"limit: {requested} is over the maximum of {cap} for this access level"
            )
        return requested


def items_query(view: TierView, request: ItemsRequest, *, limit: int) -> FeatureQuery:
    """The store query of an items request, in Lambert-93 (names are checked by the gate's
    ``_restrict`` with every other query's)."""
    return FeatureQuery(
        filter=tier_filter(request.filter, view),
        **bbox_criteria(request.bbox),
        where=equal_to(request.equals, view),
        properties=request.properties,
        sortby=request.sortby,
        limit=limit,
        offset=request.offset,
    )


def bbox_criteria(bbox: BBoxRequest | None) -> dict[str, Any]:
    """A bbox as criteria of a FeatureQuery: ``bbox`` in Lambert-93 (the box itself), else
    ``intersects`` the area it selects; a box wholly outside where the data can be is ``ids=()``,
    which matches no feature on either store; absent, nothing."""
    if bbox is None:
        return {}
    area = bbox_area(bbox.values, bbox.crs)
    if area is None:
        return {"ids": ()}
    if bbox.crs.is_storage:
        return {"bbox": BBox(*area.bounds)}
    return {"intersects": area}


def equal_to(params: tuple[tuple[str, str], ...], view: TierView) -> tuple[Comparison, ...]:
    """``name=value`` on queryables (Part 1, 7.15.5); any other name is an unknown parameter,
    in the same words for a hidden field and a made-up one."""
    specs = field_map(view.fields)
    out = []
    for name, value in params:
        spec = specs.get(name)
        if spec is None:
            raise InvalidInput(
                f"unknown query parameter '{name[:40]}{'…' if len(name) > 40 else ''}'"
            )
        out.append(Comparison(name, "=", typed_value(spec, value, text=True)))
    return tuple(out)


def area_wkt(query: FeatureQuery) -> str | None:
    """The area a query names, as the audit record's WKT (EPSG:2154, centimetres), or None."""
    if query.intersects is not None:
        return shapely.to_wkt(query.intersects, rounding_precision=2)
    return bbox_wkt(query.bbox) if query.bbox is not None else None
