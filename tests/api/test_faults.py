"""Faults: PostGIS stopped and started again under a running app, and a statement timeout.

A PostgreSQL server of the test's own (``private_postgres``) holds the store, the API keys and
the audit log; the app keeps running while it is stopped with ``pg_ctl stop -m immediate``:
every request then gets a 503 with ``Retry-After`` and an OGC body that names nothing internal,
and once the server is back the same app serves again (the pool's pre-ping replaces the dead
connections). A statement held past ``ATLAS_STATEMENT_TIMEOUT_MS`` (a lock another session
keeps, as a long ingest or a VACUUM FULL would) is a 503 that says so, without SQL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.ingest import ingest_path
from atlas.policy.tiers import Tier
from atlas.settings import Settings, StoreSettings
from atlas.stores import open_store
from atlas.stores.postgis import engine_url
from tests.api.bodies import internals_in
from tests.api.private_postgres import PrivatePostgres

pytestmark = [pytest.mark.postgis, pytest.mark.slow]

COLLECTION = "services"
ITEMS = f"/collections/{COLLECTION}/items"


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    """A private PostgreSQL 15 cluster for this module."""
    server = PrivatePostgres()
    try:
        yield server
    finally:
        server.close()


def _settings(postgres: PrivatePostgres, tmp_path, **store: object) -> Settings:
    settings = Settings(
        store=StoreSettings(data_dir=tmp_path / "data", database_url=postgres.url, **store)
    )
    settings.limits.enabled = False
    return settings


@pytest.fixture(scope="module")
def ingested(postgres: PrivatePostgres, demo_sources, tmp_path_factory) -> None:
    """A small layer (the demo's public services) in the private server."""
    settings = _settings(postgres, tmp_path_factory.mktemp("faults"))
    store = open_store(settings.store)
    try:
        ingest_path(store, COLLECTION, demo_sources[COLLECTION], settings=settings, progress=False)
    finally:
        store.close()


def _app(settings: Settings) -> tuple[TestClient, dict[Tier, dict[str, str]]]:
    app = create_app(settings)
    client = TestClient(app)
    client.__enter__()
    _, key = app.state.keys.create(tier=Tier.INTERNAL, name="faults")
    return client, {Tier.PUBLIC: {}, Tier.INTERNAL: {"Authorization": f"Bearer {key}"}}


def _assert_unavailable(response, postgres: PrivatePostgres) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Cache-Control"] in ("no-store", "private, no-store")
    body = response.json()
    assert body["code"] == "ServiceUnavailable" and body["requestId"], body
    assert body["requestId"] == response.headers["X-Request-Id"]
    assert not internals_in(response.text), internals_in(response.text)
    assert str(postgres.port) not in body["description"]


def test_stopped_postgis_is_a_503_and_service_resumes_without_a_restart(
    postgres, ingested, tmp_path
):
    client, headers = _app(_settings(postgres, tmp_path))
    try:
        for tier in (Tier.PUBLIC, Tier.INTERNAL):
            assert client.get(ITEMS, params={"limit": 3}, headers=headers[tier]).status_code == 200
        postgres.stop()
        requests = [
            (Tier.PUBLIC, "/collections", {}),
            (Tier.PUBLIC, ITEMS, {"limit": 3}),
            (Tier.PUBLIC, f"{ITEMS}/x", {}),
            (Tier.PUBLIC, f"/collections/{COLLECTION}/tiles/WebMercatorQuad/12/2074/1411", {}),
            (Tier.INTERNAL, ITEMS, {"limit": 3}),  # the API key is looked up in PostgreSQL too
        ]
        for tier, url, params in requests:
            _assert_unavailable(client.get(url, params=params, headers=headers[tier]), postgres)
        page = client.get(ITEMS, params={"f": "html"}, headers=headers[Tier.PUBLIC])
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
        assert int(page.headers["Retry-After"]) > 0 and not internals_in(page.text)

        postgres.start()
        deadline = time.monotonic() + 30
        while (response := client.get(ITEMS, params={"limit": 3})).status_code != 200:
            assert response.status_code == 503 and time.monotonic() < deadline, response.text
            time.sleep(0.5)
        assert len(response.json()["features"]) == 3
        internal = client.get(ITEMS, params={"limit": 3}, headers=headers[Tier.INTERNAL])
        assert internal.status_code == 200
    finally:
        client.__exit__(None, None, None)


def test_a_statement_past_the_timeout_is_a_503_that_says_so(postgres, ingested, tmp_path):
    settings = _settings(postgres, tmp_path, statement_timeout_ms=300)
    client, _ = _app(settings)
    locker = sa.create_engine(engine_url(postgres.url))
    try:
        assert client.get(ITEMS, params={"limit": 3}).status_code == 200
        with locker.connect() as conn:
            # Another session holds the collection, as a long maintenance statement would.
            schema = settings.store.database_schema
            conn.execute(sa.text(f'LOCK TABLE "{schema}"."{COLLECTION}" IN ACCESS EXCLUSIVE MODE'))
            started = time.monotonic()
            response = client.get(ITEMS, params={"limit": 3})
            elapsed = time.monotonic() - started
            conn.rollback()
        _assert_unavailable(response, postgres)
        assert "took too long" in response.json()["description"]
        assert elapsed < 10, "the timeout must cut the wait short"
        assert client.get(ITEMS, params={"limit": 3}).status_code == 200
    finally:
        locker.dispose()
        client.__exit__(None, None, None)
