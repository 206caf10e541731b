"""The API reaches the audit log only through the policy gate and exposes no way to read it."""

from __future__ import annotations

import ast

from fastapi import Request
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.api.audit import request_id
from atlas.audit.embedded import EmbeddedAuditLog
from atlas.audit.record import bbox_wkt
from atlas.settings import Settings, StoreSettings
from atlas.types import BBox
from tests.helpers import REPO


def test_openapi_has_no_audit_path(tmp_path):
    app = create_app(Settings(store=StoreSettings(data_dir=tmp_path, database_url=None)))
    paths = list(app.openapi()["paths"])
    assert paths and not [p for p in paths if "audit" in p.lower()]
    routes = [getattr(route, "path", "") for route in app.routes]  # hidden routes too
    assert not [p for p in routes if "audit" in p.lower()]


def _record_writers() -> set[str]:
    """Modules outside atlas/audit that build an AuditRecord (those are the log's writers)."""
    writers = set()
    for path in (REPO / "atlas").rglob("*.py"):
        relative = path.relative_to(REPO).as_posix()
        if relative.startswith("atlas/audit/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name == "AuditRecord":
                    writers.add(relative)
    return writers


def test_the_gate_is_the_one_writer_of_the_log():
    assert _record_writers() == {"atlas/policy/gate.py"}


def test_the_lifespan_hands_its_log_to_the_gate_and_request_ids_are_kept(tmp_path):
    app = create_app(Settings(store=StoreSettings(data_dir=tmp_path, database_url=None)))

    @app.get("/probe", include_in_schema=False)
    def probe(request: Request, preset: str = "") -> dict[str, str]:
        if preset:
            request.state.request_id = preset
        return {"requestId": request_id(request), "again": request_id(request)}

    with TestClient(app) as client:
        assert isinstance(app.state.audit, EmbeddedAuditLog)
        assert app.state.policy.audit is app.state.audit  # one log, written by the gate
        answer = client.get("/probe")
        body = answer.json()
        preset = client.get("/probe", params={"preset": "abc123"}).json()
    # The middleware's id (sent back as X-Request-Id) is the one the gate's records carry.
    assert body["requestId"] == body["again"] == answer.headers["x-request-id"]
    assert preset["requestId"] == "abc123"
    assert (tmp_path / "audit" / "audit.sqlite").exists()


def test_bbox_wkt_is_a_closed_polygon():
    assert bbox_wkt(BBox(650000, 6850000, 651000, 6851000)) == (
        "POLYGON((650000 6850000,651000 6850000,651000 6851000,650000 6851000,650000 6850000))"
    )
