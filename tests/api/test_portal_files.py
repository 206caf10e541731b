"""A sheet's PDF (the caller's tier) and share image (always the public's) over HTTP, both stores."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from atlas.policy.tiers import Tier
from atlas.portal import words
from tests.policy.oracle import Secrets
from tests.portal.gate_sheets import a_site, priced_plot
from tests.portal.test_pdf import pdf_pages, squeezed


def _plot(served, tier: Tier, terr_id: str) -> dict:
    """The plot as the tier's own JSON answer gives it."""
    response = served.get(tier, f"/collections/activity-plots/items/{terr_id}")
    assert response.status_code == 200
    return response.json()["properties"]


def test_a_partner_s_pdf_has_the_price_the_public_s_not(served) -> None:
    """Same plot, b2b and public: the PDF of each is its tier's, the price only in b2b's."""
    terr_id = priced_plot(served)
    price = squeezed(words.number(float(_plot(served, Tier.B2B, terr_id)["terr_m2_prix"]), "fr", 2))
    label = squeezed(words.label("terr_m2_prix", "fr", "activity-plots"))
    texts = {}
    for tier in (Tier.B2B, Tier.PUBLIC):
        response = served.get(tier, f"/plots/{terr_id}.pdf")
        assert response.status_code == 200, response.text[:200]
        assert response.headers["content-type"] == "application/pdf"
        disposition = response.headers["content-disposition"]
        assert disposition == f'attachment; filename="fiche-terrain-{terr_id}.pdf"'
        texts[tier] = squeezed("\n".join(pdf_pages(response.content)))
        assert terr_id in texts[tier]
        assert squeezed(_plot(served, tier, terr_id)["terr_stade_comm"]) in texts[tier]
    assert price in texts[Tier.B2B] and label in texts[Tier.B2B]
    assert label not in texts[Tier.PUBLIC]
    assert (
        served.get(Tier.B2B, f"/plots/{terr_id}.pdf").headers["cache-control"]
        == "private, no-store"
    )
    public = served.get(Tier.PUBLIC, f"/plots/{terr_id}.pdf").headers["cache-control"]
    assert public.startswith("public, max-age=")


def test_a_site_pdf_in_english_names_its_page(served) -> None:
    """?lang=en: the English sheet, its English page's URL, an English file name."""
    site_id = a_site(served)
    response = served.get(Tier.PUBLIC, f"/sites/{site_id}.pdf", params={"lang": "en"})
    assert response.status_code == 200 and response.headers["content-language"] == "en"
    assert response.headers["content-disposition"].endswith(f'business-park-sheet-{site_id}.pdf"')
    text = "\n".join(pdf_pages(response.content))
    site = served.get(Tier.PUBLIC, f"/collections/activity-sites/items/{site_id}").json()
    assert site["properties"]["site_nom"] in text
    assert f"http://testserver/sites/{site_id}?lang=en" in text and "Key figures" in text
    # And the page itself is still the page: the PDF route did not take its place.
    page = served.get(Tier.PUBLIC, f"/sites/{site_id}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")


def test_a_plot_not_for_sale_has_a_pdf_for_staff_only(served) -> None:
    """The public's 404 for an off-market plot is the unknown path's; the staff get the PDF."""
    secrets = Secrets(served.sources)
    hidden = secrets.off_market_plots[0]
    unknown = served.get(Tier.PUBLIC, "/plots/ZZZ-no-such-plot.pdf")
    assert unknown.status_code == 404
    response = served.get(Tier.PUBLIC, f"/plots/{hidden}.pdf")
    assert response.status_code == 404 and response.json() == unknown.json()
    assert served.get(Tier.PUBLIC, "/no-such-path").json() == unknown.json()
    staff = served.get(Tier.INTERNAL, f"/plots/{hidden}.pdf")
    assert staff.status_code == 200 and hidden in "\n".join(pdf_pages(staff.content))


def _png(response) -> Image.Image:
    assert response.status_code == 200, response.text[:200]
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and image.size == (1200, 630)
    return image


@pytest.mark.parametrize("kind", ["plots", "sites"])
def test_the_share_image_is_the_public_s_whoever_asks(served, kind: str) -> None:
    """Staff, partner and public get the same bytes: the public sheet's card."""
    ident = priced_plot(served) if kind == "plots" else a_site(served)
    url = f"/share/{kind}/{ident}.png"
    public = served.get(Tier.PUBLIC, url)
    _png(public)
    assert public.headers["cache-control"].startswith("public, max-age=")
    for tier in (Tier.B2B, Tier.INTERNAL):
        assert served.get(tier, url).content == public.content, tier
    english = served.get(Tier.PUBLIC, url, params={"lang": "en"})
    assert _png(english) and english.content != public.content


def test_a_share_image_is_drawn_once_per_data_version_and_tagged(served) -> None:
    """The second fetch is the kept image with the same ETag; If-None-Match gets a 304 without
    a body; another language or id is another image and another tag."""
    terr_id = priced_plot(served)
    url = f"/share/plots/{terr_id}.png"
    cards = served.client.app.state.share_cards
    first = served.get(Tier.PUBLIC, url)
    drawn = cards.drawn
    again = served.get(Tier.INTERNAL, url)
    assert again.content == first.content and cards.drawn == drawn
    tag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', tag) and again.headers["etag"] == tag
    revalidated = served.client.get(url, headers={"If-None-Match": tag})
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert revalidated.headers["etag"] == tag
    stale = served.client.get(url, headers={"If-None-Match": '"0123"'})
    assert stale.status_code == 200 and stale.content == first.content
    english = served.get(Tier.PUBLIC, url, params={"lang": "en"})
    site = served.get(Tier.PUBLIC, f"/share/sites/{a_site(served)}.png")
    assert len({tag, english.headers["etag"], site.headers["etag"]}) == 3


def test_no_share_image_of_a_plot_not_for_sale(served) -> None:
    """Not even for the staff: a share image is the public's."""
    hidden = Secrets(served.sources).off_market_plots[0]
    unknown = served.get(Tier.PUBLIC, "/share/plots/ZZZ-no-such-plot.png")
    for tier in Tier:
        response = served.get(tier, f"/share/plots/{hidden}.png")
        assert response.status_code == 404 and response.json() == unknown.json(), tier
        assert "etag" not in response.headers


BAD_IDS = [
    "..%2F..%2Fkeys.sqlite",
    "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "x' OR '1'='1",
    "%00",
    "%C3%A9t%C3%A9",
    "a" * 10_000,
]


@pytest.mark.parametrize(
    "url", ["/plots/{}.pdf", "/sites/{}.pdf", "/share/plots/{}.png", "/share/sites/{}.png"]
)
def test_bad_ids_get_a_clear_4xx(served, url: str) -> None:
    """Traversal strings, quotes, NUL, accents, a 10 kB id: a 4xx with a code and a one-line
    description, never a 500 nor a file."""
    for ident in BAD_IDS:
        for tier in (Tier.PUBLIC, Tier.INTERNAL):
            response = served.get(tier, url.format(ident))
            assert 400 <= response.status_code < 500, (ident[:20], response.status_code)
            body = response.json()
            assert set(body) >= {"code", "description"} and "\n" not in body["description"]
            if len(ident) > 1000:
                assert response.status_code == 400 and re.search(
                    r"longer than \d+", body["description"]
                )
