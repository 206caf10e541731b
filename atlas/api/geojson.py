"""GeoJSON documents of features (RFC 7946 members plus the OGC API links and counts)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from typing import Any

from fastapi.responses import Response
from shapely.geometry import mapping

from atlas.query.crs import ApiCRS, from_storage
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


def finite_dumps(value: Any, **kwargs: Any) -> str:
    """JSON text that never holds NaN or Infinity (invalid JSON, RFC 8259 §6).

    Stores hold no non-finite number (atlas.layers.sanity); data stored before that rule
    could, so such a number becomes null, and a geometry holding one becomes a null geometry.
    The second pass runs only when the first one met such a number.
    """
    try:
        return json.dumps(value, allow_nan=False, **kwargs)
    except ValueError:
        return json.dumps(_finite(value), allow_nan=False, **kwargs)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        if "coordinates" in value and not _all_finite(value["coordinates"]):
            return None
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _all_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(_all_finite(item) for item in value)
    return True


def geojson_response(document: dict[str, Any], crs: ApiCRS) -> Response:
    """A GeoJSON response with the Content-Crs header of OGC API – Features Part 2."""
    body = finite_dumps(document, default=_default, ensure_ascii=False, separators=(",", ":"))
    return Response(
        content=body.encode("utf-8"),
        media_type=GEOJSON,
        headers={"Content-Crs": f"<{crs.uri}>"},
    )
