"""An OGC request read against a tier's view (atlas.policy.reading): page sizes, bbox areas,
``name=value`` parameters."""

from __future__ import annotations

from types import MappingProxyType

import pytest
import shapely

from atlas.errors import InvalidInput
from atlas.policy.reading import Paging, bbox_criteria, equal_to
from atlas.policy.rules import vector_view
from atlas.policy.tiers import Tier
from atlas.query.crs import STORAGE_URI, parse_crs
from atlas.query.requests import BBoxRequest
from atlas.types import BBox

PAGING = Paging(100, MappingProxyType({Tier.PUBLIC: 50, Tier.INTERNAL: 1000}))


def test_page_sizes_follow_the_tier():
    assert PAGING.limit(Tier.PUBLIC, None) == 50  # the default, held to the cap
    assert PAGING.limit(Tier.INTERNAL, None) == 100
    assert PAGING.limit(Tier.INTERNAL, 1000) == 1000
    with pytest.raises(InvalidInput, match="limit: 51 is over the maximum of 50"):
        PAGING.limit(Tier.PUBLIC, 51)
    with pytest.raises(InvalidInput, match="limit: must be a positive integer"):
        PAGING.limit(Tier.INTERNAL, 0)


def test_a_lambert93_box_stays_a_box():
    criteria = bbox_criteria(
        BBoxRequest((650_000, 6_830_000, 651_000, 6_831_000), parse_crs(STORAGE_URI))
    )
    assert criteria == {"bbox": BBox(650_000, 6_830_000, 651_000, 6_831_000)}


def test_a_crs84_box_is_its_outline_not_its_envelope():
    (area,) = bbox_criteria(BBoxRequest((2.35, 48.55, 2.55, 48.65))).values()
    assert isinstance(area, shapely.Polygon)
    envelope = shapely.envelope(area)
    # Parallels are arcs and meridians converge in Lambert-93: the envelope holds more (1.4 %).
    assert 0 < envelope.area - area.area < 0.03 * area.area
    assert shapely.get_num_coordinates(area) > 5


def test_boxes_outside_and_across_the_antimeridian():
    assert bbox_criteria(BBoxRequest((100.0, 10.0, 110.0, 20.0))) == {"ids": ()}
    (halves,) = bbox_criteria(BBoxRequest((5.0, 45.0, -5.0, 46.0))).values()
    assert isinstance(halves, shapely.MultiPolygon) and len(halves.geoms) == 2


def test_name_value_parameters_are_typed_or_unknown():
    view = vector_view("activity-plots", Tier.PUBLIC)
    assert view is not None
    (comparison,) = equal_to((("terr_surf_brute", "2.5"),), view)
    assert comparison.value == 2.5
    hidden = vector_view("activity-plots", Tier.INTERNAL)
    assert hidden is not None
    internal_only = {f.name for f in hidden.fields} - {f.name for f in view.fields}
    for name in [*sorted(internal_only)[:1], "made_up"]:
        with pytest.raises(InvalidInput, match=f"unknown query parameter '{name}'"):
            equal_to(((name, "x"),), view)
