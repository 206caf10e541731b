"""PostGIS test helpers: the test database URL and stores that live in a schema of their own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest

from atlas.layers.base import VectorLayer
from atlas.stores.postgis import PostgisStore
from tests.helpers import in_ci

URL_VARIABLE = "ATLAS_TEST_DATABASE_URL"


def postgis_test_url() -> str:
    """The PostGIS test database; skip locally when absent, fail under CI."""
    url = os.environ.get(URL_VARIABLE)
    if not url:
        if in_ci():
            pytest.fail(f"{URL_VARIABLE} is not set: PostGIS tests are required under CI")
        pytest.skip(f"{URL_VARIABLE} is not set")
    return url


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
