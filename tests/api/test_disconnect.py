"""Abandoned requests cancel their database work, on a real socket and a real PostgreSQL.

The app runs behind uvicorn. The test holds a lock on a collection's view, so that an items
request waits in PostgreSQL (it would wait for the 30 s statement timeout); the client then
closes its socket: the statement must leave ``pg_stat_activity`` at once, the pool must have no
connection checked out, and the lock must still be held (the statement was cancelled, it did not
finish). Served requests and keep-alive connections are not disturbed, and a streamed body past
the size cap is answered before the client has sent it all.
"""

from __future__ import annotations

import http.client
import select
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg
import pytest
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.ingest import ingest_path
from atlas.settings import BodySettings, Settings
from atlas.stores import open_store
from tests.api.live_server import serving
from tests.conftest import postgis_url, settings_for

pytestmark = pytest.mark.postgis
CID = "services"  # public, a few hundred points: the request itself is quick
ITEMS = f"/collections/{CID}/items?limit=5"


@dataclass
class Live:
    """The app on a socket, its settings and its test client."""

    host: str
    port: int
    settings: Settings
    client: TestClient


@pytest.fixture(scope="module")
def live(demo_sources, tmp_path_factory) -> Iterator[Live]:
    lifecycle = settings_for("postgis", tmp_path_factory.mktemp("disconnect") / "data")
    settings = next(lifecycle)
    try:
        store = open_store(settings.store)
        try:
            ingest_path(store, CID, demo_sources[CID], settings=settings, progress=False)
        finally:
            store.close()
        app = create_app(settings)
        with TestClient(app) as client, serving(app) as (host, port):
            yield Live(host, port, settings, client)
    finally:
        next(lifecycle, None)


def _until(condition: Callable[[], object], timeout: float = 10.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def _waiting(admin: psycopg.Connection) -> list[int]:
    """Backends of the app's pool waiting on a lock in a query on the collection."""
    rows = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND application_name = 'atlas' AND state = 'active' AND wait_event_type = 'Lock'"
        " AND query LIKE %s",
        [f"%{CID}%"],
    ).fetchall()
    return [r[0] for r in rows]


def test_an_abandoned_request_cancels_its_statement(live):
    store = live.client.app.state.store
    view = f'"{live.settings.store.database_schema}"."{CID}"'
    with (
        psycopg.connect(postgis_url()) as holder,
        psycopg.connect(postgis_url(), autocommit=True) as admin,
    ):
        holder.execute(f"LOCK TABLE {view} IN ACCESS EXCLUSIVE MODE")
        client = socket.create_connection((live.host, live.port))
        client.sendall(f"GET {ITEMS} HTTP/1.1\r\nHost: atlas\r\n\r\n".encode())
        (pid,) = _until(lambda: _waiting(admin))
        time.sleep(0.5)
        assert _waiting(admin) == [pid] and store.connections_in_use == 1
        client.close()  # the client gives up
        _until(lambda: not _waiting(admin), timeout=5)  # far below the 30 s statement timeout
        _until(lambda: store.connections_in_use == 0, timeout=5)
        state = admin.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
        assert state is None or state[0] == "idle"  # back in the pool, or closed
        assert holder.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        holder.rollback()
    answered = live.client.get(ITEMS)  # the pool serves the next request
    assert answered.status_code == 200 and len(answered.json()["features"]) == 5


def test_served_requests_and_keep_alive_are_undisturbed(live):
    conn = http.client.HTTPConnection(live.host, live.port, timeout=30)
    try:
        for _ in range(3):  # one connection, three requests
            conn.request("GET", ITEMS)
            response = conn.getresponse()
            assert response.status == 200 and b'"features"' in response.read()
        conn.request(
            "POST", "/site-selection", body=b"{}", headers={"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        assert response.status == 200, response.read()[:300]
        response.read()
    finally:
        conn.close()
    assert live.client.app.state.store.connections_in_use == 0


def test_a_streamed_body_past_the_cap_is_refused_before_it_is_all_sent(live):
    cap = BodySettings().max_bytes
    planned, chunk = 64 * cap, b" " * 65_536
    client = socket.create_connection((live.host, live.port))
    client.sendall(
        b"POST /site-selection HTTP/1.1\r\nHost: atlas\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    sent, answer = 0, b""
    try:
        while sent < planned:
            readable, _, _ = select.select([client], [], [], 0)
            if readable:
                answer = client.recv(4096)
                break
            client.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        else:
            answer = client.recv(4096)
    except (BrokenPipeError, ConnectionResetError):
        answer = client.recv(4096)
    finally:
        client.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"PayloadTooLarge"' in answer or b"\r\n\r\n" in answer
    assert sent < planned / 4, f"{sent} bytes were sent before the answer"
