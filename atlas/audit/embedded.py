"""The embedded audit log: one SQLite file, ``ATLAS_DATA_DIR/audit/audit.sqlite``.

Why SQLite rather than a JSON-lines file opened ``O_APPEND``: an append-only *file* is only
append-only by convention (any writer can rewrite it), whereas SQLite lets the database itself
refuse changes: triggers RAISE on every UPDATE and DELETE, and one on INSERT refuses any record
but the next in sequence (which also stops ``INSERT OR REPLACE`` from overwriting one). SQLite
also gives us, from the standard library, what the file would need by hand: transactions (a
record is whole or absent, never half a line), cross-process locking (``BEGIN IMMEDIATE`` makes
read-last-hash-then-insert atomic for several API workers) and durability (WAL with
``synchronous=FULL`` fsyncs every commit before ``append`` returns). Appends that arrive together
share one commit (group commit, ``group.py``): one fsync per batch, not per record. The hash chain
(``chain.py``) makes edits by anyone who bypasses the triggers evident.

A WAL database must live on a local filesystem (not NFS): keep ``ATLAS_DATA_DIR`` local.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from atlas.audit import unavailable_on
from atlas.audit.chain import (
    COLUMNS,
    GENESIS,
    chain_hash,
    check_chain,
    checked,
    format_at,
    record_from,
)
from atlas.audit.group import GroupCommit
from atlas.audit.record import AuditRecord, ChainCheck
from atlas.stores.files import exclusive, fsync_dir

DB_NAME = "audit.sqlite"
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another process's append
_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    tier TEXT NOT NULL,
    action TEXT NOT NULL,
    collection_id TEXT NOT NULL,
    feature_count INTEGER NOT NULL CHECK (feature_count >= 0),
    area TEXT,
    request_id TEXT NOT NULL,
    detail TEXT NOT NULL,
    hash TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS records_at ON records (at, seq);
CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS records_append_only BEFORE INSERT ON records
WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM records)
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: records are added at the end only'); END;
"""
_SELECT = (
    "SELECT seq, at, who, tier, action, collection_id, feature_count, area, request_id, detail,"
    " hash FROM records"
)
_INSERT = (
    "INSERT INTO records"
    " (seq, at, who, tier, action, collection_id, feature_count, area, request_id, detail, hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)  # the columns in chain.COLUMNS order, between seq and hash


class EmbeddedAuditLog:
    """The AuditLog contract on SQLite; safe for several threads and processes at once."""

    kind = "embedded"

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / "audit" / DB_NAME
        self._lock = threading.Lock()  # one connection shared by the threads of a process
        self._group = GroupCommit(self._write_batch)
        with unavailable_on("open", sqlite3.Error, OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Concurrent first opens (several workers) must not race on WAL mode and the schema.
            with exclusive(self.path.parent / "audit.lock"):
                created = not self.path.exists()
                self._conn = self._connect()
                self._conn.executescript(_SCHEMA)
            if created:
                fsync_dir(self.path.parent)

    def __repr__(self) -> str:
        return f"EmbeddedAuditLog({str(self.path)!r})"

    def append(self, record: AuditRecord) -> None:
        """Write one record durably; concurrent appends share a transaction (``group.py``)."""
        self._group.append(checked(record))

    def _write_batch(self, rows: Sequence[AuditRecord]) -> None:
        """Chain ``rows`` after the last record in one transaction: one fsync for all of them."""
        with self._lock, unavailable_on("append", sqlite3.Error):
            conn = self._conn
            # IMMEDIATE takes the database's write lock now: no other process can append
            # between reading the last hash and inserting the records that chain on it.
            conn.execute("BEGIN IMMEDIATE")
            try:
                last = conn.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1")
                last_seq, previous = last.fetchone() or (0, GENESIS)
                values = []
                for seq, row in enumerate(rows, start=last_seq + 1):
                    previous = chain_hash(previous, row)
                    columns = [getattr(row, name) for name in COLUMNS]
                    columns[0] = format_at(row.at)
                    values.append((seq, *columns, previous))
                conn.executemany(_INSERT, values)
                conn.execute("COMMIT")
            finally:
                if conn.in_transaction:
                    conn.rollback()

    def since(self, start: dt.datetime) -> Iterator[AuditRecord]:
        """Every record at or after ``start``, oldest first (by time, then by sequence)."""
        query = _SELECT + " WHERE at >= ? ORDER BY at, seq"
        return (record for _, record in self._rows(query, (format_at(start),)))

    def verify(self) -> ChainCheck:
        """Recompute the chain in sequence order; report the first broken record."""
        return check_chain(self._rows(_SELECT + " ORDER BY seq", ()))

    def close(self) -> None:
        """Close the writing connection."""
        with self._lock:
            self._conn.close()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # fsync the WAL at every commit
        return conn

    def _rows(self, query: str, params: tuple[str, ...]) -> Iterator[tuple[int, AuditRecord]]:
        """Rows read on a connection of their own: a slow reader never holds up appends."""
        with unavailable_on("read", sqlite3.Error):
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            try:
                conn.execute("PRAGMA query_only=ON")
                for seq, *values, digest in conn.execute(query, params):
                    yield seq, record_from(values, digest)
            finally:
                conn.close()
