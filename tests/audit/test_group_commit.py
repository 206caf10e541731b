"""Group commit on both backends: many threads, one valid chain, fewer commits, nothing lost."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from atlas.audit.group import GroupCommit
from atlas.cli import app
from atlas.errors import StoreUnavailable
from tests.audit.backends import record
from tests.helpers import REPO

EVER = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
THREADS = 32
EACH = 10


def _count_commits(log, backend) -> list[str]:
    """Every COMMIT the log sends, seen by the driver (sqlite3 trace, SQLAlchemy event)."""
    seen: list[str] = []
    if backend.kind == "embedded":
        log._conn.set_trace_callback(  # the log's one writing connection
            lambda sql: seen.append(sql) if sql.strip().upper() == "COMMIT" else None
        )
    else:
        sa.event.listen(log._engine, "commit", lambda conn: seen.append("COMMIT"))
    return seen


def test_threads_appending_at_once_share_commits_and_keep_one_chain(backend):
    log = backend.open()
    try:
        log.append(record(0, request_id="first"))  # created before the threads start
        commits = _count_commits(log, backend)
        barrier = threading.Barrier(THREADS)
        failures: list[BaseException] = []

        def work(worker: int) -> None:
            barrier.wait()
            try:
                for n in range(EACH):
                    log.append(record(n, request_id=f"w{worker}-{n}"))
            except BaseException as error:  # noqa: BLE001 (reported by the assertion below)
                failures.append(error)

        workers = [threading.Thread(target=work, args=(w,)) for w in range(THREADS)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        stored = {r.request_id for r in log.since(EVER)}
    finally:
        log.close()
    assert failures == []
    expected = {f"w{w}-{n}" for w in range(THREADS) for n in range(EACH)}
    assert stored == expected | {"first"}
    # Batched: far fewer transactions than records (one per record before group commit).
    assert 0 < len(commits) < len(expected) / 2, f"{len(commits)} commits"
    result = CliRunner().invoke(app, ["audit", "verify"], env=backend.env())
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"audit log intact: {len(expected) + 1} records, head ")


def test_every_append_that_returned_survives_a_sigkill(backend):
    backend.open().close()
    url = backend.url if backend.kind == "postgres" else ""
    data_dir = str(backend.settings.store.data_dir)
    command = [sys.executable, "-m", "tests.audit.writer", data_dir, url, backend.schema, "8"]
    env = os.environ | {"PYTHONPATH": str(REPO)}
    child = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    returned: list[str] = []
    try:
        assert child.stdout is not None
        while len(returned) < 300:
            line = child.stdout.readline()
            assert line, "the writer stopped before it was killed"
            returned.append(line.strip())
    finally:
        child.send_signal(signal.SIGKILL)  # mid-append: no chance to flush or close anything
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    log = backend.open()
    try:
        stored = {r.request_id for r in log.since(EVER)}
        check = log.verify()
    finally:
        log.close()
    assert set(returned) <= stored  # what was acknowledged is durable
    assert (check.ok, check.count) == (True, len(stored)), check.reason


def test_a_failed_batch_fails_each_of_its_appends_and_the_next_batch_goes_through():
    written: list[list[str]] = []
    entered = threading.Event()
    release = threading.Event()

    def write_batch(rows) -> None:
        if not entered.is_set():  # the first batch: held, then refused by the database
            entered.set()
            release.wait(timeout=30)
            raise StoreUnavailable("the audit log is unavailable, retry later")
        written.append([row.request_id for row in rows])

    group = GroupCommit(write_batch)
    outcomes: dict[str, str] = {}

    def append(request_id: str) -> None:
        try:
            group.append(record(request_id=request_id))
            outcomes[request_id] = "ok"
        except StoreUnavailable as error:
            outcomes[request_id] = error.description

    leader = threading.Thread(target=append, args=("leader",))
    leader.start()
    assert entered.wait(timeout=30)  # the leader is inside its transaction: the others queue
    followers = [threading.Thread(target=append, args=(f"f{n}",)) for n in range(5)]
    for follower in followers:
        follower.start()
    while len(group._queue) < 5:  # noqa: ASYNC110 (plain threads)
        threading.Event().wait(0.01)
    release.set()  # the leader's batch fails, the followers' batch is written
    for thread in [leader, *followers]:
        thread.join(timeout=30)
    assert outcomes == {"leader": "the audit log is unavailable, retry later"} | {
        f"f{n}": "ok" for n in range(5)
    }
    assert [sorted(batch) for batch in written] == [[f"f{n}" for n in range(5)]]


@pytest.mark.parametrize("threads", [1, 4])
def test_an_append_returns_only_after_its_batch_was_written(threads):
    written: set[str] = set()

    def write_batch(rows) -> None:
        threading.Event().wait(0.005)  # a slow fsync
        written.update(row.request_id for row in rows)

    group = GroupCommit(write_batch)
    early: list[str] = []

    def work(worker: int) -> None:
        for n in range(20):
            request_id = f"{worker}-{n}"
            group.append(record(request_id=request_id))
            if request_id not in written:
                early.append(request_id)

    workers = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert early == [] and len(written) == 20 * threads
