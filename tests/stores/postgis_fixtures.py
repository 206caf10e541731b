"""PostGIS test helpers: the test database URL and stores that live in a schema of their own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from atlas.layers.base import VectorLayer
from atlas.stores.postgis import PostgisStore


def postgis_test_url() -> str:
    """The PostGIS test database; skip locally when absent, fail under CI (one rule, conftest)."""
    from tests.conftest import postgis_url

    return postgis_url()


def make_postgis_store(
    url: str, *, layers: Mapping[str, VectorLayer] | None = None, **options: object
) -> PostgisStore:
    """A PostGIS store in a fresh schema ``atlas_test_<random>`` (drop it with ``drop_schema``)."""
    schema = f"atlas_test_{uuid.uuid4().hex[:10]}"
    return PostgisStore(url, schema=schema, layers=layers, **options)  # type: ignore[arg-type]


@contextmanager
def fresh_postgis_store(
    url: str, *, layers: Mapping[str, VectorLayer] | None = None, **options: object
) -> Iterator[PostgisStore]:
    """A store in its own schema for one test; the schema is dropped afterwards."""
    store = make_postgis_store(url, layers=layers, **options)
    try:
        yield store
    finally:
        try:
            store.drop_schema()
        finally:
            store.close()
