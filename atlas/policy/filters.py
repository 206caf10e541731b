"""CQL2 filters over what a tier sees: the one place a client's filter becomes a filter tree.

Used by the items endpoint and by extracts (a site-selection result is sent to an extract as a
CQL2 filter), so that both refuse hidden fields, and spatial predicates for tiers that do not
see exact geometry, with the words a nonexistent field gets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from atlas.errors import InvalidInput
from atlas.policy.rules import TierView
from atlas.query.cql2 import parse_filter
from atlas.query.crs import parse_crs
from atlas.query.filters import Expression

# "cql-text" is the pre-standard name (Part 3 drafts) that GDAL's OAPIF driver looks for before
# it sends a -where to the server; it is read as CQL2 text, whose basic predicates it shares.
FilterLang = Literal["cql2-text", "cql2-json", "cql-text"]


def tier_filter(
    source: str | Mapping[str, Any] | None,
    lang: FilterLang,
    view: TierView,
    *,
    filter_crs: str | None = None,
) -> Expression | None:
    """``source`` (CQL2-text, or CQL2-JSON as text or as an object) over ``view``'s fields."""
    if source is None or (isinstance(source, str) and not source.strip()):
        return None
    crs = parse_crs(filter_crs, parameter="filter-crs")
    if lang == "cql2-json" and isinstance(source, str):
        try:
            source = json.loads(source)
        except ValueError:
            raise InvalidInput("filter: not valid JSON for filter-lang cql2-json") from None
    return parse_filter(
        source,
        "cql2-text" if lang == "cql-text" else lang,
        fields={f.name: f for f in view.fields},
        filter_crs=crs.code,
        # Spatial predicates only where the tier sees exact geometry (see policy.generalised).
        geometry_name="geometry" if view.geometry == "exact" else None,
    )
