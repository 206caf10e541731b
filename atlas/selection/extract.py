"""From a site-selection result to an extract: the body ``POST /extracts`` takes.

The plots meeting every criterion are named by their ids in a CQL2-JSON filter (OGC 21-065,
``in``) on ``activity-plots``: the extract then reads them through the caller's gate like any
other extract (audited, capped, in Lambert-93 by default), so a result shared as a URL exports
only what the tier that opens it may see.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SELECTED_COLLECTION = "activity-plots"


def extract_body(terr_ids: Sequence[str], *, file_format: str = "gpkg") -> dict[str, Any]:
    """The ``POST /extracts`` body exporting the plots ``terr_ids`` (an empty list: none)."""
    return {
        "collections": [SELECTED_COLLECTION],
        "format": file_format,
        "filter": {"op": "in", "args": [{"property": "terr_id"}, list(terr_ids)]},
        "filter-lang": "cql2-json",
    }
