"""End to end over HTTP: who a request is, its rate limit, and its cache headers, on both backends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.api.auth import CurrentPrincipal
from atlas.auth.keys import KeyRing, open_keyring
from atlas.settings import Settings, StoreSettings
from tests.auth.fixtures import BACKENDS, drop_keys, key_settings

PUBLIC_LIMIT = 5
VARY = "Authorization, X-API-Key, Cookie"  # a key in either header, a session in its cookie


def build_app(settings: Settings) -> FastAPI:
    """The real application plus one route that takes the principal dependency."""
    app = create_app(settings)

    @app.get("/test/whoami")
    def whoami(principal: CurrentPrincipal) -> dict[str, str | None]:
        return {"tier": principal.tier.value, "keyId": principal.key_id, "name": principal.name}

    return app


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path) -> Iterator[Settings]:
    """Each key backend; a small public limit so that 429 is reached quickly."""
    value = key_settings(request.param, tmp_path, public_per_minute=PUBLIC_LIMIT)
    try:
        yield value
    finally:
        drop_keys(value)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A client of the app, its lifespan running."""
    with TestClient(build_app(settings)) as instance:
        yield instance


@pytest.fixture
def ring(client: TestClient) -> KeyRing:
    """The key ring the running app verifies against."""
    return client.app.state.keys  # type: ignore[attr-defined]


def bearer(key: str) -> dict[str, str]:
    """The Authorization header for ``key``."""
    return {"Authorization": f"Bearer {key}"}


def assert_unauthorized(response, reason: str) -> None:
    """A 401 naming the Bearer scheme, with an OGC body and nothing cached."""
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    body = response.json()
    assert body["code"] == "Unauthorized"
    assert reason in body["description"]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Authorization" in response.headers["Vary"]


def test_no_key_is_public_and_publicly_cacheable(client: TestClient) -> None:
    response = client.get("/test/whoami")
    assert response.status_code == 200
    assert response.json() == {"tier": "public", "keyId": None, "name": "anonymous"}
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["Vary"] == VARY


@pytest.mark.parametrize("tier", ["b2b", "internal"])
def test_a_valid_key_is_its_tier_and_never_cached(
    client: TestClient, ring: KeyRing, tier: str
) -> None:
    record, key = ring.create(tier=tier, name=f"{tier} caller")
    response = client.get("/test/whoami", headers=bearer(key))
    assert response.status_code == 200
    assert response.json() == {"tier": tier, "keyId": record.key_id, "name": f"{tier} caller"}
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Vary"] == VARY


def test_the_bearer_scheme_is_case_insensitive(client: TestClient, ring: KeyRing) -> None:
    _, key = ring.create(tier="b2b", name="x")
    response = client.get("/test/whoami", headers={"Authorization": f"bearer   {key} "})
    assert response.json()["tier"] == "b2b"


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Bearer atlas_0123456789ab_" + "a" * 43, "invalid API key"),
        ("Bearer not-a-key", "malformed API key"),
        ("Bearer", "Authorization: Bearer <API key>"),
        ("Bearer ", "Authorization: Bearer <API key>"),
        ("", "Authorization: Bearer <API key>"),
        ("Basic YWRtaW46YWRtaW4=", "Authorization: Bearer <API key>"),
        ("Token atlas_0123456789ab_" + "a" * 43, "Authorization: Bearer <API key>"),
    ],
)
def test_a_wrong_or_malformed_credential_is_401_never_public(
    client: TestClient, header: str, reason: str
) -> None:
    assert_unauthorized(client.get("/test/whoami", headers={"Authorization": header}), reason)


def test_a_wrong_secret_for_a_real_key_id_is_401(client: TestClient, ring: KeyRing) -> None:
    _, key = ring.create(tier="internal", name="GIS team")
    forged = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert_unauthorized(client.get("/test/whoami", headers=bearer(forged)), "invalid API key")


def test_two_authorization_headers_are_401(client: TestClient, ring: KeyRing) -> None:
    _, key = ring.create(tier="b2b", name="x")
    headers = [("Authorization", f"Bearer {key}"), ("Authorization", "Bearer other")]
    response = client.get("/test/whoami", headers=headers)
    assert_unauthorized(response, "send one header")


def test_an_expired_key_is_401(client: TestClient, ring: KeyRing) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    then = KeyRing(ring.backend, clock=lambda: past)
    record, key = then.create(tier="b2b", name="trial", expires=past + dt.timedelta(days=1))
    assert_unauthorized(client.get("/test/whoami", headers=bearer(key)), "expired")


def test_a_revoked_key_is_401_from_the_next_request(client: TestClient, ring: KeyRing) -> None:
    record, key = ring.create(tier="internal", name="leaver")
    assert client.get("/test/whoami", headers=bearer(key)).status_code == 200
    ring.revoke(record.key_id)
    assert_unauthorized(client.get("/test/whoami", headers=bearer(key)), "revoked")


def test_public_callers_get_429_with_retry_after_past_their_limit(
    client: TestClient, ring: KeyRing
) -> None:
    for _ in range(PUBLIC_LIMIT):
        assert client.get("/test/whoami").status_code == 200
    response = client.get("/test/whoami")
    assert response.status_code == 429
    assert response.json()["code"] == "TooManyRequests"
    retry = int(response.headers["Retry-After"])
    assert 1 <= retry <= 60 // PUBLIC_LIMIT + 1
    assert response.headers["Cache-Control"] == "no-store"  # never a cached 429 in a CDN
    # A key has its own bucket, sized for its tier.
    _, key = ring.create(tier="b2b", name="partner")
    assert client.get("/test/whoami", headers=bearer(key)).status_code == 200


def test_each_key_has_its_own_bucket(settings: Settings) -> None:
    limited = settings.model_copy(
        update={"limits": settings.limits.model_copy(update={"b2b_per_minute": 2})}
    )
    with TestClient(build_app(limited)) as client:
        ring: KeyRing = client.app.state.keys  # type: ignore[attr-defined]
        (_, first), (_, second) = (
            ring.create(tier="b2b", name="a"),
            ring.create(tier="b2b", name="b"),
        )
        assert [
            client.get("/test/whoami", headers=bearer(first)).status_code for _ in range(3)
        ] == [
            200,
            200,
            429,
        ]
        assert client.get("/test/whoami", headers=bearer(second)).status_code == 200
        # Public callers from the same address are not charged for the keys' requests.
        assert client.get("/test/whoami").status_code == 200


def test_routes_without_the_dependency_still_vary_and_stay_private(
    client: TestClient, ring: KeyRing
) -> None:
    _, key = ring.create(tier="internal", name="GIS team")
    public = client.get("/conformance")
    assert public.headers["Cache-Control"] == "public, max-age=60"
    # JSON or HTML by Accept (atlas.api.negotiation): the page varies on those too.
    assert public.headers["Vary"] == f"Accept, Accept-Language, {VARY}"
    private = client.get("/conformance", headers=bearer(key))
    assert private.headers["Cache-Control"] == "private, no-store"
    assert private.headers["Vary"] == f"Accept, Accept-Language, {VARY}"


def test_route_cache_control_is_kept_for_public_and_overridden_for_keys(settings: Settings) -> None:
    app = build_app(settings)

    @app.get("/test/tile")
    def tile(principal: CurrentPrincipal):
        from fastapi.responses import Response

        return Response(
            b"tile", headers={"Cache-Control": "public, max-age=3600", "Vary": "Accept-Encoding"}
        )

    with TestClient(app) as client:
        _, key = app.state.keys.create(tier="b2b", name="x")
        public = client.get("/test/tile")
        assert public.headers["Cache-Control"] == "public, max-age=3600"
        assert public.headers["Vary"] == f"Accept-Encoding, {VARY}"
        private = client.get("/test/tile", headers=bearer(key))
        assert private.headers["Cache-Control"] == "private, no-store"


def test_the_openapi_document_declares_both_key_headers(client: TestClient) -> None:
    document = client.get("/api").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiKey"]["type"] == "http" and schemes["apiKey"]["scheme"] == "bearer"
    assert {k: schemes["apiKeyHeader"][k] for k in ("type", "in", "name")} == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    assert "Authorization: Bearer" in schemes["apiKeyHeader"]["description"]
    # Either scheme (OpenAPI: alternatives are separate entries).
    security = document["paths"]["/test/whoami"]["get"]["security"]
    assert security == [{"apiKey": []}, {"apiKeyHeader": []}]


def test_x_api_key_is_read_like_bearer(client: TestClient, ring: KeyRing) -> None:
    record, key = ring.create(tier="internal", name="QGIS")
    response = client.get("/test/whoami", headers={"X-API-Key": f" {key} "})
    assert response.status_code == 200
    assert response.json() == {"tier": "internal", "keyId": record.key_id, "name": "QGIS"}
    assert response.headers["Cache-Control"] == "private, no-store"  # never cached publicly
    assert response.headers["Vary"] == VARY
    both = client.get("/test/whoami", headers={**bearer(key), "X-API-Key": key})
    assert both.json()["keyId"] == record.key_id  # the same key twice is that key
    ring.revoke(record.key_id)
    assert_unauthorized(client.get("/test/whoami", headers={"X-API-Key": key}), "revoked")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ([("X-API-Key", "atlas_0123456789ab_" + "a" * 43)], "invalid API key"),
        ([("X-API-Key", "not-a-key")], "malformed API key"),
        ([("X-API-Key", "")], "X-API-Key: <API key>"),
        ([("X-API-Key", "  ")], "X-API-Key: <API key>"),
        ([("X-API-Key", "KEY"), ("X-API-Key", "KEY")], "X-API-Key: <API key>"),
        ([("Authorization", "Bearer KEY"), ("X-API-Key", "OTHER")], "different credentials"),
        ([("Authorization", "Basic YWRtaW46YWRtaW4="), ("X-API-Key", "KEY")], "send one header"),
    ],
)
def test_a_bad_x_api_key_is_401_never_public(
    client: TestClient, ring: KeyRing, headers: list[tuple[str, str]], reason: str
) -> None:
    _, key = ring.create(tier="b2b", name="partner")
    _, other = ring.create(tier="internal", name="staff")
    sent = [(name, value.replace("OTHER", other).replace("KEY", key)) for name, value in headers]
    assert_unauthorized(client.get("/test/whoami", headers=sent), reason)


def test_a_warm_request_sends_no_key_statement(client: TestClient, ring: KeyRing) -> None:
    from tests.auth.fixtures import key_statements, listening, reads_keys

    before = listening(ring)
    _, key = ring.create(tier="b2b", name="partner")
    listening(ring, writes=1, since=before)
    assert client.get("/test/whoami", headers=bearer(key)).status_code == 200  # warm
    with key_statements(ring) as statements:
        for headers in (bearer(key), {"X-API-Key": key}, bearer(key[:-1] + "x")):
            client.get("/test/whoami", headers=headers)
    assert reads_keys(statements) == []
    assert set(statements) <= {"PRAGMA data_version"}  # SQLite's in-process check only


def test_a_key_revoked_by_the_cli_in_another_process_is_401_at_once(
    client: TestClient, ring: KeyRing, settings: Settings
) -> None:
    from tests.auth.fixtures import atlas_keys

    key = atlas_keys(settings, "create", "--tier", "internal", "--name", "leaver")
    assert client.get("/test/whoami", headers=bearer(key)).json()["tier"] == "internal"
    atlas_keys(settings, "revoke", key.split("_")[1])
    assert_unauthorized(client.get("/test/whoami", headers=bearer(key)), "revoked")


def test_an_unreachable_key_store_is_503_not_public(tmp_path) -> None:
    settings = Settings(
        store=StoreSettings(
            data_dir=tmp_path, database_url="postgresql://atlas:atlas@127.0.0.1:1/none"
        )
    )
    with TestClient(build_app(settings)) as client:
        key = "atlas_0123456789ab_" + "a" * 43
        response = client.get("/test/whoami", headers=bearer(key))
        assert response.status_code == 503
        assert response.json()["code"] == "ServiceUnavailable"
        assert "Retry-After" in response.headers
        assert response.headers["Cache-Control"] == "private, no-store"
        # No credential needs no key store: public still answers.
        assert client.get("/test/whoami").json()["tier"] == "public"


def test_keys_created_by_the_cli_work_over_http(settings: Settings) -> None:
    from typer.testing import CliRunner

    from atlas.cli import app as cli
    from tests.auth.test_cli import environment

    result = CliRunner().invoke(
        cli, ["keys", "create", "--tier", "internal", "--name", "régie"], env=environment(settings)
    )
    key = result.stdout.strip().splitlines()[-1]
    with TestClient(build_app(settings)) as client:
        assert client.get("/test/whoami", headers=bearer(key)).json()["tier"] == "internal"
    ring = open_keyring(settings.store, settings.auth)
    try:
        ring.revoke(key.split("_")[1])
    finally:
        ring.close()
    with TestClient(build_app(settings)) as client:
        assert_unauthorized(client.get("/test/whoami", headers=bearer(key)), "revoked")
