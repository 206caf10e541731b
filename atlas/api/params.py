"""Query parameters of the feature endpoints, parsed once into domain types.

Every message names the parameter and says what was wrong; none echoes more than a short,
truncated piece of the input. A field the caller's tier may not see is refused with exactly the
words a nonexistent field gets (the gate's ``check_fields``), so probing reveals nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import shapely

from atlas.errors import InvalidInput
from atlas.layers.base import FieldSpec
from atlas.query.crs import ApiCRS, bbox_to_storage
from atlas.query.features import SortKey
from atlas.query.fields import check_fields
from atlas.query.filters import Comparison
from atlas.query.values import typed_value

# Query parameters the item endpoints define; any other one must be a queryable's name.
ITEM_PARAMETERS = frozenset(
    {
        "f",
        "lang",  # HTML pages (atlas.api.negotiation)
        "bbox",
        "bbox-crs",
        "crs",
        "limit",
        "offset",
        "properties",
        "sortby",
        "filter",
        "filter-lang",
        "filter-crs",
        "datetime",
    }
)


def short(text: str, size: int = 40) -> str:
    """Input echoed in a message: truncated, so an error never reflects a whole payload."""
    return text if len(text) <= size else text[:size] + "…"


def parse_bbox(text: str | None, crs: ApiCRS) -> dict[str, Any]:
    """``bbox=a,b,c,d`` in ``crs``'s axis order as criteria of a Lambert-93 FeatureQuery.

    One box is ``bbox``; the two halves of a box across the antimeridian are ``intersects``
    (either box); a box wholly outside where the data can be is ``ids=()``, which matches no
    feature on either store; absent, nothing.
    """
    if text is None:
        return {}
    parts = text.split(",")
    if len(parts) == 6:
        raise InvalidInput("bbox: 3D boxes (6 numbers) are not supported; give 4 numbers")
    if len(parts) != 4:
        raise InvalidInput(f"bbox: expected 4 comma-separated numbers, got '{short(text)}'")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise InvalidInput(f"bbox: '{short(text)}' holds something that is not a number") from None
    if not all(math.isfinite(v) for v in values):
        raise InvalidInput("bbox: values must be finite numbers")
    boxes = bbox_to_storage(values, crs)
    if not boxes:
        return {"ids": ()}
    if len(boxes) == 1:
        return {"bbox": boxes[0]}
    return {"intersects": shapely.MultiPolygon([shapely.box(*b.as_tuple()) for b in boxes])}


def parse_limit(value: int | None, *, default: int, cap: int) -> int:
    """The page size: the default when absent, 400 when over the tier's cap."""
    if value is None:
        return min(default, cap)
    if value < 1:
        raise InvalidInput("limit: must be a positive integer")
    if value > cap:
        raise InvalidInput(f"limit: {value} is over the maximum of {cap} for this access level")
    return value


def parse_properties(text: str | None, fields: tuple[FieldSpec, ...]) -> tuple[str, ...] | None:
    """``properties=a,b``: the fields to return (None: all the caller may see)."""
    if text is None:
        return None
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    check_fields(fields, names)
    return names


def parse_sortby(text: str | None, fields: tuple[FieldSpec, ...]) -> tuple[SortKey, ...]:
    """``sortby=+a,-b`` (OGC API Features Part 3, sorting)."""
    if text is None or not text.strip():
        return ()
    keys = []
    for raw in text.split(","):
        token = raw.strip()
        descending = token.startswith("-")
        name = token.lstrip("+-").strip()
        if not name:
            raise InvalidInput("sortby: empty sort key")
        keys.append(SortKey(name, descending))
    check_fields(fields, [k.field for k in keys])
    return tuple(keys)


def property_filters(
    params: Iterable[tuple[str, str]], fields: tuple[FieldSpec, ...]
) -> tuple[Comparison, ...]:
    """``name=value`` on queryables (Part 1, 7.15.5); any other unknown parameter is a 400."""
    by_name = {f.name: f for f in fields}
    out = []
    for name, value in params:
        if name in ITEM_PARAMETERS:
            continue
        spec = by_name.get(name)
        if spec is None:
            # The same words for a hidden field and a made-up one.
            raise InvalidInput(f"unknown query parameter '{short(name)}'")
        out.append(Comparison(name, "=", typed_value(spec, value, text=True)))
    return tuple(out)
