"""Tamper evidence: the sha256 chain, checked against an independent computation and edits."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from atlas.audit.chain import GENESIS, chain_hash
from tests.audit.backends import record

EVER = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# What a bypass of the application's refusals looks like on each backend (the table owner can).
BYPASS = {
    "embedded": ("DROP TRIGGER records_no_update", "DROP TRIGGER records_no_delete"),
    "postgres": ("ALTER TABLE records DISABLE TRIGGER records_no_change",),
}


def test_hash_is_sha256_of_previous_hash_and_sorted_compact_json():
    item = record(7, at=dt.datetime(2026, 12, 1, 9, 30, 0, 5, tzinfo=dt.UTC), area=None)
    expected_json = (
        '{"action":"read","area":null,"at":"2026-12-01T09:30:00.000005Z",'
        '"collection_id":"parcels","detail":"fields: proprietaire","feature_count":7,'
        '"request_id":"req0007","tier":"internal","who":"key:k1 (service éco)"}'
    )
    expected = hashlib.sha256(("0" * 64 + "\n" + expected_json).encode()).hexdigest()
    assert chain_hash(GENESIS, item) == expected
    assert json.loads(expected_json)["who"] == item.who


def test_stored_hashes_follow_the_chain(audit_log):
    written = [record(n) for n in range(5)]
    for item in written:
        audit_log.append(item)
    previous = GENESIS
    for item, stored in zip(written, audit_log.since(EVER), strict=True):
        previous = chain_hash(previous, item)
        assert stored.hash == previous  # the same on both backends: one canonical form
    check = audit_log.verify()
    assert (check.ok, check.count, check.head, check.broken_seq) == (True, 5, previous, None)


def _filled(log, n=4):
    for index in range(n):
        log.append(record(index))
    return [r.hash for r in log.since(EVER)]


def test_an_edited_record_is_reported(backend, audit_log):
    hashes = _filled(audit_log)
    backend.raw(*BYPASS[backend.kind], "UPDATE records SET feature_count = 999 WHERE seq = 2")
    check = audit_log.verify()
    assert not check.ok
    assert (check.broken_seq, check.count, check.head) == (2, 1, hashes[0])
    assert "record 2" in check.reason


def test_an_edit_with_a_recomputed_hash_breaks_the_next_record(backend, audit_log):
    hashes = _filled(audit_log)
    forged = chain_hash(hashes[0], record(1, feature_count=0))
    backend.raw(
        *BYPASS[backend.kind],
        f"UPDATE records SET feature_count = 0, hash = '{forged}' WHERE seq = 2",  # noqa: S608 (the test's own values)
    )
    check = audit_log.verify()
    assert (check.broken_seq, check.count) == (3, 2)


def test_a_removed_record_is_reported(backend, audit_log):
    _filled(audit_log)
    bypass = BYPASS[backend.kind]
    if backend.kind == "postgres":
        bypass = ("ALTER TABLE records DISABLE TRIGGER USER",)
    backend.raw(*bypass, "DELETE FROM records WHERE seq = 2")
    check = audit_log.verify()
    assert (check.broken_seq, check.count) == (3, 1)
    assert "record 3 stands where record 2 should" in check.reason


@pytest.mark.parametrize("seq", [1, 4])
def test_the_first_broken_record_is_named(backend, audit_log, seq):
    _filled(audit_log)
    backend.raw(*BYPASS[backend.kind], f"UPDATE records SET who = 'x' WHERE seq = {seq}")  # noqa: S608 (the test's own values)
    assert audit_log.verify().broken_seq == seq
