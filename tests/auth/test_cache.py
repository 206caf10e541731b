"""Keys in memory per process (atlas/auth/cache.py): no statement once warm, every change seen at once."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import psycopg
import pytest

from atlas.auth.keys import KeyRing, open_keyring
from atlas.errors import Unauthorized
from atlas.policy.tiers import Tier
from atlas.settings import Settings
from tests.auth.fixtures import (
    atlas_keys,
    drop_keys,
    key_settings,
    key_statements,
    listening,
    reads_keys,
)


@pytest.fixture
def ring(settings: Settings) -> Iterator[KeyRing]:
    """The key ring of an API process: cached and watching for changes."""
    instance = open_keyring(settings.store, settings.auth, cached=True)
    yield instance
    instance.close()


def test_a_warm_ring_sends_no_statement_for_known_or_unknown_keys(ring, settings) -> None:
    before = listening(ring)
    record, key = ring.create(tier="b2b", name="partner")
    listening(ring, writes=1, since=before)  # PostgreSQL: its own notification came back
    assert ring.authenticate(key).key_id == record.key_id  # warm: the keys are read once
    unknown = [f"atlas_{n:012x}_{'a' * 43}" for n in range(50)]
    with key_statements(ring) as statements:
        for _ in range(20):
            assert ring.authenticate(key).tier is Tier.B2B
        for candidate in unknown:  # made-up keys: answered from memory, never amplified
            with pytest.raises(Unauthorized, match="^invalid API key$"):
                ring.authenticate(candidate)
    assert reads_keys(statements) == []
    # SQLite's one in-process check; PostgreSQL sends nothing at all.
    assert set(statements) <= {"PRAGMA data_version"}
    if settings.store.database_url is not None:
        assert statements == []


def test_a_revocation_by_another_process_refuses_the_very_next_request(ring, settings) -> None:
    before = listening(ring)
    record, key = ring.create(tier="internal", name="leaver")
    other, other_key = ring.create(tier="b2b", name="stays")
    listening(ring, writes=2, since=before)
    assert ring.authenticate(key).tier is Tier.INTERNAL
    assert "revoked API key" in atlas_keys(settings, "revoke", record.key_id)
    with key_statements(ring) as statements:
        with pytest.raises(Unauthorized, match=f"{record.key_id} is revoked"):
            ring.authenticate(key)
        assert ring.authenticate(other_key).key_id == other.key_id
    assert len(reads_keys(statements)) == 1  # one reload for the change, then memory


def test_a_key_created_by_another_process_works_at_once(ring, settings) -> None:
    listening(ring)
    with pytest.raises(Unauthorized):  # warm, and this id is unknown
        ring.authenticate(f"atlas_{'0' * 12}_{'a' * 43}")
    key = atlas_keys(settings, "create", "--tier", "b2b", "--name", "new partner")
    assert ring.authenticate(key).name == "new partner"


def test_a_cached_key_expires_on_time_without_a_statement(ring, settings) -> None:
    before = listening(ring)
    now = [dt.datetime.now(dt.UTC)]
    timed = KeyRing(ring.backend, clock=lambda: now[0], cache=ring.cache)
    record, key = timed.create(tier="b2b", name="trial", expires=now[0] + dt.timedelta(days=1))
    listening(ring, writes=1, since=before)
    assert timed.authenticate(key).tier is Tier.B2B
    with key_statements(ring) as statements:
        now[0] += dt.timedelta(days=1)
        with pytest.raises(Unauthorized, match=f"{record.key_id} is expired"):
            timed.authenticate(key)
    assert reads_keys(statements) == []


def test_one_process_sees_its_own_revocation_at_once(ring, settings) -> None:
    record, key = ring.create(tier="internal", name="leaver")
    assert ring.authenticate(key).tier is Tier.INTERNAL
    ring.revoke(record.key_id)
    with pytest.raises(Unauthorized, match="revoked"):
        ring.authenticate(key)


@pytest.mark.postgis
def test_without_its_listening_connection_a_process_reads_the_store_each_time(tmp_path) -> None:
    settings = key_settings("postgresql", tmp_path)  # LISTEN/NOTIFY: PostgreSQL only
    ring = open_keyring(settings.store, settings.auth, cached=True)
    try:
        listening(ring)
        record, key = ring.create(tier="internal", name="leaver")
        assert ring.authenticate(key).tier is Tier.INTERNAL
        freshness = ring.cache._freshness  # type: ignore[union-attr]
        url = settings.store.database_url.get_secret_value()
        with psycopg.connect(url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(%s::int)", (freshness.backend_pid,)
            ).fetchone()
        assert killed == (True,)
        deadline = time.monotonic() + 30
        while freshness._state[0]:  # until the thread noticed
            assert time.monotonic() < deadline
            time.sleep(0.01)
        # Blind to notifications now: a revocation is still seen, from the store itself.
        atlas_keys(settings, "revoke", record.key_id)
        with key_statements(ring) as statements:
            with pytest.raises(Unauthorized, match="revoked"):
                ring.authenticate(key)
        assert len(reads_keys(statements)) == 1
        listening(ring)  # it listens again by itself
        with pytest.raises(Unauthorized, match="revoked"):
            ring.authenticate(key)
    finally:
        ring.close()
        drop_keys(settings)
