"""GeoJSON documents of features (RFC 7946 members plus the OGC API links and counts)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

from fastapi.responses import Response
from shapely.geometry import mapping

from atlas.api.crs import ApiCRS, from_storage
from atlas.stores.base import Feature

GEOJSON = "application/geo+json"


def feature_document(feature: Feature, crs: ApiCRS) -> dict[str, Any]:
    """One feature in ``crs``."""
    geometry = from_storage(feature.geometry, crs)
    return {
        "type": "Feature",
        "id": feature.id,
        "geometry": mapping(geometry) if geometry is not None else None,
        "properties": feature.properties,
    }


def _default(value: object) -> object:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return str(value)


def geojson_response(document: dict[str, Any], crs: ApiCRS) -> Response:
    """A GeoJSON response with the Content-Crs header of OGC API – Features Part 2."""
    body = json.dumps(document, default=_default, ensure_ascii=False, separators=(",", ":"))
    return Response(
        content=body.encode("utf-8"),
        media_type=GEOJSON,
        headers={"Content-Crs": f"<{crs.uri}>"},
    )
