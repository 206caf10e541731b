"""API keys: created once, stored as a hash, verified on every request, listed and revoked.

A key reads ``atlas_<key id>_<secret>``: the key id (12 hex digits) is public, it names the key in
``atlas keys list``, the audit log and ``atlas keys revoke``; the secret is 32 random bytes
(``secrets.token_urlsafe(32)``) and is printed once, never stored.

Two places hold the keys, behind one small contract (:class:`KeyBackend`): the SQLite file
``keys.sqlite`` under ``ATLAS_DATA_DIR`` in the embedded setup, and the table
``<ATLAS_AUTH_DB_SCHEMA>.api_keys`` in PostgreSQL when PostGIS is selected (same URL as the store).
Both are the same SQLAlchemy table on two engines; :func:`open_keyring` chooses like ``open_store``.
An API process verifies keys from memory, kept fresh without a statement per request (``cache.py``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa

from atlas.auth.cache import (
    Freshness,
    KeyCache,
    PostgresNotifications,
    SqliteDataVersion,
    notify_channel,
)
from atlas.errors import InvalidInput, NotFound, StoreUnavailable, Unauthorized
from atlas.policy.tiers import Principal, Tier
from atlas.settings import AuthSettings, StoreSettings

log = logging.getLogger(__name__)

KEY_PREFIX = "atlas"
KEYS_FILE = "keys.sqlite"
_KEY_ID = re.compile(r"^[0-9a-f]{12}$")
# token_urlsafe(32): 43 characters of the URL-safe base64 alphabet (which includes "_" and "-").
_KEY = re.compile(r"^atlas_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_MAX_NAME = 200
_UNAVAILABLE = "the key store is unavailable, retry later"
# Compared against when the key id is unknown, so that both failures cost one digest comparison.
_NO_DIGEST = bytes(32)

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """Now, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def digest(key: str) -> bytes:
    """The stored form of a key: its SHA-256.

    A fast hash is right here, a slow password hash (bcrypt, Argon2) is not needed: those exist to
    make guessing low-entropy human passwords expensive, but a key holds 256 random bits, so no
    dictionary applies and a brute-force preimage search of 2**256 is out of reach whatever the
    cost per guess. A fast hash keeps verification on every request cheap. A stolen table gives
    the key ids, never a usable key.
    """
    return hashlib.sha256(key.encode("ascii")).digest()


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """What is kept about a key: everything but the key itself."""

    key_id: str
    name: str
    tier: Tier
    created: dt.datetime
    expires: dt.datetime | None = None
    revoked: dt.datetime | None = None

    def state(self, now: dt.datetime) -> str:
        """``active``, ``expired`` or ``revoked`` at ``now``."""
        if self.revoked is not None:
            return "revoked"
        if self.expires is not None and now >= self.expires:
            return "expired"
        return "active"


class KeyBackend(Protocol):
    """Where key records and digests live; knows nothing of secrets or tiers' meaning."""

    def insert(self, record: KeyRecord, *, key_digest: bytes) -> None:
        """Store a new key record with its digest."""
        ...

    def lookup(self, key_id: str) -> tuple[KeyRecord, bytes] | None:
        """The record and digest of ``key_id``, or None when unknown."""
        ...

    def all_keys(self) -> dict[str, tuple[KeyRecord, bytes]]:
        """Every record with its digest, by key id (what an API process keeps in memory)."""
        ...

    def records(self) -> list[KeyRecord]:
        """Every key record, oldest first."""
        ...

    def revoke(self, key_id: str, *, at: dt.datetime) -> KeyRecord | None:
        """Mark ``key_id`` revoked at ``at`` (kept if already revoked); None when unknown."""
        ...

    def close(self) -> None:
        """Release files or connections."""
        ...


def parse_expiry(text: str, *, now: dt.datetime) -> dt.datetime:
    """``2027-01-31`` (valid through that day, UTC) or an ISO datetime (naive means UTC)."""
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = dt.date.fromisoformat(value)
            expires = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        else:
            expires = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"--expires '{value[:40]}' is neither a date (2027-01-31) nor an ISO datetime"
        ) from None
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)
    expires = expires.astimezone(dt.UTC)
    if expires <= now:
        raise InvalidInput(f"--expires {value[:40]} is already past")
    return expires


def parse_tier(text: str) -> Tier:
    """A tier name, or InvalidInput naming the valid ones."""
    try:
        return Tier(text.strip().lower())
    except ValueError:
        names = ", ".join(t.value for t in Tier)
        raise InvalidInput(f"unknown tier '{text[:40]}' (one of: {names})") from None


class KeyRing:
    """Create, list, revoke and verify API keys over one backend (through a cache if given)."""

    def __init__(
        self, backend: KeyBackend, *, clock: Clock = utcnow, cache: KeyCache | None = None
    ) -> None:
        self.backend = backend
        self.cache = cache
        self._clock = clock

    def create(
        self, *, tier: Tier | str, name: str, expires: dt.datetime | None = None
    ) -> tuple[KeyRecord, str]:
        """A new key: its record and the key itself, which is shown once and never stored."""
        tier = parse_tier(tier) if isinstance(tier, str) else tier
        name = " ".join(name.split())
        if not name or len(name) > _MAX_NAME:
            raise InvalidInput(f"--name must be 1 to {_MAX_NAME} characters")
        now = self._clock()
        if expires is not None and expires <= now:
            raise InvalidInput("the expiry date is already past")
        key_id = secrets.token_hex(6)
        key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        record = KeyRecord(key_id=key_id, name=name, tier=tier, created=now, expires=expires)
        self.backend.insert(record, key_digest=digest(key))
        if self.cache is not None:
            self.cache.invalidate()
        return record, key

    def list(self) -> list[KeyRecord]:
        """Every key record, oldest first (never a key)."""
        return self.backend.records()

    def revoke(self, key_id: str) -> KeyRecord:
        """Revoke a key for good; NotFound when no key has this id."""
        key_id = key_id.strip()
        record = self.backend.revoke(key_id, at=self._clock()) if _KEY_ID.match(key_id) else None
        if self.cache is not None:
            self.cache.invalidate()  # other processes learn it from the key store (cache.py)
        if record is None:
            raise NotFound(f"no API key with id '{key_id[:40]}'")
        return record

    @property
    def in_memory(self) -> bool:
        """Whether :meth:`authenticate` answers from memory (the cache), never waiting on I/O."""
        return self.cache is not None

    def authenticate(self, key: str) -> Principal:
        """The caller a key stands for; Unauthorized when malformed, unknown, expired or revoked."""
        match = _KEY.match(key)
        if match is None:
            raise Unauthorized("malformed API key")
        source = self.cache if self.cache is not None else self.backend
        found = source.lookup(match.group(1))
        record, stored = found if found is not None else (None, _NO_DIGEST)
        # Constant-time comparison: the time taken says nothing about how much of it matched.
        if not hmac.compare_digest(digest(key), stored) or record is None:
            raise Unauthorized("invalid API key")
        state = record.state(self._clock())
        if state != "active":
            # The caller holds the real key here, so telling why it stopped working leaks nothing.
            raise Unauthorized(f"API key {record.key_id} is {state}")
        return Principal(tier=record.tier, key_id=record.key_id, name=record.name)

    def is_active(self, key_id: str) -> bool:
        """True when ``key_id`` names a key neither revoked nor expired (a session's check)."""
        source = self.cache if self.cache is not None else self.backend
        found = source.lookup(key_id) if _KEY_ID.match(key_id) else None
        return found is not None and found[0].state(self._clock()) == "active"

    def close(self) -> None:
        """Stop the cache's watch and close the backend."""
        if self.cache is not None:
            self.cache.close()
        self.backend.close()


def keys_table(metadata: sa.MetaData, schema: str | None) -> sa.Table:
    """The ``api_keys`` table (SQLite: no schema)."""
    tiers = ", ".join(f"'{t.value}'" for t in Tier)
    return sa.Table(
        "api_keys",
        metadata,
        sa.Column("key_id", sa.String(12), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True)),
        sa.Column("revoked", sa.DateTime(timezone=True)),
        sa.CheckConstraint(f"tier IN ({tiers})", name="api_keys_tier"),
        schema=schema,
    )


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; everything written was UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def _record(row: sa.Row) -> KeyRecord:
    created = _utc(row.created)
    assert created is not None
    return KeyRecord(
        key_id=row.key_id,
        name=row.name,
        tier=Tier(row.tier),
        created=created,
        expires=_utc(row.expires),
        revoked=_utc(row.revoked),
    )


class SqlKeys:
    """The KeyBackend on a SQLAlchemy engine: a SQLite file or a PostgreSQL schema."""

    def __init__(self, engine: sa.Engine, *, schema: str | None = None) -> None:
        self.engine = engine
        self.schema = schema
        self._metadata = sa.MetaData()
        self._table = keys_table(self._metadata, schema)
        self._ready = False
        self._ready_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SqlKeys({self.engine.dialect.name}, schema={self.schema!r})"  # never the URL

    def insert(self, record: KeyRecord, *, key_digest: bytes) -> None:
        """Store a new key record with its digest."""
        with self._begin() as conn:
            conn.execute(
                self._table.insert().values(
                    key_id=record.key_id,
                    name=record.name,
                    tier=record.tier.value,
                    digest=key_digest,
                    created=record.created,
                    expires=record.expires,
                )
            )
            self._announce(conn, record.key_id)

    def lookup(self, key_id: str) -> tuple[KeyRecord, bytes] | None:
        """The record and digest of ``key_id``, or None when unknown."""
        with self._begin() as conn:
            row = conn.execute(
                sa.select(self._table).where(self._table.c.key_id == key_id)
            ).one_or_none()
        return None if row is None else (_record(row), bytes(row.digest))

    def all_keys(self) -> dict[str, tuple[KeyRecord, bytes]]:
        """Every record with its digest, by key id."""
        with self._begin() as conn:
            rows = conn.execute(sa.select(self._table)).all()
        return {row.key_id: (_record(row), bytes(row.digest)) for row in rows}

    def records(self) -> list[KeyRecord]:
        """Every key record, oldest first."""
        table = self._table
        with self._begin() as conn:
            rows = conn.execute(sa.select(table).order_by(table.c.created, table.c.key_id)).all()
        return [_record(row) for row in rows]

    def revoke(self, key_id: str, *, at: dt.datetime) -> KeyRecord | None:
        """Mark ``key_id`` revoked at ``at`` (the first revocation time is kept)."""
        table = self._table
        with self._begin() as conn:
            conn.execute(
                table.update()
                .where(table.c.key_id == key_id, table.c.revoked.is_(None))
                .values(revoked=at)
            )
            self._announce(conn, key_id)
            row = conn.execute(sa.select(table).where(table.c.key_id == key_id)).one_or_none()
        return None if row is None else _record(row)

    def close(self) -> None:
        """Dispose of the connection pool."""
        self.engine.dispose()

    @property
    def channel(self) -> str | None:
        """The PostgreSQL channel announcing changes (None on SQLite, which has none)."""
        return None if self.schema is None else notify_channel(self.schema)

    def _announce(self, conn: sa.Connection, key_id: str) -> None:
        # Delivered to every listening API process when this transaction commits, not before.
        if self.channel is not None:
            conn.execute(sa.select(sa.func.pg_notify(self.channel, key_id)))

    def drop(self) -> None:
        """Drop the table (and the PostgreSQL schema); for tests."""
        with self._begin(create=False) as conn:
            if self.schema is None:
                self._table.drop(conn, checkfirst=True)
            else:
                conn.execute(sa.schema.DropSchema(self.schema, cascade=True, if_exists=True))
        self._ready = False

    @contextmanager
    def _begin(self, *, create: bool = True) -> Iterator[sa.Connection]:
        # The table is created on first use, not at startup: an API worker starts even while
        # the database is down, and answers 503 (never public) until it is back.
        try:
            if create and not self._ready:
                self._create()
            with self.engine.begin() as conn:
                yield conn
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            log.error("key store failure: %s", exc)
            raise StoreUnavailable(_UNAVAILABLE) from None

    def _create(self) -> None:
        with self._ready_lock:
            if self._ready:
                return
            with self.engine.begin() as conn:
                if self.schema is not None:
                    # Two workers starting together would race on CREATE SCHEMA IF NOT EXISTS
                    # (a unique violation in pg_namespace): serialise them.
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('atlas_auth'))"))
                    conn.execute(sa.schema.CreateSchema(self.schema, if_not_exists=True))
                self._metadata.create_all(conn, checkfirst=True)
            self._ready = True


def sqlite_keys(data_dir: Path) -> SqlKeys:
    """The embedded backend: ``keys.sqlite`` under the data directory, readable by its owner only."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / KEYS_FILE
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    # A busy file (a CLI revoking while the server reads) waits up to 5 s instead of failing.
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 5})
    return SqlKeys(engine)


def postgres_keys(
    url: str, *, schema: str, statement_timeout_ms: int = 30_000, pool_size: int = 5
) -> SqlKeys:
    """The PostgreSQL backend: ``<schema>.api_keys``, created when missing."""
    from atlas.stores.postgis import create_pg_engine

    # API processes read keys from memory (cache.py); the pool serves reloads, commands, and
    # per-request lookups while a process cannot see changes: sized like the store's.
    engine = create_pg_engine(
        url, pool_size=pool_size, statement_timeout_ms=statement_timeout_ms, name="atlas-auth"
    )
    return SqlKeys(engine, schema=schema)


def open_keyring(store: StoreSettings, auth: AuthSettings, *, cached: bool = False) -> KeyRing:
    """The keys the settings select: PostgreSQL when ATLAS_DATABASE_URL is set, else SQLite.

    ``cached`` (an API process): keys are kept in memory and watched for changes (``cache.py``);
    a command that runs once reads the store directly.
    """
    freshness: Freshness
    if store.database_url is not None:
        url = store.database_url.get_secret_value()
        backend = postgres_keys(
            url,
            schema=auth.db_schema,
            statement_timeout_ms=store.statement_timeout_ms,
            pool_size=store.pool_size,
        )
        if not cached:
            return KeyRing(backend)
        freshness = PostgresNotifications(url, notify_channel(auth.db_schema), what="API key")
    else:
        backend = sqlite_keys(store.data_dir)
        if not cached:
            return KeyRing(backend)
        freshness = SqliteDataVersion(store.data_dir / KEYS_FILE)
    return KeyRing(backend, cache=KeyCache(backend, freshness))
