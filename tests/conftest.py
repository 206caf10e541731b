"""Fixtures shared by the suites: the store fixture runs the contract on both stores."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.helpers import in_ci
from tests.stores.fixtures import CONTRACT_LAYER

# The served demo (demo_sources, demo_embedded, demo_postgis, served): built once per session.
pytest_plugins = ("tests.served_demo", "tests.browser")


def postgis_url() -> str:
    """The PostGIS test database; skip locally when absent, fail under CI."""
    url = os.environ.get("ATLAS_TEST_DATABASE_URL")
    if not url:
        if in_ci():
            pytest.fail("ATLAS_TEST_DATABASE_URL is not set: PostGIS tests are required under CI")
        pytest.skip("ATLAS_TEST_DATABASE_URL is not set")
    return url


STORE_KINDS = ["embedded", pytest.param("postgis", marks=pytest.mark.postgis)]


def _open_store(kind: str, tmp_path, layers) -> Iterator[object]:
    """An empty store of ``kind`` (PostGIS: in a schema of its own, dropped afterwards)."""
    if kind == "embedded":
        from atlas.stores.embedded import EmbeddedStore

        instance = EmbeddedStore(tmp_path / "data", layers=layers)
        yield instance
        instance.close()
        return
    from atlas.stores.postgis import PostgisStore

    schema = f"atlas_test_{uuid.uuid4().hex[:10]}"
    instance = PostgisStore(postgis_url(), schema=schema, layers=layers)
    try:
        yield instance
    finally:
        instance.drop_schema()
        instance.close()


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[object]:
    """An empty store of each kind that knows the contract layer."""
    yield from _open_store(request.param, tmp_path, {CONTRACT_LAYER.collection_id: CONTRACT_LAYER})


@pytest.fixture(params=STORE_KINDS)
def catalog_store(request: pytest.FixtureRequest, tmp_path) -> Iterator[object]:
    """An empty store of each kind that knows every layer of the catalog (for ingest tests)."""
    yield from _open_store(request.param, tmp_path, None)


def settings_for(kind: str, data_dir) -> Iterator[object]:
    """Settings of one store kind on ``data_dir``; PostGIS: schemas of their own, then dropped."""
    from atlas.settings import Settings, StoreSettings

    if kind == "embedded":
        yield Settings(store=StoreSettings(data_dir=data_dir, database_url=None))
        return
    suffix = uuid.uuid4().hex[:10]
    store = StoreSettings(
        data_dir=data_dir, database_url=postgis_url(), database_schema=f"atlas_test_{suffix}"
    )
    # Every other concern keeping tables in PostgreSQL (API keys, audit…) gets its own schema.
    others = {
        name: field.annotation(db_schema=f"atlas_{name}_test_{suffix}")
        for name, field in Settings.model_fields.items()
        if "db_schema" in getattr(field.annotation, "model_fields", {})
    }
    try:
        yield Settings(store=store, **others)
    finally:
        schemas = [store.database_schema, f"{store.database_schema}_data"]
        _drop_schemas(postgis_url(), schemas + [o.db_schema for o in others.values()])


def _drop_schemas(url: str, schemas: list[str]) -> None:
    import sqlalchemy as sa

    from atlas.stores.postgis import engine_url

    engine = sa.create_engine(engine_url(url))
    try:
        with engine.begin() as conn:
            for schema in schemas:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()
