"""Warm public tiles answered before the framework (atlas.api.warm_tiles): the same bytes and
headers as the routes', no thread hop, and everything but the plainest case left to the app."""

from __future__ import annotations

import mapbox_vector_tile
import morecantile
import pytest

from atlas.policy.tiers import Tier
from tests.api.test_on_loop import hops

TMS = morecantile.tms.get("WebMercatorQuad")
# Headers that differ between two answers by nature.
PER_ANSWER = {"x-request-id", "date", "server"}


@pytest.fixture(scope="module")
def sites_tile(served) -> str:
    """A public tile of the activity sites that holds some (found through the TileJSON's bounds)."""
    tilejson = served.get(Tier.PUBLIC, "/collections/activity-sites/tiles/WebMercatorQuad").json()
    z = max(tilejson["minzoom"], 12)  # a zoom where sites are drawn as they are
    for tile in TMS.tiles(*tilejson["bounds"], zooms=[z]):
        url = f"/collections/activity-sites/tiles/WebMercatorQuad/{z}/{tile.x}/{tile.y}"
        if served.get(Tier.PUBLIC, url).status_code == 200:
            return url
    raise AssertionError("no public tile of activity sites holds a site")


def _headers(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in PER_ANSWER}


def test_a_warm_tile_is_the_app_s_answer_without_a_hop(served, sites_tile, monkeypatch) -> None:
    url = sites_tile + "?v=0&f=mvt"  # a v that is not current: the app's own Cache-Control
    cold = served.get(Tier.PUBLIC, url)  # fills the cache if it missed (through the app)
    with hops(monkeypatch) as seen:
        warm = served.get(Tier.PUBLIC, url)
    assert seen == [], seen  # no handler ran: the middleware answered
    assert warm.status_code == cold.status_code == 200
    assert warm.content == cold.content
    assert mapbox_vector_tile.decode(warm.content)["activity-sites"]["features"]
    assert _headers(warm) == _headers(cold)
    assert warm.headers["x-request-id"] and warm.headers["content-security-policy"]
    assert warm.headers["cache-control"].startswith("public")


def test_the_current_version_is_immutable_and_its_etag_a_304(served, sites_tile, monkeypatch):
    tilejson = served.get(Tier.PUBLIC, "/collections/activity-sites/tiles/WebMercatorQuad").json()
    version = tilejson["tiles"][0].split("v=")[1]
    url = f"{sites_tile}?v={version}"
    first = served.get(Tier.PUBLIC, url)
    with hops(monkeypatch) as seen:
        again = served.client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert seen == []
    assert again.status_code == 304 and not again.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_the_tileset_tile_is_warm_too(served, sites_tile, monkeypatch) -> None:
    z, x, y = sites_tile.rsplit("/", 3)[1:]
    url = f"/tiles/WebMercatorQuad/{z}/{x}/{y}"
    cold = served.get(Tier.PUBLIC, url)
    with hops(monkeypatch) as seen:
        warm = served.get(Tier.PUBLIC, url)
    assert seen == []
    assert cold.status_code == warm.status_code == 200 and warm.content == cold.content


@pytest.mark.parametrize(
    ("tier", "suffix"),
    [
        (Tier.PUBLIC, "?properties=site_nom"),  # another parameter
        (Tier.PUBLIC, "?v=1&v=2"),  # a repeated one
        (Tier.PUBLIC, "?f=png"),  # a bad one: the app's 400
    ],
)
def test_anything_but_the_plainest_case_goes_to_the_app(
    served, sites_tile, monkeypatch, tier, suffix
):
    served.get(tier, sites_tile + suffix)
    with hops(monkeypatch) as seen:
        response = served.get(tier, sites_tile + suffix)
    assert len(seen) == 1, seen  # the route's handler ran
    if "png" in suffix:
        assert response.status_code == 400
        assert "mvt or pbf" in response.json()["description"]


def test_a_session_cookie_goes_to_the_app(served, sites_tile, monkeypatch) -> None:
    served.get(Tier.PUBLIC, sites_tile)
    with hops(monkeypatch) as seen:
        response = served.client.get(sites_tile, headers={"Cookie": "atlas_session=dead"})
    assert seen[-1] == "get_tile", seen  # (the session's lookup hops first: it may wait on I/O)
    assert response.status_code == 200


def test_a_key_s_warm_tile_is_its_tier_s_and_private(served, sites_tile, monkeypatch) -> None:
    cold = served.get(Tier.B2B, sites_tile)
    with hops(monkeypatch) as seen:
        warm = served.get(Tier.B2B, sites_tile)
    assert seen == []
    assert warm.status_code == cold.status_code == 200 and warm.content == cold.content
    assert warm.headers["cache-control"] == "private, no-store"
    assert _headers(warm) == _headers(cold)
    public = served.get(Tier.PUBLIC, sites_tile)
    assert public.headers["etag"] != warm.headers["etag"]  # the tiers' tiles are keyed apart


def test_a_bad_key_is_the_app_s_401(served, sites_tile, monkeypatch) -> None:
    with hops(monkeypatch) as seen:
        response = served.client.get(sites_tile, headers={"Authorization": "Bearer atlas_nope"})
    assert response.status_code == 401
    assert "malformed" in response.json()["description"]
    assert seen == []
