"""Ingest throughput of the demo parcels on each store: ``python bench/ingest.py [--scale 1.0]``.

Generates the demo cadastre (Etalab GeoJSON, the same bytes ``atlas demo`` writes), then, on the
embedded store and — when ATLAS_TEST_DATABASE_URL or ATLAS_DATABASE_URL is set — on PostGIS (in
a throwaway schema, dropped afterwards), times several runs of:

- read + validate + write: ``atlas.ingest.ingest_path`` on the GeoJSON, as ``atlas ingest`` does;
- write alone: ``FeatureStore.write_version`` of the already validated frame.

and prints the median of the runs in features per second.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

from atlas.demo.build import write_demo_parcels
from atlas.demo.territory import build_territory
from atlas.ingest import ingest_path
from atlas.layers import get_layer
from atlas.layers.base import ReadOptions, VectorLayer
from atlas.layers.conform import conform
from atlas.settings import Settings, StoreSettings
from atlas.stores import open_store
from atlas.stores.base import FeatureStore

URL_VARIABLES = ("ATLAS_TEST_DATABASE_URL", "ATLAS_DATABASE_URL")


def main() -> None:
    """Parse the options, generate the parcels, run every store, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = about 40,000 parcels")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per measure")
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    with TemporaryDirectory(prefix="atlas-bench-") as tmp:
        source = Path(tmp) / "cadastre-parcelles.json"
        started = time.perf_counter()
        write_demo_parcels(source, build_territory(), seed=args.seed, scale=args.scale)
        print(
            f"demo parcels, scale {args.scale}: {source.stat().st_size / 1e6:.1f} MB GeoJSON"
            f" generated in {time.perf_counter() - started:.1f} s"
        )
        print(
            f"{dt.date.today()}, {os.cpu_count()} CPU, {platform.processor() or platform.machine()},"
            f" Python {platform.python_version()}; median of {args.runs} runs"
        )
        print(f"{'store':<10} {'features':>9} {'read+validate+write':>26} {'write alone':>22}")
        for kind, settings in _stores(Path(tmp)):
            with _opened(settings) as store:
                print(_measure(kind, store, settings, source, args.runs), flush=True)
        # Shared machines: a load above the CPU count means the figures are lower bounds.
        print("load average (1, 5, 15 min): " + ", ".join(f"{v:.1f}" for v in os.getloadavg()))


def _stores(tmp: Path) -> Iterator[tuple[str, Settings]]:
    """The embedded store, then PostGIS in a throwaway schema when a URL is set."""
    yield "embedded", Settings(store=StoreSettings(data_dir=tmp / "embedded", database_url=None))
    url = next((os.environ[v] for v in URL_VARIABLES if os.environ.get(v)), None)
    if url is None:
        print("postgis: skipped (set ATLAS_TEST_DATABASE_URL or ATLAS_DATABASE_URL)")
        return
    schema = f"atlas_bench_{uuid.uuid4().hex[:10]}"
    store = StoreSettings(data_dir=tmp / "postgis", database_url=url, database_schema=schema)
    yield "postgis", Settings(store=store)


@contextmanager
def _opened(settings: Settings) -> Iterator[FeatureStore]:
    """The store of ``settings``; a PostGIS bench schema is dropped on the way out."""
    store = open_store(settings.store)
    try:
        yield store
    finally:
        if settings.store.uses_postgis:
            store.drop_schema()  # type: ignore[attr-defined]
        store.close()


def _measure(kind: str, store: FeatureStore, settings: Settings, source: Path, runs: int) -> str:
    """One line: median features/s of the whole ingest and of the write alone."""
    layer = get_layer("parcels")
    assert isinstance(layer, VectorLayer)
    frame, report = conform(layer.reader(source, ReadOptions()), layer, source=source.name)
    count = len(frame)

    def ingest() -> None:
        ingest_path(store, "parcels", source, settings=settings, progress=False)

    def write() -> None:
        store.write_version(layer, frame, report=report)

    whole, alone = _median(ingest, runs), _median(write, runs)
    return (
        f"{kind:<10} {count:>9,} {count / whole:>12,.0f} features/s ({whole:5.1f} s)"
        f" {count / alone:>8,.0f} features/s ({alone:5.1f} s)"
    )


def _median(action: Callable[[], None], runs: int) -> float:
    """The median wall time of ``runs`` calls, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


if __name__ == "__main__":
    sys.exit(main())
