"""Hardening headers (``atlas.api.security_headers``): every HTML answer of every GET route has the
pages' Content-Security-Policy, every other answer the deny-all one, all of them nosniff, no
referrer and no framing. Over the served demo on both stores, as a browser and as a client."""

from __future__ import annotations

import re
from collections.abc import Iterator

import morecantile
from fastapi.routing import APIRoute

from atlas.api.security_headers import API_CSP, HEADERS, PAGE_CSP
from atlas.layers import catalog
from atlas.policy.tiers import Tier

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def _directives(policy: str) -> dict[str, str]:
    return dict((d.strip().split(" ", 1) + [""])[:2] for d in policy.split(";") if d.strip())


def _get_routes(routes) -> Iterator[APIRoute]:
    """The GET routes, inside included routers too (FastAPI keeps those as router entries)."""
    for route in routes:
        if isinstance(route, APIRoute) and "GET" in route.methods:
            yield route
        elif hasattr(route, "original_router"):  # no prefix is used when including them
            yield from _get_routes(route.original_router.routes)


def _urls(served) -> list[str]:
    """Every GET route of the app (documented or not), each path parameter filled."""
    site = served.get(Tier.INTERNAL, "/collections/activity-sites/items", params={"limit": 1})
    plot = served.get(Tier.PUBLIC, "/collections/activity-plots/items", params={"limit": 1})
    tile = morecantile.tms.get("WebMercatorQuad").tile(2.44, 48.63, 14)
    values = {
        "featureId": site.json()["features"][0]["id"],
        "tileMatrixSetId": "WebMercatorQuad",
        "z": str(tile.z),
        "x": str(tile.x),
        "y": str(tile.y),
        "jobId": "0" * 32,
        "styleId": "atlas",
        "tier": "public",  # /maps/{tier}: a page with a policy of its own (below)
        "archive": "atlas-public-none.pmtiles",  # /pmtiles/{archive}: none exported here (404)
        "site_id": site.json()["features"][0]["id"],  # the portal's sheets
        "terr_id": plot.json()["features"][0]["id"],
    }
    urls = []
    for route in _get_routes(served.client.app.routes):
        collections = (
            [*catalog(), "no-such-collection"] if "{collectionId}" in route.path else ["-"]
        )
        for collection_id in collections:
            filled = {**values, "collectionId": collection_id}
            urls.append(re.sub(r"\{(\w+)\}", lambda m, f=filled: f[m.group(1)], route.path))
    assert {"/api", "/api.html", "/collections/{collectionId}/items"} <= {
        r.path for r in _get_routes(served.client.app.routes)
    }
    return [*urls, "/no-such-path", "/static/atlas/map.js", "/static/nope.css"]


def test_every_html_answer_of_every_get_route_has_the_csp(served):
    pages = others = 0
    for url in _urls(served):
        for tier in (Tier.PUBLIC, Tier.INTERNAL):
            for request in ({"headers": {"Accept": BROWSER}}, {"params": {"f": "html"}}, {}):
                headers = {**served.headers[tier], **request.get("headers", {})}
                response = served.client.get(url, params=request.get("params"), headers=headers)
                assert response.status_code < 500, (url, response.status_code)
                for name, value in HEADERS.items():
                    assert response.headers[name] == value, (url, name)
                policy = response.headers["Content-Security-Policy"]
                if response.headers.get("content-type", "").startswith("text/html"):
                    pages += 1
                    assert policy == PAGE_CSP or _map_policy(url, policy), url
                else:
                    others += 1
                    assert policy == API_CSP, url
    assert pages > 50 and others > 50, (pages, others)  # both kinds were really seen


def _map_policy(url: str, policy: str) -> bool:
    """A map page's policy (atlas.maps.page): the pages' one, with its inline scripts' hashes."""
    if not url.startswith("/maps/"):
        return False
    directives, page = _directives(policy), _directives(PAGE_CSP)
    scripts = directives.pop("script-src").split()
    assert scripts[0] == "'self'" and all(s.startswith("'sha256-") for s in scripts[1:]), url
    return directives == {k: v for k, v in page.items() if k != "script-src"}


def test_the_page_policy_allows_no_inline_script_and_no_other_origin():
    page = _directives(PAGE_CSP)
    assert page["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval', no host
    assert page["default-src"] == "'self'" and page["object-src"] == "'none'"
    assert page["frame-ancestors"] == "'none'" and page["base-uri"] == "'none'"
    assert "http" not in PAGE_CSP and "*" not in PAGE_CSP
    other = _directives(API_CSP)
    assert other["default-src"] == "'none'" and other["frame-ancestors"] == "'none'"


def test_pages_carry_no_inline_script(served):
    """What the policy forbids is not there to be blocked: scripts are files or JSON data."""
    for url in ["/", "/collections", "/collections/activity-sites/items", "/no-such-path"]:
        page = served.client.get(url, params={"f": "html"})
        assert page.headers["content-type"].startswith("text/html"), url
        for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S):
            assert 'src="' in attributes or 'type="application/json"' in attributes, url
            assert 'src="' not in attributes or not body.strip(), url
        assert re.search(r"\son[a-z]+=", page.text) is None, url  # no inline event handler
