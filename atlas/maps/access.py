"""What makes a generated map usable without a mouse or without sight (RGAA basics): the map
named as a region, the layer control's button named in the map's language, and the map's text
alternative — the directory of sites as a table — linked from the page itself."""

from __future__ import annotations

import json
from html import escape

from branca.element import MacroElement
from folium.template import Template

from atlas.maps.context import MapContext
from atlas.maps.labels import Lang, text

# Over the map's top-left corner, right of the zoom buttons: first in the page's tab order.
BOX = (
    "position:absolute;top:10px;left:56px;z-index:1000;background:#fff;padding:4px 8px;"
    "border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.4);font:13px/1.4 sans-serif"
)


class MapNames(MacroElement):
    """Names the map's container (a region, not an unnamed focusable box), the layer control's
    toggle, whose title Leaflet writes in English ("Layers") whatever the page's language, and
    the search boxes."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, names) {
            var box = map.getContainer();
            box.setAttribute('role', 'region');
            box.setAttribute('aria-label', names.map);
            box.querySelectorAll('.leaflet-control-layers-toggle').forEach(function (a) {
                a.title = names.layers;
                a.setAttribute('aria-label', names.layers);
            });
            // Leaflet.Search's boxes have a placeholder only: it becomes their name (RGAA 11.1).
            box.querySelectorAll('.leaflet-control-search input').forEach(function (input) {
                input.setAttribute('aria-label', input.placeholder);
            });
        })({{ this._parent.get_name() }}, {{ this.names }});
        {% endmacro %}
        """
    )

    def __init__(self, lang: Lang) -> None:
        super().__init__()
        self._name = "MapNames"
        names = {"map": text("title", lang), "layers": text("layers", lang)}
        self.names = json.dumps(names, ensure_ascii=False)


def alternative_link(ctx: MapContext) -> str:
    """A link to the map's text alternative: the directory of sites, with their figures."""
    lang = "" if ctx.lang is Lang.FR else f"?lang={ctx.lang.value}"
    href = escape(ctx.url(f"/sites{lang}"))
    label = escape(text("as_table", ctx.lang))
    return f'<div class="atlas-alternative" style="{BOX}"><a href="{href}">{label}</a></div>'
