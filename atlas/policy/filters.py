"""CQL2 filters over what a tier sees: the one place a client's filter becomes a filter tree.

Used by the items endpoint and by extracts (a site-selection result is sent to an extract as a
CQL2 filter), so that both refuse hidden fields, and spatial predicates for tiers that do not
see exact geometry, with the words a nonexistent field gets.
"""

from __future__ import annotations

import json

from atlas.errors import InvalidInput
from atlas.policy.rules import TierView
from atlas.query.cql2 import parse_filter
from atlas.query.filters import Expression
from atlas.query.requests import FilterRequest


def tier_filter(request: FilterRequest | None, view: TierView) -> Expression | None:
    """The client's filter (CQL2-text, or CQL2-JSON as text or as an object) over ``view``'s
    fields; None when there is none."""
    if request is None:
        return None
    source = request.source
    if isinstance(source, str) and not source.strip():
        return None
    if request.lang == "cql2-json" and isinstance(source, str):
        try:
            source = json.loads(source)
        except ValueError:
            raise InvalidInput("filter: not valid JSON for filter-lang cql2-json") from None
    return parse_filter(
        source,
        "cql2-text" if request.lang == "cql-text" else request.lang,
        fields={f.name: f for f in view.fields},
        filter_crs=request.crs.code,
        # Spatial predicates only where the tier sees exact geometry (see policy.generalised).
        geometry_name="geometry" if view.geometry == "exact" else None,
    )
