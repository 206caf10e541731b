"""Bad tile addresses are refused fast, with a message, and without reading the data base.

The app's store is replaced by a tripwire that records any use: every request below must answer
its 400 or 404 in the Atlas error shape while the tripwire stays untouched (so no statement ran),
on both stores' apps.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.policy.tiers import Tier
from tests.api.conftest import Served

M = "WebMercatorQuad"
L = "LambertNinetyThreeQuad"
BAD = [
    # (path, status, words of the description)
    (f"/collections/activity-sites/tiles/{M}/23/0/0", 400, "z: WebMercatorQuad has zooms 0 to 22"),
    (f"/collections/activity-sites/tiles/{M}/-1/0/0", 400, "zooms 0 to 22, not -1"),
    (f"/collections/activity-sites/tiles/{M}/3/8/0", 400, "columns 0 to 7 and rows 0 to 7"),
    (f"/collections/activity-sites/tiles/{M}/3/0/-1", 400, "rows 0 to 7"),
    (
        f"/collections/activity-sites/tiles/{L}/21/0/0",
        400,
        "LambertNinetyThreeQuad has zooms 0 to 20",
    ),
    (f"/collections/activity-sites/tiles/{L}/2/4/1", 400, "columns 0 to 3"),
    (f"/collections/activity-sites/tiles/{M}/3/0/0?f=png", 400, "f: vector tiles are mvt or pbf"),
    (f"/collections/activity-sites/tiles/{M}/3/0/x", 400, "y:"),
    ("/collections/activity-sites/tiles/WorldCRS84Quad/3/0/0", 404, "'WorldCRS84Quad' not found"),
    ("/collections/activity-sites/tiles/WorldCRS84Quad", 404, "'WorldCRS84Quad' not found"),
    (f"/collections/no-such-layer/tiles/{M}/3/0/0", 404, "no-such-layer"),
    (f"/collections/elevation/tiles/{M}/12/2075/1411", 404, "elevation"),  # a raster
    (f"/tiles/{M}/23/0/0", 400, "z: WebMercatorQuad has zooms 0 to 22"),
    (f"/tiles/{M}/2/0/4", 400, "rows 0 to 3"),
    (f"/tiles/{M}/2/0/0?f=geojson", 400, "not 'geojson'"),
    ("/tiles/Nope/2/0/0", 404, "'Nope' not found; this server has WebMercatorQuad"),
    ("/tiles/Nope", 404, "'Nope' not found"),
    ("/tileMatrixSets/Nope", 404, "'Nope' not found"),
    ("/styles/Nope", 404, "style 'Nope' not found"),
]


class Tripwire:
    """Stands for the store: any use is recorded and fails."""

    def __init__(self) -> None:
        self.touched: list[str] = []

    def __getattr__(self, name: str):
        self.touched.append(name)
        raise RuntimeError(f"the store was used: {name}")


@pytest.fixture(scope="module")
def tripped(served) -> Iterator[tuple[Served, Tripwire]]:
    """An app of its own over the served demo, whose store is the tripwire once started."""
    app = create_app(served.settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        real, tripwire = app.state.policy.store, Tripwire()
        app.state.policy.store = tripwire
        try:
            yield (
                Served(client, served.settings, served.sources, served.headers, served.kind),
                tripwire,
            )
        finally:
            app.state.policy.store = real  # the lifespan closes the real one


def _refused(
    app_served: Served, tripwire: Tripwire, tier: Tier, path: str, status: int, words: str
):
    started = time.monotonic()
    response = app_served.get(tier, path)
    elapsed = time.monotonic() - started
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert set(body) >= {"code", "description"} and words in body["description"]
    assert tripwire.touched == []
    assert elapsed < 1.0  # no data read: fast even on a loaded machine


@pytest.mark.parametrize(("path", "status", "words"), BAD)
@pytest.mark.parametrize("tier", [Tier.PUBLIC, Tier.INTERNAL])
def test_bad_tile_input_is_refused_without_reading(tripped, tier, path, status, words):
    _refused(*tripped, tier, path, status, words)


def test_a_hidden_collection_is_unknown_without_reading(tripped):
    # The public tier may not see the network: the same 404 as an unknown collection.
    path = f"/collections/water-pipes/tiles/{M}/12/2075/1411"
    _refused(*tripped, Tier.PUBLIC, path, 404, "water-pipes")


def test_the_tripwire_trips_on_a_good_request(tripped):
    # The fixture is not vacuous: a valid tile needs the store, and the tripwire sees it.
    app_served, tripwire = tripped
    response = app_served.get(Tier.PUBLIC, f"/collections/activity-sites/tiles/{M}/12/2075/1411")
    assert response.status_code == 500 and tripwire.touched
    tripwire.touched.clear()
