"""API keys on both backends: creation, verification, expiry, revocation, what is stored."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa

from atlas.auth.keys import KeyRing, digest, keys_table, open_keyring, parse_expiry
from atlas.errors import InvalidInput, NotFound, Unauthorized
from atlas.policy.tiers import Principal, Tier
from atlas.settings import Settings

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def ring(settings: Settings):
    """A key ring on the backend the settings select."""
    instance = open_keyring(settings.store, settings.auth)
    yield instance
    instance.close()


def at(ring: KeyRing, when: dt.datetime) -> KeyRing:
    """The same backend seen at another time."""
    return KeyRing(ring.backend, clock=lambda: when)


def test_a_created_key_authenticates_as_its_tier_and_name(ring: KeyRing) -> None:
    record, key = ring.create(tier="b2b", name="  Invest\tEssonne ")
    assert key.startswith(f"atlas_{record.key_id}_")
    assert len(key) == len("atlas_") + 12 + 1 + 43
    assert record.name == "Invest Essonne"
    assert ring.authenticate(key) == Principal(
        tier=Tier.B2B, key_id=record.key_id, name="Invest Essonne"
    )


def test_keys_are_random_and_listed_oldest_first_without_secrets(ring: KeyRing) -> None:
    first = at(ring, NOW).create(tier=Tier.INTERNAL, name="GIS team")
    second = at(ring, NOW + dt.timedelta(seconds=1)).create(tier=Tier.PUBLIC, name="kiosk")
    assert first[1] != second[1]
    records = ring.list()
    assert [r.key_id for r in records] == [first[0].key_id, second[0].key_id]
    assert records[0] == first[0]
    assert not any(hasattr(r, "key") or hasattr(r, "digest") for r in records)


def test_only_the_sha256_of_a_key_is_stored(ring: KeyRing, settings: Settings) -> None:
    record, key = ring.create(tier="internal", name="régie")
    backend = ring.backend
    with backend.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(sa.select(keys_table(sa.MetaData(), backend.schema))).all()  # type: ignore[attr-defined]
    stored = [str(value) for row in rows for value in row]
    assert not any(key in value or key.split("_", 2)[2] in value for value in stored)
    assert backend.lookup(record.key_id)[1] == hashlib.sha256(key.encode()).digest()
    if settings.store.database_url is None:
        raw = (settings.store.data_dir / "keys.sqlite").read_bytes()
        assert key.split("_", 2)[2].encode() not in raw
        assert (settings.store.data_dir / "keys.sqlite").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "key",
    [
        "",
        "atlas",
        "atlas_123",
        "not-a-key-at-all",
        "atlas_ABCDEF012345_" + "a" * 43,  # key ids are lowercase hex
        "atlas_0123456789ab_" + "a" * 42,
        "atlas_0123456789ab_" + "a" * 43 + " ",
        "atlas_0123456789ab_" + "a" * 42 + "=",
        "atlas_0123456789ab_" + "é" * 43,
    ],
)
def test_malformed_keys_are_refused(ring: KeyRing, key: str) -> None:
    with pytest.raises(Unauthorized, match="malformed"):
        ring.authenticate(key)


def test_a_wrong_secret_or_an_unknown_id_is_invalid(ring: KeyRing) -> None:
    record, key = ring.create(tier="b2b", name="broker")
    prefix, key_id, secret = key.split("_", 2)
    wrong_secret = f"{prefix}_{key_id}_{'A' if secret[0] != 'A' else 'B'}{secret[1:]}"
    unknown_id = f"{prefix}_{'0' * 12}_{secret}"
    for candidate in (wrong_secret, unknown_id):
        with pytest.raises(Unauthorized, match="^invalid API key$"):
            ring.authenticate(candidate)


def test_an_expired_key_is_refused_from_its_expiry_on(ring: KeyRing) -> None:
    expires = NOW + dt.timedelta(days=30)
    record, key = at(ring, NOW).create(tier="b2b", name="trial", expires=expires)
    assert at(ring, expires - dt.timedelta(seconds=1)).authenticate(key).tier is Tier.B2B
    with pytest.raises(Unauthorized, match=f"{record.key_id} is expired"):
        at(ring, expires).authenticate(key)
    assert ring.list()[0].expires == expires


def test_a_revoked_key_is_refused_and_keeps_its_first_revocation_time(ring: KeyRing) -> None:
    record, key = ring.create(tier="internal", name="leaver")
    revoked = at(ring, NOW).revoke(record.key_id)
    assert revoked.revoked == NOW
    assert at(ring, NOW + dt.timedelta(days=1)).revoke(record.key_id).revoked == NOW
    with pytest.raises(Unauthorized, match=f"{record.key_id} is revoked"):
        ring.authenticate(key)
    other, other_key = ring.create(tier="internal", name="stays")
    assert ring.authenticate(other_key).key_id == other.key_id


@pytest.mark.parametrize("key_id", ["0123456789ab", "nope", "", "' OR 1=1 --"])
def test_revoking_an_unknown_key_is_not_found(ring: KeyRing, key_id: str) -> None:
    with pytest.raises(NotFound, match="no API key with id"):
        ring.revoke(key_id)


@pytest.mark.parametrize(
    ("tier", "name", "expires", "message"),
    [
        ("gold", "x", None, "unknown tier 'gold'"),
        ("b2b", "   ", None, "--name must be"),
        ("b2b", "x" * 201, None, "--name must be"),
        ("b2b", "x", NOW - dt.timedelta(seconds=1), "already past"),
    ],
)
def test_invalid_creations_are_refused(
    ring: KeyRing, tier: str, name: str, expires: dt.datetime | None, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        at(ring, NOW).create(tier=tier, name=name, expires=expires)
    assert ring.list() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-01-31", dt.datetime(2027, 2, 1, tzinfo=dt.UTC)),  # through the whole day
        ("2027-01-31T10:30:00", dt.datetime(2027, 1, 31, 10, 30, tzinfo=dt.UTC)),
        ("2027-01-31T10:30:00+02:00", dt.datetime(2027, 1, 31, 8, 30, tzinfo=dt.UTC)),
        ("2027-01-31T10:30:00Z", dt.datetime(2027, 1, 31, 10, 30, tzinfo=dt.UTC)),
    ],
)
def test_expiry_dates_and_datetimes(text: str, expected: dt.datetime) -> None:
    assert parse_expiry(text, now=NOW) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("tomorrow", "neither a date"), ("2027-02-30", "neither a date"), ("2026-06-14", "past")],
)
def test_bad_expiries_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_expiry(text, now=NOW)


def test_digest_is_sha256() -> None:
    assert digest("atlas_x") == hashlib.sha256(b"atlas_x").digest()
