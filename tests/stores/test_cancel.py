"""A cancelled request scope interrupts the store's running statement (``atlas.cancel``).

PostGIS: a statement held on a lock (taken by the test on the collection's view, so it would wait
for the statement timeout) is cancelled, leaves ``pg_stat_activity``, and its connection goes back
to the pool and serves the next query. DuckDB: a long query on the store's own cursor is
interrupted. On both, a scope already cancelled refuses the next statement.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg
import pytest

from atlas import cancel
from atlas.errors import RequestCancelled
from atlas.query.features import FeatureQuery
from tests.conftest import postgis_url
from tests.stores.fixtures import CONTRACT_LAYER, contract_frame, contract_report

CID = CONTRACT_LAYER.collection_id


@pytest.fixture
def loaded(store):
    frame = contract_frame()
    store.write_version(CONTRACT_LAYER, frame, report=contract_report(frame))
    return store


class _Running:
    """``work`` in a thread under a cancel scope of its own, as a request handler runs."""

    def __init__(self, work: Callable[[], object]) -> None:
        self.scope = cancel.CancelScope()
        self.error: BaseException | None = None
        self.result: object = None
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], object]) -> None:
        token = cancel.bind(self.scope)
        try:
            self.result = work()
        except BaseException as exc:  # handed to the test
            self.error = exc
        finally:
            cancel.unbind(token)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the statement was not interrupted"


def _until(condition: Callable[[], object], timeout: float = 10.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def _waiting_on_lock(admin: psycopg.Connection, table: str) -> list[int]:
    rows = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND application_name = 'atlas' AND state = 'active' AND wait_event_type = 'Lock'"
        " AND query LIKE %s",
        [f"%{table}%"],
    ).fetchall()
    return [r[0] for r in rows]


@pytest.mark.parametrize(
    "store", [pytest.param("postgis", marks=pytest.mark.postgis)], indirect=True
)
def test_postgis_statement_is_cancelled_and_its_connection_reused(loaded):
    view = f'"{loaded.schema}"."{CID}"'
    with (
        psycopg.connect(postgis_url()) as holder,
        psycopg.connect(postgis_url(), autocommit=True) as admin,
    ):
        holder.execute(f"LOCK TABLE {view} IN ACCESS EXCLUSIVE MODE")  # held until rollback
        running = _Running(lambda: loaded.count(CID, FeatureQuery()))
        (pid,) = _until(lambda: _waiting_on_lock(admin, CID))
        time.sleep(0.5)
        assert _waiting_on_lock(admin, CID) == [pid], "blocked until cancelled"
        assert loaded.connections_in_use == 1
        running.scope.cancel()
        running.join(timeout=10)
        assert isinstance(running.error, RequestCancelled), running.error
        assert not _waiting_on_lock(admin, CID)
        assert holder.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        assert loaded.connections_in_use == 0
        holder.rollback()
    # The pooled connection is clean: the next query on it answers.
    assert loaded.count(CID, FeatureQuery()) == 60


@pytest.mark.parametrize("store", ["embedded"], indirect=True)
def test_duckdb_query_is_interrupted(loaded):

    def endless() -> object:
        # The store's own cursor (the one its queries run on); no public query is this slow.
        with loaded._cursor() as cur:
            return cur.execute("SELECT count(*) FROM range(1000000000000) a").fetchone()

    running = _Running(endless)
    time.sleep(0.5)
    running.scope.cancel()
    running.join(timeout=10)
    assert isinstance(running.error, RequestCancelled), running.error
    assert loaded.count(CID, FeatureQuery()) == 60


def test_a_cancelled_scope_refuses_the_next_statement(loaded):
    # The client left before the handler reached the store: nothing is sent to the database.
    refused = cancel.CancelScope()
    refused.cancel()
    token = cancel.bind(refused)
    try:
        with pytest.raises(RequestCancelled):
            loaded.count(CID, FeatureQuery())
    finally:
        cancel.unbind(token)
    if loaded.kind == "postgis":
        assert loaded.connections_in_use == 0
    assert loaded.count(CID, FeatureQuery()) == 60  # unbound again: served as usual
