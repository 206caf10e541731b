"""The polygon of ``clip.commune``: read from the ``communes`` collection through the caller's gate.

An attribute filter would not do: half the layers (heritage perimeters, flood zones, plots) carry
no INSEE code, and the parcels' one is hidden from partners. So a commune clip is a polygon clip
like the others, its polygon the commune's as the collection serves it to the caller (public for
every tier, so nothing is audited for reading it). There is no other source: a deployment that
has not ingested the communes (``atlas ingest communes FILE``) answers a commune clip with a 400
saying so, never with boundaries of its own.
"""

from __future__ import annotations

from typing import Any

from shapely.geometry.base import BaseGeometry

from atlas.errors import InvalidInput, NotFound
from atlas.policy.gate import Gate
from atlas.query.features import FeatureQuery

COMMUNES = "communes"


def commune_polygon(gate: Gate, code: str) -> tuple[BaseGeometry, dict[str, Any]]:
    """The commune's polygon (EPSG:2154) and how metadata.json describes it; InvalidInput else."""
    query = FeatureQuery(ids=(code,), properties=("nom_officiel",), limit=1)
    try:
        page = gate.query(COMMUNES, query)
        info = gate.collection(COMMUNES)
    except NotFound:
        raise InvalidInput(
            "clip.commune: no commune boundaries are loaded (the communes collection is empty)"
        ) from None
    if not page.features or page.features[0].geometry is None:
        raise InvalidInput(f"clip.commune: no commune '{code[:8]}' in the communes collection")
    feature = page.features[0]
    described = {
        "commune": code,
        "name": feature.properties.get("nom_officiel"),
        "boundaries": f"collection {COMMUNES}, version {info.version}",
    }
    return feature.geometry, described
