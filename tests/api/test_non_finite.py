"""The API never emits a non-finite number, on both stores.

RFC 8259 JSON has no NaN or Infinity. Ingest keeps them out of the stores (tests/layers/
test_geometry_sanity.py); a store written before that rule may still hold them, so this suite
writes such a version past the guard and reads it back: /collections, the collection, its
TileJSON, items and an item stay valid JSON (200, never a 500), and the HTML map's GeoJSON too.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.ingest import ingest_path
from atlas.layers.conform import IngestReport
from atlas.layers.services import LAYER as SERVICES
from atlas.settings import Settings
from atlas.stores import embedded, open_store, postgis
from tests.conftest import STORE_KINDS, settings_for

HEADER = "DEPCOM;DCIRIS;AN;TYPEQU;LAMBERT_X;LAMBERT_Y;QUALITE_XY"
ROWS = [f"91228;912280101;2023;D201;{655_000 + 300 * i};6835000;Bonne" for i in range(4)]
PATHS = (
    "/collections",
    "/collections/services",
    "/collections/services/tiles/WebMercatorQuad",
    "/collections/services/items?limit=10",
)


@pytest.fixture(params=STORE_KINDS)
def settings(request: pytest.FixtureRequest, tmp_path) -> Iterator[Settings]:
    yield from settings_for(request.param, tmp_path / "data")


@pytest.fixture
def legacy(settings, tmp_path, monkeypatch) -> dict[str, str]:
    """Services whose served version holds infinite numbers and an infinite coordinate."""
    path = tmp_path / "bpe.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    store = open_store(settings.store)
    try:
        ingest_path(store, "services", path, settings=settings, progress=False)
        frame = store.frame("services")
        ids = {"number": frame.at[0, "id"], "geometry": frame.at[2, "id"]}
        frame.loc[0, "LAMBERT_X"] = math.inf
        frame.loc[1, "LAMBERT_Y"] = -math.inf
        frame.loc[2, "geometry"] = shapely.Point(math.inf, 6_835_000.0)
        # What a store held before atlas.layers.sanity: write past its guard.
        for module in (embedded, postgis):
            monkeypatch.setattr(module, "check_storable", lambda *args: None)
        store.write_version(SERVICES, frame, report=IngestReport("services", "legacy"))
        held = store.frame("services")
        assert math.isinf(held.at[0, "LAMBERT_X"])  # the store really holds them
        assert not all(math.isfinite(v) for v in store.collection("services").bbox)
    finally:
        store.close()
    return ids


def _strict(text: str) -> Any:
    """JSON as RFC 8259 reads it: NaN, Infinity and -Infinity are errors."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in the JSON")

    return json.loads(text, parse_constant=refuse)


def test_non_finite_stored_values_never_reach_json(settings, legacy):
    with TestClient(create_app(settings)) as client:
        documents = {}
        for path in PATHS:
            response = client.get(path)
            assert response.status_code == 200, (path, response.text[:200])
            documents[path] = _strict(response.text)
        feature = client.get(f"/collections/services/items/{legacy['geometry']}")
        assert feature.status_code == 200 and _strict(feature.text)["geometry"] is None
        page = client.get("/collections/services/items?limit=10&f=html")
    collection = documents["/collections/services"]
    assert collection["extent"]["spatial"]["bbox"] == [None]  # no extent rather than Infinity
    # No extent: the whole Web Mercator world (TileJSON 3's default bounds), never Infinity.
    assert documents["/collections/services/tiles/WebMercatorQuad"]["bounds"] == [
        -180,
        -85.0511,
        180,
        85.0511,
    ]
    items = {f["id"]: f for f in documents["/collections/services/items?limit=10"]["features"]}
    assert len(items) == 4
    assert items[legacy["number"]]["properties"]["LAMBERT_X"] is None
    assert items[legacy["geometry"]]["geometry"] is None
    others = [f for i, f in items.items() if i != legacy["geometry"]]
    assert all(f["geometry"]["type"] == "Point" for f in others)
    # The HTML page's map reads its GeoJSON with JSON.parse: valid JSON there too.
    assert page.status_code == 200
    script = re.search(
        r'<script type="application/json" id="atlas-geojson">(.*?)</script>', page.text
    )
    assert script is not None
    drawn = _strict(script.group(1))["features"]
    assert sorted(f["id"] for f in drawn) == sorted(i for i in items if i != legacy["geometry"])
