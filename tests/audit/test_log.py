"""The audit log contract on both backends: append, read back, filter, refuse every change."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from atlas.audit.chain import GENESIS
from atlas.errors import InvalidInput, StoreUnavailable
from tests.audit.backends import T0, record

EVER = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _without_hash(records):
    return [dataclasses.replace(r, hash="") for r in records]


def test_append_then_read_back(audit_log):
    written = [record(n) for n in range(3)] + [record(3, area=None, detail="")]
    for item in written:
        audit_log.append(item)
    read = list(audit_log.since(EVER))
    assert _without_hash(read) == written
    assert all(len(r.hash) == 64 for r in read)
    assert len({r.hash for r in read}) == len(read)


def test_timestamps_come_back_in_utc(audit_log):
    paris = dt.timezone(dt.timedelta(hours=1))
    audit_log.append(record(at=dt.datetime(2026, 12, 1, 10, 30, 0, 123456, tzinfo=paris)))
    (read,) = audit_log.since(EVER)
    assert read.at == dt.datetime(2026, 12, 1, 9, 30, 0, 123456, tzinfo=dt.UTC)
    assert read.at.utcoffset() == dt.timedelta(0)


def test_since_filters_and_orders_by_time(audit_log):
    # Workers take `at` before they append: insertion order is not always time order.
    for minutes in (20, 0, 10, 30):
        audit_log.append(record(minutes))
    start = T0 + dt.timedelta(minutes=10)
    assert [r.feature_count for r in audit_log.since(start)] == [10, 20, 30]
    assert list(audit_log.since(T0 + dt.timedelta(hours=1))) == []
    with pytest.raises(InvalidInput):
        list(audit_log.since(dt.datetime(2026, 12, 1)))  # naive: refused, not guessed


def test_survives_reopening_and_extends_the_chain(backend):
    first = backend.open()
    first.append(record(1))
    first.close()
    second = backend.open()
    try:
        second.append(record(2))
        assert [r.feature_count for r in second.since(EVER)] == [1, 2]
        check = second.verify()
        assert (check.ok, check.count) == (True, 2)
        assert check.head == list(second.since(EVER))[-1].hash
    finally:
        second.close()


def test_empty_log_verifies(audit_log):
    check = audit_log.verify()
    assert (check.ok, check.count, check.head) == (True, 0, GENESIS)


@pytest.mark.parametrize(
    "bad",
    [
        {"at": dt.datetime(2026, 12, 1, 9, 30)},  # naive
        {"action": "delete"},
        {"feature_count": -1},
        {"feature_count": 1.5},
        {"who": ""},
        {"request_id": ""},
        {"detail": "a\x00b"},
    ],
)
def test_invalid_records_are_refused_and_nothing_is_written(audit_log, bad):
    with pytest.raises(InvalidInput):
        audit_log.append(record(**bad))
    assert list(audit_log.since(EVER)) == []


def test_a_given_hash_is_ignored(audit_log):
    audit_log.append(record(hash="f" * 64))
    (read,) = audit_log.since(EVER)
    assert read.hash != "f" * 64
    assert audit_log.verify().ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE records SET feature_count = 0",
        "UPDATE records SET who = 'someone else' WHERE seq = 1",
        "DELETE FROM records WHERE seq = 2",
        "DELETE FROM records",
    ],
)
def test_database_refuses_update_and_delete(backend, audit_log, statement):
    for n in range(3):
        audit_log.append(record(n))
    before = list(audit_log.since(EVER))
    with pytest.raises(Exception, match="append-only"):
        backend.raw(statement)
    assert list(audit_log.since(EVER)) == before
    assert audit_log.verify().ok


def test_database_refuses_inserts_but_at_the_end(backend, audit_log):
    audit_log.append(record(0))
    (first,) = audit_log.since(EVER)
    columns = "seq, at, who, tier, action, collection_id, feature_count, request_id, detail, hash"
    values = "'2026-12-01T00:00:00.000000Z', 'x', 'internal', 'read', 'parcels', 1, 'r', '', 'h'"
    for seq in (1, 3):  # overwrite the first record, leave a gap
        with pytest.raises(Exception, match="append-only"):
            backend.raw(f"INSERT INTO records ({columns}) VALUES ({seq}, {values})")  # noqa: S608 (the test's own values)
    overwrite = {
        "embedded": "INSERT OR REPLACE INTO records SELECT * FROM records WHERE seq = 1",
        "postgres": "INSERT INTO records SELECT * FROM records WHERE seq = 1"
        " ON CONFLICT (seq) DO UPDATE SET who = 'someone else'",
    }
    with pytest.raises(Exception, match="append-only"):
        backend.raw(overwrite[backend.kind])
    assert list(audit_log.since(EVER)) == [first]


@pytest.mark.postgis
def test_postgres_refuses_truncate(postgres_backend):
    log = postgres_backend.open()
    try:
        log.append(record(0))
        with pytest.raises(Exception, match="append-only: TRUNCATE refused"):
            postgres_backend.raw("TRUNCATE records")
        assert len(list(log.since(EVER))) == 1
    finally:
        log.close()


def test_unreachable_postgres_is_store_unavailable_without_driver_text():
    from atlas.audit.postgres import PostgresAuditLog

    log = PostgresAuditLog("postgresql://atlas:s3cret@127.0.0.1:1/atlas")
    try:
        with pytest.raises(StoreUnavailable) as caught:
            log.append(record(0))
        with pytest.raises(StoreUnavailable):
            list(log.since(EVER))
    finally:
        log.close()
    assert caught.value.description == "the audit log is unavailable, retry later"
    assert "s3cret" not in repr(log)


def test_unwritable_data_dir_is_store_unavailable(tmp_path):
    from atlas.audit.embedded import EmbeddedAuditLog

    (tmp_path / "data").write_text("a file where the directory should be")
    with pytest.raises(StoreUnavailable) as caught:
        EmbeddedAuditLog(tmp_path / "data")
    assert caught.value.description == "the audit log is unavailable, retry later"
