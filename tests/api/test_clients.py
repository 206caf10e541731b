"""Real OGC API Features clients against a real HTTP server: GDAL's OAPIF driver and OWSLib.

The served demo (both stores) is put behind uvicorn on a free loopback port, in a thread; the
clients read it as the public and as the internal tier (``Authorization: Bearer`` through
``GDAL_HTTP_HEADERS`` and OWSLib's ``headers=``). What they get is compared with what the API's
own JSON says, which the leak matrix checks tier by tier.

GDAL 3.6 (Debian 12) sends a ``-where`` to the server only when the ``filter-lang`` enum of the
OpenAPI document lists the pre-standard ``cql-text`` and the fields are in the draft's
``queryables`` list (reached through a link of relation ``queryables``): the API offers both, and
reads ``cql-text`` as CQL2 text. ``-spat`` becomes
``bbox``. Both are checked against the API's own ``filter`` and ``bbox`` answers.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import shapely
import uvicorn
from shapely.geometry import box, shape

from atlas.policy.tiers import Tier
from tests.helpers import in_ci

BBOX = (2.40, 48.55, 2.55, 48.66)  # CRS84, inside the demo territory


@dataclass
class Live:
    """The served app on a real socket."""

    url: str
    served: object

    def headers(self, tier: Tier) -> dict[str, str]:
        """The request headers of ``tier`` (none for public)."""
        return self.served.headers[tier]

    def json(self, tier: Tier, path: str, **params: str) -> dict:
        """What the API itself answers (through the test client)."""
        response = self.served.get(tier, path, params=params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def live(served) -> Iterator[Live]:
    """uvicorn serving the already started app (its lifespan ran in the test client)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(served.client.app, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{port}", served)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def _all_items(live: Live, tier: Tier, collection_id: str, **params: str) -> list[dict]:
    """Every feature of a query, page after page, as the API's JSON gives them."""
    features, offset = [], 0
    while True:
        page = live.json(
            tier, f"/collections/{collection_id}/items", limit="1000", offset=str(offset), **params
        )
        features += page["features"]
        offset += page["numberReturned"]
        if offset >= page["numberMatched"] or not page["numberReturned"]:
            return features


# -- GDAL ------------------------------------------------------------------------------


def _gdal(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if in_ci():
            pytest.fail(f"{tool} (Debian gdal-bin) is required under CI")
        pytest.skip(f"{tool} is not installed")
    return path


def _gdal_env(live: Live, tier: Tier) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["GDAL_HTTP_TIMEOUT"] = "60"
    authorization = live.headers(tier).get("Authorization")
    if authorization:
        env["GDAL_HTTP_HEADERS"] = f"Authorization: {authorization}"
    return env


def _run_gdal(live: Live, tier: Tier, tool: str, *args: str) -> str:
    """Run a GDAL tool as ``tier``; its stdout. Any GDAL error fails the test."""
    run = subprocess.run(
        [_gdal(tool), *args],
        env=_gdal_env(live, tier),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0 and "ERROR" not in run.stderr, run.stderr
    return run.stdout


def ogrinfo_layers(live: Live, tier: Tier) -> list[str]:
    """The layers ``ogrinfo OAPIF:<url>`` lists."""
    out = _run_gdal(live, tier, "ogrinfo", "-ro", "-so", "-q", f"OAPIF:{live.url}")
    return [line.split(": ", 1)[1].split(" (")[0] for line in out.splitlines() if ": " in line]


def ogr2ogr_features(
    live: Live, tier: Tier, collection_id: str, tmp_path: Path, *options: str
) -> list[dict]:
    """A collection read by GDAL (``ogr2ogr`` to GeoJSON), features as GeoJSON dicts."""
    out = tmp_path / f"{collection_id}-{tier}-{len(list(tmp_path.iterdir()))}.geojson"
    source = f"OAPIF:{live.url}"
    _run_gdal(live, tier, "ogr2ogr", "-f", "GeoJSON", str(out), source, *options, collection_id)
    return json.loads(out.read_text())["features"]


def _gdal_id(feature: dict) -> str:
    # OGR keeps the GeoJSON "id" member as a field named "id".
    return str(feature["properties"]["id"])


@pytest.mark.gdal_cli
@pytest.mark.parametrize("tier", [Tier.PUBLIC, Tier.INTERNAL], ids=lambda t: t.value)
def test_gdal_lists_the_collections_the_tier_sees(live, tier):
    listed = ogrinfo_layers(live, tier)
    collections = live.json(tier, "/collections")["collections"]
    assert listed == [c["id"] for c in collections if c["itemType"] == "feature"]
    assert ("parcels" in listed) is (tier == Tier.INTERNAL)
    assert ("water-pipes" in listed) is (tier == Tier.INTERNAL)


@pytest.mark.gdal_cli
@pytest.mark.parametrize("tier", [Tier.PUBLIC, Tier.INTERNAL], ids=lambda t: t.value)
def test_gdal_reads_every_feature_as_the_api_serves_it(live, tier, tmp_path):
    read = ogr2ogr_features(live, tier, "activity-plots", tmp_path)
    served = {f["id"]: f for f in _all_items(live, tier, "activity-plots")}
    assert sorted(_gdal_id(f) for f in read) == sorted(served)
    for feature in read:
        expected = served[_gdal_id(feature)]
        assert shape(feature["geometry"]).equals_exact(shape(expected["geometry"]), 1e-9)
        for name, value in expected["properties"].items():
            got = feature["properties"][name]
            if isinstance(value, int | float) and not isinstance(value, bool):
                assert got == pytest.approx(value), name
            else:  # OGR reads ISO dates as Date fields and writes them back the same way
                assert got == value, name
    fields = set(read[0]["properties"])
    assert ("terr_acquereur" in fields) is (tier == Tier.INTERNAL)


@pytest.mark.gdal_cli
@pytest.mark.parametrize("tier", [Tier.PUBLIC, Tier.INTERNAL], ids=lambda t: t.value)
def test_gdal_spatial_filter_is_the_api_bbox(live, tier, tmp_path):
    spat = [str(v) for v in BBOX]
    read = ogr2ogr_features(live, tier, "activity-sites", tmp_path, "-spat", *spat)
    in_box = _all_items(live, tier, "activity-sites", bbox=",".join(spat))
    # GDAL sends bbox, then keeps the features whose geometry meets the box itself.
    area = box(*BBOX)
    expected = {f["id"] for f in in_box if shape(f["geometry"]).intersects(area)}
    assert {_gdal_id(f) for f in read} == expected
    assert expected and len(expected) < len(_all_items(live, tier, "activity-sites"))


@pytest.mark.gdal_cli
@pytest.mark.parametrize("tier", [Tier.PUBLIC, Tier.INTERNAL], ids=lambda t: t.value)
def test_gdal_where_matches_the_api_filter(live, tier, tmp_path):
    where = "terr_stade_comm = 'en vente' AND terr_surf_brute > 5"
    read = ogr2ogr_features(live, tier, "activity-plots", tmp_path, "-where", where)
    filtered = _all_items(live, tier, "activity-plots", filter=where)
    assert {_gdal_id(f) for f in read} == {f["id"] for f in filtered}
    assert filtered
    # ... and GDAL sent it to the server (filter-lang cql-text, read as CQL2 text) instead of
    # reading the whole layer: its HTTP debug lines show the URLs it fetched.
    out = tmp_path / "debug.geojson"
    run = subprocess.run(
        [_gdal("ogr2ogr"), "--debug", "ON", "-f", "GeoJSON", str(out), f"OAPIF:{live.url}"]
        + ["-where", where, "activity-plots"],
        env=_gdal_env(live, tier),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    fetched = [
        line for line in run.stderr.splitlines() if "/collections/activity-plots/items" in line
    ]
    assert len(fetched) >= 2 and all("filter-lang=cql-text" in line for line in fetched[1:]), (
        fetched
    )


# -- OWSLib ----------------------------------------------------------------------------


def _owslib(live: Live, tier: Tier):
    """An OWSLib client of ``tier``, with headers of its own.

    OWSLib 0.35 ``API.__init__`` does ``self.headers = REQUEST_HEADERS`` then
    ``self.headers.update(headers)``: the headers of every client go into one module-level dict,
    so a client made after an internal one sends the internal key. Each client gets a copy here,
    and the module's dict is put back as it was.
    """
    from owslib import ogcapi
    from owslib.ogcapi.features import Features

    defaults = dict(ogcapi.REQUEST_HEADERS)
    try:
        client = Features(live.url, headers=live.headers(tier), timeout=60)
    finally:
        ogcapi.REQUEST_HEADERS.clear()
        ogcapi.REQUEST_HEADERS.update(defaults)
    client.headers = {**defaults, **live.headers(tier)}
    return client


@pytest.mark.parametrize("tier", [Tier.PUBLIC, Tier.INTERNAL], ids=lambda t: t.value)
def test_owslib_lists_collections_and_conformance(live, tier):
    client = _owslib(live, tier)
    listed = [c["id"] for c in client.collections()["collections"]]
    assert listed == [c["id"] for c in live.json(tier, "/collections")["collections"]]
    assert ("parcels" in listed) is (tier == Tier.INTERNAL)
    assert "activity-plots" in client.feature_collections()
    assert "elevation" not in client.feature_collections()
    conformance = client.conformance()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conformance
    assert client.collection("activity-sites")["id"] == "activity-sites"
    queryables = client.collection_queryables("activity-plots")["properties"]
    assert ("terr_acquereur" in queryables) is (tier == Tier.INTERNAL)


@pytest.mark.parametrize("tier", [Tier.PUBLIC, Tier.INTERNAL], ids=lambda t: t.value)
def test_owslib_reads_items_with_bbox_and_limit(live, tier):
    client = _owslib(live, tier)
    page = client.collection_items("activity-sites", bbox=list(BBOX), limit=3)
    expected = live.json(
        tier, "/collections/activity-sites/items", bbox=",".join(map(str, BBOX)), limit="3"
    )
    assert page["numberReturned"] == len(page["features"]) == 3
    assert page["numberMatched"] == expected["numberMatched"] > 3
    assert [f["id"] for f in page["features"]] == [f["id"] for f in expected["features"]]
    area = box(*BBOX)
    for feature in page["features"]:
        assert shapely.intersects(shape(feature["geometry"]).envelope, area)
    one = client.collection_item("activity-sites", page["features"][0]["id"])
    assert one["id"] == page["features"][0]["id"]
    plots = client.collection_items("activity-plots", limit=1000)
    everything = _all_items(live, Tier.INTERNAL, "activity-plots")
    assert (len(plots["features"]) == len(everything)) is (tier == Tier.INTERNAL)


def test_owslib_gets_the_tier_s_404_for_a_hidden_collection(live):
    client = _owslib(live, Tier.PUBLIC)
    with pytest.raises(RuntimeError, match="not found"):
        client.collection_items("water-pipes", limit=1)


# -- the conformance declaration -------------------------------------------------------

CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
# One filter per declared CQL2 class, each must be answered (and the undeclared ones refused).
DECLARED_FILTERS = {
    "basic-cql2": "terr_surf_brute > 5 AND NOT (terr_stade_comm = 'vendu') OR terr_id IS NULL",
    "advanced-comparison-operators": "terr_stade_comm LIKE 'en%' AND terr_surf_brute BETWEEN 1 "
    "AND 50 AND terr_stade_comm IN ('en vente', 'vendu')",
    "case-insensitive-comparison": "CASEI(terr_stade_comm) = casei('EN VENTE')",
    "accent-insensitive-comparison": "ACCENTI(terr_usage) = accenti('espace agricole')",
    "basic-spatial-functions": "S_INTERSECTS(geometry, BBOX(2.3, 48.5, 2.6, 48.7))",
    "basic-spatial-functions-plus": "S_INTERSECTS(geometry, POLYGON((2.3 48.5, 2.6 48.5, "
    "2.6 48.7, 2.3 48.5)))",
    "spatial-functions": "S_WITHIN(geometry, POLYGON((2.3 48.5, 2.6 48.5, 2.6 48.7, 2.3 48.5)))"
    " OR S_DISJOINT(geometry, POINT(2.5 48.6))",
}
UNDECLARED_FILTERS = {
    "property-property": "terr_surf_brute > terr_surf_brute",
    "arithmetic": "terr_surf_brute * 2 > 10",
    "temporal-functions": "T_AFTER(terr_actu_date, DATE('2020-01-01'))",
    "functions": "upper(terr_stade_comm) = 'X'",
}


def test_the_declared_filter_classes_are_answered(served):
    declared = set(served.client.get("/conformance").json()["conformsTo"])
    items = "/collections/activity-plots/items"
    for name, text in DECLARED_FILTERS.items():
        assert CQL2 + name in declared, name
        response = served.get(Tier.PUBLIC, items, params={"filter": text, "limit": "1"})
        assert response.status_code == 200, (name, response.text)
    for name, text in UNDECLARED_FILTERS.items():
        assert CQL2 + name not in declared, name
        response = served.get(Tier.PUBLIC, items, params={"filter": text, "limit": "1"})
        assert response.status_code == 400, (name, response.text)
    as_json = '{"op": "=", "args": [{"property": "terr_stade_comm"}, "en vente"]}'
    response = served.get(
        Tier.PUBLIC, items, params={"filter": as_json, "filter-lang": "cql2-json"}
    )
    assert response.status_code == 200 and response.json()["numberMatched"] > 0
