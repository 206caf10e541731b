"""What a generated map page holds, parsed: the GeoJSON and marker data folium writes into its
inline scripts, the URLs it loads, the labels its popups show."""

from __future__ import annotations

import html as html_lib
import json
import re
from typing import Any

import folium

# folium writes each GeoJson as one line ``<name>_add({...});`` and each FastMarkerCluster's rows
# as one line ``var data = [...];``.
GEOJSON = re.compile(r"_add\((\{.*\})\);$", re.M)
ROWS = re.compile(r"var data = (\[.*\]);$", re.M)
LOADED = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)=["']([^"']+)["']""", re.I)


def _unescaped(value: Any) -> Any:
    """Text values as a reader sees them (the builder escapes ``&<>`` for folium's HTML popups)."""
    if isinstance(value, str):
        return html_lib.unescape(value)
    if isinstance(value, list):
        return [_unescaped(v) for v in value]
    if isinstance(value, dict):
        return {k: _unescaped(v) for k, v in value.items()}
    return value


def geojson_documents(page: str) -> list[dict[str, Any]]:
    """Every FeatureCollection the page embeds."""
    return [_unescaped(json.loads(found)) for found in GEOJSON.findall(page)]


def marker_rows(page: str) -> list[list[Any]]:
    """Every clustered marker's row (lat, lon, label, colour)."""
    return [row for found in ROWS.findall(page) for row in json.loads(found)]


def property_keys(page: str) -> set[str]:
    """Every property name of every embedded feature."""
    return {
        key
        for document in geojson_documents(page)
        for feature in document["features"]
        for key in feature["properties"]
    }


def loaded_urls(page: str) -> list[str]:
    """Every script and stylesheet the page loads (an inline ``data:`` icon loads nothing)."""
    return [url for url in LOADED.findall(page) if not url.startswith("data:")]


def layer_names(m: folium.Map) -> list[str]:
    """The names of the map's layers (what the layer control lists), in order."""
    names = []

    def walk(element: Any) -> None:
        for child in element._children.values():
            name = getattr(child, "layer_name", None)
            if name and getattr(child, "control", False):
                names.append(name)
            walk(child)

    walk(m)
    return names


def popups(m: folium.Map) -> list[folium.GeoJsonPopup]:
    """Every GeoJSON popup of the map."""
    found = []

    def walk(element: Any) -> None:
        for child in element._children.values():
            if isinstance(child, folium.GeoJsonPopup):
                found.append(child)
            walk(child)

    walk(m)
    return found
