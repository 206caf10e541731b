"""The OpenAPI browser works offline: every script, style and icon comes from this server."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.settings import Settings, StoreSettings


def test_api_browser_loads_nothing_from_another_origin(tmp_path) -> None:
    settings = Settings(store=StoreSettings(data_dir=tmp_path / "data", database_url=None))
    with TestClient(create_app(settings)) as client:
        page = client.get("/api.html")
        assert page.status_code == 200
        links = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        assert links and all(link.startswith("/static/") for link in links), links
        assert "cdn" not in page.text.lower()
        for link in links:
            assert client.get(link).status_code == 200, link
        assert "url: '/api'" in page.text
