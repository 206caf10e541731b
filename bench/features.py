"""Items throughput and latency against tipg: ``python bench/features.py [--scale 1.0]``.

Generates the demo parcels, ingests them into the embedded store and — when
ATLAS_TEST_DATABASE_URL or ATLAS_DATABASE_URL is set — into PostGIS (throwaway schemas, dropped
afterwards), then starts on free loopback ports, each with ``--workers`` worker processes (2):
Atlas over the embedded store and over PostGIS (``atlas serve --workers``), and tipg (the
``bench`` extra; ``uvicorn --workers``) over the same PostGIS view ``<schema>.parcels``. Every
server answers the same seeded requests, as a b2b caller for Atlas (``properties=id,contenance``:
nothing to audit), without compression:

- bbox: a random ~1 km² box inside the territory, ``limit=100``;
- filter: ``filter=contenance > 2000`` (CQL2 text) in a random ~4 km² box, ``limit=100``.

Boxes are CRS84 (tipg reads no ``bbox-crs``). A first pass over every request warms the servers
up and checks that they agree (numberMatched and the ids returned) and counts the features each
returns; wrk then warms every worker of each server up, untimed, and keeps ``--concurrency``
connections busy (4 and 32; ``apt-get install wrk``) for ``--seconds`` per server, query and
concurrency, in ``--rounds`` slices interleaved across the servers so that a change of the
machine's load falls on all of them, each slice started once the CPUs are idle again (the previous
server's backlog falls on nobody). Prints, per server, query and concurrency: features returned
per second (requests/s times the features per request of the request list), requests per second,
p50 and p99 latency (the worst slice's; each slice's is listed below the table), the ratios to
tipg and embedded to PostGIS, and whether issue 9's targets are met.
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
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import _wrk
import httpx
import shapely
from _common import ingested, load_average, machine, scheduling
from pyproj import Transformer

from atlas.auth.keys import open_keyring
from atlas.demo.territory import Territory
from atlas.settings import Settings

COLLECTION = "parcels"
LIMIT = 100
PROPERTIES = "id,contenance"
FILTER = "contenance > 2000"
QUERIES = {"bbox": 1_000.0, "filter": 2_000.0}  # query -> side of its boxes in metres
# Before the timed slices of each query, wrk sends it to each server for this long at the highest
# concurrency, untimed: the check pass used one connection, hence one worker, and what a worker
# does once (its pool's connections, the key read into memory) is not what the table compares.
WARM_UP_S = 2.0
STARTUP_TIMEOUT_S = 300  # a loaded shared machine starts a Python server slowly
# Nothing an outer environment sets may reach a bench server but what is given here.
_SERVER_ENV_PREFIXES = ("ATLAS_", "TIPG_", "DATABASE_URL", "POSTGRES_")


@dataclass(frozen=True)
class Server:
    """A running server: its name, items URL and request headers."""

    name: str
    items: str
    headers: dict[str, str]
    pid: int = 0  # the server's main process (its workers are its children)

    @property
    def base(self) -> str:
        """scheme://host:port."""
        return "/".join(self.items.split("/")[:3])

    @property
    def path(self) -> str:
        """The items path."""
        return "/" + "/".join(self.items.split("/")[3:])


@dataclass(frozen=True)
class Answer:
    """What the correctness check compares: numberMatched and the ids of the page."""

    matched: int | None
    ids: tuple[str, ...]


@dataclass
class Timing:
    """The timed requests of one server, query and concurrency (wrk runs added up)."""

    requests: int = 0
    seconds: float = 0.0
    p50_ms: list[float] = field(default_factory=list)  # one per slice
    p99_ms: list[float] = field(default_factory=list)
    errors: int = 0
    features_per_request: float = 0.0


def main() -> None:
    """Parse the options, build the stores, start the servers, print the figures."""
    args = _arguments()
    with ExitStack() as stack:
        tmp, territory, listed = stack.enter_context(
            ingested(args.keep, COLLECTION, scale=args.scale, seed=args.seed)
        )
        servers: list[Server] = []
        for kind, settings in listed:
            servers.append(stack.enter_context(_atlas(kind, settings, tmp, args.workers)))
            if settings.store.uses_postgis:
                servers.extend(stack.enter_context(_tipg(settings, tmp, args.workers)))
        requests = {
            query: _requests(territory, side, args.requests, random.Random(f"{args.seed}{query}"))
            for query, side in QUERIES.items()
        }
        print(
            f"{machine()}; {args.workers} workers per server; {args.requests} distinct requests"
            f" per query, {args.seconds:g} s per server, query and concurrency"
        )
        print(scheduling())
        print(load_average())
        returned = {query: _check(query, servers, params) for query, params in requests.items()}
        results = _measure(servers, requests, returned, args)
        print(load_average())
        _print(results)
        for server in servers:
            print(f"{server.name}: {_tree_rss_mb(server.pid):,.0f} MB resident (all its processes)")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = about 41,000 parcels")
    parser.add_argument(
        "--keep", type=Path, help="keep the stores in this directory and reuse them (same scale)"
    )
    parser.add_argument("--requests", type=int, default=200, help="distinct requests per query")
    parser.add_argument(
        "--concurrency", default="4,32", help="open connections, comma-separated (e.g. 4,32)"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="load per measure")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved slices per measure")
    parser.add_argument("--workers", type=int, default=2, help="worker processes per server")
    parser.add_argument("--seed", type=int, default=20261122)
    return parser.parse_args()


# -- servers -----------------------------------------------------------------------------


@contextmanager
def _atlas(kind: str, settings: Settings, tmp: Path, workers: int) -> Iterator[Server]:
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
    port = _free_port()
    serve = ["-c", "from atlas.cli import main; main()", "serve", "--host", "127.0.0.1"]
    serve += ["--port", str(port), "--workers", str(workers)]
    with _process(
        f"atlas-{kind}",
        serve,
        env | {"ATLAS_LOG_LEVEL": "warning", "ATLAS_ACCESS_LOG": "false"},
        tmp,
        port,
    ) as (base, pid, started):
        server = Server(
            f"atlas-{kind}",
            f"{base}/collections/{COLLECTION}/items",
            {"Authorization": f"Bearer {key}"},
            pid,
        )
        _wait_ready(server, started)
        yield server


@contextmanager
def _tipg(settings: Settings, tmp: Path, workers: int) -> Iterator[list[Server]]:
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
    port = _free_port()
    uvicorn = ["-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1", "--port", str(port)]
    uvicorn += ["--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    with _process("tipg", uvicorn, env, tmp, port) as (base, pid, started):
        server = Server("tipg", f"{base}/collections/{schema}.{COLLECTION}/items", {}, pid)
        _wait_ready(server, started)
        yield [server]


@contextmanager
def _process(
    name: str, args: list[str], env: dict[str, str], tmp: Path, port: int
) -> Iterator[tuple[str, int, float]]:
    """A Python server process on ``port`` (its log in ``tmp``): its URL, pid and launch time
    (``time.monotonic``); stopped on the way out."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(_SERVER_ENV_PREFIXES)}
    log = (tmp / f"{name}.log").open("wb")
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, *args],
        env=clean | env,
        cwd=tmp,  # tipg reads a .env file from its working directory
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}", process.pid, started
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


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, MB (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    total_kb = 0
    for member in tree:
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        found = [line for line in status.splitlines() if line.startswith("VmRSS:")]
        total_kb += int(found[0].split()[1]) if found else 0
    return total_kb / 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(server: Server, started: float) -> None:
    """Return when the items endpoint answers 200 (saying how long after launch); fail after
    STARTUP_TIMEOUT_S."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(
                server.items, params={"limit": "1"}, headers=server.headers, timeout=10
            )
            if response.status_code == 200:
                print(
                    f"{server.name}: first answer {time.monotonic() - started:.1f} s after launch"
                )
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


def _check(query: str, servers: list[Server], requests: list[dict]) -> dict[str, float]:
    """Warm-up pass: every request once on every server; warn where the answers differ.

    Returns the mean number of features a request of the list returns, per server."""
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
    return {name: statistics.mean(len(a.ids) for a in found) for name, found in answers.items()}


# -- timing ------------------------------------------------------------------------------


def _measure(
    servers: list[Server],
    requests: dict[str, list[dict]],
    returned: dict[str, dict[str, float]],
    args: argparse.Namespace,
) -> dict[tuple[str, str, int], Timing]:
    """Timings per (server, query, connections), the servers interleaved in ``rounds`` slices."""
    if not _wrk.available():
        raise SystemExit("wrk is not installed: apt-get install wrk")
    levels = [int(c) for c in str(args.concurrency).split(",") if c.strip()]
    slice_s = args.seconds / max(args.rounds, 1)
    results: dict[tuple[str, str, int], Timing] = {}
    for query, params in requests.items():
        for server in servers:  # untimed: every worker of every server past its first requests
            paths = [f"{server.path}?{urlencode(p)}" for p in params]
            headers = {"Accept-Encoding": "identity"} | server.headers
            _wrk.run(server.base, paths, headers, connections=max(levels), seconds=WARM_UP_S)
        for connections in levels:
            for _ in range(max(args.rounds, 1)):
                for server in servers:
                    timing = results.setdefault((server.name, query, connections), Timing())
                    timing.features_per_request = returned[query][server.name]
                    paths = [f"{server.path}?{urlencode(p)}" for p in params]
                    headers = {"Accept-Encoding": "identity"} | server.headers
                    load = _wrk.run(
                        server.base, paths, headers, connections=connections, seconds=slice_s
                    )
                    timing.requests += load.requests
                    timing.seconds += load.seconds
                    timing.p50_ms.append(load.p50_ms)
                    timing.p99_ms.append(load.p99_ms)
                    timing.errors += load.errors
    return results


def _print(results: dict[tuple[str, str, int], Timing]) -> None:
    """The table: one line per server, query and concurrency, with the ratios and targets."""
    header = (
        f"{'server':<15} {'query':<7} {'conns':>5} {'requests':>8} {'items/s':>8} {'req/s':>7}"
        f" {'p50 ms':>7} {'p99 ms':>7} {'items/s÷tipg':>12} {'p99÷tipg':>8} {'÷postgis':>8}"
    )
    print(header)
    verdicts = []
    for (name, query, conns), timing in results.items():
        line = _line(name, query, conns, timing)
        tipg = results.get(("tipg", query, conns))
        postgis = results.get(("atlas-postgis", query, conns))
        if tipg is not None and name != "tipg":
            items_ratio = _items_per_s(timing) / _items_per_s(tipg)
            p99_ratio = _p99(timing) / _p99(tipg)
            line += f" {items_ratio:>12.2f} {p99_ratio:>8.2f}"
            if name == "atlas-postgis":
                met = items_ratio >= 1.5 and p99_ratio <= 0.5
                verdicts.append(
                    f"{query} x{conns}: PostGIS {items_ratio:.2f}x tipg items/s (target 1.5),"
                    f" p99 {p99_ratio:.2f}x (target 0.5): {'met' if met else 'NOT met'}"
                )
        if postgis is not None and name == "atlas-embedded":
            ratio = _items_per_s(timing) / _items_per_s(postgis)
            line += f" {'':>12} {'':>8} {ratio:>8.2f}" if tipg is None else f" {ratio:>8.2f}"
            verdicts.append(
                f"{query} x{conns}: embedded {ratio:.2f}x PostGIS items/s (target 0.5):"
                f" {'met' if ratio >= 0.5 else 'NOT met'}"
            )
        if timing.errors:
            line += f"  ({timing.errors} errors)"
        print(line)
    print("\n".join(verdicts))
    print("p99 of each slice, in the order they ran (ms):")
    for (name, query, conns), timing in results.items():
        print(
            f"  {name:<15} {query:<7} {conns:>5}: " + ", ".join(f"{p:.0f}" for p in timing.p99_ms)
        )


def _line(name: str, query: str, conns: int, timing: Timing) -> str:
    p50 = statistics.median(timing.p50_ms)
    return (
        f"{name:<15} {query:<7} {conns:>5} {timing.requests:>8} {_items_per_s(timing):>8,.0f}"
        f" {timing.requests / timing.seconds:>7.1f} {p50:>7.1f} {_p99(timing):>7.1f}"
    )


def _p99(timing: Timing) -> float:
    return max(timing.p99_ms)  # the worst slice: a p99 cannot be averaged


def _items_per_s(timing: Timing) -> float:
    return timing.requests / timing.seconds * timing.features_per_request


if __name__ == "__main__":
    sys.exit(main())
