"""What the benchmarks share: the demo parcels, the stores (PostGIS in throwaway schemas), the
machine line and the load average printed with the figures."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import time
import uuid
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

import psycopg

from atlas.demo.build import write_demo_parcels
from atlas.demo.territory import Territory, build_territory
from atlas.ingest import ingest_path
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


AUTOGROUP = Path("/proc/sys/kernel/sched_autogroup_enabled")


def scheduling() -> str:
    """How Linux shares the CPUs between the servers and PostgreSQL, printed with the figures.

    With ``kernel.sched_autogroup_enabled = 1`` each session (the shell that started PostgreSQL,
    the one running the benchmark) is a scheduling group with an equal share: at full CPU,
    PostgreSQL's backends then queue behind each other in bursts of hundreds of milliseconds
    while the HTTP workers run, and every server's p99 is those bursts (README: Tiles against
    tipg and nginx). Database servers run with it off, as the benchmark figures quoted do.
    """
    try:
        enabled = AUTOGROUP.read_text().strip()
    except OSError:
        return "kernel.sched_autogroup_enabled: not readable (not Linux, or no autogroup support)"
    if enabled == "0":
        return "kernel.sched_autogroup_enabled = 0 (one scheduling group: as on a database server)"
    return (
        f"kernel.sched_autogroup_enabled = {enabled}: PostgreSQL and the HTTP servers are separate"
        " scheduling groups, so at full CPU p99 figures measure the kernel's group fairness"
        " (sysctl -w kernel.sched_autogroup_enabled=0 as on a database server; README)"
    )


def stores(tmp: Path, schema: str | None = None) -> Iterator[tuple[str, Settings]]:
    """The embedded store, then PostGIS in throwaway schemas (or ``schema``) when a URL is set."""
    yield "embedded", Settings(store=StoreSettings(data_dir=tmp / "embedded", database_url=None))
    url = database_url()
    if url is None:
        print("postgis: skipped (set ATLAS_TEST_DATABASE_URL or ATLAS_DATABASE_URL)")
        return
    schema = schema or f"atlas_bench_{uuid.uuid4().hex[:10]}"
    yield (
        "postgis",
        Settings(
            store=StoreSettings(data_dir=tmp / "postgis", database_url=url, database_schema=schema),
            auth=AuthSettings(db_schema=f"{schema}_auth"),
            audit=AuditSettings(db_schema=f"{schema}_audit"),
        ),
    )


@contextmanager
def ingested(
    keep: Path | None, collection: str, *, scale: float, seed: int
) -> Iterator[tuple[Path, Territory, list[tuple[str, Settings]]]]:
    """The demo parcels of ``scale`` ingested as ``collection`` into each store: the directory
    the servers run from, the territory and each store's settings.

    Without ``keep`` everything is thrown away afterwards (a temporary directory, PostGIS schemas
    dropped). With ``keep`` (``--keep DIR``) the files and schemas stay there, and a later run
    with the same scale and seed times at once instead of generating and ingesting again (about
    half an hour at 200,000 parcels on two loaded cores): setting up is not what is measured.
    """
    with ExitStack() as stack:
        directory = keep or Path(stack.enter_context(TemporaryDirectory(prefix="atlas-bench-")))
        directory.mkdir(parents=True, exist_ok=True)
        schema = None
        if keep is not None:
            schema = f"atlas_bench_keep_{zlib.crc32(str(keep.resolve()).encode()):08x}"
        marker = directory / f"ingested-{collection}-{scale:g}-{seed}.json"
        territory = build_territory()
        listed = list(stores(directory, schema))
        if not marker.exists():
            source, territory = demo_parcels(directory, scale=scale, seed=seed)
            for kind, settings in listed:
                store = stack.enter_context(opened(settings, drop=keep is None))
                report = ingest_path(store, collection, source, settings=settings, progress=False)
                print(f"{kind}: {report.summary()}")
            if keep is not None:
                marker.write_text(json.dumps({"scale": scale, "seed": seed}))
        else:
            print(f"reusing the stores in {directory} ({marker.name})")
        yield directory, territory, listed


@contextmanager
def opened(settings: Settings, *, drop: bool = True) -> Iterator[FeatureStore]:
    """The store of ``settings``; PostGIS bench schemas are dropped on the way out (``drop``)."""
    store = open_store(settings.store)
    try:
        yield store
    finally:
        if drop and settings.store.uses_postgis:
            store.drop_schema()  # type: ignore[attr-defined]
            _drop_schemas(settings, settings.auth.db_schema, settings.audit.db_schema)
        store.close()


def _drop_schemas(settings: Settings, *schemas: str) -> None:
    # The keys and audit schemas a bench server may have created (names checked by the settings).
    assert settings.store.database_url is not None
    with psycopg.connect(settings.store.database_url.get_secret_value(), autocommit=True) as conn:
        for schema in schemas:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # type: ignore[arg-type]
