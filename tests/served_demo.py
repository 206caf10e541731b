"""The served demo, built once per store kind per session (a plugin of the root conftest).

Generating the demo and ingesting its ~13 layers (each through a sandboxed reader process) is
the suite's heaviest setup, so it happens once per session and store kind; each test module then
gets an app of its own over that data (``served``: a new app and test client, cheap), so what a
module changes in memory (extract jobs, rate limits, caches) stays in it. A module that changes
the data itself (ingests, new versions, keys others would see revoked) builds its own store.

Session fixtures live here, registered once: a fixture imported into several conftests is a
separate fixture in each directory, and a session one would then be built once per directory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from atlas.policy.tiers import Tier
from tests.conftest import STORE_KINDS, settings_for

if TYPE_CHECKING:  # the app and the ingest are imported when a test first asks for them
    from fastapi.testclient import TestClient

    from atlas.settings import Settings

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


@dataclass
class Ingested:
    """Files ingested once into a store of one kind, with a key per non-public tier."""

    settings: Settings
    headers: dict[Tier, dict[str, str]]
    kind: str
    reports: list  # the ingest's reports, in order

    def app_settings(self) -> Settings:
        """A copy of the settings for one app: changing it changes nobody else's."""
        return self.settings.model_copy(deep=True)


def ingest_once(
    kind: str, sources: Iterable[tuple[str, Path]], data_dir: Path, key_name: str
) -> Iterator[Ingested]:
    """Ingest ``(collection, file)`` pairs into a new store of ``kind``; dropped afterwards."""
    from atlas.auth.keys import open_keyring
    from atlas.ingest import ingest_path
    from atlas.stores import open_store

    # PostGIS: store, keys and audit in schemas of their own, dropped at the end.
    lifecycle = settings_for(kind, data_dir)
    settings = next(lifecycle)
    settings.limits.enabled = False  # the leak matrix sends thousands of requests
    try:
        store = open_store(settings.store)
        try:
            reports = [
                ingest_path(store, collection_id, source, settings=settings, progress=False)
                for collection_id, source in sources
            ]
        finally:
            store.close()
        keys = open_keyring(settings.store, settings.auth)  # apps load them when they start
        try:
            headers: dict[Tier, dict[str, str]] = {Tier.PUBLIC: {}}
            for tier in (Tier.B2B, Tier.INTERNAL):
                _, key = keys.create(tier=tier, name=f"{key_name} {tier}")
                headers[tier] = {"Authorization": f"Bearer {key}"}
        finally:
            keys.close()
        yield Ingested(settings, headers, kind, reports)
    finally:
        next(lifecycle, None)


def demo_files(sources: dict[str, Path]) -> list[tuple[str, Path]]:
    """The demo's layers in ingest order, as ``run_demo`` takes them (slope from the elevation)."""
    from atlas.demo.build import INGEST_ORDER

    return [(c, sources["elevation" if c == "slope" else c]) for c in INGEST_ORDER]


@pytest.fixture(scope="session")
def demo_sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo files (scale 0.1, default seed), generated once; read them, never change them."""
    from atlas.demo.build import generate

    return generate(tmp_path_factory.mktemp("demo-sources"), scale=SCALE)


def _demo(kind: str, sources: dict[str, Path], factory: pytest.TempPathFactory):
    yield from ingest_once(
        kind, demo_files(sources), factory.mktemp(f"demo-{kind}") / "data", "policy tests"
    )


@pytest.fixture(scope="session")
def demo_embedded(demo_sources, tmp_path_factory) -> Iterator[Ingested]:
    """The demo ingested once into the embedded store."""
    yield from _demo("embedded", demo_sources, tmp_path_factory)


@pytest.fixture(scope="session")
def demo_postgis(demo_sources, tmp_path_factory) -> Iterator[Ingested]:
    """The demo ingested once into PostGIS (schemas of its own, dropped at the end)."""
    yield from _demo("postgis", demo_sources, tmp_path_factory)


@pytest.fixture(scope="module", params=STORE_KINDS)
def served(request: pytest.FixtureRequest, demo_sources: dict[str, Path]) -> Iterator[Served]:
    """The session's demo on each store kind, served by an app of this module's own."""
    from fastapi.testclient import TestClient

    from atlas.api.app import create_app

    # Looked up by name so that a module on one store never builds the other's demo.
    demo: Ingested = request.getfixturevalue(f"demo_{request.param}")
    settings = demo.app_settings()
    with TestClient(create_app(settings)) as client:
        headers = {tier: dict(h) for tier, h in demo.headers.items()}
        yield Served(client, settings, demo_sources, headers, demo.kind)
