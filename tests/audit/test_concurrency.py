"""Several worker processes appending at once still build one valid chain."""

from __future__ import annotations

import datetime as dt
import multiprocessing

from tests.audit.writer import append_many

PROCESSES = 4
EACH = 25


def test_concurrent_appends_from_processes_keep_the_chain(backend):
    backend.open().close()  # as in production: the log exists before the workers start
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters, like uvicorn's workers
    barrier = ctx.Barrier(PROCESSES)
    url = backend.url if backend.kind == "postgres" else None
    args = (str(backend.settings.store.data_dir), url, backend.schema, EACH, barrier)
    workers = [ctx.Process(target=append_many, args=args) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * PROCESSES

    log = backend.open()
    try:
        check = log.verify()
        records = list(log.since(dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))
    finally:
        log.close()
    assert (check.ok, check.count) == (True, PROCESSES * EACH), check.reason
    assert len({r.request_id for r in records}) == PROCESSES * EACH
    assert len({r.request_id.split("-")[0] for r in records}) == PROCESSES


def test_first_opens_racing_in_several_processes(backend):
    # No log yet: every worker creates the schema (or file) at the same moment.
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(3)
    url = backend.url if backend.kind == "postgres" else None
    args = (str(backend.settings.store.data_dir), url, backend.schema, 5, barrier)
    workers = [ctx.Process(target=append_many, args=args) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    log = backend.open()
    try:
        assert log.verify().count == 15
    finally:
        log.close()
