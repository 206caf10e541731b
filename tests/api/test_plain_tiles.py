"""Plain tiles answered before the framework (atlas.api.plain_tiles): the same bytes and headers
as the routes', no thread hop for a warm tile, one hop (the read, no handler) for a cold one,
and everything but the plainest case (audited tiles included) left to the app."""

from __future__ import annotations

import datetime as dt

import mapbox_vector_tile
import morecantile
import pytest

from atlas.policy.tiers import Tier
from atlas.tiles.cache import TileCache
from tests.api.test_on_loop import hops

TMS = morecantile.tms.get("WebMercatorQuad")
# Headers that differ between two answers by nature.
PER_ANSWER = {"x-request-id", "date", "server"}


def _tile_with_features(served, tier: Tier, collection_id: str) -> str:
    """A tile of the collection that holds some, as the tier sees it (from its TileJSON)."""
    base = f"/collections/{collection_id}/tiles/WebMercatorQuad"
    tilejson = served.get(tier, base).json()
    z = max(tilejson["minzoom"], 12)  # a zoom where features are drawn as they are
    for tile in TMS.tiles(*tilejson["bounds"], zooms=[z]):
        url = f"{base}/{z}/{tile.x}/{tile.y}"
        if served.get(tier, url).status_code == 200:
            return url
    raise AssertionError(f"no {tier.value} tile of {collection_id} holds a feature")


@pytest.fixture(scope="module")
def sites_tile(served) -> str:
    """A public tile of the activity sites that holds some."""
    return _tile_with_features(served, Tier.PUBLIC, "activity-sites")


@pytest.fixture
def empty_cache(served, monkeypatch) -> None:
    """Every tile a miss from now on (a new, empty cache for this test)."""
    tiles = served.client.app.state.vector_tiles
    monkeypatch.setattr(tiles, "cache", TileCache(memory_bytes=8 * 1024 * 1024))


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


@pytest.mark.parametrize("tier", [Tier.PUBLIC, Tier.B2B])
def test_a_cold_tile_is_read_in_the_pool_as_the_app_reads_it(
    served, sites_tile, empty_cache, monkeypatch, tier
) -> None:
    """A miss: read in the handler pool without the route (one hop, the read's), the same bytes
    and headers as the app's own answer (``properties=`` empty sends the request to the app,
    and is the same tile), and cached for the next request."""
    with hops(monkeypatch) as seen:
        cold = served.get(tier, sites_tile)
        by_app = served.get(tier, sites_tile + "?properties=")
        warm = served.get(tier, sites_tile)
    assert seen == ["read", "get_tile"], seen
    assert cold.status_code == by_app.status_code == warm.status_code == 200
    assert cold.content == by_app.content == warm.content
    assert mapbox_vector_tile.decode(cold.content)["activity-sites"]["features"]
    assert _headers(cold) == _headers(by_app) == _headers(warm)


def test_a_cold_tileset_tile_is_read_in_the_pool(served, sites_tile, empty_cache, monkeypatch):
    z, x, y = sites_tile.rsplit("/", 3)[1:]
    url = f"/tiles/WebMercatorQuad/{z}/{x}/{y}"
    with hops(monkeypatch) as seen:
        cold = served.get(Tier.PUBLIC, url)
        by_app = served.get(Tier.PUBLIC, url + "?properties=")  # ignored by the route
        warm = served.get(Tier.PUBLIC, url)
    assert seen == ["read", "get_dataset_tile"], seen
    assert cold.status_code == by_app.status_code == warm.status_code == 200
    assert cold.content == by_app.content == warm.content
    assert _headers(cold) == _headers(by_app) == _headers(warm)
    assert "activity-sites" in mapbox_vector_tile.decode(cold.content)


def test_an_audited_tile_is_the_app_s_and_audited(served, empty_cache, monkeypatch) -> None:
    """The staff's water pipes (their exact geometry is audited): never read here, never
    cached; the app answers and the gate writes the record."""
    url = _tile_with_features(served, Tier.INTERNAL, "water-pipes")
    start = dt.datetime.now(dt.UTC)
    with hops(monkeypatch) as seen:
        response = served.get(Tier.INTERNAL, url)
    assert response.status_code == 200 and seen == ["get_tile"], seen
    records = [
        r for r in served.client.app.state.audit.since(start) if r.collection_id == "water-pipes"
    ]
    assert len(records) == 1, records


def test_a_cold_read_that_fails_is_answered_by_the_app(
    served, sites_tile, empty_cache, monkeypatch
) -> None:
    """An unexpected failure of the read here: the app reads again and answers as it would
    (here, the same failure: its 500 with the request id)."""
    tiles = served.client.app.state.vector_tiles

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not kwargs.get("cached_only"):
            raise RuntimeError("the store went away")
        return real(*args, **kwargs)

    real = tiles.collection_tile
    monkeypatch.setattr(tiles, "collection_tile", broken)
    with hops(monkeypatch) as seen:
        response = served.client.get(sites_tile)
    assert seen == ["read", "get_tile"], seen
    assert response.status_code == 500
    assert response.json()["requestId"] == response.headers["x-request-id"]
