"""Response time of a full-criteria site selection: ``python bench/site_selection.py [--scale 1.0]``.

Generates and ingests the demo territory (scale 1: about 600 plots) into the embedded store and —
when ATLAS_TEST_DATABASE_URL or ATLAS_DATABASE_URL is set — into PostGIS (a throwaway schema,
dropped afterwards), then times, as each tier:

- ``select_sites`` with every criterion (area, vocation, market, water for b2b and internal,
  heritage, flood, slope, motorway, station): reading through the gate, measuring, ranking;
- each criterion alone, as internal (where the time goes);
- on the embedded store, the whole HTTP round trip ``POST /site-selection`` (GeoJSON in CRS84).

and prints the median of the runs in milliseconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

from fastapi.testclient import TestClient
from ingest import _median, _opened, _stores  # bench/ingest.py: stores, cleanup, timing

from atlas.api.app import create_app
from atlas.demo.build import run_demo
from atlas.policy.gate import Policy
from atlas.policy.tiers import Principal, Tier
from atlas.selection import SiteCriteria, select_sites
from atlas.settings import Settings
from atlas.stores.base import FeatureStore
from atlas.stores.rasters import RasterCatalog

FULL = {
    "min_area_ha": 0.5,
    "vocations": ["industrielle", "mixte", "entrepôts, logistique"],
    "on_market": True,
    "water_min_dn": 150,
    "water_max_distance_m": 150,
    "outside_heritage": True,
    "exclude_flood_classes": [3, 4],
    "max_slope_pct": 3,
    "max_motorway_km": 4,
    "max_station_km": 3,
    "limit": 1000,
}
WATER = ("water_min_dn", "water_max_distance_m")


def main() -> None:
    """Parse the options, build the demo on each store, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = about 600 plots")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measure")
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    print(
        f"{dt.date.today()}, {os.cpu_count()} CPU, {platform.processor() or platform.machine()},"
        f" Python {platform.python_version()}; median of {args.runs} runs, milliseconds"
    )
    with TemporaryDirectory(prefix="atlas-bench-") as tmp:
        for kind, settings in _stores(Path(tmp)):
            with _opened(settings) as store:
                started = time.perf_counter()
                run_demo(
                    store, Path(tmp) / f"demo-{kind}", settings, seed=args.seed, scale=args.scale
                )
                print(
                    f"{kind}: demo at scale {args.scale} built in {time.perf_counter() - started:.0f} s"
                )
                _measure(kind, store, settings, args.runs)
    print("load average (1, 5, 15 min): " + ", ".join(f"{v:.1f}" for v in os.getloadavg()))


def _measure(kind: str, store: FeatureStore, settings: Settings, runs: int) -> None:
    """Print the full search per tier, each criterion alone, and the HTTP round trip."""
    rasters = RasterCatalog(settings.store.data_dir)
    policy = Policy(store, rasters, audit=None)  # nothing a search reads is audited

    def search(tier: Tier, body: dict) -> Callable[[], object]:
        criteria = SiteCriteria.model_validate(body)
        gate = policy.gate(Principal(tier=tier, key_id="bench", name="bench"), "bench")
        return lambda: select_sites(gate, criteria)

    for tier in Tier:
        body = {k: v for k, v in FULL.items() if tier != Tier.PUBLIC or k not in WATER}
        result = search(tier, body)()
        print(
            f"  {kind:<9} {tier.value:<9} full criteria: {_ms(search(tier, body), runs):7.0f}"
            f"  ({result.evaluated} plots evaluated, {result.passing} passing)"  # type: ignore[attr-defined]
        )
    for name, value in FULL.items():
        if name in ("limit", "water_max_distance_m"):
            continue
        alone = {name: value, **({"water_max_distance_m": 150} if name == "water_min_dn" else {})}
        print(
            f"  {kind:<9} internal  {name + ' alone:':<28}{_ms(search(Tier.INTERNAL, alone), runs):7.0f}"
        )
    if kind == "embedded":
        print(f"  {kind:<9} internal  HTTP POST /site-selection: {_http(settings, runs):7.0f}")


def _http(settings: Settings, runs: int) -> float:
    """Median ms of the POST with every criterion, as internal, through the whole app."""
    settings.limits.enabled = False
    app = create_app(settings)
    with TestClient(app) as client:
        _, key = app.state.keys.create(tier=Tier.INTERNAL, name="bench")
        headers = {"Authorization": f"Bearer {key}"}

        def post() -> None:
            response = client.post("/site-selection", json=FULL, headers=headers)
            assert response.status_code == 200, response.text

        return _ms(post, runs)


def _ms(action: Callable[[], object], runs: int) -> float:
    """The median wall time of ``runs`` calls after a warm-up call, in milliseconds."""
    action()
    return _median(action, runs) * 1000


if __name__ == "__main__":
    sys.exit(main())
