"""The vendored front-end libraries: the manifest matches the files, and no map loads a CDN."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import folium
import pytest
from folium import plugins

from atlas.api.html import STATIC_DIR
from atlas.maps.assets import CSS, JS, UnvendoredAsset, vendor_all, vendored

VENDOR = Path(STATIC_DIR) / "vendor"
MANIFEST = json.loads((VENDOR / "manifest.json").read_text())
# What folium loads by default, from the classes themselves (never changed by atlas.maps).
FOLIUM_DEFAULTS = [
    url
    for cls in (folium.Map, plugins.Search, plugins.FastMarkerCluster, plugins.VectorGridProtobuf)
    for _, url in (*cls.default_js, *cls.default_css)
]


def test_the_manifest_names_every_file_with_its_digest() -> None:
    names = {p["name"] for p in MANIFEST["packages"]}
    assert {"leaflet", "jquery", "leaflet-search", "leaflet.markercluster"} <= names
    assert "leaflet.vectorgrid" in names
    for package in MANIFEST["packages"]:
        assert package["version"] and package["source"].startswith("https://registry.npmjs.org/")
        assert package["integrity"].startswith("sha512-") and package["licence_files"]
        for entry in package["files"] + package["licence_files"]:
            data = (VENDOR / entry["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]


def test_every_local_url_is_a_file_of_the_manifest() -> None:
    files = {f"/static/vendor/{e['path']}" for p in MANIFEST["packages"] for e in p["files"]}
    for url in [*JS.values(), *CSS.values()]:
        if url is not None:
            assert url in files, url


def test_vendoring_changes_the_element_not_folium() -> None:
    m = folium.Map(tiles=None)
    point = {"type": "Point", "coordinates": [2.4, 48.6]}
    feature = {"type": "Feature", "geometry": point, "properties": {"name": "x"}}
    layer = folium.GeoJson({"type": "FeatureCollection", "features": [feature]}).add_to(m)
    search = plugins.Search(layer, search_label="name")
    m.add_child(search)
    vendor_all(m.get_root())
    html = m.get_root().render()
    for url in FOLIUM_DEFAULTS:
        assert url not in html
    assert folium.Map.default_js[0][1].startswith("https://")  # the class is untouched


def test_a_library_we_do_not_vendor_is_refused() -> None:
    marker = plugins.BeautifyIcon()
    with pytest.raises(UnvendoredAsset, match="not vendored"):
        vendored(marker)
