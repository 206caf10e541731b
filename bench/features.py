"""Items throughput and latency against tipg: ``python bench/features.py [--scale 1.0]``.

Generates the demo parcels, ingests them into the embedded store and — when
ATLAS_TEST_DATABASE_URL or ATLAS_DATABASE_URL is set — into PostGIS (throwaway schemas, dropped
afterwards), then starts on free loopback ports, each as its own uvicorn process (one worker):
Atlas over the embedded store, Atlas over PostGIS, and tipg (the ``bench`` extra) over the same
PostGIS view ``<schema>.parcels``. Every server answers the same seeded requests, as a b2b caller
for Atlas (``properties=id,contenance``: nothing to audit), without compression:

- bbox: a random ~1 km² box inside the territory, ``limit=100``;
- filter: ``filter=contenance > 2000`` (CQL2 text) in a random ~4 km² box, ``limit=100``.

Boxes are CRS84 (tipg reads no ``bbox-crs``). A first pass over every request warms the servers
up and checks that they agree (numberMatched and the ids returned); then ``--requests`` timed
requests one at a time, and again from ``--concurrency`` threads, interleaved across servers in
``--rounds`` slices so that a change of the machine's load falls on all of them. Prints, per
server, query and mode: features returned per second, requests per second, p50 and p99 latency,
and the ratios to tipg.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx
import shapely
from _common import demo_parcels, load_average, machine, opened, stores
from pyproj import Transformer

from atlas.auth.keys import open_keyring
from atlas.demo.territory import Territory
from atlas.ingest import ingest_path
from atlas.settings import Settings

COLLECTION = "parcels"
LIMIT = 100
PROPERTIES = "id,contenance"
FILTER = "contenance > 2000"
QUERIES = {"bbox": 1_000.0, "filter": 2_000.0}  # query -> side of its boxes in metres
STARTUP_TIMEOUT_S = 300  # a loaded shared machine starts a Python server slowly
# Nothing an outer environment sets may reach a bench server but what is given here.
_SERVER_ENV_PREFIXES = ("ATLAS_", "TIPG_", "DATABASE_URL", "POSTGRES_")


@dataclass(frozen=True)
class Server:
    """A running server: its name, items URL and request headers."""

    name: str
    items: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Answer:
    """What the correctness check compares: numberMatched and the ids of the page."""

    matched: int | None
    ids: tuple[str, ...]


@dataclass
class Timing:
    """The timed requests of one server, query and mode."""

    latencies: list[float] = field(default_factory=list)
    features: int = 0
    seconds: float = 0.0


def main() -> None:
    """Parse the options, build the stores, start the servers, print the figures."""
    args = _arguments()
    with TemporaryDirectory(prefix="atlas-bench-") as tmp, ExitStack() as stack:
        source, territory = demo_parcels(Path(tmp), scale=args.scale, seed=args.seed)
        servers: list[Server] = []
        for kind, settings in stores(Path(tmp)):
            store = stack.enter_context(opened(settings))
            report = ingest_path(store, COLLECTION, source, settings=settings, progress=False)
            print(f"{kind}: {report.summary()}")
            servers.append(stack.enter_context(_atlas(kind, settings, Path(tmp))))
            if settings.store.uses_postgis:
                servers.extend(stack.enter_context(_tipg(settings, Path(tmp))))
        requests = {
            query: _requests(territory, side, args.requests, random.Random(f"{args.seed}{query}"))
            for query, side in QUERIES.items()
        }
        print(f"{machine()}; {args.requests} requests per server, query and mode")
        print(load_average())
        for query, params in requests.items():
            _check(query, servers, params)
        results = _measure(servers, requests, args.concurrency, args.rounds)
        print(load_average())
        _print(results)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = about 41,000 parcels")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per measure")
    parser.add_argument("--concurrency", type=int, default=4, help="threads; 1 = sequential only")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved slices per measure")
    parser.add_argument("--seed", type=int, default=20261122)
    return parser.parse_args()


# -- servers -----------------------------------------------------------------------------


@contextmanager
def _atlas(kind: str, settings: Settings, tmp: Path) -> Iterator[Server]:
    """Atlas over one store, as ``atlas serve`` runs it, with a b2b key and no rate limit."""
    keyring = open_keyring(settings.store, settings.auth)
    try:
        _, key = keyring.create(tier="b2b", name="bench")
    finally:
        keyring.close()
    env = {
        "ATLAS_DATA_DIR": str(settings.store.data_dir),
        "ATLAS_RATE_ENABLED": "false",
    }
    if settings.store.database_url is not None:
        env |= {
            "ATLAS_DATABASE_URL": settings.store.database_url.get_secret_value(),
            "ATLAS_DATABASE_SCHEMA": settings.store.database_schema,
            "ATLAS_AUTH_DB_SCHEMA": settings.auth.db_schema,
            "ATLAS_AUDIT_DB_SCHEMA": settings.audit.db_schema,
        }
    app = ["--factory", "atlas.api.app:create_app"]
    with _uvicorn(f"atlas-{kind}", app, env, tmp) as base:
        server = Server(
            f"atlas-{kind}",
            f"{base}/collections/{COLLECTION}/items",
            {"Authorization": f"Bearer {key}"},
        )
        _wait_ready(server)
        yield server


@contextmanager
def _tipg(settings: Settings, tmp: Path) -> Iterator[list[Server]]:
    """tipg over the Atlas view ``<schema>.parcels``; nothing when tipg is not installed."""
    try:
        import tipg  # noqa: F401
    except ImportError:
        print("tipg: skipped (pip install -e '.[bench]')")
        yield []
        return
    assert settings.store.database_url is not None
    schema = settings.store.database_schema
    table = f"TIPG_TABLE_CONFIG__{schema}_{COLLECTION}__"
    env = {
        "DATABASE_URL": settings.store.database_url.get_secret_value(),
        "TIPG_DB_SCHEMAS": json.dumps([schema]),
        # The view has no primary key: name the id column; geom_3857 is the tiles' copy.
        table + "PK": "feature_id",
        table + "GEOMCOL": "geom",
        "TIPG_CATALOG_TTL": "0",  # no catalog refresh in the middle of a timed run
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
    }
    with _uvicorn("tipg", ["tipg.main:app"], env, tmp) as base:
        server = Server("tipg", f"{base}/collections/{schema}.{COLLECTION}/items", {})
        _wait_ready(server)
        yield [server]


@contextmanager
def _uvicorn(name: str, app: list[str], env: dict[str, str], tmp: Path) -> Iterator[str]:
    """A uvicorn process on a free loopback port (its log in ``tmp``); stopped on the way out."""
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(_SERVER_ENV_PREFIXES)}
    log = (tmp / f"{name}.log").open("wb")
    command = [sys.executable, "-m", "uvicorn", *app, "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--no-access-log", "--log-level", "warning"],
        env=clean | env,
        cwd=tmp,  # tipg reads a .env file from its working directory
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    except BaseException:
        log.flush()
        tail = (tmp / f"{name}.log").read_text(errors="replace")[-2000:]
        print(f"{name} log (last lines):\n{tail}", file=sys.stderr)
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(server: Server) -> None:
    """Return when the items endpoint answers 200; fail after STARTUP_TIMEOUT_S."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(
                server.items, params={"limit": "1"}, headers=server.headers, timeout=10
            )
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}: {response.text[:200]}"
        except httpx.TransportError as exc:
            last = type(exc).__name__
        time.sleep(0.5)
    raise RuntimeError(f"{server.name} not ready after {STARTUP_TIMEOUT_S} s ({last})")


# -- requests ----------------------------------------------------------------------------


def _requests(territory: Territory, side: float, n: int, rng: random.Random) -> list[dict]:
    """``n`` query strings, each with a CRS84 box around a ``side``-metre square in the territory."""
    to_crs84 = Transformer.from_crs("EPSG:2154", "OGC:CRS84", always_xy=True)
    xmin, ymin, xmax, ymax = territory.bounds
    out: list[dict] = []
    while len(out) < n:
        x, y = rng.uniform(xmin, xmax - side), rng.uniform(ymin, ymax - side)
        if not territory.envelope.contains(shapely.box(x, y, x + side, y + side)):
            continue
        a, b, c, d = to_crs84.transform_bounds(x, y, x + side, y + side)
        params = {"bbox": f"{a:.6f},{b:.6f},{c:.6f},{d:.6f}", "limit": str(LIMIT)}
        if side != QUERIES["bbox"]:
            params |= {"filter": FILTER, "filter-lang": "cql2-text"}
        out.append(params | {"properties": PROPERTIES})
    return out


def _client(server: Server) -> httpx.Client:
    # Identity encoding: tipg compresses when asked, Atlas does not; compare the same bytes.
    headers = {"Accept": "application/geo+json", "Accept-Encoding": "identity"}
    return httpx.Client(headers=headers | server.headers, timeout=60)


def _get(client: httpx.Client, server: Server, params: dict) -> tuple[float, dict]:
    """One request: its latency in seconds (body read, not parsed) and the parsed body."""
    started = time.perf_counter()
    response = client.get(server.items, params=params)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, response.json()


def _check(query: str, servers: list[Server], requests: list[dict]) -> None:
    """Warm-up pass: every request once on every server; warn where the answers differ."""
    answers: dict[str, list[Answer]] = {}
    for server in servers:
        with _client(server) as client:
            bodies = [_get(client, server, params)[1] for params in requests]
        answers[server.name] = [
            Answer(b.get("numberMatched"), tuple(str(f["id"]) for f in b["features"]))
            for b in bodies
        ]
    matched = [a.matched or 0 for a in answers[servers[0].name]]
    print(
        f"{query}: {len(requests)} requests, numberMatched median {statistics.median(matched):.0f}"
        f" (min {min(matched)}, max {max(matched)})"
    )
    reference = servers[0].name
    for name, found in answers.items():
        if name == reference:
            continue
        pairs = list(zip(answers[reference], found, strict=True))
        counts = sum(a.matched != b.matched for a, b in pairs)
        ids = sum(a.ids != b.ids for a, b in pairs)
        more = sum((a.matched or 0) > (b.matched or 0) for a, b in pairs)
        if counts or ids:
            print(
                f"  WARNING {name} vs {reference}: numberMatched differs on {counts},"
                f" ids on {ids} of {len(pairs)} requests ({reference} matched more on {more})"
            )
        else:
            print(f"  {name} = {reference} on all {len(pairs)} requests (numberMatched and ids)")


# -- timing ------------------------------------------------------------------------------


def _measure(
    servers: list[Server], requests: dict[str, list[dict]], concurrency: int, rounds: int
) -> dict[tuple[str, str, int], Timing]:
    """Timings per (server, query, threads), the servers interleaved in ``rounds`` slices."""
    modes = [1] if concurrency <= 1 else [1, concurrency]
    results: dict[tuple[str, str, int], Timing] = {}
    for query, params in requests.items():
        for threads in modes:
            size = -(-len(params) // max(rounds, 1))
            for start in range(0, len(params), size):
                for server in servers:
                    timing = results.setdefault((server.name, query, threads), Timing())
                    _run(server, params[start : start + size], threads, timing)
    return results


def _run(server: Server, requests: list[dict], threads: int, timing: Timing) -> None:
    """Send ``requests`` from ``threads`` threads (one connection each); add to ``timing``."""
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def one(params: dict) -> tuple[float, int]:
        if not hasattr(local, "client"):
            local.client = _client(server)
            with lock:
                clients.append(local.client)
        elapsed, body = _get(local.client, server, params)
        return elapsed, len(body["features"])

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, requests[:threads]))  # open the connections outside the clock
        started = time.perf_counter()
        done = list(pool.map(one, requests))
        timing.seconds += time.perf_counter() - started
    for client in clients:
        client.close()
    timing.latencies.extend(elapsed for elapsed, _ in done)
    timing.features += sum(n for _, n in done)


def _print(results: dict[tuple[str, str, int], Timing]) -> None:
    """The table: one line per server, query and mode, with the ratios to tipg."""
    header = (
        f"{'server':<15} {'query':<7} {'threads':>7} {'requests':>8} {'items/s':>8} {'req/s':>7}"
        f" {'p50 ms':>7} {'p99 ms':>7} {'items/s÷tipg':>12} {'p50÷tipg':>8}"
    )
    print(header)
    for (name, query, threads), timing in results.items():
        line = _line(name, query, threads, timing)
        reference = results.get(("tipg", query, threads))
        if reference is not None:
            items_ratio = _items_per_s(timing) / _items_per_s(reference)
            p50_ratio = statistics.median(timing.latencies) / statistics.median(reference.latencies)
            line += f" {items_ratio:>12.2f} {p50_ratio:>8.2f}"
        print(line)


def _line(name: str, query: str, threads: int, timing: Timing) -> str:
    n = len(timing.latencies)
    p50 = statistics.median(timing.latencies) * 1000
    p99 = statistics.quantiles(timing.latencies, n=100)[98] * 1000 if n > 1 else p50
    return (
        f"{name:<15} {query:<7} {threads:>7} {n:>8} {_items_per_s(timing):>8,.0f}"
        f" {n / timing.seconds:>7.1f} {p50:>7.1f} {p99:>7.1f}"
    )


def _items_per_s(timing: Timing) -> float:
    return timing.features / timing.seconds


if __name__ == "__main__":
    sys.exit(main())
