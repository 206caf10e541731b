"""A served demo territory on each store, with one API key per tier, for the policy tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.demo.build import INGEST_ORDER, generate
from atlas.ingest import ingest_path
from atlas.policy.tiers import Tier
from atlas.settings import Settings
from atlas.stores import open_store
from tests.conftest import STORE_KINDS, settings_for

SCALE = 0.1  # ~4,000 parcels, 20 sites, 61 plots: every layer and tier case, in seconds


@dataclass
class Served:
    """A running app over an ingested demo, and how to call it as each tier."""

    client: TestClient
    settings: Settings
    sources: dict[str, Path]
    headers: dict[Tier, dict[str, str]]
    kind: str

    def get(self, tier: Tier, url: str, **kwargs):
        """GET ``url`` as ``tier``."""
        return self.client.get(url, headers=self.headers[tier], **kwargs)


@pytest.fixture(scope="session")
def demo_sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo files, generated once."""
    return generate(tmp_path_factory.mktemp("policy-demo"), scale=SCALE)


@pytest.fixture(scope="module", params=STORE_KINDS)
def served(
    request: pytest.FixtureRequest,
    demo_sources: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    """The demo ingested into each store kind and served, with a key per non-public tier."""
    # PostGIS: store, keys and audit in schemas of their own, dropped when the module ends.
    lifecycle = settings_for(request.param, tmp_path_factory.mktemp("served") / "data")
    settings = next(lifecycle)
    settings.limits.enabled = False  # the matrix sends thousands of requests
    store = open_store(settings.store)
    try:
        for collection_id in INGEST_ORDER:
            source = demo_sources["elevation" if collection_id == "slope" else collection_id]
            ingest_path(store, collection_id, source, settings=settings, progress=False)
    finally:
        store.close()
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            headers: dict[Tier, dict[str, str]] = {Tier.PUBLIC: {}}
            for tier in (Tier.B2B, Tier.INTERNAL):
                _, key = app.state.keys.create(tier=tier, name=f"policy tests {tier}")
                headers[tier] = {"Authorization": f"Bearer {key}"}
            yield Served(client, settings, demo_sources, headers, request.param)
    finally:
        next(lifecycle, None)
