"""Fixtures shared by the suites: the store fixture runs the contract on both stores."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.helpers import in_ci
from tests.stores.fixtures import CONTRACT_LAYER


def postgis_url() -> str:
    """The PostGIS test database; skip locally when absent, fail under CI."""
    url = os.environ.get("ATLAS_TEST_DATABASE_URL")
    if not url:
        if in_ci():
            pytest.fail("ATLAS_TEST_DATABASE_URL is not set: PostGIS tests are required under CI")
        pytest.skip("ATLAS_TEST_DATABASE_URL is not set")
    return url


@pytest.fixture(params=["embedded", pytest.param("postgis", marks=pytest.mark.postgis)])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[object]:
    """An empty store of each kind that knows the contract layer."""
    layers = {CONTRACT_LAYER.collection_id: CONTRACT_LAYER}
    if request.param == "embedded":
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
