"""Legends of the map tiles, built from the colormaps the tiles are drawn with (one definition)."""

from __future__ import annotations

from typing import Any

from atlas.tiles.colormaps import (
    FLOOD_CLASSES,
    HILLSHADE_ALTITUDE,
    HILLSHADE_AZIMUTH,
    HYPSOMETRIC_STOPS,
    SLOPE_CLASSES,
    SLOPE_UNIT,
    hex_color,
)
from atlas.tiles.raster import check_style


def legend(collection_id: str, style: str | None = None) -> dict[str, Any]:
    """The legend of a collection's map tiles in ``style`` (its default when None)."""
    chosen = check_style(collection_id, style)
    base: dict[str, Any] = {"collection": collection_id, "style": chosen}
    if collection_id == "slope":
        return {
            **base,
            "type": "classes",
            "unit": SLOPE_UNIT,
            "title": {"fr": "Pente", "en": "Slope"},
            "classes": [c.as_json() for c in SLOPE_CLASSES],
        }
    if collection_id == "flood-hazard":
        return {
            **base,
            "type": "classes",
            "unit": None,
            "field": "classe_alea",
            "title": {"fr": "Aléa inondation (PPR)", "en": "Flood hazard (PPR)"},
            "classes": [c.as_json() for c in FLOOD_CLASSES],
        }
    light = {"azimuth": HILLSHADE_AZIMUTH, "altitude": HILLSHADE_ALTITUDE}
    if chosen == "hillshade":
        return {
            **base,
            "type": "hillshade",
            "unit": "m",
            "title": {"fr": "Relief ombré", "en": "Hillshade"},
            "light": light,
        }
    return {
        **base,
        "type": "ramp",
        "unit": "m",
        "title": {"fr": "Altitude (teintes hypsométriques)", "en": "Elevation (hypsometric tint)"},
        "light": light,
        "stops": [
            {"value": value, "color": hex_color(color)} for value, color in HYPSOMETRIC_STOPS
        ],
    }
