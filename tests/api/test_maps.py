"""``/maps/{tier}``: a tier's map to callers holding it, the unknown-path 404 to anyone else; its
CSP, its assets, its language and its cache (both stores)."""

from __future__ import annotations

import re

import pytest

from atlas.maps.page import script_hashes
from atlas.policy.tiers import Tier
from tests.maps.embedded import loaded_urls

HOLDS = {
    Tier.PUBLIC: ("public",),
    Tier.B2B: ("public", "b2b"),
    Tier.INTERNAL: ("public", "b2b", "internal"),
}


def _policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return dict(d.strip().split(" ", 1) for d in header.split(";"))


@pytest.mark.parametrize("caller", list(Tier), ids=lambda t: t.value)
def test_a_caller_gets_the_maps_of_the_tiers_it_holds_only(served, caller: Tier) -> None:
    unknown = served.get(caller, "/no-such-path")
    for name in ("public", "b2b", "internal", "nope", "PUBLIC", "public.html"):
        response = served.get(caller, f"/maps/{name}")
        if name in HOLDS[caller]:
            assert response.status_code == 200, (caller, name)
            assert response.headers["content-type"].startswith("text/html")
        else:
            assert response.status_code == 404, (caller, name)
            assert response.json() == unknown.json()
            assert response.headers["content-type"] == unknown.headers["content-type"]


def test_the_staff_see_the_public_map_as_the_public_does(served) -> None:
    public = served.get(Tier.PUBLIC, "/maps/public").text
    assert served.get(Tier.INTERNAL, "/maps/public").text == public
    assert served.get(Tier.B2B, "/maps/b2b").text != public


def test_the_page_runs_only_its_own_scripts(served) -> None:
    response = served.get(Tier.PUBLIC, "/maps/public")
    policy = _policy(response)
    scripts = policy["script-src"].split()
    assert scripts[0] == "'self'" and "'unsafe-inline'" not in scripts
    assert set(scripts[1:]) == set(script_hashes(response.text)) and len(scripts) >= 2
    assert policy["default-src"] == "'self'" and policy["connect-src"] == "'self'"
    assert policy["img-src"] == "'self' data:" and policy["frame-ancestors"] == "'none'"
    # A script the page did not come with (one character changed) matches no hash.
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.S)
    assert script_hashes(f"<script>{inline[-1]} </script>")[0] not in scripts


def test_every_asset_the_page_loads_is_served_here(served) -> None:
    page = served.get(Tier.INTERNAL, "/maps/internal").text
    urls = loaded_urls(page)
    assert len(urls) >= 8
    for url in urls:
        # Vendored libraries, or our own scripts (permalink.js): nothing from another origin.
        assert url.startswith(("/static/vendor/", "/static/atlas/")), url
        assert served.get(Tier.PUBLIC, url).status_code == 200, url


def test_language_by_parameter_then_accept_language(served) -> None:
    french = served.get(Tier.PUBLIC, "/maps/public")
    assert '<html lang="fr">' in french.text and "Parcs d’activités" in french.text
    assert "Chercher une commune" in french.text
    english = served.get(Tier.PUBLIC, "/maps/public", params={"lang": "en"})
    assert '<html lang="en">' in english.text and "Find a municipality" in english.text
    assert english.headers["content-language"] == "en"
    asked = served.client.get("/maps/public", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Find a municipality" in asked.text
    bad = served.get(Tier.PUBLIC, "/maps/public", params={"lang": "de"})
    assert bad.status_code == 400 and "lang" in bad.json()["description"]


def test_a_page_is_built_once_per_tier_language_and_versions(served) -> None:
    cache = served.client.app.state.maps
    served.get(Tier.B2B, "/maps/b2b", params={"lang": "en"})
    before = cache.builds
    for _ in range(3):
        assert served.get(Tier.B2B, "/maps/b2b", params={"lang": "en"}).status_code == 200
    assert cache.builds == before
    served.get(Tier.INTERNAL, "/maps/b2b", params={"lang": "en"})  # the same page, any holder
    assert cache.builds == before


def test_a_store_with_no_data_yet_gets_a_map_without_layers(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from atlas.api.app import create_app
    from atlas.settings import Settings, StoreSettings

    settings = Settings(store=StoreSettings(data_dir=tmp_path / "data", database_url=None))
    with TestClient(create_app(settings)) as client:
        response = client.get("/maps/public")
    assert response.status_code == 200
    assert "/static/vendor/leaflet/leaflet.js" in response.text
    assert "_add({" not in response.text and "/collections/" not in response.text
