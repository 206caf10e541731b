"""The API writes the audit log through ``atlas.api.audit`` and exposes no way to reach it."""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.api.audit import audit, bbox_wkt, request_id
from atlas.audit.embedded import EmbeddedAuditLog
from atlas.policy.tiers import Principal, Tier
from atlas.settings import Settings, StoreSettings
from atlas.types import BBox

EVER = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def test_openapi_has_no_audit_path(tmp_path):
    app = create_app(Settings(store=StoreSettings(data_dir=tmp_path, database_url=None)))
    paths = list(app.openapi()["paths"])
    assert paths and not [p for p in paths if "audit" in p.lower()]
    routes = [getattr(route, "path", "") for route in app.routes]  # hidden routes too
    assert not [p for p in routes if "audit" in p.lower()]


def test_lifespan_opens_the_log_and_the_helper_appends(tmp_path):
    app = create_app(Settings(store=StoreSettings(data_dir=tmp_path, database_url=None)))
    staff = Principal(tier=Tier.INTERNAL, key_id="k1", name="régie")

    @app.get("/probe", include_in_schema=False)  # a stand-in for an audited router
    def probe(request: Request, preset: str = "") -> dict[str, str]:
        if preset:
            request.state.request_id = preset
        audit(
            request,
            action="read",
            collection_id="water-pipes",
            feature_count=12,
            area=bbox_wkt(BBox(650000, 6850000, 651000, 6851000)),
            detail="fields: geometry",
            principal=staff,
        )
        return {"requestId": request_id(request)}

    with TestClient(app) as client:
        assert isinstance(app.state.audit, EmbeddedAuditLog)
        generated = client.get("/probe").json()["requestId"]
        assert client.get("/probe", params={"preset": "abc123"}).json()["requestId"] == "abc123"
        records = list(app.state.audit.since(EVER))
    assert [r.request_id for r in records] == [generated, "abc123"]
    assert len(generated) == 32
    first = records[0]
    assert (first.who, first.tier, first.collection_id, first.feature_count) == (
        "key:k1 (régie)",
        "internal",
        "water-pipes",
        12,
    )
    assert first.area == (
        "POLYGON((650000 6850000,651000 6850000,651000 6851000,650000 6851000,650000 6850000))"
    )
    assert (tmp_path / "audit" / "audit.sqlite").exists()
