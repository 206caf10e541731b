"""The portal's site-selection and extract pages over the served demo, on both stores: the form in
French and English for partners and staff, criteria round-tripping through the URL, results equal
to ``/site-selection``'s for the same criteria, the result map, CSRF and Origin on the forms that
start jobs, a job from the form to its zip, and nothing for the public."""

from __future__ import annotations

import io
import json
import re
import zipfile
from html import unescape
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from atlas.policy.tiers import Tier
from tests.api.test_signin import BROWSER, ORIGIN, browser, csrf_of, key_of, sign_in
from tests.maps.embedded import geojson_documents
from tests.policy import html_text

HTML = {"Accept": BROWSER}
# Criteria every tier may use, in the form's spelling; the water ones are partners' and staff's.
CRITERIA = [
    ("min_area_ha", "0.5"),
    ("vocations", "industrielle"),
    ("vocations", "mixte"),
    ("exclude_flood_classes", "3"),
    ("exclude_flood_classes", "4"),
    ("max_slope_pct", "8"),
    ("max_motorway_km", "6"),
]
WATER = [("water_min_dn", "150"), ("water_max_distance_m", "200")]
ROW = re.compile(r'<tr data-terr-id="([^"]+)" class="(passes|fails)">')


def signed_in(served, tier: Tier) -> TestClient:
    """A browser with a session of ``tier`` (signed in with the demo's key, as people do)."""
    client = browser(served)
    assert sign_in(client, key_of(served, tier)).status_code == 303
    return client


def get(served, tier: Tier, path: str, params=None, **headers: str):
    """GET a page as ``tier`` (its key), as a browser asks (Accept: HTML first)."""
    return served.client.get(path, params=params, headers=served.headers[tier] | HTML | headers)


def _rows(page: str) -> list[tuple[str, bool]]:
    return [(terr_id, kind == "passes") for terr_id, kind in ROW.findall(page)]


def _api(served, tier: Tier, params) -> dict:
    response = served.get(tier, "/site-selection", params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("tier", [Tier.B2B, Tier.INTERNAL], ids=lambda t: t.value)
@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("fr", ("Sélection de sites", "Surface minimale (ha)", "Chercher", "Vocation du parc")),
        ("en", ("Site selection", "Smallest area (ha)", "Search", "Vocation of the park")),
    ],
)
def test_the_form_in_french_and_english(served, tier: Tier, lang: str, words) -> None:
    page = get(served, tier, "/selection", params={"lang": lang})
    assert page.status_code == 200 and f'<html lang="{lang}">' in page.text
    for word in words:
        assert word in unescape(page.text), word
    water = 'name="water_min_dn"' in page.text
    assert water  # partners and staff have the water indicators, so the water criteria
    english = get(served, tier, "/selection", **{"Accept-Language": "en-GB,en"})
    assert "Smallest area (ha)" in english.text
    vary = {v.strip().lower() for v in english.headers["vary"].split(",")}
    assert {"accept-language", "authorization", "cookie"} <= vary


def test_criteria_round_trip_through_the_url(served) -> None:
    """The page's URL is the search: opening it fills the form with the criteria and shows the
    result of exactly those criteria (its permalink and its GeoJSON link say them again)."""
    page = get(served, Tier.B2B, "/selection", params=[*CRITERIA, *WATER, ("lang", "en")]).text
    assert re.search(r'name="min_area_ha"[^>]*value="0.5"', page)
    assert re.search(r'name="water_min_dn"[^>]*value="150"', page)
    for value in ("industrielle", "mixte"):
        assert re.search(rf'name="vocations" value="{value}" checked', page), value
    assert re.search(r'name="vocations" value="commerciale">', page)  # not asked: not ticked
    assert re.search(r'name="exclude_flood_classes" value="4" checked', page)
    permalink = unescape(re.search(r'id="permalink" href="([^"]+)"', page).group(1))
    again = get(served, Tier.B2B, urlsplit(permalink).path + "?" + urlsplit(permalink).query)
    assert _rows(again.text) == _rows(page)
    geojson = unescape(re.search(r'id="geojson" href="([^"]+)"', page).group(1))
    api = get(served, Tier.B2B, urlsplit(geojson).path + "?" + urlsplit(geojson).query).json()
    assert api["criteria"]["vocations"] == ["industrielle", "mixte"]
    assert api["criteria"]["water_min_dn"] == 150


@pytest.mark.parametrize("tier", [Tier.B2B, Tier.INTERNAL], ids=lambda t: t.value)
def test_results_are_the_apis_for_the_same_criteria(served, tier: Tier) -> None:
    """Table and map hold the plots ``/site-selection`` ranks, in its order, with its verdicts."""
    params = [*CRITERIA, *WATER]
    api = _api(served, tier, params)
    expected = [(f["id"], f["properties"]["passed"]) for f in api["features"]]
    assert expected and any(p for _, p in expected) and not all(p for _, p in expected)
    page = get(served, tier, "/selection", params=params)
    assert page.status_code == 200
    assert _rows(page.text) == expected
    summary = f"{api['numberPassing']} terrains remplissent tous les critères sur "
    assert summary + f"{api['numberEvaluated']} évalués" in unescape(page.text)
    (drawn,) = [d for d in html_text.documents(page.text) if d.get("type") == "FeatureCollection"]
    assert [f["properties"]["terr_id"] for f in drawn["features"]] == [t for t, _ in expected]
    hrefs = {f["properties"]["href"] for f in drawn["features"]}
    assert hrefs == {f"http://testserver/plots/{t}" for t, _ in expected}
    for terr_id, _ in expected[:3]:
        assert f'href="http://testserver/plots/{terr_id}' in page.text  # the table links sheets
    if tier is Tier.B2B:
        assert "terr_acquereur" not in page.text and "Acquéreur" not in page.text


def test_a_refused_criterion_says_what_was_wrong(served) -> None:
    page = get(served, Tier.B2B, "/selection", params={"min_area_ha": "-1"})
    assert page.status_code == 400
    assert "min_area_ha: Input should be greater than or equal to 0" in unescape(page.text)
    assert 'data-terr-id="' not in page.text
    assert re.search(r'name="min_area_ha"[^>]*value="-1"', page.text)  # the form as typed


def test_the_public_gets_the_invitation_and_no_result(served) -> None:
    page = get(served, Tier.PUBLIC, "/selection", params=CRITERIA)
    assert page.status_code == 200
    assert "réservée aux partenaires" in unescape(page.text)
    assert "/signin?next=" in page.text
    assert 'data-terr-id="' not in page.text and "atlas-selection" not in page.text
    for path in ("/exports", "/exports/x", "/maps/b2b/selection", "/maps/public/selection"):
        assert get(served, Tier.PUBLIC, path).status_code == 404
    refused = served.client.post("/selection/extract", data={"query": ""}, headers=ORIGIN)
    assert refused.status_code == 404


def test_the_result_on_the_tiers_map(served) -> None:
    """The b2b map with the result as a layer: the same plots, green when they pass."""
    params = [*CRITERIA, *WATER]
    api = _api(served, Tier.B2B, params)
    page = get(served, Tier.B2B, "/maps/b2b/selection", params=[*params, ("lang", "fr")])
    assert page.status_code == 200
    # The layer control's names are written by json.dumps: non-ASCII letters as \\u escapes.
    name = json.dumps("Résultat de la sélection de sites")
    assert name in page.text
    # The control names the layer's variable: it must be defined before the control's script.
    variable = re.search(re.escape(name) + r"\s*:\s*(\w+)", page.text).group(1)
    assert page.text.index(f"var {variable} = ") < page.text.index("L.control.layers(")
    assert "sha256-" in page.headers["content-security-policy"]
    assert "/static/atlas/permalink.js" in page.text
    layers = [
        d
        for d in geojson_documents(page.text)
        if d["features"] and "rank" in d["features"][0]["properties"]
    ]
    assert len(layers) == 1
    drawn = {f["properties"]["terr_id"]: f["properties"]["passed"] for f in layers[0]["features"]}
    assert drawn == {f["id"]: f["properties"]["passed"] for f in api["features"]}
    assert "terr_m2_prix" in page.text  # the partners' map underneath: prices
    link = re.search(r'id="open-map" href="([^"]+)"', get(served, Tier.B2B, "/selection").text)
    assert urlsplit(unescape(link.group(1))).path == "/maps/b2b/selection"
    assert get(served, Tier.INTERNAL, "/maps/b2b/selection").status_code == 200  # staff hold b2b
    assert get(served, Tier.B2B, "/maps/internal/selection").status_code == 404


def test_extract_forms_need_the_sessions_token_and_our_origin(served) -> None:
    client = signed_in(served, Tier.INTERNAL)
    page = client.get("/selection", params=CRITERIA).text
    token = csrf_of(page, "/selection/extract")
    query = unescape(re.search(r'name="query" value="([^"]*)"', page).group(1))
    form = {"csrf": token, "query": query, "format": "geojson"}
    for data, headers, words in [
        ({**form, "csrf": ""}, ORIGIN, "CSRF token is missing or wrong"),
        ({**form, "csrf": token[::-1]}, ORIGIN, "CSRF token is missing or wrong"),
        (form, {"Origin": "https://evil.example"}, "another origin"),
    ]:
        refused = client.post("/selection/extract", data=data, headers=headers)
        assert refused.status_code == 403, refused.text
        assert words in refused.json()["description"]
    exports = client.get("/exports").text
    bare = {"csrf": "", "collections": "services"}
    refused = client.post("/exports", data=bare, headers=ORIGIN)
    assert refused.status_code == 403 and "CSRF" in refused.json()["description"]
    # A bearer key is no session: the forms are for signed-in browsers only.
    keyed = served.client.post(
        "/exports",
        data={**bare, "csrf": csrf_of(exports, "/exports")},
        headers=ORIGIN | served.headers[Tier.INTERNAL],
    )
    assert keyed.status_code == 403


def _finish(client: TestClient, served, response) -> tuple[str, str]:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    job_id = urlsplit(location).path.rsplit("/", 1)[1]
    served.client.app.state.extracts.wait(job_id, timeout=300)
    status = client.get(urlsplit(location).path, params={"lang": "en"})
    assert status.status_code == 200 and 'data-status="successful"' in status.text
    download = unescape(re.search(r'id="download"[^>]*href="([^"]+)"', status.text).group(1))
    return job_id, urlsplit(download).path


def test_the_selections_extract_holds_the_passing_plots(served) -> None:
    client = signed_in(served, Tier.B2B)
    api = _api(served, Tier.B2B, CRITERIA)
    passing = sorted(f["id"] for f in api["features"] if f["properties"]["passed"])
    page = client.get("/selection", params=CRITERIA).text
    query = unescape(re.search(r'name="query" value="([^"]*)"', page).group(1))
    form = {"csrf": csrf_of(page, "/selection/extract"), "query": query, "format": "geojson"}
    started = client.post("/selection/extract", data=form, headers=ORIGIN, follow_redirects=False)
    job_id, download = _finish(client, served, started)
    archive = client.get(download)
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".geojson")]
        features = json.loads(z.read(name))["features"]
    assert sorted(f["properties"]["terr_id"] for f in features) == passing
    # Another signed-in browser (staff, even) gets the job's page as an unknown one.
    other = signed_in(served, Tier.INTERNAL)
    assert other.get(f"/exports/{job_id}").status_code == 404


def test_the_staffs_extracts_page_from_layers_to_zip(served) -> None:
    assert get(served, Tier.B2B, "/exports").status_code == 404  # partners: no such page
    client = signed_in(served, Tier.INTERNAL)
    page = client.get("/exports", params={"lang": "en"})
    assert page.status_code == 200 and "Extracts" in page.text
    offered = set(re.findall(r'name="collections" value="([^"]+)"', page.text))
    listed = served.get(Tier.INTERNAL, "/collections").json()["collections"]
    staff = {c["id"] for c in listed if c.get("itemType") == "feature"}  # rasters: no extract
    assert offered == staff and "water-pipes" in offered
    assert "Lambert-93 (EPSG:2154)" in page.text and "GeoPackage" in page.text
    body = [
        ("csrf", csrf_of(page.text, "/exports")),
        ("collections", "services"),
        ("collections", "heritage-monuments"),
        ("format", "csv"),
        ("crs", "http://www.opengis.net/def/crs/EPSG/0/3949"),
        ("csv_geometry", "xy"),
        ("commune", ""),
    ]
    started = client.post(
        "/exports",
        content="&".join(f"{k}={v}" for k, v in body),
        headers=ORIGIN | {"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    _, download = _finish(client, served, started)
    with zipfile.ZipFile(io.BytesIO(client.get(download).content)) as z:
        names = z.namelist()
        metadata = z.read("metadata.json").decode()
    assert {"services.csv", "heritage_monuments.csv"} <= {n.rsplit("/", 1)[-1] for n in names}
    assert "3949" in metadata
    empty = client.post("/exports", data={"csrf": csrf_of(page.text, "/exports")}, headers=ORIGIN)
    assert empty.status_code == 400 and "tick at least one layer" in empty.json()["description"]
