"""Each answer costs the store one SQL statement, counted where statements leave the process.

PostGIS: libpq's protocol trace on every pooled connection the store lends, so a BEGIN, a
ROLLBACK or a pool ping would count like any query (a simple ``Query`` message or an extended
``Execute``). Embedded: DuckDB's own query log (``enable_logging('QueryLog')``), which sees every
statement of every cursor of the store's database. Audit records (their own writer, batched) and
API keys (in memory) use no store statement.

Items page: 1 statement (+1 on PostGIS for ``numberMatched`` when the page is full; DuckDB counts
in the same statement when the query is spatial); feature 1; collection 0 or 1; unknown
collection, hidden field or bad parameter: 0.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import shapely
import sqlalchemy as sa
from psycopg import pq

from atlas.policy.tiers import Tier

pytestmark = pytest.mark.postgis

# A CRS84 box over the demo's parcels (scale 0.1) and one page that fills.
BBOX = "2.44,48.62,2.46,48.63"


@contextmanager
def counted(store) -> Iterator[list[str]]:
    """The statements ``store`` sends while the block runs (their text, in order)."""
    seen: list[str] = []
    if store.kind == "embedded":
        yield from _duckdb_log(store, seen)
    else:
        yield from _libpq_trace(store, seen)


def _duckdb_log(store, seen: list[str]) -> Iterator[list[str]]:
    db = store._db
    db.execute("CALL enable_logging('QueryLog')")
    db.execute("CALL truncate_duckdb_logs()")
    try:
        yield seen
    finally:
        rows = db.execute(
            "SELECT message FROM duckdb_logs WHERE type = 'QueryLog' ORDER BY timestamp"
        ).fetchall()
        db.execute("CALL disable_logging()")
        ours = ("CALL truncate_duckdb_logs", "SELECT message FROM duckdb_logs")
        seen.extend(m for (m,) in rows if not m.startswith(ours))


def _libpq_trace(store, seen: list[str]) -> Iterator[list[str]]:
    pool = store._engine.pool
    with tempfile.NamedTemporaryFile("w+", suffix=".trace") as trace:

        def on_checkout(dbapi_connection, _record, _proxy):
            dbapi_connection.pgconn.trace(trace.fileno())
            dbapi_connection.pgconn.set_trace_flags(
                pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE
            )

        def on_checkin(dbapi_connection, _record):
            dbapi_connection.pgconn.untrace()

        sa.event.listen(pool, "checkout", on_checkout)
        sa.event.listen(pool, "checkin", on_checkin)
        try:
            yield seen
        finally:
            sa.event.remove(pool, "checkout", on_checkout)
            sa.event.remove(pool, "checkin", on_checkin)
        trace.seek(0)
        seen.extend(_statements(trace.read()))


def _statements(trace: str) -> list[str]:
    """Frontend messages that run a statement: a simple Query, or an extended Execute (after
    its Parse, or a prepared statement's Bind)."""
    out, parsed = [], ""
    for line in trace.splitlines():
        parts = line.split("\t")
        if len(parts) < 4 or parts[0] != "F":
            continue
        kind, body = parts[2], parts[3]
        if kind == "Query":
            out.append(body.strip().strip('"'))
        elif kind == "Parse":
            parsed = re.sub(r'^\s*"[^"]*"\s*', "", body)
        elif kind == "Execute":
            out.append(parsed.strip().strip('"') or "<prepared>")
    return out


@pytest.fixture(scope="module")
def warm(served):
    """The served demo with the store's catalog and versions in memory (the listener up)."""
    store = served.client.app.state.store
    served.get(Tier.B2B, "/collections")
    if store.kind == "postgis":
        deadline = time.monotonic() + 10
        while store._generation() is None:  # the catalog listener connects in the background
            assert time.monotonic() < deadline, "the versions listener never listened"
            time.sleep(0.05)
    for url in ("/collections/parcels", f"/collections/parcels/items?bbox={BBOX}&limit=1"):
        assert served.get(Tier.B2B, url).status_code == 200
    return served


def _count(served, url: str, tier: Tier = Tier.B2B, status: int = 200) -> list[str]:
    store = served.client.app.state.store
    with counted(store) as seen:
        response = served.get(tier, url)
    assert response.status_code == status, response.text
    return seen


def test_an_items_page_that_is_not_full_is_one_statement(warm):
    url = f"/collections/parcels/items?bbox={BBOX}"
    matched = warm.get(Tier.B2B, f"{url}&limit=1").json()["numberMatched"]
    assert 0 < matched < 1000
    seen = _count(warm, f"{url}&limit={matched + 1}")
    assert len(seen) == 1, seen
    assert "parcels" in seen[0]


def test_a_full_page_in_a_box_is_counted_in_its_statement(warm):
    """With a spatial criterion the matches are gathered, paged and counted at once (both
    stores); the page and its count agree with a count of their own."""
    url = f"/collections/parcels/items?bbox={BBOX}&limit=5&filter=contenance%20%3E%20100"
    page = warm.get(Tier.B2B, url).json()
    assert page["numberReturned"] == 5 and page["numberMatched"] > 5  # a full page, really
    seen = _count(warm, url)
    assert len(seen) == 1, seen
    every = warm.get(Tier.B2B, url.replace("limit=5", "limit=1000")).json()
    assert every["numberReturned"] == every["numberMatched"] == page["numberMatched"]
    assert [f["id"] for f in every["features"][:5]] == [f["id"] for f in page["features"]]
    last = warm.get(Tier.B2B, f"{url}&offset={page['numberMatched'] - 2}").json()
    assert last["numberReturned"] == 2 and last["numberMatched"] == page["numberMatched"]
    beyond = warm.get(Tier.B2B, f"{url}&offset={page['numberMatched'] + 5}").json()
    assert beyond["numberReturned"] == 0 and beyond["numberMatched"] == page["numberMatched"]


def test_a_full_page_adds_its_count_at_most(warm):
    url = "/collections/parcels/items?limit=5&filter=contenance%20%3E%20100"
    page = warm.get(Tier.B2B, url).json()
    assert page["numberReturned"] == 5 and page["numberMatched"] > 5  # a full page, really
    assert len(_count(warm, url)) <= 2


def test_a_feature_is_one_statement(warm):
    fid = warm.get(Tier.B2B, "/collections/parcels/items?limit=1").json()["features"][0]["id"]
    seen = _count(warm, f"/collections/parcels/items/{fid}")
    assert len(seen) == 1, seen


def test_a_collection_is_one_statement_at_most(warm):
    assert len(_count(warm, "/collections/parcels")) <= 1
    assert len(_count(warm, "/collections")) <= 1


@pytest.mark.parametrize(
    "url,status",
    [
        ("/collections/nowhere/items", 404),
        ("/collections/nowhere", 404),
        ("/collections/parcels/items?properties=secret_field", 400),
        ("/collections/parcels/items?limit=abc", 400),
        ("/collections/parcels/items?filter=contenance%20%3E", 400),
    ],
)
def test_refusals_read_nothing(warm, url, status):
    assert _count(warm, url, status=status) == []


def test_the_counter_sees_statements(warm):
    """The hooks count what is sent: a request that reads two collections shows two."""
    store = warm.client.app.state.store
    urls = (
        "/collections/activity-plots/items?limit=1000",
        "/collections/activity-sites/items?limit=1000",
    )
    for url in urls:  # their versions attached (embedded) once, before counting
        warm.get(Tier.B2B, url)
    with counted(store) as seen:
        for url in urls:
            assert warm.get(Tier.B2B, url).json()["numberReturned"] > 0
    assert len(seen) == 2, seen
    assert "plots" in seen[0] and "sites" in seen[1]


def _tile_of_a_parcel(warm, zoom: int) -> tuple[int, int]:
    """x, y of the zoom-``zoom`` Web Mercator tile holding a parcel's inner point."""
    import morecantile

    feature = warm.get(Tier.B2B, "/collections/parcels/items?limit=1").json()["features"][0]
    point = shapely.geometry.shape(feature["geometry"]).representative_point()
    tile = morecantile.tms.get("WebMercatorQuad").tile(point.x, point.y, zoom)
    return tile.x, tile.y


def _tile_url(zoom: int, x: int, y: int) -> str:
    return f"/collections/parcels/tiles/WebMercatorQuad/{zoom}/{x}/{y}"


@pytest.mark.parametrize("zoom", [14, 15])
def test_a_tile_is_one_statement_then_none(warm, zoom):
    x, y = _tile_of_a_parcel(warm, zoom)
    # The embedded store reads once per version which tiles of a zoom hold features (one more
    # statement for the zoom's first tile): another tile of the zoom first.
    warm.get(Tier.B2B, _tile_url(zoom, x + 1, y))
    seen = _count(warm, _tile_url(zoom, x, y))
    assert len(seen) == 1, seen
    assert "parcels" in seen[0]
    assert _count(warm, _tile_url(zoom, x, y)) == []  # the same tile again: from the cache


def test_an_empty_tile_is_no_statement_on_the_embedded_store(warm):
    """A tile no parcel's box meets (here 40 tiles west of one holding a parcel, in the
    agglomeration's fields): PostGIS asks its index, the embedded store knows from the zoom's
    occupied tiles."""
    x, y = _tile_of_a_parcel(warm, 16)
    warm.get(Tier.B2B, _tile_url(16, x, y))
    seen = _count(warm, _tile_url(16, x - 40, y), status=204)
    store = warm.client.app.state.store
    assert len(seen) == (0 if store.kind == "embedded" else 1), seen


def test_a_tile_out_of_the_grid_reads_nothing(warm):
    assert _count(warm, "/collections/parcels/tiles/WebMercatorQuad/14/99999/1", status=400) == []
    assert _count(warm, "/collections/parcels/tiles/NoSuchGrid/14/1/1", status=404) == []
