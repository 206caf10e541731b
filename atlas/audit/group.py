"""Group commit: the records that many threads append at once share one transaction and one fsync.

Each ``append`` queues its record. When no batch is being written, the appending thread becomes
the leader: it takes every record queued so far, writes them chained in one transaction, commits
durably, marks them written and wakes the others; the threads whose records it carried return,
and the next thread still waiting leads the records that queued meanwhile. So an append still
returns only once its record is durable (the README's "before the answer leaves"), a crash loses
no record whose append returned, and while one commit syncs, the records arriving behind it
gather for the next: one fsync per batch instead of per record. No extra thread is started: the
leader is one of the appending threads. Several processes still take turns on the database's
lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock); each brings its batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from atlas.audit.record import AuditRecord
from atlas.errors import AtlasError

WriteBatch = Callable[[Sequence[AuditRecord]], None]


@dataclass(slots=True, eq=False)
class _Entry:
    record: AuditRecord
    done: bool = False
    error: BaseException | None = None


class GroupCommit:
    """Appends from many threads, written in batches by ``write_batch`` (one transaction each)."""

    def __init__(self, write_batch: WriteBatch) -> None:
        self._write_batch = write_batch
        self._queue: list[_Entry] = []
        self._writing = False  # a leader is writing a batch (its transaction, its fsync)
        self._changed = threading.Condition()

    def append(self, record: AuditRecord) -> None:
        """Queue ``record`` and return once the batch carrying it is committed (or raise)."""
        entry = _Entry(record)
        with self._changed:
            self._queue.append(entry)
            # Wait until a leader wrote our record, or until none is writing: then lead.
            while not entry.done and self._writing:
                self._changed.wait()
            batch: list[_Entry] = []
            if not entry.done:
                batch, self._queue, self._writing = self._queue, [], True
        if batch:
            self._lead(batch)
        error = entry.error
        if isinstance(error, AtlasError):
            # A fresh exception per waiting thread (one instance raised in many threads would
            # collect all their tracebacks), of the same class: 503 stays 503.
            raise type(error)(error.description) from error.__cause__
        if error is not None:
            raise error

    def _lead(self, batch: list[_Entry]) -> None:
        """Write a batch whole, then wake every waiter; a failure fails each record of it."""
        error: BaseException | None = None
        try:
            self._write_batch([entry.record for entry in batch])
        except BaseException as failure:  # handed to each thread of the batch
            error = failure
        with self._changed:
            for entry in batch:
                entry.error, entry.done = error, True
            self._writing = False
            self._changed.notify_all()
