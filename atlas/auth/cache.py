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

import logging
import sqlite3
import threading
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

# The listener lives with the stores, which watch their versions the same way.
from atlas.stores.notifications import PostgresNotifications, channel_name

if TYPE_CHECKING:
    from atlas.auth.keys import KeyBackend, KeyRecord

log = logging.getLogger(__name__)

__all__ = ["Freshness", "KeyCache", "PostgresNotifications", "SqliteDataVersion", "notify_channel"]


def notify_channel(schema: str) -> str:
    """The PostgreSQL channel on which changes to ``<schema>.api_keys`` are announced."""
    return channel_name("atlas_keys", schema)


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
