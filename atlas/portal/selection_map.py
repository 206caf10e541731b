"""The partners' and staff's map with a site-selection result layer on top.

Composed here, not in ``atlas.maps``: the module map makes ``atlas.maps`` and ``atlas.selection``
siblings that may not import each other, and the portal is the floor above both. Composing the
folium objects (rather than having the map fetch ``/site-selection`` from the browser) keeps the
map one self-contained page whose every byte came through the caller's gate on the server, under
the same CSP-by-hash as the other maps, and keeps the result on the map when scripts fetch
nothing (the leak matrix reads it in the page).
"""

from __future__ import annotations

import folium
from branca.element import Figure

from atlas.maps.assets import vendor_all
from atlas.maps.build import build_map
from atlas.maps.context import MapContext
from atlas.maps.labels import Lang
from atlas.portal.selection import result_geojson
from atlas.selection import Selection

PASSING = "#1a7f37"
FAILING = "#6e7781"
LAYER_NAME = {Lang.FR: "Résultat de la sélection de sites", Lang.EN: "Site-selection result"}
POPUP = {
    Lang.FR: ["Rang", "Terrain", "Parc d’activités"],
    Lang.EN: ["Rank", "Plot", "Business park"],
}


def _style(feature: dict) -> dict:
    passed = feature["properties"].get("passed")
    colour = PASSING if passed else FAILING
    return {
        "color": colour,
        "weight": 3,
        "fillColor": colour,
        "fillOpacity": 0.55 if passed else 0.15,
    }


def selection_layer(ctx: MapContext, selection: Selection) -> folium.GeoJson | None:
    """The ranked plots of ``selection`` (meeting every criterion: green; others: grey)."""
    data = result_geojson(selection.plots, ctx.url("/plots/{terr_id}"))
    if not data["features"]:
        return None
    return folium.GeoJson(
        data,
        name=LAYER_NAME[ctx.lang],
        style_function=_style,
        popup=folium.GeoJsonPopup(["rank", "terr_id", "site_nom"], aliases=POPUP[ctx.lang]),
        tooltip=folium.GeoJsonTooltip(["terr_id"], labels=False),
    )


def _after(children: dict, keys: list[str]) -> list[str]:
    """The children added after the first of ``keys`` but before the layer just added."""
    if not keys:
        return []
    names = list(children)
    return [k for k in names[names.index(keys[0]) + 1 : -1] if k not in keys]


def selection_map(ctx: MapContext, selection: Selection) -> folium.Map:
    """The map of the context's tier with the selection's result layer (nothing saved)."""
    m = build_map(ctx)
    layer = selection_layer(ctx, selection)
    if layer is not None:
        layer.add_to(m)
        # The layer control's script names every layer's variable, so it must come after this
        # layer's own script (else the control gets undefined: a script error in the browser):
        # the control, and what follows it in build_map (search boxes), move to the end again.
        children = m._children
        last = [k for k, c in children.items() if isinstance(c, folium.LayerControl)]
        for key in [*last, *_after(children, last)]:
            children.move_to_end(key)
        (south, west), (north, east) = layer.get_bounds()
        if None not in (south, west, north, east):
            m.fit_bounds([[south, west], [north, east]], max_zoom=16)  # type: ignore[list-item]
    root = m.get_root()
    assert isinstance(root, Figure)
    vendor_all(root)
    return m
