"""Request bodies are bounded work: no body, however hostile, gets a 5xx from any route.

Every route taking a body is read from the app's OpenAPI document, so a new POST route is covered
without touching this file; each gets nested, oversized, truncated, malformed, non-UTF-8 and
wrongly typed bodies from every tier, on both stores, and must answer a 4xx in the error shape
with nothing of the internals. The depth check is compared with Python's own parser.
"""

from __future__ import annotations

import json
import random
import re

import pytest
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.api.bodies import nesting_depth, parse_json
from atlas.errors import InvalidInput
from atlas.policy.tiers import Tier
from atlas.settings import BodySettings
from tests.api.bodies import internals_in

JSON = {"content-type": "application/json"}
MAX_BYTES = BodySettings().max_bytes
OVERSIZED = b"[" + b"0," * (MAX_BYTES // 2) + b"0]"

# name -> (body, headers, expected status or None for any 4xx, words the description holds)
HOSTILE: dict[str, tuple[bytes, dict[str, str], int | None, str]] = {
    "nested arrays": (b"[" * 100_000, JSON, 400, "deeper than"),
    "nested arrays closed": (b"[" * 50_000 + b"]" * 50_000, JSON, 400, "deeper than"),
    "nested objects": (b'{"a":' * 30_000 + b"1" + b"}" * 30_000, JSON, 400, "deeper than"),
    "nested in a criterion": (b'{"vocations": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", JSON, 400, ""),
    "deep but allowed": (b'{"collections": ' + b"[" * 60 + b"]" * 60 + b"}", JSON, None, ""),
    "oversized": (OVERSIZED, JSON, 413, "larger than"),
    "truncated": (b'{"collections": ["parcels"', JSON, 400, "not valid JSON"),
    "malformed": (b"{'collections': ['parcels']}", JSON, 400, "not valid JSON"),
    "NaN": (b'{"min_area_ha": NaN, "collections": [NaN]}', JSON, 400, "NaN"),
    "number past a double": (b'{"min_area_ha": 1e999, "limit": 1e999}', JSON, 400, "out of range"),
    "huge integer": (b'{"limit": ' + b"9" * 5_000 + b"}", JSON, 400, "not valid JSON"),
    "not UTF-8": (b'{"collections": ["\xff\xfe\xfa"]}', JSON, 400, "UTF-8"),
    "UTF-16": ('{"collections": ["parcels"]}'.encode("utf-16"), JSON, 400, "UTF-8"),
    "NUL bytes": (b'{"collections": ["\x00"]}\x00', JSON, 400, ""),
    "no content type": (b'{"collections": ["parcels"]}', {}, 415, "application/json"),
    "text content type": (b'{"collections": ["parcels"]}', {"content-type": "text/plain"}, 415, "text/plain"),
    "form": (b"collections=parcels", {"content-type": "application/x-www-form-urlencoded"}, 415, ""),
    "latin-1 charset": (b"{}", {"content-type": "application/json; charset=latin-1"}, 415, "utf-8"),
    "JSON null": (b"null", JSON, None, ""),
    "JSON string": (b'"parcels"', JSON, None, ""),
    "JSON array": (b"[1, 2, 3]", JSON, None, ""),
}  # fmt: skip


def _body_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every operation taking a body, path parameters filled in."""
    paths = app.openapi()["paths"]
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, operations in paths.items()
        for method in operations
        if method in ("post", "put", "patch", "delete")
    ]


def _assert_clean_4xx(response, expected: int | None, words: str, where: str) -> None:
    assert 400 <= response.status_code < 500, (where, response.status_code, response.text[:300])
    if expected is not None:
        assert response.status_code == expected, (where, response.text[:300])
    body = response.json()
    assert set(body) >= {"code", "description"}, (where, body)
    assert isinstance(body["description"], str) and body["description"], where
    assert words in body["description"], (where, body)
    assert not internals_in(response.text), (where, response.text[:300])
    assert len(response.text) < 2_000, where
    assert "authorization" in response.headers["vary"].lower(), where


def test_every_body_route_is_found(served):
    routes = _body_routes(served.client.app)
    assert {("POST", "/site-selection"), ("POST", "/extracts")} <= set(routes)


@pytest.mark.parametrize("tier", [Tier.PUBLIC, Tier.B2B, Tier.INTERNAL])
@pytest.mark.parametrize("name", list(HOSTILE))
def test_no_hostile_body_gets_a_5xx(served, tier, name):
    body, headers, expected, words = HOSTILE[name]
    for method, path in _body_routes(served.client.app):
        response = served.client.request(
            method, path, content=body, headers={**served.headers[tier], **headers}
        )
        _assert_clean_4xx(response, expected, words, f"{method} {path} {name}")


def test_bodies_within_the_caps_still_work(served):
    search = served.client.post("/site-selection", json={"limit": 3})
    assert search.status_code == 200 and search.json()["numberReturned"] <= 3
    empty = served.client.post("/site-selection")  # no body: a search without criteria
    assert empty.status_code == 200
    estimate = served.client.post(
        "/extracts?dry_run=true",
        content=json.dumps({"collections": ["activity-plots"]}).encode(),
        headers={**served.headers[Tier.B2B], "content-type": "application/geo+json; charset=UTF-8"},
    )
    assert estimate.status_code == 200 and estimate.json()["estimate"]["numberMatched"] > 0


def test_the_caps_are_settings(served):
    caps = BodySettings(max_bytes=2_048, max_depth=5)
    app = create_app(served.settings.model_copy(update={"bodies": caps}))
    with TestClient(app) as client:
        padded = b"{}" + b" " * 2_046
        assert client.post("/site-selection", content=padded, headers=JSON).status_code == 200
        too_big = client.post("/site-selection", content=padded + b" ", headers=JSON)
        _assert_clean_4xx(too_big, 413, "2048 bytes", "2049 bytes")
        five = b'{"vocations": [[[["x"]]]]}'
        sixth = b'{"vocations": [[[[["x"]]]]]}'
        refused = client.post("/site-selection", content=sixth, headers=JSON)
        _assert_clean_4xx(refused, 400, "deeper than 5 levels", "depth 6")
        allowed = client.post("/site-selection", content=five, headers=JSON)
        assert "deeper" not in allowed.text


def _random_json(rng: random.Random, depth: int) -> object:
    strings = ['"', "\\", "[", "]", "{", "}", '\\"[', "a", "é", "\\\\"]
    kind = rng.choice(["list", "dict", "str", "num"] if depth > 0 else ["str", "num"])
    if kind == "list":
        return [_random_json(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    if kind == "dict":
        return {
            rng.choice(strings) * 2: _random_json(rng, depth - 1) for _ in range(rng.randint(0, 3))
        }
    if kind == "str":
        return "".join(rng.choice(strings) for _ in range(rng.randint(0, 6)))
    return rng.uniform(-1e6, 1e6)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


def test_nesting_depth_agrees_with_the_parser():
    rng = random.Random(8)
    for _ in range(500):
        value = _random_json(rng, rng.randint(0, 12))
        text = json.dumps(value, ensure_ascii=rng.random() < 0.5)
        assert nesting_depth(text.encode()) == _depth(value), text


def test_a_quadratic_string_is_measured_in_linear_time():
    # '"' then '\\"' repeated, never closed: a regex over strings would rescan it from each quote.
    body = b'"' + b'\\"' * (MAX_BYTES // 2)
    assert nesting_depth(body) == 0
    with pytest.raises(InvalidInput, match="not valid JSON"):
        parse_json(body, max_depth=64)
