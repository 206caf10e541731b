"""The portal's pages over the served demo, on both stores: home, directory, search, site and plot
sheets — their figures against the gate, the tier's view (a key or a browser session), both
languages, the unknown-path 404, share cards and schema.org JSON-LD parsed back."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from atlas.layers.activity_plots import ON_THE_MARKET
from atlas.policy.tiers import Tier
from atlas.query.features import FeatureQuery
from atlas.query.requests import FeatureRequest
from tests.api.test_signin import browser, key_of, sign_in
from tests.portal.test_sheets import gate_of, number

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PRICE_LABEL = {"fr": "Prix (€/m²)", "en": "Price (€/m²)"}


class _Head(HTMLParser):
    """The meta tags, JSON-LD blocks and key-figure cards of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.linked: list[dict] = []
        self.cards: list[str] = []
        self._ld: str | None = None
        self._card: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "meta" and (found.get("property") or found.get("name")):
            self.meta[found.get("property") or found["name"] or ""] = found.get("content") or ""
        if tag == "script" and found.get("type") == "application/ld+json":
            self._ld = ""
        if tag == "strong":
            self._card = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._ld is not None:
            self.linked.append(json.loads(self._ld))
            self._ld = None
        if tag == "strong" and self._card is not None:
            self.cards.append(self._card.strip())
            self._card = None

    def handle_data(self, data: str) -> None:
        if self._ld is not None:
            self._ld += data
        if self._card is not None:
            self._card += data


def parsed(text: str) -> _Head:
    head = _Head()
    head.feed(text)
    return head


def page(served, tier: Tier, url: str, **params):
    return served.client.get(
        url, params=params, headers={**served.headers[tier], "Accept": BROWSER}
    )


def _market_plot(served):
    """A plot on the market (the public sees it) that has an asking price (partners see it)."""
    gate = gate_of(served, Tier.B2B)
    return next(
        p
        for p in gate.query("activity-plots", FeatureQuery(limit=10_000)).features
        if p.properties["terr_stade_comm"] in ON_THE_MARKET and p.properties.get("terr_m2_prix")
    )


def test_the_home_is_the_portal_for_browsers_and_the_ogc_landing_for_clients(served) -> None:
    home = page(served, Tier.PUBLIC, "/")
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    assert "Accept" in home.headers["vary"] and home.headers["content-language"] == "fr"
    gate = gate_of(served, Tier.PUBLIC)
    sites = gate.count("activity-sites")
    plots = gate.count("activity-plots")  # the public's view: the plots on the market only
    cards = parsed(home.text).cards
    assert cards[0] == str(sites) and cards[3] == str(plots)
    assert 'action="http://testserver/search"' in home.text
    assert 'href="http://testserver/maps/public"' in home.text
    assert home.text.count('href="http://testserver/sites/') == sites  # the map's text alternative
    shapes = re.search(r'id="portal-shapes">(.*?)</script>', home.text, re.S)
    assert shapes and len(json.loads(shapes.group(1))["features"]) == sites
    landing = served.client.get("/")
    assert landing.json()["links"][0]["rel"] == "self"
    api_page = page(served, Tier.PUBLIC, "/", f="html")
    assert "http://testserver/api.html" in api_page.text and "portal-shapes" not in api_page.text
    staff = page(served, Tier.INTERNAL, "/")
    assert 'href="http://testserver/maps/internal"' in staff.text
    assert parsed(staff.text).cards[3] == str(
        gate_of(served, Tier.INTERNAL).count(
            "activity-plots",
            FeatureQuery(where=gate_of(served, Tier.PUBLIC).view("activity-plots").rows),
        )
    )


def test_the_directory_lists_every_site_sorted_with_charts(served) -> None:
    gate = gate_of(served, Tier.PUBLIC)
    sites = gate.frame("activity-sites", FeatureQuery(properties=("site_id", "site_taux_vacance")))
    listing = page(served, Tier.PUBLIC, "/sites", sort="vacancy", order="desc")
    assert listing.status_code == 200
    order = re.findall(r'<tr data-site="([^"]+)">', listing.text)
    assert sorted(order) == sorted(sites["site_id"])
    rates = sites.set_index("site_id")["site_taux_vacance"]
    assert [rates[s] for s in order] == sorted(rates, reverse=True)
    assert 'aria-sort="descending"' in listing.text
    assert listing.text.count('class="chart-bar"') >= len(sites)  # two charts, a bar per rate
    assert page(served, Tier.PUBLIC, "/sites", sort="nope").status_code == 400
    english = page(served, Tier.PUBLIC, "/sites", lang="en")
    assert "Vacancy rate by park (%)" in english.text and '<html lang="en">' in english.text


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_site_sheet_page(served, lang: str) -> None:
    plot = _market_plot(served)
    site_id = plot.properties["site_id"]
    site = gate_of(served, Tier.PUBLIC).feature("activity-sites", FeatureRequest(site_id))
    sheet = page(served, Tier.PUBLIC, f"/sites/{site_id}", lang=lang)
    assert sheet.status_code == 200 and f'<html lang="{lang}">' in sheet.text
    head = parsed(sheet.text)
    assert head.meta["og:title"] == site.properties["site_nom"] == head.meta["twitter:title"]
    assert head.meta["og:url"] == f"http://testserver/sites/{site_id}"
    assert head.meta["og:image"] == f"http://testserver/share/sites/{site_id}.png"
    assert head.meta["twitter:card"] == "summary_large_image"
    assert site.properties["site_comm_nom"] in head.meta["og:description"]
    (place,) = head.linked
    assert place["@context"] == "https://schema.org" and place["@type"] == "Place"
    assert place["name"] == site.properties["site_nom"]
    assert site.geometry.buffer(1).contains(_lambert(place["geo"]))
    assert f'href="http://testserver/sites/{site_id}.pdf' in sheet.text
    assert f'href="http://testserver/plots/{plot.id}' in sheet.text
    words = {"fr": ("Chiffres clés", "Vérifié le", "Votre contact"),
             "en": ("Key figures", "Verified on", "Your contact")}[lang]  # fmt: skip
    assert all(w in sheet.text for w in words)
    shown = re.sub(r"<[^>]+>", " ", sheet.text)  # what a reader reads (rows name their field)
    area = {"fr": "Surface (ha)", "en": "Area (ha)"}[lang]
    assert "site_surf_brute" not in shown and area in shown  # labels, never CNIG names


def _lambert(geo: dict):
    from shapely.geometry import Point

    from atlas.query.crs import CRS84_CODE, transform_geometry, transformer
    from atlas.types import STORAGE_CRS

    point = Point(geo["longitude"], geo["latitude"])
    return transform_geometry(point, transformer(CRS84_CODE, STORAGE_CRS))


def test_a_plot_sheet_is_priced_for_partners_only(served) -> None:
    plot = _market_plot(served)
    public = page(served, Tier.PUBLIC, f"/plots/{plot.id}")
    partner = page(served, Tier.B2B, f"/plots/{plot.id}")
    assert public.status_code == partner.status_code == 200
    answer = gate_of(served, Tier.B2B).feature("activity-plots", FeatureRequest(plot.id))
    price = answer.properties["terr_m2_prix"]
    assert PRICE_LABEL["fr"] not in public.text and PRICE_LABEL["fr"] in partner.text
    (listing,) = parsed(public.text).linked
    assert listing["@type"] == "RealEstateListing"
    assert listing["offers"]["itemOffered"]["@type"] == "Place"
    assert "geo" in listing["offers"]["itemOffered"]
    assert "price" not in json.dumps(listing) and "terr_m2_prix" not in public.text
    (priced,) = parsed(partner.text).linked
    unit = priced["offers"]["priceSpecification"]
    assert unit["price"] == pytest.approx(price) and unit["priceCurrency"] == "EUR"
    area = answer.properties["terr_surf_brute"]
    assert priced["offers"]["price"] == round(price * area * 10_000)
    shown = re.search(r"Prix \(€/m²\)</th><td>([^<]+)</td>", partner.text)
    assert shown and number(shown.group(1)) == pytest.approx(price, abs=0.005)
    head = parsed(public.text).meta
    assert head["og:image"] == f"http://testserver/share/plots/{plot.id}.png"


def test_a_signed_in_partner_sees_prices_on_sheets(served) -> None:
    plot = _market_plot(served)
    client = browser(served)
    assert sign_in(client, key_of(served, Tier.B2B), f"/plots/{plot.id}").status_code == 303
    signed_in = client.get(f"/plots/{plot.id}", headers={"Accept": BROWSER})
    assert PRICE_LABEL["fr"] in signed_in.text
    assert signed_in.headers["cache-control"] == "private, no-store"
    anonymous = browser(served).get(f"/plots/{plot.id}", headers={"Accept": BROWSER})
    assert PRICE_LABEL["fr"] not in anonymous.text


def test_unknown_and_hidden_ids_are_the_unknown_path_404(served) -> None:
    unknown = page(served, Tier.PUBLIC, "/no-such-path")
    partner = gate_of(served, Tier.B2B)
    off_market = next(
        p.id
        for p in partner.query("activity-plots", FeatureQuery(limit=10_000)).features
        if p.properties["terr_stade_comm"] not in ON_THE_MARKET
    )
    main = re.compile(r"<main[^>]*>.*</main>", re.S)
    for url in ["/sites/no-such-site", "/plots/no-such-plot", f"/plots/{off_market}"]:
        response = page(served, Tier.PUBLIC, url)
        assert response.status_code == 404, url
        assert main.search(response.text).group(0) == main.search(unknown.text).group(0), url
        client = served.client.get(url, headers=served.headers[Tier.PUBLIC])
        assert client.json() == served.client.get("/no-such-path").json()
    assert page(served, Tier.B2B, f"/plots/{off_market}").status_code == 200


def test_search_redirects_to_an_id_or_lists_what_it_found(served) -> None:
    plot = _market_plot(served)
    found = served.client.get(
        "/search", params={"q": plot.id, "lang": "en"}, follow_redirects=False
    )
    assert found.status_code == 303
    assert found.headers["location"] == f"http://testserver/plots/{plot.id}?lang=en"
    site = gate_of(served, Tier.PUBLIC).feature(
        "activity-sites", FeatureRequest(plot.properties["site_id"])
    )
    results = page(served, Tier.PUBLIC, "/search", q=site.properties["site_comm_nom"])
    assert results.status_code == 200
    assert f'href="http://testserver/sites/{site.id}"' in results.text
    assert page(served, Tier.PUBLIC, "/search", q="x" * 101).status_code == 400
