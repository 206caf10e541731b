"""Vector tile throughput and latency against tipg and nginx: ``python bench/tiles.py [--scale 5]``.

Generates the demo parcels (scale 5: about 206,000), ingests them into the embedded store and into
PostGIS (ATLAS_TEST_DATABASE_URL or ATLAS_DATABASE_URL: required; throwaway schemas, dropped
afterwards), then starts on free loopback ports, each with ``--workers`` worker processes (2):

- Atlas over each store (``atlas serve --workers``) twice: *cold*, its tile cache off
  (``ATLAS_TILE_CACHE_BYTES=0``, no cache directory), and *warm*, its cache on
  (``--cache-mb`` of memory per tier and worker, and a disk cache shared by its workers,
  ``ATLAS_TILE_CACHE_DIR``) and filled by one pass over every tile before it is timed. Atlas is
  asked as a b2b key for ``/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}`` with the
  default tile properties (the id alone) and the default tile budget;
- tipg (the ``bench`` extra; ``uvicorn --workers``) over the same PostGIS view ``<schema>.parcels``,
  its tiles at ``/collections/<schema>.parcels/tiles/WebMercatorQuad/{z}/{x}/{y}`` with
  ``properties=feature_id``, from the view's pre-projected ``geom_3857`` column (tipg's best case:
  no reprojection per tile; ``--tipg-geom geom`` for the Lambert-93 column);
- nginx (Debian package ``nginx``) serving the tiles Atlas on PostGIS served, written as static
  files ``z/x/y.mvt`` (a tile without features as an empty file), run in the foreground as the
  current user with a minimal configuration in the temporary directory, stopped afterwards.

The tiles: every WebMercatorQuad tile of zooms 12 to 16 covering the extent of the parcels
(Atlas's TileJSON bounds) from the collection's minzoom (parcels: 13; Atlas answers 404 below
it, so lower zooms are left out for every server), and, as a second list, zoom 16 alone. A list
longer than ``--max-tiles`` is cut to a seeded random sample of that many, each zoom keeping its
share. wrk (``apt-get install wrk``) walks each list in a seeded shuffled order, keeping 8 and 32
connections busy for ``--seconds`` per server, list and concurrency, in ``--rounds`` slices
interleaved across the servers. A check decodes (mapbox-vector-tile) a few of the densest tiles
of each zoom from Atlas and tipg and warns when their feature counts differ by more than 10 %
(Atlas keeps at most ATLAS_TILE_MAX_FEATURES features and ATLAS_TILE_MAX_BYTES bytes per tile,
leaving out the smallest; tipg cuts at 10,000 features; tipg keeps a buffer of 256 tile units
around a tile, Atlas 64, so counts may differ by a few features at tile edges), and compares the
feature counts (Atlas-Tile-Features) of every tile on the two stores. Prints tiles/s, p50 and p99 per server, list and concurrency, the ratios
(Atlas cold ÷ tipg, Atlas warm ÷ nginx, embedded ÷ PostGIS cold), whether issue 10's targets are
met (the cold one for Atlas on PostGIS, tipg's peer; the embedded store's is ÷ PostGIS), how the
kernel groups the processes for scheduling (bench/_common.py: ``scheduling``), and the load
average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import _wrk
import httpx
import mapbox_vector_tile
from _common import database_url, ingested, load_average, machine, scheduling
from features import Server, _free_port, _process, _tree_rss_mb, _wait_ready

from atlas.auth.keys import open_keyring
from atlas.query.grids import grid
from atlas.settings import Settings
from atlas.types import TileXYZ

COLLECTION = "parcels"
GRID = "WebMercatorQuad"
ZOOMS = range(12, 17)
FILL_THREADS = 4  # the pass that fills the caches and writes nginx's files
CHECK_DIFFERENCE = 0.10  # feature counts of Atlas and tipg further apart than this: a warning
# Issue 10's targets.
COLD_RATE, COLD_P99 = 1.5, 0.5  # Atlas cold vs tipg: tiles/s at least, p99 at most
WARM_RATE, WARM_P99_MS, WARM_CONNECTIONS = 0.1, 20.0, 8  # Atlas warm vs nginx static
EMBEDDED_RATE = 0.5  # embedded vs PostGIS, cold: within 2x
COLD = ("atlas-postgis-cold", "atlas-embedded-cold")
COLD_PEER = "atlas-postgis-cold"  # tipg's peer: the same PostGIS, the same view
WARM = ("atlas-postgis-warm", "atlas-embedded-warm")


@dataclass(frozen=True)
class Target:
    """A server timed on tiles: its base URL, a tile path template and its request headers."""

    name: str
    base: str
    template: str  # with {z}, {x}, {y}
    headers: dict[str, str]
    pid: int = 0

    def path(self, tile: TileXYZ) -> str:
        """The tile's path on this server."""
        return self.template.format(z=tile.z, x=tile.x, y=tile.y)


@dataclass(frozen=True)
class Fetched:
    """One tile as read by the filling pass."""

    status: int
    data: bytes
    features: int | None  # Atlas's Atlas-Tile-Features header
    dropped: int | None


@dataclass
class Timing:
    """The timed requests of one server, tile list and concurrency (wrk runs added up)."""

    requests: int = 0
    seconds: float = 0.0
    p50_ms: list[float] = field(default_factory=list)  # one per slice
    p99_ms: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def rate(self) -> float:
        """Tiles per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        """The median of the slices' medians."""
        return statistics.median(self.p50_ms)

    @property
    def p99(self) -> float:
        """The worst slice's p99: a p99 cannot be averaged."""
        return max(self.p99_ms)


def main() -> None:
    """Parse the options, build the stores, start the servers, print the figures."""
    args = _arguments()
    if database_url() is None:
        raise SystemExit("set ATLAS_TEST_DATABASE_URL or ATLAS_DATABASE_URL: tipg needs PostGIS")
    if not _wrk.available():
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with ExitStack() as stack:
        tmp, _, listed = stack.enter_context(
            ingested(args.keep, COLLECTION, scale=args.scale, seed=args.seed)
        )
        targets: dict[str, Target] = {}
        for kind, settings in listed:
            for server in _atlas_pair(stack, kind, settings, tmp, args):
                targets[server.name] = server
            if settings.store.uses_postgis:
                targets["tipg"] = stack.enter_context(_tipg_tiles(settings, tmp, args))
        lists = _tile_lists(targets["atlas-postgis-cold"], args)
        static = tmp / "static"
        fetched = _fill(targets, lists["all"] + lists["z16"], static)
        _check(fetched, args.check)
        targets["nginx"] = stack.enter_context(_nginx(static, tmp, args.workers, lists["z16"][0]))
        print(
            f"{machine()}; {args.workers} workers per server; {args.seconds:g} s per server, tile"
            f" list and concurrency in {args.rounds} slices; Atlas warm: {args.cache_mb} MB memory"
            " cache per tier and worker, and a disk cache"
        )
        print(scheduling())
        print(load_average())
        results = _measure(targets, lists, args)
        print(load_average())
        _print(results)
        for server in targets.values():
            print(f"{server.name}: {_tree_rss_mb(server.pid):,.0f} MB resident (all its processes)")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=5.0, help="5 = about 206,000 parcels")
    parser.add_argument(
        "--keep", type=Path, help="keep the stores in this directory and reuse them (same scale)"
    )
    parser.add_argument(
        "--concurrency", default="8,32", help="open connections, comma-separated (e.g. 8,32)"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="load per measure")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved slices per measure")
    parser.add_argument("--workers", type=int, default=2, help="worker processes per server")
    parser.add_argument("--max-tiles", type=int, default=5000, help="cap of each tile list")
    parser.add_argument("--cache-mb", type=int, default=256, help="Atlas warm: memory cache")
    parser.add_argument("--check", type=int, default=3, help="tiles per zoom decoded and compared")
    parser.add_argument("--tipg-geom", default="geom_3857", help="the view column tipg tiles")
    parser.add_argument("--seed", type=int, default=20261206)
    return parser.parse_args()


# -- servers -----------------------------------------------------------------------------


def _atlas_pair(
    stack: ExitStack, kind: str, settings: Settings, tmp: Path, args: argparse.Namespace
) -> list[Target]:
    """Atlas over one store, cold (no tile cache) and warm (memory and disk cache)."""
    keyring = open_keyring(settings.store, settings.auth)
    try:
        _, key = keyring.create(tier="b2b", name="bench")
    finally:
        keyring.close()
    env = {
        "ATLAS_DATA_DIR": str(settings.store.data_dir),
        "ATLAS_RATE_ENABLED": "false",
        "ATLAS_LOG_LEVEL": "warning",
        "ATLAS_ACCESS_LOG": "false",
    }
    if settings.store.database_url is not None:
        env |= {
            "ATLAS_DATABASE_URL": settings.store.database_url.get_secret_value(),
            "ATLAS_DATABASE_SCHEMA": settings.store.database_schema,
            "ATLAS_AUTH_DB_SCHEMA": settings.auth.db_schema,
            "ATLAS_AUDIT_DB_SCHEMA": settings.audit.db_schema,
        }
    cold = {"ATLAS_TILE_CACHE_BYTES": "0"}
    warm = {
        "ATLAS_TILE_CACHE_BYTES": str(args.cache_mb * 1024 * 1024),
        "ATLAS_TILE_CACHE_DIR": str(tmp / f"tile-cache-{kind}"),
    }
    return [
        stack.enter_context(_atlas(f"atlas-{kind}-{state}", env | extra, key, tmp, args.workers))
        for state, extra in (("cold", cold), ("warm", warm))
    ]


@contextmanager
def _atlas(name: str, env: dict[str, str], key: str, tmp: Path, workers: int) -> Iterator[Target]:
    """``atlas serve`` with ``env``, asked with the b2b ``key``."""
    port = _free_port()
    serve = ["-c", "from atlas.cli import main; main()", "serve", "--host", "127.0.0.1"]
    serve += ["--port", str(port), "--workers", str(workers)]
    with _process(name, serve, env, tmp, port) as (base, pid, started):
        headers = {"Authorization": f"Bearer {key}"}
        _wait_ready(Server(name, f"{base}/collections/{COLLECTION}/items", headers, pid), started)
        yield Target(
            name, base, f"/collections/{COLLECTION}/tiles/{GRID}/{{z}}/{{x}}/{{y}}", headers, pid
        )


@contextmanager
def _tipg_tiles(settings: Settings, tmp: Path, args: argparse.Namespace) -> Iterator[Target]:
    """tipg over the Atlas view ``<schema>.parcels``, tiling ``--tipg-geom`` (as features.py
    starts it for items, with another geometry column)."""
    try:
        import tipg  # noqa: F401
    except ImportError:
        raise SystemExit("tipg is not installed: pip install -e '.[bench]'") from None
    assert settings.store.database_url is not None
    schema = settings.store.database_schema
    table = f"TIPG_TABLE_CONFIG__{schema}_{COLLECTION}__"
    env = {
        "DATABASE_URL": settings.store.database_url.get_secret_value(),
        "TIPG_DB_SCHEMAS": json.dumps([schema]),
        table + "PK": "feature_id",  # the view has no primary key: name the id column
        table + "GEOMCOL": args.tipg_geom,
        "TIPG_CATALOG_TTL": "0",  # no catalog refresh in the middle of a timed run
    }
    port = _free_port()
    uvicorn = ["-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1", "--port", str(port)]
    uvicorn += ["--workers", str(args.workers), "--no-access-log", "--log-level", "warning"]
    with _process("tipg", uvicorn, env, tmp, port) as (base, pid, started):
        collection = f"{schema}.{COLLECTION}"
        _wait_ready(Server("tipg", f"{base}/collections/{collection}/items", {}, pid), started)
        template = f"/collections/{collection}/tiles/{GRID}/{{z}}/{{x}}/{{y}}"
        yield Target("tipg", base, template + "?properties=feature_id", {}, pid)


_NGINX_CONF = """
{user}worker_processes {workers};
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    types {{ application/vnd.mapbox-vector-tile mvt; }}
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ try_files $uri =404; }}
    }}
}}
"""


@contextmanager
def _nginx(root: Path, tmp: Path, workers: int, probe: TileXYZ) -> Iterator[Target]:
    """nginx in the foreground serving ``root``'s ``z/x/y.mvt`` files; stopped on the way out."""
    if subprocess.run(["which", "nginx"], capture_output=True).returncode:
        raise SystemExit("nginx is not installed: apt-get install -y nginx")
    port = _free_port()
    # As root, nginx would hand its workers to ``nobody``, who cannot read the temporary
    # directory: name the current user (the directive is ignored, with a warning, otherwise).
    user = pwd.getpwuid(os.geteuid()).pw_name
    conf = tmp / "nginx.conf"
    conf.write_text(
        _NGINX_CONF.format(
            user=f"user {user};\n" if os.geteuid() == 0 else "",
            workers=workers,
            tmp=tmp,
            port=port,
            root=root,
        )
    )
    command = ["nginx", "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "nginx-error.log")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        target = Target("nginx", f"http://127.0.0.1:{port}", "/{z}/{x}/{y}.mvt", {}, process.pid)
        _wait_static(target, probe)
        yield target
    finally:
        process.terminate()  # SIGTERM: nginx's fast shutdown
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_static(target: Target, probe: TileXYZ) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(target.base + target.path(probe), timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("nginx did not answer within 30 s")


# -- tiles -------------------------------------------------------------------------------


def _tile_lists(atlas: Target, args: argparse.Namespace) -> dict[str, list[TileXYZ]]:
    """Every tile of ZOOMS over the parcels' extent from their minzoom, and zoom 16 alone;
    each capped by a seeded sample and shuffled (the order wrk walks)."""
    tilejson = httpx.get(
        f"{atlas.base}/collections/{COLLECTION}/tiles/{GRID}", headers=atlas.headers, timeout=60
    )
    tilejson.raise_for_status()
    bounds, min_zoom = tilejson.json()["bounds"], tilejson.json()["minzoom"]
    zooms = [z for z in ZOOMS if z >= min_zoom]
    if len(zooms) < len(ZOOMS):
        print(
            f"tiles: zooms {ZOOMS[0]}-{min_zoom - 1} left out: below the parcels' minzoom"
            f" ({min_zoom}), where Atlas answers 404"
        )
    by_zoom = {z: grid(GRID).covering(tuple(bounds), z) for z in zooms}
    rng = random.Random(args.seed)
    lists = {
        "all": _capped(by_zoom, args.max_tiles, rng),
        "z16": _capped({16: by_zoom[16]}, args.max_tiles, rng),
    }
    for name, tiles in lists.items():
        counts = ", ".join(f"z{z} {sum(t.z == z for t in tiles)}" for z in by_zoom)
        print(f"tile list '{name}': {len(tiles)} tiles ({counts}) over {bounds}")
    return lists


def _capped(by_zoom: dict[int, list[TileXYZ]], cap: int, rng: random.Random) -> list[TileXYZ]:
    """The tiles, or a random sample of ``cap`` of them, each zoom in proportion; shuffled."""
    total = sum(len(tiles) for tiles in by_zoom.values())
    out: list[TileXYZ] = []
    for tiles in by_zoom.values():
        keep = len(tiles) if total <= cap else max(1, round(len(tiles) * cap / total))
        out.extend(rng.sample(tiles, keep))
    if total > cap:
        print(f"tiles: {total} tiles cut to a random sample of {len(out)}, each zoom in proportion")
    rng.shuffle(out)
    return out


def _fill(
    targets: dict[str, Target], tiles: list[TileXYZ], static: Path
) -> dict[str, dict[TileXYZ, Fetched]]:
    """One pass over every tile on the warm Atlas servers (filling their caches) and tipg;
    the PostGIS tiles written for nginx (an empty file for a tile without features)."""
    unique = list(dict.fromkeys(tiles))
    fetched = {}
    for name in (*WARM, "tipg"):
        started = time.perf_counter()
        fetched[name] = _fetch_all(targets[name], unique)
        failed = [t for t, f in fetched[name].items() if f.status not in (200, 204)]
        if failed:
            t = failed[0]
            raise RuntimeError(f"{name}: HTTP {fetched[name][t].status} on {len(failed)} tiles")
        took = time.perf_counter() - started
        print(f"{name}: first pass over {len(unique)} tiles in {took:.1f} s")
    for tile, got in fetched["atlas-postgis-warm"].items():
        path = static / str(tile.z) / str(tile.x) / f"{tile.y}.mvt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(got.data)
    return fetched


def _fetch_all(target: Target, tiles: list[TileXYZ]) -> dict[TileXYZ, Fetched]:
    headers = {"Accept-Encoding": "identity"} | target.headers
    with httpx.Client(base_url=target.base, headers=headers, timeout=300) as client:

        def one(tile: TileXYZ) -> Fetched:
            response = client.get(target.path(tile))
            features = response.headers.get("Atlas-Tile-Features")
            dropped = response.headers.get("Atlas-Tile-Dropped")
            return Fetched(
                response.status_code,
                response.content,
                int(features) if features is not None else None,
                int(dropped) if dropped is not None else None,
            )

        with ThreadPoolExecutor(FILL_THREADS) as pool:
            return dict(zip(tiles, pool.map(one, tiles), strict=True))


def _features(data: bytes) -> int:
    """Features in an MVT, every layer."""
    if not data:
        return 0
    return sum(len(layer["features"]) for layer in mapbox_vector_tile.decode(data).values())


def _check(fetched: dict[str, dict[TileXYZ, Fetched]], per_zoom: int) -> None:
    """Decode the densest tiles of each zoom from Atlas and tipg and compare their feature counts;
    compare every tile's count on the two stores."""
    postgis, embedded, tipg = (fetched[n] for n in (*WARM, "tipg"))
    differ = [t for t in postgis if postgis[t].features != embedded[t].features]
    print(
        f"check: Atlas-Tile-Features equal on both stores for {len(postgis) - len(differ)}"
        f" of {len(postgis)} tiles" + (f" (WARNING: differ on {len(differ)})" if differ else "")
    )
    for tile in differ[:3]:
        print(
            f"  {tile.z}/{tile.x}/{tile.y}: PostGIS {postgis[tile].features},"
            f" embedded {embedded[tile].features}"
        )
    for z in sorted({t.z for t in postgis}):
        densest = sorted(
            (t for t in postgis if t.z == z), key=lambda t: -(postgis[t].features or 0)
        )[:per_zoom]
        for tile in densest:
            ours, theirs = _features(postgis[tile].data), _features(tipg[tile].data)
            budget = postgis[tile].dropped or 0
            line = f"  {tile.z}/{tile.x}/{tile.y}: Atlas {ours} features"
            line += f" ({budget} left out by the tile budget), tipg {theirs}"
            if ours != postgis[tile].features:
                line += f" (WARNING: Atlas-Tile-Features says {postgis[tile].features})"
            if abs(ours - theirs) > CHECK_DIFFERENCE * max(ours, theirs, 1):
                line += "  WARNING: counts differ by more than 10 %"
                if budget:
                    line += " (Atlas's feature budget: ATLAS_TILE_MAX_FEATURES / _MAX_BYTES)"
            print(line)


# -- timing ------------------------------------------------------------------------------

Key = tuple[str, str, int]  # server, tile list, connections


def _measure(
    targets: dict[str, Target], lists: dict[str, list[TileXYZ]], args: argparse.Namespace
) -> dict[Key, Timing]:
    """Timings per (server, tile list, connections), the servers interleaved in ``rounds``."""
    levels = [int(c) for c in str(args.concurrency).split(",") if c.strip()]
    slice_s = args.seconds / max(args.rounds, 1)
    order = [*COLD, "tipg", *WARM, "nginx"]
    results: dict[Key, Timing] = {}
    for list_name, tiles in lists.items():
        for connections in levels:
            for _ in range(max(args.rounds, 1)):
                for name in order:
                    target = targets[name]
                    paths = [target.path(t) for t in tiles]
                    headers = {"Accept-Encoding": "identity"} | target.headers
                    load = _wrk.run(
                        target.base, paths, headers, connections=connections, seconds=slice_s
                    )
                    timing = results.setdefault((name, list_name, connections), Timing())
                    timing.requests += load.requests
                    timing.seconds += load.seconds
                    timing.p50_ms.append(load.p50_ms)
                    timing.p99_ms.append(load.p99_ms)
                    timing.errors += load.errors
    return results


def _print(results: dict[Key, Timing]) -> None:
    """The table (one line per server, tile list and concurrency), the ratios and the targets."""
    print(
        f"{'server':<20} {'tiles':<5} {'conns':>5} {'requests':>8} {'tiles/s':>8}"
        f" {'p50 ms':>8} {'p99 ms':>8}"
    )
    for (name, list_name, conns), timing in results.items():
        line = (
            f"{name:<20} {list_name:<5} {conns:>5} {timing.requests:>8} {timing.rate:>8.1f}"
            f" {timing.p50:>8.2f} {timing.p99:>8.2f}"
        )
        print(line + (f"  ({timing.errors} errors)" if timing.errors else ""))
    print("ratios and issue 10's targets:")
    for list_name, conns in dict.fromkeys((k[1], k[2]) for k in results):
        row = {
            name: results[(name, list_name, conns)]
            for name, n, c in results
            if (n, c) == (list_name, conns)
        }
        for line in _verdicts(row, conns):
            print(f"  {list_name} x{conns}: {line}")


def _verdicts(row: dict[str, Timing], conns: int) -> list[str]:
    """Atlas cold vs tipg, Atlas warm vs nginx, embedded vs PostGIS cold; met or not."""
    out = []
    tipg, nginx = row["tipg"], row["nginx"]
    for name in COLD:
        rate, p99 = row[name].rate / tipg.rate, row[name].p99 / tipg.p99
        line = f"{name} ÷ tipg: {rate:.2f}x tiles/s, p99 {p99:.2f}x"
        if name == COLD_PEER:
            met = rate >= COLD_RATE and p99 <= COLD_P99
            line += f" (target {COLD_RATE}, p99 {COLD_P99}): {_met(met)}"
        else:  # the issue sets the embedded store's target against PostGIS, below
            line += " (for information: the embedded store's target is ÷ PostGIS cold)"
        out.append(line)
    for name in WARM:
        rate = row[name].rate / nginx.rate
        line = f"{name} ÷ nginx: {rate:.2f}x tiles/s (target {WARM_RATE})"
        if conns == WARM_CONNECTIONS:
            p99 = row[name].p99
            line += f", p99 {p99:.1f} ms (target < {WARM_P99_MS:g})"
            line += f": {_met(rate >= WARM_RATE and p99 < WARM_P99_MS)}"
        else:
            line += f" (the target is at concurrency {WARM_CONNECTIONS})"
        out.append(line)
    embedded = row["atlas-embedded-cold"].rate / row["atlas-postgis-cold"].rate
    out.append(
        f"embedded ÷ PostGIS cold: {embedded:.2f}x tiles/s (target {EMBEDDED_RATE}):"
        f" {_met(embedded >= EMBEDDED_RATE)}"
    )
    return out


def _met(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":
    sys.exit(main())
