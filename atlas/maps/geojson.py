"""A GeoDataFrame from the gate as the small GeoJSON a map embeds."""

from __future__ import annotations

import datetime as dt
import html
import math
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

# 1e-5 degree is about 1 m here, finer than a screen pixel at zoom 17: more digits only make
# the page heavier (the API gives exact geometry to whoever needs it).
PRECISION = 5


def _value(value: Any) -> Any:
    """A JSON value; text escaped, because folium's popups and Leaflet.Search write it as HTML."""
    if value is None or value is getattr(np, "nan", None):
        return None
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else round(float(value), 2)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    try:
        return None if value != value else str(value)  # pandas NA / NaT
    except TypeError:
        return None


def feature_collection(frame: gpd.GeoDataFrame, simplify_deg: float = 0.0) -> dict[str, Any]:
    """A FeatureCollection of ``frame`` (EPSG:4326) with rounded, optionally simplified geometry."""
    features = []
    names = [c for c in frame.columns if c != frame.geometry.name]
    for row, geom in zip(frame[names].itertuples(index=False), frame.geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        if simplify_deg:
            geom = geom.simplify(simplify_deg, preserve_topology=True)
        geom = shapely.set_precision(geom, 10**-PRECISION)
        properties = {name: _value(value) for name, value in zip(names, row, strict=True)}
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(geom),
                "properties": properties,
            }
        )
    return {"type": "FeatureCollection", "features": features}
