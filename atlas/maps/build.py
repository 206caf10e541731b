"""The map of each tier, as a pure function of what its gate returns: ``build_map`` -> ``folium.Map``.

- public: activity sites (vacancy, available hectares), plots on the market, heritage monuments
  and perimeters, services clustered by BPE domain, flood hazard;
- b2b: the same, with what the b2b views add (prices, water-servicing indicators) and parcels;
- internal: also the water network by diameter and material, parcels with owners, and the
  vacancy choropleth by site.

A layer appears when the map's gate lets the tier see its collection, so a tier's map can never
hold more than its API answers. The base map is our own (hillshade, communes, roads, water);
ATLAS_BASEMAP_URL adds an operator's tile server. Saving is :mod:`atlas.maps.page`'s job.
"""

from __future__ import annotations

import json

import folium
from branca.element import Element, Figure, MacroElement
from folium import plugins
from folium.template import Template

from atlas.maps import layers
from atlas.maps.access import MapNames, alternative_link
from atlas.maps.assets import vendor_all
from atlas.maps.context import MapContext
from atlas.maps.labels import text
from atlas.maps.legend import legend

# The demo's (and an agglomeration's) scale: the whole territory at zoom 11.
START_ZOOM = 11
FALLBACK_CENTRE = (48.62, 2.44)
PERMALINK_JS = "/static/atlas/permalink.js"


class TilePopups(MacroElement):
    """A click on a vector-tile feature opens a popup of its labelled fields (as text, not HTML)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (layer, labels, map) {
            layer.on('click', function (e) {
                var props = e.layer.properties || {};
                var table = document.createElement('table');
                Object.keys(labels).forEach(function (key) {
                    if (props[key] === undefined || props[key] === null) return;
                    var row = table.insertRow();
                    var th = document.createElement('th');
                    th.textContent = labels[key];
                    row.appendChild(th);
                    row.insertCell().textContent = String(props[key]);
                });
                L.popup().setLatLng(e.latlng).setContent(table).openOn(map);
            });
        })({{ this.layer.get_name() }}, {{ this.labels }}, {{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, layer: plugins.VectorGridProtobuf, labels: dict[str, str]) -> None:
        super().__init__()
        self._name = "TilePopups"
        self.layer = layer
        self.labels = json.dumps(labels, ensure_ascii=False)


def _centre(sites: folium.GeoJson | None) -> tuple[float, float]:
    if sites is None:
        return FALLBACK_CENTRE
    (south, west), (north, east) = sites.get_bounds()
    if south is None or west is None or north is None or east is None:
        return FALLBACK_CENTRE
    return ((south + north) / 2, (west + east) / 2)


def _base(m: folium.Map, ctx: MapContext) -> list[folium.GeoJson]:
    """Base layers (operator tiles, then our hillshade) and our vector base map."""
    for base in (layers.production_basemap(ctx), layers.relief(ctx)):
        if base is not None:
            base.add_to(m)
    for grid in (*layers.water(ctx), layers.roads(ctx)):
        if grid is not None:
            grid.add_to(m)
    communes = layers.communes(ctx)
    if communes is not None:
        communes.add_to(m)
    return [communes] if communes is not None else []


def _overlays(m: folium.Map, ctx: MapContext, sites: folium.GeoJson | None) -> None:
    """The thematic layers, bottom to top; each only when the tier's gate sees it."""
    staff = [layers.vacancy(ctx), layers.pipes(ctx)] if ctx.gate.tier == "internal" else []
    ordered = [
        layers.flood(ctx),
        layers.parcels(ctx),
        *layers.heritage(ctx),
        *staff,
        sites,
        layers.plots(ctx),
        *layers.services(ctx),
    ]
    for layer in ordered:
        if layer is None:
            continue
        layer.add_to(m)
        labels = getattr(layer, "atlas_labels", None)
        if labels and isinstance(layer, plugins.VectorGridProtobuf):
            TilePopups(layer, labels).add_to(m)


def _search(m: folium.Map, ctx: MapContext, communes: list, sites: folium.GeoJson | None) -> None:
    """Search boxes: by commune name, by site name."""
    for layer, field, key in (
        (communes[0] if communes else None, "nom_officiel", "search_commune"),
        (sites, "site_nom", "search_site"),
    ):
        if layer is not None:
            plugins.Search(
                layer,
                search_label=field,
                geom_type="Polygon",
                placeholder=text(key, ctx.lang),
                collapsed=False,
                position="topright",
                # Leaflet.Search's own words are English: in the map's language instead.
                textCancel=text("search_cancel", ctx.lang),
                textErr=text("search_not_found", ctx.lang),
            ).add_to(m)


def build_map(ctx: MapContext) -> folium.Map:
    """The tier's map (the gate's tier), in the context's language; nothing saved."""
    sites = layers.sites(ctx)
    m = folium.Map(
        location=_centre(sites),
        zoom_start=START_ZOOM,
        tiles=None,  # no outside tile server: our base layers are added below
        control_scale=True,
        prefer_canvas=True,
    )
    communes = _base(m, ctx)
    _overlays(m, ctx, sites)
    _search(m, ctx, communes, sites)
    # Collapsed: open, the list covers the map; a pointer or the keyboard (Enter) opens it.
    folium.LayerControl(collapsed=True).add_to(m)
    MapNames(ctx.lang).add_to(m)
    root = m.get_root()
    assert isinstance(root, Figure)  # a Map's root is the Figure folium made for it
    root.html.add_child(Element(alternative_link(ctx)), index=0)  # RGAA: the map's text alternative
    root.html.add_child(Element(legend(ctx)))
    # The view in the URL's hash (#zoom/lat/lon/base/overlays), restored on opening: our own
    # script, in the body so that it runs after Leaflet (head) and before the map's own script.
    root.html.add_child(Element(f'<script src="{ctx.url(PERMALINK_JS)}"></script>'))
    root.header.add_child(Element(f"<title>{text('title', ctx.lang)}</title>"))
    # No /favicon.ico request (a 404 in the console of a map that is otherwise silent).
    root.header.add_child(Element('<link rel="icon" href="data:,">'))
    vendor_all(root)
    return m
