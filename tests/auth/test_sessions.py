"""Browser sessions on both key stores: created, resolved, expired idle and absolute, ended with
their key, never stored as the cookie's value."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from atlas.auth.keys import KeyRing, open_keyring
from atlas.auth.sessions import SessionStore, open_sessions
from atlas.policy.tiers import Principal, Tier
from atlas.settings import SessionSettings, Settings
from tests.auth.fixtures import atlas_keys, key_settings, listening

T0 = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """Time at T0 until the test moves it."""
    return Clock()


@pytest.fixture
def ring(settings: Settings, clock: Clock) -> Iterator[KeyRing]:
    """A key ring of each backend, on the test's clock."""
    value = open_keyring(settings.store, settings.auth)
    value._clock = clock  # the keys' expiry on the same clock as the sessions
    yield value
    value.close()


@pytest.fixture
def sessions(ring: KeyRing, settings: Settings, clock: Clock) -> Iterator[SessionStore]:
    """Sessions beside the keys: 10 minutes idle, 1 hour at most."""
    store = open_sessions(ring, settings.store, SessionSettings(idle_minutes=10, max_hours=1))
    store.clock = clock
    yield store
    store.close()


def _b2b(ring: KeyRing, **kwargs) -> Principal:
    record, key = ring.create(tier="b2b", name="partner", **kwargs)
    return ring.authenticate(key)


def test_a_session_stands_for_its_principal(sessions: SessionStore, ring: KeyRing) -> None:
    principal = _b2b(ring)
    session_id, created = sessions.create(principal, kind="key")
    found = sessions.resolve(session_id, ring)
    assert found is not None
    assert (found.principal, found.kind, found.csrf) == (principal, "key", created.csrf)
    assert len(session_id) == 43 and len(found.csrf) == 43
    assert sessions.resolve(session_id[:-1] + ("A" if session_id[-1] != "A" else "B"), ring) is None
    for garbage in ("", "x", "a" * 500, "../../etc/passwd", session_id + " "):
        assert sessions.resolve(garbage, ring) is None


def test_the_store_keeps_a_digest_not_the_id(sessions: SessionStore, ring: KeyRing) -> None:
    session_id, _ = sessions.create(_b2b(ring), kind="key")
    table = sa.Table(
        "sessions", sa.MetaData(), autoload_with=sessions.engine, schema=sessions.schema
    )
    with sessions.engine.connect() as conn:
        rows = conn.execute(sa.select(table)).all()
    assert len(rows) == 1
    assert session_id not in repr(rows) and session_id.encode() not in b"".join(
        bytes(v) for v in rows[0] if isinstance(v, bytes | memoryview)
    )


def test_idle_expiry(sessions: SessionStore, ring: KeyRing, clock: Clock) -> None:
    session_id, _ = sessions.create(_b2b(ring), kind="key")
    for _ in range(5):  # used every 9 minutes: alive past the 10-minute idle limit
        clock.now += dt.timedelta(minutes=9)
        assert sessions.resolve(session_id, ring) is not None
    clock.now += dt.timedelta(minutes=10)
    assert sessions.resolve(session_id, ring) is None
    assert sessions.count() == 0  # an expired session is deleted when found
    clock.now -= dt.timedelta(minutes=10)
    assert sessions.resolve(session_id, ring) is None  # gone for good


def test_absolute_expiry(sessions: SessionStore, ring: KeyRing, clock: Clock) -> None:
    session_id, _ = sessions.create(_b2b(ring), kind="key")
    for _ in range(6):  # 54 minutes of use
        clock.now += dt.timedelta(minutes=9)
        assert sessions.resolve(session_id, ring) is not None
    clock.now += dt.timedelta(minutes=6)  # one hour after sign-in, though used 6 minutes ago
    assert sessions.resolve(session_id, ring) is None


def test_a_revoked_key_ends_its_sessions(sessions: SessionStore, ring: KeyRing) -> None:
    principal = _b2b(ring)
    other = _b2b(ring)
    first, _ = sessions.create(principal, kind="key")
    second, _ = sessions.create(principal, kind="key")
    kept, _ = sessions.create(other, kind="key")
    assert principal.key_id is not None
    ring.revoke(principal.key_id)
    assert sessions.resolve(first, ring) is None
    assert sessions.resolve(second, ring) is None
    assert sessions.resolve(kept, ring) is not None
    assert sessions.count() == 1


def test_an_expired_key_ends_its_sessions(
    sessions: SessionStore, ring: KeyRing, clock: Clock
) -> None:
    principal = _b2b(ring, expires=T0 + dt.timedelta(minutes=5))
    session_id, _ = sessions.create(principal, kind="key")
    clock.now += dt.timedelta(minutes=4)
    assert sessions.resolve(session_id, ring) is not None
    clock.now += dt.timedelta(minutes=1)
    assert sessions.resolve(session_id, ring) is None


def test_oidc_sessions_do_not_need_a_key(sessions: SessionStore, ring: KeyRing) -> None:
    principal = Principal(tier=Tier.INTERNAL, key_id="oidc:agent-0042", name="c.martin")
    session_id, _ = sessions.create(principal, kind="oidc")
    found = sessions.resolve(session_id, ring)
    assert found is not None and found.principal == principal and found.kind == "oidc"


def test_delete_and_end_for_key(sessions: SessionStore, ring: KeyRing) -> None:
    principal = _b2b(ring)
    one, _ = sessions.create(principal, kind="key")
    two, _ = sessions.create(principal, kind="key")
    sessions.delete(one)
    sessions.delete("not-a-session")
    assert sessions.resolve(one, ring) is None and sessions.resolve(two, ring) is not None
    assert principal.key_id is not None
    assert sessions.end_for_key(principal.key_id) == 1
    assert sessions.resolve(two, ring) is None


def test_expired_sessions_are_swept_at_the_next_sign_in(
    sessions: SessionStore, ring: KeyRing, clock: Clock
) -> None:
    principal = _b2b(ring)
    for _ in range(3):
        sessions.create(principal, kind="key")
    clock.now += dt.timedelta(minutes=11)
    sessions.create(principal, kind="key")
    assert sessions.count() == 1


def test_the_embedded_sessions_file_is_its_owners(tmp_path) -> None:
    settings = key_settings("sqlite", tmp_path)
    ring = open_keyring(settings.store, settings.auth)
    store = open_sessions(ring, settings.store, SessionSettings())
    try:
        path = settings.store.data_dir / "sessions.sqlite"
        assert path.stat().st_mode & 0o777 == 0o600
        assert store.schema is None and store.engine.url.database == str(path)
    finally:
        store.close()
        ring.close()


def test_a_key_revoked_by_another_process_ends_the_session(settings: Settings) -> None:
    # An API worker's ring keeps keys in memory (cache.py); `atlas keys revoke` runs elsewhere.
    ring = open_keyring(settings.store, settings.auth, cached=True)
    store = open_sessions(ring, settings.store, SessionSettings())
    try:
        since = listening(ring)
        record, key = ring.create(tier="internal", name="staff")
        session_id, _ = store.create(ring.authenticate(key), kind="key")
        listening(ring, writes=1, since=since)
        assert store.resolve(session_id, ring) is not None
        atlas_keys(settings, "revoke", record.key_id)
        deadline = time.monotonic() + 30  # PostgreSQL: until the notification is delivered
        while store.resolve(session_id, ring) is not None:
            assert time.monotonic() < deadline, "the revocation never reached the session"
            time.sleep(0.05)
        assert store.count() == 0
    finally:
        store.close()
        ring.close()
