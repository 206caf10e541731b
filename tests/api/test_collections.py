"""HTTP: landing page, conformance, /collections and /collections/{id} over both stores.

Listing and describing go through an internal key, which sees every row, so that the extent is
the stored one; what each tier sees is tested with the policy (tests/policy).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.api.responses import CRS84
from atlas.ingest import ingest_path
from atlas.query.features import FeatureQuery
from atlas.settings import Settings
from atlas.stores import open_store
from tests.conftest import STORE_KINDS, settings_for
from tests.helpers import require_real_data

pytestmark = pytest.mark.realdata

CNIG = "cnig-sites-economiques"
# The CNIG examples (one illustrative row each), in catalog order.
EXAMPLES = {
    "activity-sites": "exemple-valide-site-eco.csv",
    "activity-plots": "exemple-valide-terrain-eco.csv",
    "establishments": "exemple-valide-etablissement.csv",
}


@pytest.fixture(scope="module", params=STORE_KINDS)
def settings(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Settings]:
    """Each store kind, shared by the module: ingesting once is enough, no test writes data."""
    yield from settings_for(request.param, tmp_path_factory.mktemp("api") / "data")


@pytest.fixture(scope="module")
def ingested(settings) -> dict[str, gpd.GeoSeries]:
    """Ingest the CNIG examples; the stored geometries of each collection (EPSG:2154)."""
    store = open_store(settings.store)
    geometries = {}
    try:
        for collection_id, name in EXAMPLES.items():
            path = require_real_data(CNIG, name)
            ingest_path(store, collection_id, path, settings=settings, progress=False)
            page = store.query(collection_id, FeatureQuery(limit=10))
            geometries[collection_id] = gpd.GeoSeries([f.geometry for f in page.features], crs=2154)
    finally:
        store.close()
    return geometries


@pytest.fixture
def client(settings, ingested) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def internal(client) -> dict[str, str]:
    """The Authorization header of an internal key."""
    _, key = client.app.state.keys.create(tier="internal", name="test")  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {key}"}


def test_landing_page_links(client):
    response = client.get("/")
    assert response.status_code == 200
    rels = {link["rel"]: link["href"] for link in response.json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels.keys()
    assert rels["data"] == "http://testserver/collections"


def test_conformance_declares_features_core(client):
    conforms = client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conforms


def _assert_crs84_bbox(document: dict, geometries: gpd.GeoSeries) -> None:
    """The extent is the CRS84 box of the features' Lambert-93 box, so it holds every feature."""
    spatial = document["extent"]["spatial"]
    assert spatial["crs"] == CRS84
    (bbox,) = spatial["bbox"]
    # Oracle: the Lambert-93 box as a polygon with dense edges, reprojected by geopandas.
    xmin, ymin, xmax, ymax = geometries.total_bounds
    step = max(xmax - xmin, ymax - ymin, 1.0) / 200
    box = gpd.GeoSeries([shapely.box(xmin, ymin, xmax, ymax)], crs=2154).segmentize(step)
    assert bbox == pytest.approx(box.to_crs("OGC:CRS84").total_bounds.tolist(), abs=1e-5)
    lon_min, lat_min, lon_max, lat_max = geometries.to_crs("OGC:CRS84").total_bounds
    rounding = 5e-8  # the document gives 7 decimals (about 1 cm)
    assert bbox[0] <= lon_min + rounding and bbox[1] <= lat_min + rounding
    assert bbox[2] >= lon_max - rounding and bbox[3] >= lat_max - rounding


def test_collections_lists_the_ingested_ones_with_crs84_bbox(client, internal, ingested):
    response = client.get("/collections", headers=internal)
    assert response.status_code == 200
    documents = {d["id"]: d for d in response.json()["collections"]}
    assert list(documents) == list(EXAMPLES)
    for collection_id, document in documents.items():
        assert document["numberOfFeatures"] == 1
        _assert_crs84_bbox(document, ingested[collection_id])


@pytest.mark.parametrize("collection_id", list(EXAMPLES))
def test_one_collection(client, internal, ingested, collection_id):
    response = client.get(f"/collections/{collection_id}", headers=internal)
    assert response.status_code == 200
    document = response.json()
    assert document["id"] == collection_id and document["itemType"] == "feature"
    self_link = next(link for link in document["links"] if link["rel"] == "self")
    assert self_link["href"] == f"http://testserver/collections/{collection_id}"
    _assert_crs84_bbox(document, ingested[collection_id])


@pytest.mark.parametrize("tier", ["public", "internal"])
def test_unknown_and_empty_collections_answer_alike(client, internal, tier):
    # "services" is a known collection that was not ingested; a client must not tell them apart.
    headers = internal if tier == "internal" else {}
    unknown = client.get("/collections/no-such-thing", headers=headers)
    empty = client.get("/collections/services", headers=headers)
    assert unknown.status_code == empty.status_code == 404
    assert unknown.headers["content-type"] == empty.headers["content-type"]
    assert json.dumps(unknown.json()).replace("no-such-thing", "{id}") == json.dumps(
        empty.json()
    ).replace("services", "{id}")
