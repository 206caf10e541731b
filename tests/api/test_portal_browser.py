"""The portal in a real Chromium (Debian's, headless, Playwright) over the served demo: the home
loads with no console error and nothing requested off the server; from the public map a plot's
popup leads to the plot's sheet; a site sheet renders in French and in English. Screenshots go
to the test's artifacts directory (``ATLAS_TEST_ARTIFACTS``)."""

from __future__ import annotations

import pytest

from atlas.policy.tiers import Tier
from atlas.portal import words
from atlas.portal.reading import crs84
from atlas.query.features import FeatureQuery
from tests.api.live_server import serving
from tests.browser import Watch
from tests.portal.gate_sheets import a_site, gate_of, priced_plot
from tests.portal.test_pdf import pdf_pages, squeezed

pytestmark = pytest.mark.browser
# Centre the folium map on [lat, lon] at zoom 17 and say where that is on the page (folium keeps
# its map in a global variable of its own naming: found by type).
CENTRE_ON = """([lat, lon]) => {
  const map = Object.values(window).find((v) => v instanceof L.Map);
  map.setView([lat, lon], 17, {animate: false});
  const point = map.latLngToContainerPoint([lat, lon]);
  const box = map.getContainer().getBoundingClientRect();
  return [box.left + point.x, box.top + point.y];
}"""


def test_home_map_popup_sheet_and_languages(served, chromium, artifacts) -> None:
    gate = gate_of(served, Tier.PUBLIC)
    site_id = gate.query("activity-sites", FeatureQuery(limit=1)).features[0].id
    plot = gate.query("activity-plots", FeatureQuery(limit=1)).features[0]
    inside = crs84(plot.geometry).representative_point()  # a point of the plot, where to click
    with serving(served.client.app) as (host, port):
        origin = f"http://{host}:{port}"
        context = chromium.new_context(locale="fr-FR", viewport={"width": 1200, "height": 850})
        watch = Watch(context.new_page(), f"{host}:{port}")
        page, outside, errors = watch.page, watch.outside, watch.errors
        page.goto(f"{origin}/", wait_until="networkidle")
        assert page.locator("h1").inner_text() == "Investir dans nos parcs d’activités"
        drawn_sites = page.locator("#portal-map path.leaflet-interactive").count()
        page.screenshot(path=str(artifacts / "home-fr.png"), full_page=True)
        # The public map, a plot's popup, its sheet link.
        page.goto(f"{origin}/maps/public", wait_until="networkidle")
        x, y = page.evaluate(CENTRE_ON, [inside.y, inside.x])
        page.mouse.click(x, y)
        link = page.locator(".leaflet-popup-content a", has_text="Voir la fiche")
        link.wait_for()
        href = link.get_attribute("href") or ""
        page.screenshot(path=str(artifacts / "map-plot-popup.png"))
        link.click()
        page.wait_for_url(f"{origin}/plots/**")
        page.wait_for_load_state("networkidle")
        sheet_title = page.locator("h1").inner_text()
        sheet_map = page.locator("#portal-map path.leaflet-interactive").count()
        page.screenshot(path=str(artifacts / "plot-sheet.png"), full_page=True)
        # A site sheet, in French then in English (the switch in the header).
        page.goto(f"{origin}/sites/{site_id}", wait_until="networkidle")
        french = page.locator("main").inner_text()
        page.screenshot(path=str(artifacts / "site-sheet-fr.png"), full_page=True)
        page.click("a[hreflang='en']")
        page.wait_for_load_state("networkidle")
        english = page.locator("main").inner_text()
        lang = page.locator("html").get_attribute("lang")
        page.screenshot(path=str(artifacts / "site-sheet-en.png"), full_page=True)
        context.close()
    assert not outside, outside
    assert not errors, errors
    assert drawn_sites == len(
        served.get(Tier.PUBLIC, "/collections/activity-sites/items").json()["features"]
    )
    assert href == f"/plots/{plot.id}" and sheet_title == f"Terrain {plot.id}"
    assert sheet_map >= 2  # the plot and its site at least
    assert "Chiffres clés" in french and "Vérifié le" in french and "Votre contact" in french
    assert lang == "en" and "Key figures" in english and "Verified on" in english
    assert "Chiffres clés" not in english


def _download(page, link_text: str, artifacts, name: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Click the sheet's PDF link as a reader does; the file Chromium saved, read back with
    pypdf (whitespace squeezed: a table cell wraps where reportlab chose), and its name."""
    with page.expect_download() as caught:
        page.get_by_role("link", name=link_text).click()
    download = caught.value
    saved = artifacts / name
    download.save_as(str(saved))
    return squeezed("\n".join(pdf_pages(saved.read_bytes()))), download.suggested_filename


def test_a_sheet_s_pdf_downloads_with_the_plots_figures(served, chromium, artifacts) -> None:
    """A visitor downloads a site's sheet in French and in English from the button on the page:
    the file Chromium saves holds the site's name and each plot on the market with its area as
    the public's own JSON gives them; a partner signed in downloads a plot's sheet with its price,
    a visitor the same plot's without."""
    site_id, terr_id = a_site(served), priced_plot(served)
    site = served.get(Tier.PUBLIC, f"/collections/activity-sites/items/{site_id}").json()
    on_market = served.get(
        Tier.PUBLIC,
        "/collections/activity-plots/items",
        params={"filter": f"site_id = '{site_id}'", "limit": 500},
    ).json()["features"]
    plot_b2b = served.get(Tier.B2B, f"/collections/activity-plots/items/{terr_id}").json()
    key = served.headers[Tier.B2B]["Authorization"].removeprefix("Bearer ")
    with serving(served.client.app) as (host, port):
        origin = f"http://{host}:{port}"
        context = chromium.new_context(locale="fr-FR", accept_downloads=True)
        watch = Watch(context.new_page(), f"{host}:{port}")
        page = watch.page
        page.goto(f"{origin}/sites/{site_id}", wait_until="networkidle")
        french, french_name = _download(
            page, "Télécharger la fiche (PDF)", artifacts, "site-fr.pdf"
        )
        page.click("a[hreflang='en']")
        page.wait_for_load_state("networkidle")
        english, english_name = _download(
            page, "Download the sheet (PDF)", artifacts, "site-en.pdf"
        )
        page.goto(f"{origin}/plots/{terr_id}", wait_until="networkidle")
        public_plot, _ = _download(page, "Télécharger la fiche (PDF)", artifacts, "plot-public.pdf")
        page.goto(f"{origin}/signin?next=/plots/{terr_id}")
        page.fill("#key", key)
        page.click("main form button[type=submit]")
        page.wait_for_url(f"{origin}/plots/{terr_id}")
        b2b_plot, _ = _download(page, "Télécharger la fiche (PDF)", artifacts, "plot-b2b.pdf")
        context.close()
    assert not watch.outside, watch.outside
    assert not watch.errors, watch.errors
    assert french_name == f"fiche-parc-{site_id}.pdf", french_name
    assert english_name == f"business-park-sheet-{site_id}.pdf", english_name
    assert on_market, "the site has plots on the market"
    for text, lang in ((french, "fr"), (english, "en")):
        assert squeezed(site["properties"]["site_nom"]) in text
        for plot in on_market:
            area = words.number(float(plot["properties"]["terr_surf_brute"]), lang, 2)
            assert squeezed(f"{plot['id']}") in text and squeezed(f"{area} ha") in text, plot["id"]
    assert "Chiffresclés" in french and "Keyfigures" in english and "Chiffresclés" not in english
    price = float(plot_b2b["properties"]["terr_m2_prix"])
    price_label = squeezed(words.label("terr_m2_prix", "fr", "activity-plots"))
    assert squeezed(words.number(price, "fr", 2)) in b2b_plot and price_label in b2b_plot
    assert terr_id in public_plot and price_label not in public_plot
