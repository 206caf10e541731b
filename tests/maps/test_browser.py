"""The public map in a real Chromium (Debian's ``/usr/bin/chromium``, headless, driven by
Playwright): it loads with no console error, draws its layers, and no request leaves the server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.api.live_server import serving

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """A headless Chromium; never downloaded: Debian's, or a skip (a failure in CI)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing: apt-get install chromium")
        pytest.skip("/usr/bin/chromium is not installed")
    if os.environ.get("CI"):
        from playwright import sync_api  # in CI a missing package is a failure, not a skip
    else:
        sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()


def test_public_map_loads_offline_with_no_console_error(served, browser, tmp_path) -> None:
    with serving(served.client.app) as (host, port):
        origin = f"http://{host}:{port}"
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        requests: list[str] = []
        outside: list[str] = []
        errors: list[str] = []

        def route(r) -> None:
            requests.append(r.request.url)
            if urlsplit(r.request.url).netloc != f"{host}:{port}":
                outside.append(r.request.url)
                r.abort()
            else:
                r.continue_()

        page.route("**/*", route)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        # Chromium asks for English (Accept-Language): the page follows, unless lang says otherwise.
        page.goto(f"{origin}/maps/public?lang=fr", wait_until="networkidle")
        page.wait_for_selector(".leaflet-control-layers")
        labels = page.locator(".leaflet-control-layers label").all_inner_texts()
        drawn = page.locator("path.leaflet-interactive").count()
        # Toggle the flood hazard on: its map tiles load from here too.
        page.get_by_text("Aléa inondation").click()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(tmp_path / "map-public.png"))
        page.close()
    assert not outside, outside
    assert not errors, errors
    assert any("Parcs d’activités" in label for label in labels), labels
    assert drawn > 20  # sites, plots, perimeters, communes drawn by Leaflet
    assert any("/static/vendor/leaflet/leaflet.js" in u for u in requests)
    assert any("/collections/flood-hazard/map/tiles/" in u for u in requests)
    assert any("/collections/elevation/map/tiles/" in u for u in requests)
