"""The OpenAPI document per tier (``atlas.api.openapi``): what a caller may call, errors modelled.

What each tier's document must never name is the leak matrix's business
(``tests/policy/test_leak_matrix.py``); here, the document is shown to follow the caller's key,
to stay whole (every reference resolves, nothing unused is left) and to model the error bodies
the API really sends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace

import jsonschema
import pytest
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.policy.tiers import Tier
from atlas.settings import Settings, StoreSettings

INVENTORY = "/inventory/export"


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """An app with a key per tier; the document depends on routes and keys, not on data."""
    settings = Settings(store=StoreSettings(data_dir=tmp_path_factory.mktemp("openapi") / "data"))
    settings.limits.enabled = False
    app = create_app(settings)
    with TestClient(app) as client:
        headers: dict[Tier, dict[str, str]] = {Tier.PUBLIC: {}}
        for tier in (Tier.B2B, Tier.INTERNAL):
            _, key = app.state.keys.create(tier=tier, name=f"openapi tests {tier}")
            headers[tier] = {"Authorization": f"Bearer {key}"}
        yield SimpleNamespace(
            client=client,
            get=lambda tier, url, **kw: client.get(url, headers=headers[tier], **kw),
        )


def _operations(document: dict):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
def test_each_tier_gets_the_operations_it_may_call(served, tier):
    response = served.get(tier, "/api")
    assert response.status_code == 200
    assert "Authorization" in response.headers["vary"]
    if tier != Tier.PUBLIC:
        assert response.headers["cache-control"] == "private, no-store"
    document = response.json()
    assert (INVENTORY in document["paths"]) is (tier == Tier.INTERNAL)
    # Everything else is callable by every tier: the same paths and operation ids.
    internal = served.get(Tier.INTERNAL, "/api").json()
    ids = {o["operationId"] for _, _, o in _operations(document)}
    internal_ids = {o["operationId"] for _, _, o in _operations(internal)}
    assert internal_ids - ids == (set() if tier == Tier.INTERNAL else {"getInventoryExport"})
    # What the tier cannot call answers it like an unknown path (the staff: an empty store).
    called = served.get(tier, INVENTORY)
    unknown = served.get(tier, "/inventory/exporz")
    assert (called.content == unknown.content) is (tier != Tier.INTERNAL), called.text


def test_a_bad_key_gets_no_document(served):
    response = served.client.get("/api", headers={"Authorization": "Bearer atlas_nope"})
    assert response.status_code == 401 and response.json()["code"] == "Unauthorized"


def _refs(node) -> set[str]:
    return {part.split('"', 1)[0] for part in json.dumps(node).split('"#/components/schemas/')[1:]}


@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
def test_the_document_is_whole(served, tier):
    document = served.get(tier, "/api").json()
    schemas = document["components"]["schemas"]
    reached: set[str] = set()
    pending = _refs({k: v for k, v in document.items() if k != "components"})
    while pending:
        name = pending.pop()
        assert name in schemas, name  # every reference resolves
        if name not in reached:
            reached.add(name)
            pending |= _refs(schemas[name])
    assert set(schemas) == reached  # and no schema is left that nothing uses
    assert ("x-atlas-tiers" in json.dumps(document)) is (tier == Tier.INTERNAL)


@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
def test_every_operation_documents_its_errors(served, tier):
    document = served.get(tier, "/api").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        assert "422" not in responses, (path, method)  # invalid input is a 400 here
        for status in ("400", "404", "5XX", *(("401", "429") if "security" in operation else ())):
            content = responses[status]["content"]
            assert content["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }, (path, method, status)
            assert "text/html" in content


def test_the_error_schema_validates_the_bodies_the_api_sends(served):
    schema = served.client.get("/api").json()["components"]["schemas"]["Error"]
    bodies = [
        served.client.get("/no-such-path"),
        served.client.get("/collections/water-pipes"),
        served.client.get("/conformance", params={"f": "xml"}),
        served.client.post("/conformance"),
        served.client.get("/collections", headers={"Authorization": "Bearer atlas_nope"}),
    ]
    for response in bodies:
        assert response.status_code >= 400
        jsonschema.validate(response.json(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"detail": "Not Found"}, schema)  # FastAPI's own shape is not it
