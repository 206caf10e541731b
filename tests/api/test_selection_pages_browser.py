"""The site-selection page and the maps' permalinks in a real Chromium (Debian's, headless,
Playwright) over the served demo: a partner signs in, submits the form, sees the result on the
map and in the table (the API's answer for the same criteria); a /maps/b2b URL with a hash
restores zoom and a toggled layer after a reload. Nothing is requested from another origin,
nothing is logged as an error; screenshots go to the tests' artifacts (tests/browser.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from atlas.policy.tiers import Tier
from tests.api.live_server import serving
from tests.browser import Watch

pytestmark = pytest.mark.browser
# The map instance folium made (a global named map_<hex>) and what it shows.
MAP_STATE = """() => {
  const map = Object.values(window).find((v) => v instanceof L.Map);
  const c = map.getCenter();
  return {zoom: map.getZoom(), lat: c.lat, lon: c.lng};
}"""


def _sign_in(page, served, origin: str, path: str) -> None:
    """From the public page's invitation to the form, signed in with the partner's key."""
    page.goto(f"{origin}{path}")
    assert page.locator(".selection-form").count() == 0  # the public: the invitation only
    page.click("main a.button")  # "Connexion", coming back here afterwards
    page.fill("#key", served.headers[Tier.B2B]["Authorization"].removeprefix("Bearer "))
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{origin}{path}")


def test_a_partner_searches_and_sees_the_result(served, chromium, artifacts) -> None:
    criteria = [("min_area_ha", "20"), ("exclude_flood_classes", "4"), ("max_slope_pct", "8")]
    api = served.get(Tier.B2B, "/site-selection", params=criteria).json()
    expected = [f["id"] for f in api["features"]]
    assert 0 < api["numberPassing"] < len(expected)  # green and grey plots on the map
    with serving(served.client.app) as (host, port):
        origin = f"http://{host}:{port}"
        context = chromium.new_context(locale="fr-FR", viewport={"width": 1200, "height": 900})
        page = context.new_page()
        watch = Watch(page, f"{host}:{port}")
        _sign_in(page, served, origin, "/selection")
        page.fill("#c-min_area_ha", "20")
        page.fill("#c-max_slope_pct", "8")
        page.check("input[name=exclude_flood_classes][value='4']")
        page.click(".selection-form button[type=submit]")
        page.wait_for_selector("table.selection-results tbody tr")
        page.wait_for_load_state("networkidle")
        url = page.url
        rows = page.locator("table.selection-results tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.terrId)"
        )
        drawn = page.locator("#map path.leaflet-interactive").count()
        page.screenshot(path=str(artifacts / "selection-b2b.png"), full_page=True)
        page.locator("#map path.leaflet-interactive").first.click()
        popup = page.locator(".leaflet-popup-content a").get_attribute("href")
        page.locator("#map .leaflet-control-zoom-in").click()
        page.wait_for_timeout(500)
        moved = page.locator("#map").get_attribute("data-view")
        page.reload(wait_until="networkidle")  # the URL now holds the criteria and the view
        restored = page.locator("#map").get_attribute("data-view")
        ticked = page.locator("input[name=exclude_flood_classes][value='4']").is_checked()
        page.click("#open-map")  # the partners' atlas map with the result as a layer
        page.wait_for_selector("html[data-permalink=ready]")
        page.wait_for_load_state("networkidle")
        on_map = page.locator(".leaflet-control-layers label").all_text_contents()
        map_url = page.url
        page.screenshot(path=str(artifacts / "selection-map-b2b.png"))
        context.close()
    assert not watch.outside, watch.outside
    assert not watch.errors, watch.errors
    assert "min_area_ha=20" in url and "exclude_flood_classes=4" in url  # the permalink
    assert rows == expected and drawn == len(expected) > 0
    assert popup is not None and urlsplit(popup).path.startswith("/plots/")
    assert moved and restored == moved and ticked  # position and criteria survive a reload
    assert urlsplit(map_url).path == "/maps/b2b/selection" and "min_area_ha=20" in map_url
    assert any("Résultat de la sélection de sites" in label for label in on_map), on_map


def test_a_maps_permalink_restores_zoom_and_layers(served, chromium, artifacts) -> None:
    with serving(served.client.app) as (host, port):
        origin = f"http://{host}:{port}"
        context = chromium.new_context(locale="fr-FR", viewport={"width": 1200, "height": 800})
        page = context.new_page()
        watch = Watch(page, f"{host}:{port}")
        _sign_in(page, served, origin, "/selection")
        page.goto(f"{origin}/maps/b2b?lang=fr", wait_until="networkidle")
        page.wait_for_selector("html[data-permalink=ready]")
        flood = page.locator(".leaflet-control-layers label", has_text="Aléa inondation")
        assert not flood.locator("input").is_checked()  # hidden at first
        for _ in range(2):  # zoom 11 -> 13
            page.locator(".leaflet-control-zoom-in").click()
            page.wait_for_timeout(400)
        page.hover(".leaflet-control-layers")  # collapsed: pointing at it opens it
        flood.click()
        page.wait_for_timeout(300)
        link = page.url
        before = page.evaluate(MAP_STATE)
        page.reload(wait_until="networkidle")
        page.wait_for_selector("html[data-permalink=ready]")
        after = page.evaluate(MAP_STATE)
        flood_after = flood.locator("input").is_checked()
        page.screenshot(path=str(artifacts / "map-b2b-permalink.png"))
        # A link opened afresh (another tab, the same session) shows the same view.
        other = context.new_page()
        Watch(other, f"{host}:{port}")
        other.goto(link, wait_until="networkidle")
        other.wait_for_selector("html[data-permalink=ready]")
        fresh = other.evaluate(MAP_STATE)
        fresh_flood = (
            other.locator(".leaflet-control-layers label", has_text="Aléa inondation")
            .locator("input")
            .is_checked()
        )
        context.close()
    assert not watch.outside, watch.outside
    assert not watch.errors, watch.errors
    fragment = urlsplit(link).fragment.split("/")
    assert fragment[0] == "13" and fragment[4] != "", link  # zoom, and overlays shown
    assert before["zoom"] == after["zoom"] == fresh["zoom"] == 13
    assert after["lat"] == pytest.approx(before["lat"], abs=1e-4)
    assert fresh["lon"] == pytest.approx(before["lon"], abs=1e-4)
    assert flood_after and fresh_flood
