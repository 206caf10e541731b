"""HTML pages (OGC API – Features Part 1, 7.8): negotiation, languages, tables, maps, errors.

Over the served demo on both stores. What each tier may see in a page is the leak matrix's
business (it draws ``f=html`` on every endpoint that has pages); here, the pages are shown to be
the JSON documents they come from, and nothing on them is fetched from another origin.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from atlas.api.negotiation import Lang, MediaType, accept_format, accept_language
from atlas.policy.tiers import Tier
from tests.policy import html_text
from tests.policy.oracle import Secrets

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
PAGES = [
    "/",
    "/conformance",
    "/collections",
    "/collections/activity-sites",
    "/collections/activity-sites/items",
    "/collections/activity-sites/queryables",
]
HTML_CLASS = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (BROWSER, MediaType.HTML),
        ("text/html", MediaType.HTML),
        ("*/*", MediaType.JSON),
        (None, MediaType.JSON),
        ("application/json", MediaType.JSON),
        ("application/geo+json, application/json", MediaType.JSON),  # GDAL's OAPIF driver
        ("application/json, text/html", MediaType.JSON),  # a tie: the first listed wins
        ("text/html;q=0.5, application/json", MediaType.JSON),
        ("application/json;q=0.2, text/html", MediaType.HTML),
        ("text/html;q=0, */*", MediaType.JSON),
        ("image/png", MediaType.JSON),
        ("text/html;q=nonsense, application/json", MediaType.JSON),
    ],
)
def test_accept_header_chooses_the_encoding(header, expected):
    assert accept_format(header) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, Lang.FR),
        ("en-GB,en;q=0.9", Lang.EN),
        ("de-DE, en;q=0.5", Lang.EN),
        ("de, it", Lang.FR),
        ("en;q=0.4, fr-FR;q=0.8", Lang.FR),
        ("*", Lang.FR),
    ],
)
def test_accept_language_chooses_the_language(header, expected):
    assert accept_language(header) is expected


def test_a_browser_gets_html_and_a_client_json(served):
    for path in PAGES:
        page = served.client.get(path, headers={"Accept": BROWSER})
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html"), path
        assert '<html lang="fr">' in page.text
        assert "Accept" in page.headers["vary"]
        for headers in ({}, {"Accept": "*/*"}, {"Accept": "application/json"}):
            document = served.client.get(path, headers=headers)
            assert "json" in document.headers["content-type"], (path, headers)
        forced = served.client.get(path, params={"f": "json"}, headers={"Accept": BROWSER})
        assert "json" in forced.headers["content-type"]
        asked = served.client.get(path, params={"f": "html"}, headers={"Accept": "*/*"})
        assert asked.headers["content-type"].startswith("text/html")


def test_pages_in_english_on_request(served):
    english = served.client.get("/collections", params={"f": "html", "lang": "en"})
    assert '<html lang="en">' in english.text and "Number of features" in english.text
    by_header = served.client.get(
        "/collections", headers={"Accept": BROWSER, "Accept-Language": "en-US,en;q=0.8"}
    )
    assert '<html lang="en">' in by_header.text
    french = served.client.get("/collections", params={"f": "html"})
    assert "Nombre d&#39;objets" in french.text
    # Links between pages keep the language that was asked.
    hrefs = [h for h in html_text.attributes(english.text) if "/collections/activity-sites" in h]
    assert hrefs and all("lang=en" in h and "f=html" in h for h in hrefs)
    unknown = served.client.get("/collections", params={"f": "html", "lang": "de"})
    assert unknown.status_code == 400 and "lang" in unknown.text


def test_items_page_is_the_json_page_as_a_table_and_a_map(served):
    params = {"limit": "7", "offset": "2"}
    document = served.get(Tier.INTERNAL, "/collections/activity-plots/items", params=params).json()
    page = served.get(
        Tier.INTERNAL, "/collections/activity-plots/items", params={**params, "f": "html"}
    )
    assert page.status_code == 200
    rows = re.findall(r"<tr><td><a href=\"[^\"]+\">([^<]+)</a></td>", page.text)
    assert rows == [f["id"] for f in document["features"]]
    headers = set(html_text.field_names(page.text))
    assert set(document["features"][0]["properties"]) <= headers
    for feature in document["features"]:
        for value in feature["properties"].values():
            if isinstance(value, str) and value:
                assert json.dumps(value, ensure_ascii=False) in html_text.searchable(page.text)
    (shown,) = html_text.documents(page.text)
    assert [f["id"] for f in shown["features"]] == [f["id"] for f in document["features"]]
    assert [f["geometry"] for f in shown["features"]] == [
        f["geometry"] for f in document["features"]
    ]
    assert 'rel="next"' in page.text and 'rel="prev"' in page.text
    next_href = re.search(r'rel="next" href="([^"]+)"', page.text).group(1)
    assert "f=html" in next_href and "offset=9" in next_href


def test_item_page_and_a_map_only_in_crs84(served):
    document = served.get(Tier.B2B, "/collections/activity-sites/items?limit=1").json()
    feature_id = document["features"][0]["id"]
    url = f"/collections/activity-sites/items/{feature_id}"
    page = served.get(Tier.B2B, url, params={"f": "html"})
    assert page.status_code == 200
    assert 'id="map"' in page.text
    single = served.get(Tier.B2B, url).json()
    searchable = html_text.searchable(page.text)
    for name, value in single["properties"].items():
        assert json.dumps(name) in searchable
        if isinstance(value, str) and value:
            assert json.dumps(value, ensure_ascii=False) in searchable
    lambert = served.get(Tier.B2B, url, params={"f": "html", "crs": "EPSG:2154"})
    assert lambert.status_code == 200 and 'id="map"' not in lambert.text
    assert lambert.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/2154>"


def test_nothing_on_a_page_comes_from_another_origin(served):
    for path in [*PAGES, "/collections/activity-sites/items?limit=3"]:
        page = served.client.get(path, headers={"Accept": BROWSER})
        policy = page.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "http" not in policy  # no other origin is allowed anything
        for src in re.findall(r'(?:src|href)="([^"]+)"', page.text):
            if src.startswith("http://www.opengis.net/spec/"):
                continue  # conformance class URIs: links a reader may follow, nothing loaded
            assert src.startswith("http://testserver/"), (path, src)
    for name in ("vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css", "atlas/map.js"):
        asset = served.client.get(f"/static/{name}")
        assert asset.status_code == 200, name
    assert "Leaflet 1.9.4" in served.client.get("/static/vendor/leaflet/leaflet.js").text
    assert served.client.get("/static/vendor/leaflet/LICENSE").status_code == 200


def test_errors_are_pages_with_the_json_error_text(served):
    cases = [
        ("/collections/no-such-collection", {}, 404),
        ("/collections/water-pipes/items", {}, 404),  # hidden from the public: like unknown
        ("/collections/activity-sites/items", {"bbox": "3,3,1,1"}, 400),
        ("/collections/activity-sites/items", {"limit": "x"}, 400),
        ("/collections/activity-sites/items/nope", {}, 404),
    ]
    for path, params, status in cases:
        document = served.client.get(path, params=params)
        page = served.client.get(path, params={**params, "f": "html"})
        assert document.status_code == page.status_code == status, (path, params)
        assert page.headers["content-type"].startswith("text/html")
        description = document.json().get("description") or document.json()["detail"]
        assert json.dumps(description) in html_text.searchable(page.text), path


def test_values_are_escaped(served):
    hostile = "<img src=x onerror=alert(1)>"
    page = served.client.get(f"/collections/activity-sites/items/{hostile}", params={"f": "html"})
    assert page.status_code == 404
    assert "<img" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text


def test_json_documents_link_their_html_pages(served):
    landing = served.client.get("/").json()
    rels = {(link["rel"], link["type"]) for link in landing["links"]}
    assert ("alternate", "text/html") in rels
    assert ("service-desc", "application/vnd.oai.openapi+json;version=3.0") in rels
    assert HTML_CLASS in served.client.get("/conformance").json()["conformsTo"]
    for path in PAGES[2:5]:
        links = served.client.get(path, params={"f": "json"}).json()["links"]
        (alternate,) = [link for link in links if link["rel"] == "alternate"]
        assert alternate["type"] == "text/html"
        assert "f=html" in alternate["href"] and "f=json" not in alternate["href"]
        assert served.client.get(alternate["href"]).headers["content-type"].startswith("text/html")


def test_openapi_declares_the_encodings(served):
    document = served.client.get("/api").json()
    for path in ("/", "/collections", "/collections/{collectionId}/items/{featureId}"):
        operation = document["paths"][path]["get"]
        assert "text/html" in operation["responses"]["200"]["content"], path
        (f,) = [p for p in operation["parameters"] if p["name"] == "f"]
        assert {"$ref": "#/components/schemas/MediaType"} in f["schema"]["anyOf"]
    assert document["components"]["schemas"]["MediaType"]["enum"] == ["json", "html"]


def test_the_leak_matrix_reads_html_bodies(served):
    """The matrix's checks catch a forbidden value in a table cell and a hidden field header."""
    from tests.policy.test_leak_matrix import check_response

    secrets = Secrets(served.sources)
    owner = next(o for o in secrets.owners if len(o) >= 8)
    leaky = SimpleNamespace(
        status_code=200,
        headers={"content-type": "text/html; charset=utf-8"},
        content=f"<table><tr><th>x</th></tr><tr><td>{owner}</td></tr></table>".encode(),
        text="",
    )
    leaky.text = leaky.content.decode()
    with pytest.raises(AssertionError, match="received"):
        check_response(leaky, Tier.PUBLIC, "/x", secrets)
    header = "<table><tr><th>terr_acquereur</th></tr></table>"
    leaky.content, leaky.text = header.encode(), header
    with pytest.raises(AssertionError, match="terr_acquereur"):
        check_response(leaky, Tier.PUBLIC, "/x", secrets)
