"""The OpenAPI browser works offline and under the pages' CSP: every script, style and icon comes
from this server, and no script is inline."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.settings import Settings, StoreSettings


def _client(tmp_path) -> TestClient:
    settings = Settings(store=StoreSettings(data_dir=tmp_path / "data", database_url=None))
    return TestClient(create_app(settings))


def test_api_browser_loads_nothing_from_another_origin(tmp_path) -> None:
    with _client(tmp_path) as client:
        page = client.get("/api.html")
        assert page.status_code == 200
        links = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        assert links and all(link.startswith("/static/") for link in links), links
        assert "cdn" not in page.text.lower()
        for link in links:
            assert client.get(link).status_code == 200, link
        assert 'data-openapi-url="/api"' in page.text


def test_api_browser_runs_no_inline_script(tmp_path) -> None:
    with _client(tmp_path) as client:
        page = client.get("/api.html")
        policy = dict(
            d.strip().split(" ", 1) for d in page.headers["Content-Security-Policy"].split(";")
        )
        assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, flags=re.S)
        assert len(scripts) == 2
        for attributes, body in scripts:
            assert 'src="/static/' in attributes and not body.strip(), (attributes, body)
        assert re.search(r"\son\w+=", page.text) is None  # no inline event handler either
        init = client.get("/static/atlas/swagger-init.js")
        assert init.status_code == 200 and "javascript" in init.headers["content-type"]
        # The init script starts Swagger UI on the page's element and document URL, and sends
        # the key given through "Authorize" when it fetches the (per-tier) document.
        assert "SwaggerUIBundle(" in init.text and "data-openapi-url" in init.text
        assert "request.loadSpec" in init.text and "specActions.download()" in init.text
