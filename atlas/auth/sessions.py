"""Browser sessions: a random id in an HttpOnly cookie, the session itself in the key store.

Why server-side and not a self-contained signed cookie: a session lives in the same place as the
keys (``sessions.sqlite`` beside ``keys.sqlite`` under ``ATLAS_DATA_DIR``, or
``<ATLAS_AUTH_DB_SCHEMA>.sessions`` in PostgreSQL), so every worker and host sees it, and signing out, an operator revoking the key, or
the key's expiry ends it at the next request — a signed cookie stays valid until it expires,
whatever happens on the server. The cookie holds 256 random bits and nothing else; it is not
signed, because a signature proves nothing a 256-bit random id looked up in the store does not
(a forged id matches no row), and a signing secret would be one more secret to share across
workers and rotate. The store keeps the SHA-256 of the id, never the id: a copy of the table
gives no usable cookie (the same reasoning as ``keys.digest``).

A session carries its own CSRF token (synchronizer pattern), and the caller it stands for: an API
key's id (the key is checked again on every request: revoked or expired, the session ends at
once) or an OpenID Connect subject and the tier its ID token gave at sign-in. It ends when unused
for ``ATLAS_SESSION_IDLE_MINUTES`` or ``ATLAS_SESSION_MAX_HOURS`` after sign-in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa

from atlas.auth.keys import Clock, KeyRing, utcnow
from atlas.errors import StoreUnavailable
from atlas.policy.tiers import Principal, Tier
from atlas.settings import SessionSettings, StoreSettings

log = logging.getLogger(__name__)

SessionKind = Literal["key", "oidc"]
# token_urlsafe(32): 43 characters; anything else is not one of ours and is never looked up.
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")
SESSIONS_FILE = "sessions.sqlite"
_UNAVAILABLE = "the session store is unavailable, retry later"


def _digest(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode("ascii")).digest()


@dataclass(frozen=True, slots=True)
class Session:
    """One signed-in browser: who it stands for, its CSRF token and its times."""

    principal: Principal
    kind: SessionKind
    csrf: str
    created: dt.datetime
    last_seen: dt.datetime


def sessions_table(metadata: sa.MetaData, schema: str | None) -> sa.Table:
    """The ``sessions`` table (beside ``api_keys``; SQLite: no schema)."""
    tiers = ", ".join(f"'{t.value}'" for t in Tier)
    return sa.Table(
        "sessions",
        metadata,
        sa.Column("digest", sa.LargeBinary(32), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("key_id", sa.String(140), nullable=False, index=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"tier IN ({tiers})", name="sessions_tier"),
        schema=schema,
    )


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; everything written was UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class SessionStore:
    """Create, resolve and end sessions in the key store's database."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        schema: str | None,
        settings: SessionSettings,
        clock: Clock = utcnow,
    ) -> None:
        self.engine = engine
        self.schema = schema
        self.idle = dt.timedelta(minutes=settings.idle_minutes)
        self.lifetime = dt.timedelta(hours=settings.max_hours)
        self.clock = clock  # tests move time forward through it
        self._metadata = sa.MetaData()
        self._table = sessions_table(self._metadata, schema)
        self._ready = False
        self._ready_lock = threading.Lock()

    def create(self, principal: Principal, *, kind: SessionKind) -> tuple[str, Session]:
        """A new session for ``principal``: its id (the cookie's value, shown once) and itself."""
        assert principal.key_id is not None, "a session stands for a key or an OIDC subject"
        now = self.clock()
        session_id = secrets.token_urlsafe(32)
        session = Session(principal, kind, secrets.token_urlsafe(32), now, now)
        table = self._table
        with self._begin() as conn:
            # Expired sessions of anyone are removed here, so the table never grows unbounded.
            conn.execute(table.delete().where(self._expired(now)))
            conn.execute(
                table.insert().values(
                    digest=_digest(session_id),
                    kind=kind,
                    key_id=principal.key_id,
                    name=principal.name,
                    tier=principal.tier.value,
                    csrf=session.csrf,
                    created=now,
                    last_seen=now,
                )
            )
        return session_id, session

    def resolve(self, session_id: str, keys: KeyRing) -> Session | None:
        """The live session of ``session_id``, or None (unknown, expired, or its key no longer
        active: then it is deleted). A used session's idle clock restarts."""
        if not _SESSION_ID.match(session_id):
            return None
        table, key = self._table, _digest(session_id)
        with self._begin() as conn:
            row = conn.execute(sa.select(table).where(table.c.digest == key)).one_or_none()
        if row is None:
            return None
        session = _session(row)
        now = self.clock()
        alive = now - session.last_seen < self.idle and now - session.created < self.lifetime
        if alive and session.kind == "key":
            alive = keys.is_active(row.key_id)
        if not alive:
            self._delete(key)
            return None
        # Written at most every idle/4 (and every minute), not on every request.
        if now - session.last_seen >= min(self.idle / 4, dt.timedelta(minutes=1)):
            with self._begin() as conn:
                conn.execute(table.update().where(table.c.digest == key).values(last_seen=now))
        return session

    def delete(self, session_id: str) -> None:
        """End a session (sign-out); nothing happens when it is unknown."""
        if _SESSION_ID.match(session_id):
            self._delete(_digest(session_id))

    def end_for_key(self, key_id: str) -> int:
        """End every session of ``key_id``; how many there were."""
        table = self._table
        with self._begin() as conn:
            return conn.execute(table.delete().where(table.c.key_id == key_id)).rowcount

    def count(self) -> int:
        """How many sessions are stored (expired ones not yet removed included)."""
        with self._begin() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(self._table)).scalar_one()
            )

    def close(self) -> None:
        """Dispose of a pool of its own (SQLite); PostgreSQL's is the keys' and closes with them."""
        if self.schema is None:
            self.engine.dispose()

    def _delete(self, digest: bytes) -> None:
        with self._begin() as conn:
            conn.execute(self._table.delete().where(self._table.c.digest == digest))

    def _expired(self, now: dt.datetime) -> sa.ColumnElement[bool]:
        table = self._table
        return sa.or_(table.c.last_seen <= now - self.idle, table.c.created <= now - self.lifetime)

    @contextmanager
    def _begin(self) -> Iterator[sa.Connection]:
        # Created on first use, like the keys table: a worker starts while the database is down
        # and answers 503 (never a silent public) until it is back.
        try:
            if not self._ready:
                self._create()
            with self.engine.begin() as conn:
                yield conn
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            log.error("session store failure: %s", exc)
            raise StoreUnavailable(_UNAVAILABLE) from None

    def _create(self) -> None:
        with self._ready_lock:
            if self._ready:
                return
            with self.engine.begin() as conn:
                if self.schema is not None:
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('atlas_auth'))"))
                    conn.execute(sa.schema.CreateSchema(self.schema, if_not_exists=True))
                self._metadata.create_all(conn, checkfirst=True)
            self._ready = True


def _session(row: sa.Row) -> Session:
    principal = Principal(tier=Tier(row.tier), key_id=row.key_id, name=row.name)
    kind: SessionKind = "oidc" if row.kind == "oidc" else "key"
    return Session(principal, kind, row.csrf, _utc(row.created), _utc(row.last_seen))


def open_sessions(keys: KeyRing, store: StoreSettings, settings: SessionSettings) -> SessionStore:
    """Sessions beside the keys: their PostgreSQL schema, or ``sessions.sqlite`` beside
    ``keys.sqlite`` (a file of its own: a session write in keys.sqlite would move its
    ``data_version`` and make every process reload its keys, ``cache.py``)."""
    backend = keys.backend
    schema: str | None = getattr(backend, "schema", None)
    if store.database_url is not None and schema is not None:
        engine: sa.Engine = backend.engine  # type: ignore[attr-defined]
        return SessionStore(engine, schema=schema, settings=settings)
    store.data_dir.mkdir(parents=True, exist_ok=True)
    path = store.data_dir / SESSIONS_FILE
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # its owner reads it, no one else
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 5})
    return SessionStore(engine, schema=None, settings=settings)
