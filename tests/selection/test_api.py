"""``/site-selection``: ranking, GET and POST alike, the shareable URL, the extract body, errors."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import shapely
from shapely.geometry import shape

from atlas.policy.tiers import Tier
from tests.selection.oracle import Oracle, features_by_id, without_time

URL = "/site-selection"
FULL = {
    "min_area_ha": 1,
    "vocations": ["industrielle", "mixte"],
    "on_market": True,
    "water_min_dn": 100,
    "water_max_distance_m": 150,
    "outside_heritage": True,
    "exclude_flood_classes": [3, 4],
    "max_slope_pct": 3,
    "max_motorway_km": 4,
    "max_station_km": 4,
}


def post(served, tier: Tier, body: object, **params):
    """POST a search as ``tier``."""
    return served.client.post(URL, json=body, params=params, headers=served.headers[tier])


def test_ranking(served) -> None:
    """Passing plots first, then fewer failures, then a higher score; ranks 1..n."""
    document = post(served, Tier.INTERNAL, {**FULL, "limit": 1000}).json()
    features = [f["properties"] for f in document["features"]]
    assert [p["rank"] for p in features] == list(range(1, len(features) + 1))
    keys = [(p["failed"], -p["score"], p["terr_id"]) for p in features]
    assert keys == sorted(keys)
    for p in features:
        failed = sum(not v["ok"] for v in p["criteria"])
        assert p["failed"] == failed and p["passed"] is (failed == 0)
        scores = [v["score"] for v in p["criteria"]]
        assert p["score"] == pytest.approx(sum(scores) / len(scores), abs=0.002)
        assert [v["criterion"] for v in p["criteria"]] == [
            "area", "vocation", "on_market", "water", "heritage", "flood", "slope", "motorway",
            "station",
        ]  # fmt: skip
        for v in p["criteria"]:
            assert (0.5 <= v["score"] <= 1) if v["ok"] else (0 <= v["score"] <= 0.5)
    assert document["numberPassing"] == sum(p["passed"] for p in features)


def test_get_and_post_give_the_same_result(served) -> None:
    """The self link is the shareable GET URL; following it gives the POST's answer."""
    for tier in Tier:
        body = dict(FULL) if tier != Tier.PUBLIC else {
            k: v for k, v in FULL.items() if not k.startswith("water")
        }  # fmt: skip
        posted = post(served, tier, body, crs="EPSG:2154")
        assert posted.status_code == 200, posted.text
        self_link = next(link for link in posted.json()["links"] if link["rel"] == "self")
        href = urlsplit(self_link["href"])
        assert href.path == URL
        got = served.get(tier, f"{href.path}?{href.query}")
        assert got.status_code == 200
        assert got.headers["content-crs"] == posted.headers["content-crs"]
        assert without_time(got.json()) == without_time(posted.json())


def test_geometry_in_the_requested_crs(served, oracle: Oracle) -> None:
    """crs like the items: Lambert-93 coordinates are the source plots'."""
    document = post(served, Tier.INTERNAL, {"limit": 5}, crs="EPSG:2154").json()
    for terr_id, feature in features_by_id(document).items():
        got = shape(feature["geometry"])
        assert shapely.equals_exact(got, oracle.plots.loc[terr_id, "geometry"], tolerance=0.01)
    lonlat = post(served, Tier.INTERNAL, {"limit": 5}).json()
    x, y = shape(lonlat["features"][0]["geometry"]).centroid.coords[0]
    assert 2 < x < 3 and 48 < y < 49


def test_limit_and_only_passing(served) -> None:
    """limit keeps the best plots; only_passing keeps the plots meeting every criterion."""
    every = post(served, Tier.INTERNAL, {"outside_heritage": True, "limit": 1000}).json()
    top = post(served, Tier.INTERNAL, {"outside_heritage": True, "limit": 3}).json()
    assert top["features"] == every["features"][:3]
    passing = post(served, Tier.INTERNAL, {"outside_heritage": True, "only_passing": True}).json()
    assert all(f["properties"]["passed"] for f in passing["features"])
    assert passing["numberMatched"] == every["numberPassing"] == len(passing["features"])


def test_extract_body_names_the_passing_plots(served) -> None:
    """The extract link carries a POST /extracts body: the passing plots' ids as a CQL2 filter."""
    document = post(served, Tier.B2B, {"outside_heritage": True, "limit": 1000}).json()
    link = next(link for link in document["links"] if link["rel"] == "extract")
    assert link["method"] == "POST" and link["href"].endswith("/extracts")
    passing = [f["id"] for f in document["features"] if f["properties"]["passed"]]
    assert passing
    assert link["body"]["collections"] == ["activity-plots"]
    assert link["body"]["filter-lang"] == "cql2-json"
    assert link["body"]["filter"] == {"op": "in", "args": [{"property": "terr_id"}, passing]}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_area_ha": "-1"}, "min_area_ha: Input should be greater than or equal to 0 (got '-1')"),
        (
            {"exclude_flood_classes": "9"},
            "exclude_flood_classes: unknown hazard class 9; the classes are 0 nul, 1 faible, "
            "2 moyen, 3 fort, 4 très fort",
        ),
        ({"max_slope_pct": "400"}, "max_slope_pct: Input should be less than or equal to 100 (got '400')"),
        ({"min_area_ha": "5", "max_area_ha": "2"}, "min_area_ha (5.0) is larger than max_area_ha (2.0)"),
        ({"max_motorway_km": "x"}, "max_motorway_km: Input should be a valid number, unable to parse string as a number (got 'x')"),
        ({"on_market": "maybe"}, "on_market: Input should be a valid boolean, unable to interpret input (got 'maybe')"),
        ({"min_area": "1"}, "unknown field 'min_area'"),
        ({"limit": "0"}, "limit: Input should be greater than or equal to 1 (got '0')"),
    ],
)  # fmt: skip
def test_bad_input_is_a_precise_400(served, params: dict, message: str) -> None:
    """Wrong criteria: 400 naming the parameter and what was wrong, by GET and POST alike."""
    got = served.get(Tier.INTERNAL, URL, params=params)
    assert got.status_code == 400
    assert got.json() == {"code": "InvalidParameterValue", "description": message}
    posted = post(served, Tier.INTERNAL, params)
    assert posted.status_code == 400 and posted.json()["description"] == message


def test_bad_bodies(served) -> None:
    """A vocation out of the code list, a body that is not an object, broken JSON."""
    unknown = post(served, Tier.INTERNAL, {"vocations": ["chantier"]}).json()["description"]
    assert unknown.startswith("vocations: unknown vocation 'chantier'; one of: industrielle;")
    assert post(served, Tier.INTERNAL, [1, 2]).json()["description"] == (
        "the criteria must be a JSON object"
    )
    broken = served.client.post(
        URL,
        content=b"{",
        headers={**served.headers[Tier.INTERNAL], "content-type": "application/json"},
    )
    assert broken.status_code == 400
    assert broken.json()["description"].startswith("the body is not valid JSON: ")
    twice = served.get(Tier.INTERNAL, f"{URL}?max_slope_pct=2&max_slope_pct=3")
    assert twice.json()["description"] == "max_slope_pct: given more than once"
    assert served.get(Tier.INTERNAL, URL, params={"crs": "EPSG:9999"}).status_code == 400


def test_openapi_documents_each_criterion_once(served) -> None:
    """GET declares every criterion as a query parameter; POST the same model as its body."""
    document = served.client.get("/api").json()
    operation = document["paths"][URL]
    names = [p["name"] for p in operation["get"]["parameters"]]
    assert len(names) == len(set(names))
    body = operation["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(names) - {"crs"} == set(body["properties"])
    assert operation["get"]["operationId"] == "getSiteSelection"


def test_post_extracts_takes_the_extract_body(served) -> None:
    """Sent to POST /extracts (dry run), the body counts exactly the passing plots."""
    openapi = served.client.get("/api").json()
    body = openapi["paths"].get("/extracts", {}).get("post", {}).get("requestBody", {})
    ref = body.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
    request = openapi.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {})
    if "filter" not in request.get("properties", {}):
        pytest.skip("POST /extracts takes no CQL2 filter yet (atlas/extracts/request.py)")
    document = post(served, Tier.B2B, {"outside_heritage": True, "limit": 1000}).json()
    link = next(link for link in document["links"] if link["rel"] == "extract")
    passing = [f["id"] for f in document["features"] if f["properties"]["passed"]]
    response = served.client.post(
        "/extracts", params={"dry_run": "true"}, json=link["body"], headers=served.headers[Tier.B2B]
    )
    assert response.status_code == 200, response.text
    assert response.json()["estimate"]["collections"] == {"activity-plots": len(passing)}
