"""API keys known in memory per process, with every change seen at once and no statement per request.

An API process keeps every key record and digest in memory (:class:`KeyCache`), labelled with a
*generation*: a value that changes whenever a key may have been created or revoked, anywhere. It
is read on each request without a round trip to the database; when it differs from the label,
the keys are read again (one statement) before the request is answered:

- **SQLite** (:class:`SqliteDataVersion`): ``PRAGMA data_version`` on a connection of the process's
  own, which SQLite changes whenever another connection (any process) has committed to the file.
  It reads the file header under a shared lock, in process: no query of the keys table.
- **PostgreSQL** (:class:`PostgresNotifications`): a thread LISTENs on the keys' channel and counts
  notifications; ``atlas keys create|revoke`` send one (``pg_notify``) in the transaction that
  writes, which PostgreSQL delivers when it commits. While the listening connection is down, the
  process cannot see changes, so it trusts nothing in memory and reads the key from the store on
  every request (as before the cache) until it listens again, and then reloads.

Expiry is checked against the clock on every request. Unknown key ids are answered from memory
(a dictionary miss), so a flood of made-up keys costs the database nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import select
import sqlite3
import threading
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from atlas.auth.keys import KeyBackend, KeyRecord

log = logging.getLogger(__name__)

HEARTBEAT_S = 10.0  # a listening connection idle this long is checked with SELECT 1
_RETRY_S = (0.5, 30.0)  # first and longest wait before listening again


def notify_channel(schema: str) -> str:
    """The PostgreSQL channel on which changes to ``<schema>.api_keys`` are announced."""
    channel = f"atlas_keys:{schema}"
    if len(channel) > 63:  # channel names are identifiers: at most 63 bytes
        channel = "atlas_keys:" + hashlib.sha256(schema.encode()).hexdigest()[:40]
    return channel


class Freshness(Protocol):
    """Tells, without a query of the keys, whether they may have changed since last asked."""

    def generation(self) -> Hashable | None:
        """A value that changes whenever keys may have changed; None: changes cannot be seen now."""
        ...

    def close(self) -> None:
        """Stop watching."""
        ...


class SqliteDataVersion:
    """``PRAGMA data_version`` of ``keys.sqlite`` on a connection kept for that alone."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._opened = 0  # data_version counts per connection: a new one starts a new series

    def generation(self) -> tuple[int, int] | None:
        """(connection, data_version), or None when the file cannot be read."""
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = sqlite3.connect(
                        self._path, timeout=5, isolation_level=None, check_same_thread=False
                    )
                    self._opened += 1
                (version,) = self._conn.execute("PRAGMA data_version").fetchone()
                return self._opened, version
            except sqlite3.Error as exc:
                log.error("key store version unreadable: %s", exc)
                self._close()
                return None

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class PostgresNotifications:
    """A thread LISTENing on the keys' channel; its count of notifications is the generation."""

    def __init__(self, url: str, channel: str, *, heartbeat_s: float = HEARTBEAT_S) -> None:
        self._url = url
        self._channel = channel
        self._heartbeat_s = heartbeat_s
        # (listening, count) replaced whole: a request reads it without taking a lock.
        self._state: tuple[bool, int] = (False, 0)
        self.backend_pid: int | None = None  # of the listening connection, for the logs
        self._state_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake_read, self._wake_write = os.pipe()  # close() wakes the thread from select
        self._thread = threading.Thread(target=self._run, name="atlas-keys-listener", daemon=True)
        self._thread.start()

    def generation(self) -> int | None:
        """The count of notifications (and reconnections), or None while not listening."""
        listening, count = self._state
        return count if listening else None

    def close(self) -> None:
        """Stop listening and wait for the thread."""
        self._stop.set()
        os.write(self._wake_write, b"x")
        self._thread.join(timeout=10)
        os.close(self._wake_read)
        os.close(self._wake_write)

    def _changed(self, *, listening: bool | None = None) -> None:
        with self._state_lock:
            was_listening, count = self._state
            self._state = (was_listening if listening is None else listening, count + 1)

    def _run(self) -> None:
        delay = _RETRY_S[0]
        while not self._stop.is_set():
            try:
                self._listen()
                delay = _RETRY_S[0]
            except (psycopg.Error, OSError) as exc:
                reason = " ".join(str(exc).split())[:200]
                log.warning(
                    "API key notifications lost (%s): keys are read from the key store on every"
                    " request until they resume",
                    reason,
                )
            finally:
                self._changed(listening=False)
            self._stop.wait(delay)
            delay = min(delay * 2, _RETRY_S[1])

    def _listen(self) -> None:
        """LISTEN, then count notifications until stopped; raises when the connection fails."""
        with psycopg.connect(
            self._url,
            autocommit=True,
            connect_timeout=10,
            application_name="atlas-keys-listener",
            # A peer gone silent (no FIN) is noticed within seconds, not after TCP's minutes.
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
            tcp_user_timeout=15_000,
            options="-c statement_timeout=5000",
        ) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
            conn.add_notify_handler(lambda _: self._changed())  # those arriving during SELECT 1
            self.backend_pid = conn.info.backend_pid
            log.info("API key changes: listening on %s (pid %d)", self._channel, self.backend_pid)
            # Listening from now on; whatever changed before is reloaded (the count moves).
            self._changed(listening=True)
            while not self._stop.is_set():
                ready, _, _ = select.select(
                    [conn.fileno(), self._wake_read], [], [], self._heartbeat_s
                )
                if self._wake_read in ready:
                    return
                if not ready:
                    conn.execute("SELECT 1")  # a dead connection raises here
                    continue
                conn.pgconn.consume_input()  # raises when the server has gone
                while conn.pgconn.notifies() is not None:
                    self._changed()


@dataclass(frozen=True, slots=True)
class _Snapshot:
    generation: Hashable
    keys: dict[str, tuple[KeyRecord, bytes]]


class KeyCache:
    """Every key record and digest of one backend, reloaded whenever the generation moves."""

    def __init__(self, backend: KeyBackend, freshness: Freshness) -> None:
        self._backend = backend
        self._freshness = freshness
        self._local = 0  # moved by this process's own writes, seen before any notification
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()  # one reload at a time; the others wait and use it

    def lookup(self, key_id: str) -> tuple[KeyRecord, bytes] | None:
        """The record and digest of ``key_id``, or None when unknown."""
        seen = self._freshness.generation()
        if seen is None:
            return self._backend.lookup(key_id)  # blind to changes: ask the store each time
        generation = (self._local, seen)
        snapshot = self._snapshot
        if snapshot is None or snapshot.generation != generation:
            snapshot = self._reload(generation)
        return snapshot.keys.get(key_id)

    def invalidate(self) -> None:
        """Forget what is in memory (this process wrote a key)."""
        with self._lock:
            self._local += 1
            self._snapshot = None

    def close(self) -> None:
        """Stop watching for changes."""
        self._freshness.close()

    def _reload(self, generation: Hashable) -> _Snapshot:
        with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and snapshot.generation == generation:
                return snapshot  # another request reloaded while this one waited
            # The generation was read before the keys are: a change committed after it was
            # read moves it again, and the next request reloads.
            snapshot = _Snapshot(generation, self._backend.all_keys())
            self._snapshot = snapshot
            return snapshot
