"""MapLibre styles (style spec v8) per tier, over the tier's multi-layer tileset.

One style, ``atlas``, drawn for the caller's tier: a layer per collection the tier sees, in our
colours, from the collection's minzoom; its source is our own TileJSON (WebMercatorQuad, the
grid MapLibre draws). No labels: a text layer needs glyphs, and we serve none (nothing is fetched
from an outside server).
"""

from __future__ import annotations

from typing import Any

from atlas.errors import NotFound
from atlas.policy.gate import Gate
from atlas.query.grids import WEB_MERCATOR
from atlas.tiles.vector import TilesetLayer, tileset_layers

STYLE_IDS = ("atlas",)
BACKGROUND = "#f4f1ea"
DEFAULT_COLOUR = "#7a7a7a"
# Our colours: activity land in the economic-development oranges, water in blues, heritage in
# purple, services in green, cadastre in thin greys.
COLOURS = {
    "communes": "#9e9e9e",
    "activity-sites": "#e07b00",
    "activity-plots": "#f2a541",
    "establishments": "#b5452b",
    "parcels": "#8d8d8d",
    "water-pipes": "#1f6fb2",
    "water-structures": "#0b4f8a",
    "water-bodies": "#8cc4e8",
    "waterways": "#5aa4d6",
    "roads": "#c9c2b3",
    "heritage-monuments": "#7b3f98",
    "heritage-perimeters": "#a77bc4",
    "services": "#2e8b57",
}


def style_ids() -> tuple[str, ...]:
    """The styles served."""
    return STYLE_IDS


def style(gate: Gate, base: str, style_id: str) -> dict[str, Any]:
    """The MapLibre style ``style_id`` for the caller's tier."""
    if style_id not in STYLE_IDS:
        shown = style_id if len(style_id) <= 60 else style_id[:60] + "…"
        raise NotFound(f"style '{shown}' not found; this server has {', '.join(STYLE_IDS)}")
    layers: list[dict[str, Any]] = [
        {"id": "background", "type": "background", "paint": {"background-color": BACKGROUND}}
    ]
    for layer in tileset_layers(gate):
        layers.extend(_draw(layer))
    return {
        "version": 8,
        "name": f"Atlas ({gate.tier.value})",
        "sources": {"atlas": {"type": "vector", "url": f"{base}/tiles/{WEB_MERCATOR}"}},
        "layers": layers,
    }


def _draw(layer: TilesetLayer) -> list[dict[str, Any]]:
    cid = layer.info.id
    colour = COLOURS.get(cid, DEFAULT_COLOUR)
    common = {"source": "atlas", "source-layer": cid, "minzoom": layer.min_zoom}
    kind = layer.info.geometry_type
    if "Polygon" in kind:
        return [
            {
                "id": f"{cid}-fill",
                "type": "fill",
                **common,
                "paint": {"fill-color": colour, "fill-opacity": 0.35},
            },
            {
                "id": f"{cid}-outline",
                "type": "line",
                **common,
                "paint": {"line-color": colour, "line-width": 1},
            },
        ]
    if "LineString" in kind:
        return [
            {
                "id": f"{cid}-line",
                "type": "line",
                **common,
                "paint": {"line-color": colour, "line-width": 1.5},
            }
        ]
    return [
        {
            "id": f"{cid}-point",
            "type": "circle",
            **common,
            "paint": {
                "circle-color": colour,
                "circle-radius": 4,
                "circle-stroke-color": "#ffffff",
                "circle-stroke-width": 1,
            },
        }
    ]
