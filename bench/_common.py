"""What the benchmarks share: the demo parcels, the stores (PostGIS in throwaway schemas), the
machine line and the load average printed with the figures."""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from atlas.demo.build import write_demo_parcels
from atlas.demo.territory import Territory, build_territory
from atlas.settings import AuditSettings, AuthSettings, Settings, StoreSettings
from atlas.stores import open_store
from atlas.stores.base import FeatureStore

URL_VARIABLES = ("ATLAS_TEST_DATABASE_URL", "ATLAS_DATABASE_URL")


def database_url() -> str | None:
    """The PostgreSQL URL the benchmarks may use, or None."""
    return next((os.environ[v] for v in URL_VARIABLES if os.environ.get(v)), None)


def demo_parcels(directory: Path, *, scale: float, seed: int) -> tuple[Path, Territory]:
    """Write the demo cadastre (the bytes ``atlas demo`` writes) and say how big it is."""
    source = directory / "cadastre-parcelles.json"
    territory = build_territory()
    started = time.perf_counter()
    write_demo_parcels(source, territory, seed=seed, scale=scale)
    print(
        f"demo parcels, scale {scale}: {source.stat().st_size / 1e6:.1f} MB GeoJSON"
        f" generated in {time.perf_counter() - started:.1f} s"
    )
    return source, territory


def machine() -> str:
    """Date, CPUs, processor and Python: the line printed above the figures."""
    return (
        f"{dt.date.today()}, {os.cpu_count()} CPU, {platform.processor() or platform.machine()},"
        f" Python {platform.python_version()}"
    )


def load_average() -> str:
    """The load average; on a shared machine a load above the CPU count makes figures lower bounds."""
    return "load average (1, 5, 15 min): " + ", ".join(f"{v:.1f}" for v in os.getloadavg())


def stores(tmp: Path) -> Iterator[tuple[str, Settings]]:
    """The embedded store, then PostGIS in throwaway schemas when a URL is set."""
    yield "embedded", Settings(store=StoreSettings(data_dir=tmp / "embedded", database_url=None))
    url = database_url()
    if url is None:
        print("postgis: skipped (set ATLAS_TEST_DATABASE_URL or ATLAS_DATABASE_URL)")
        return
    schema = f"atlas_bench_{uuid.uuid4().hex[:10]}"
    yield (
        "postgis",
        Settings(
            store=StoreSettings(data_dir=tmp / "postgis", database_url=url, database_schema=schema),
            auth=AuthSettings(db_schema=f"{schema}_auth"),
            audit=AuditSettings(db_schema=f"{schema}_audit"),
        ),
    )


@contextmanager
def opened(settings: Settings) -> Iterator[FeatureStore]:
    """The store of ``settings``; PostGIS bench schemas are dropped on the way out."""
    store = open_store(settings.store)
    try:
        yield store
    finally:
        if settings.store.uses_postgis:
            store.drop_schema()  # type: ignore[attr-defined]
            _drop_schemas(settings, settings.auth.db_schema, settings.audit.db_schema)
        store.close()


def _drop_schemas(settings: Settings, *schemas: str) -> None:
    # The keys and audit schemas a bench server may have created (names checked by the settings).
    assert settings.store.database_url is not None
    with psycopg.connect(settings.store.database_url.get_secret_value(), autocommit=True) as conn:
        for schema in schemas:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # type: ignore[arg-type]
