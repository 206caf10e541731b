"""Sign-in in a real Chromium (Debian's ``/usr/bin/chromium``, headless, Playwright) over the served
demo: a partner pastes a b2b key, sees the plots' prices, signs out and sees the public view again;
the cookie is HttpOnly and Lax, the forms pass the Origin check as a browser really posts them,
nothing is requested from another origin and nothing is logged as an error."""

from __future__ import annotations

import pytest

from atlas.policy.tiers import Tier
from tests.api.live_server import serving
from tests.browser import Watch

pytestmark = pytest.mark.browser
PRICE = "terr_m2_prix"


def test_a_partner_signs_in_sees_prices_and_signs_out(served, chromium, artifacts) -> None:
    key = served.headers[Tier.B2B]["Authorization"].removeprefix("Bearer ")
    with serving(served.client.app) as (host, port):
        origin = f"http://{host}:{port}"
        context = chromium.new_context(locale="fr-FR", viewport={"width": 1200, "height": 800})
        watch = Watch(context.new_page(), f"{host}:{port}")
        page, outside, errors = watch.page, watch.outside, watch.errors
        plots = f"{origin}/collections/activity-plots/items?f=html&limit=20"
        page.goto(plots)
        public_text = page.content()
        page.click("a.signin")  # "Connexion" in the header, coming back here afterwards
        page.fill("#key", key)
        page.click("main form button[type=submit]")
        page.wait_for_url(plots)
        signed_in = page.content()
        indicator = page.locator(".signed-in").inner_text()
        page.screenshot(path=str(artifacts / "signed-in-b2b.png"))
        cookies = {c["name"]: c for c in context.cookies()}
        page.click("form.session button[type=submit]")  # "Se déconnecter"
        page.wait_for_url(f"{origin}/")
        page.goto(plots)
        after = page.content()
        left = {c["name"] for c in context.cookies()}
        context.close()
    assert PRICE not in public_text and PRICE in signed_in and PRICE not in after
    assert "partenaire" in indicator, indicator
    session = cookies["atlas_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax" and session["path"] == "/"
    assert "atlas_session" not in left
    assert not outside, outside
    assert not errors, errors
