"""Every script and stylesheet a map loads, from our own ``/static/vendor/`` (no CDN).

Folium points each element at a CDN (``default_js`` / ``default_css``, as (name, URL) pairs).
:func:`vendored` replaces them on the element itself — never on the folium classes, which would
change every map of the process — by the copy ``web/vendor/build.py`` put under
``atlas/api/static/vendor/`` (``manifest.json`` lists name, version, source and sha256). An
element asking for a library we do not vendor is an error at build time, not a CDN request.
"""

from __future__ import annotations

from branca.element import Element

VENDOR = "/static/vendor"

# folium's name for a resource -> our URL; None: not loaded at all (what no map of ours uses:
# Bootstrap's modals, Glyphicons, Font Awesome and awesome-markers icons).
JS: dict[str, str | None] = {
    "leaflet": f"{VENDOR}/leaflet/leaflet.js",
    "jquery": f"{VENDOR}/jquery/dist/jquery.min.js",  # folium's popups build their HTML with $()
    "bootstrap": None,
    "awesome_markers": None,
    "Leaflet.Search.js": f"{VENDOR}/leaflet-search/dist/leaflet-search.min.js",
    "markerclusterjs": f"{VENDOR}/leaflet.markercluster/dist/leaflet.markercluster.js",
    "vectorGrid": f"{VENDOR}/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js",
}
CSS: dict[str, str | None] = {
    "leaflet_css": f"{VENDOR}/leaflet/leaflet.css",
    "bootstrap_css": None,
    "glyphicons_css": None,
    "awesome_markers_font_css": None,
    "awesome_markers_css": None,
    "awesome_rotate_css": None,
    "Leaflet.Search.css": f"{VENDOR}/leaflet-search/dist/leaflet-search.min.css",
    "markerclustercss": f"{VENDOR}/leaflet.markercluster/dist/MarkerCluster.css",
    "markerclusterdefaultcss": f"{VENDOR}/leaflet.markercluster/dist/MarkerCluster.Default.css",
}


class UnvendoredAsset(RuntimeError):
    """A map element asks for a script or stylesheet we do not serve."""


def _local(pairs: list[tuple[str, str]], table: dict[str, str | None]) -> list[tuple[str, str]]:
    out = []
    for name, url in pairs:
        if name not in table:
            raise UnvendoredAsset(f"{name} ({url}) is not vendored: add it to web/vendor")
        local = table[name]
        if local is not None:
            out.append((name, local))
    return out


def vendored(element: Element) -> Element:
    """``element`` with its scripts and stylesheets pointed at ``/static/vendor`` (in place)."""
    for attribute, table in (("default_js", JS), ("default_css", CSS)):
        pairs = getattr(element, attribute, None)
        if pairs:
            setattr(element, attribute, _local(list(pairs), table))
    return element


def vendor_all(root: Element) -> None:
    """Apply :func:`vendored` to ``root`` and every element under it (before rendering)."""
    vendored(root)
    for child in list(getattr(root, "_children", {}).values()):
        vendor_all(child)
