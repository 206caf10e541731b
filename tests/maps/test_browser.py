"""The public map in a real Chromium (Debian's ``/usr/bin/chromium``, headless, driven by
Playwright): it loads with no console error, draws its layers, and no request leaves the server."""

from __future__ import annotations

import pytest

from atlas.policy.tiers import Tier
from tests.api.live_server import serving
from tests.browser import (
    Watch,
    browser,  # noqa: F401 - kept importable from here (selection pages)
)

pytestmark = pytest.mark.browser


def test_public_map_loads_offline_with_no_console_error(served, chromium, artifacts) -> None:
    with serving(served.client.app) as (host, port):
        origin = f"http://{host}:{port}"
        watch = Watch(chromium.new_page(viewport={"width": 1200, "height": 800}), f"{host}:{port}")
        page, requests, outside, errors = watch.page, watch.requests, watch.outside, watch.errors
        # Chromium asks for English (Accept-Language): the page follows, unless lang says otherwise.
        page.goto(f"{origin}/maps/public?lang=fr", wait_until="networkidle")
        page.wait_for_selector(".leaflet-control-layers")
        labels = page.locator(".leaflet-control-layers label").all_inner_texts()
        drawn = page.locator("path.leaflet-interactive").count()
        # Toggle the flood hazard on: its map tiles load from here too (the layer control is
        # collapsed: pointing at it opens it).
        page.hover(".leaflet-control-layers")
        page.get_by_text("Aléa inondation").click()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(artifacts / "map-public.png"))
        page.close()
    assert not outside, outside
    assert not errors, errors
    assert any("Parcs d’activités" in label for label in labels), labels
    assert drawn > 20  # sites, plots, perimeters, communes drawn by Leaflet
    assert any("/static/vendor/leaflet/leaflet.js" in u for u in requests)
    assert any("/collections/flood-hazard/map/tiles/" in u for u in requests)
    assert any("/collections/elevation/map/tiles/" in u for u in requests)


def test_staff_map_draws_pipes_and_parcels_from_vector_tiles(served, chromium) -> None:
    """The staff's key on every request (as a session would): the network and parcels layers
    fetch our vector tiles and style them, with no script error."""
    with serving(served.client.app) as (host, port):
        context = chromium.new_context(extra_http_headers=served.headers[Tier.INTERNAL])
        page = context.new_page()
        errors: list[str] = []
        tiles: list[tuple[int, str]] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "response",
            lambda r: (
                tiles.append((r.status, r.url)) if "/tiles/WebMercatorQuad/" in r.url else None
            ),
        )
        page.goto(f"http://{host}:{port}/maps/internal?lang=fr", wait_until="networkidle")
        control = page.locator(".leaflet-control-layers")
        parcels_box = control.locator("label", has_text="Parcelles cadastrales").locator("input")
        assert parcels_box.is_disabled()  # below the parcels' min zoom (13) the control says so
        control.hover()  # collapsed: pointing at it opens it
        with page.expect_response(lambda r: "/collections/water-pipes/tiles/" in r.url):
            control.get_by_text("Réseau d’eau potable").click()
        for _ in range(2):  # zoom 11 -> 13
            page.locator(".leaflet-control-zoom-in").click()
            page.wait_for_timeout(400)
        control.hover()  # closed again when the pointer left it for the zoom buttons
        with page.expect_response(lambda r: "/collections/parcels/tiles/" in r.url):
            control.get_by_text("Parcelles cadastrales").click()
        page.wait_for_timeout(500)
        page.wait_for_load_state("networkidle")
        drawn = page.locator("svg path, canvas").count()
        context.close()
    assert not errors, errors
    pipes = [s for s, u in tiles if "/collections/water-pipes/" in u]
    parcels = [s for s, u in tiles if "/collections/parcels/" in u]
    assert pipes and 200 in pipes and all(s in (200, 204) for s in pipes), pipes
    assert parcels and all(s in (200, 204) for s in parcels), parcels
    assert drawn > 0
