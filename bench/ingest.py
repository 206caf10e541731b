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
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

# bench/site_selection.py imports _opened and _stores from here.
from _common import demo_parcels, load_average, machine
from _common import opened as _opened
from _common import stores as _stores

from atlas.ingest import ingest_path
from atlas.layers import get_layer
from atlas.layers.base import ReadOptions, VectorLayer
from atlas.layers.conform import conform
from atlas.settings import Settings
from atlas.stores.base import FeatureStore


def main() -> None:
    """Parse the options, generate the parcels, run every store, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = about 40,000 parcels")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per measure")
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    with TemporaryDirectory(prefix="atlas-bench-") as tmp:
        source, _ = demo_parcels(Path(tmp), scale=args.scale, seed=args.seed)
        print(f"{machine()}; median of {args.runs} runs")
        print(f"{'store':<10} {'features':>9} {'read+validate+write':>26} {'write alone':>22}")
        for kind, settings in _stores(Path(tmp)):
            with _opened(settings) as store:
                print(_measure(kind, store, settings, source, args.runs), flush=True)
        print(load_average())


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
