"""Changes announced by PostgreSQL ``NOTIFY``, counted by a listening thread.

A process keeps in memory what other processes may change (API keys, the current version of each
collection) and labels it with a *generation*; :class:`PostgresNotifications` is that generation
for one PostgreSQL channel: a thread LISTENs and counts notifications, which writers send
(``pg_notify``) in the transaction that writes, and PostgreSQL delivers when it commits. While the
listening connection is down the generation is None: the caller trusts nothing in memory and reads
from the database until it listens again (the count then moves, so everything is reloaded).
"""

from __future__ import annotations

import hashlib
import logging
import os
import select
import threading

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

HEARTBEAT_S = 10.0  # a listening connection idle this long is checked with SELECT 1
_RETRY_S = (0.5, 30.0)  # first and longest wait before listening again


def channel_name(prefix: str, schema: str) -> str:
    """A channel for changes in ``schema`` (channels are identifiers: at most 63 bytes)."""
    channel = f"{prefix}:{schema}"
    if len(channel) > 63:
        channel = f"{prefix}:" + hashlib.sha256(schema.encode()).hexdigest()[:40]
    return channel


class PostgresNotifications:
    """A thread LISTENing on one channel; its count of notifications is the generation."""

    def __init__(
        self, url: str, channel: str, *, what: str, heartbeat_s: float = HEARTBEAT_S
    ) -> None:
        self._url = url
        self._channel = channel
        self._what = what  # "API key", "collection version": the logs' words
        self._heartbeat_s = heartbeat_s
        # (listening, count) replaced whole: a request reads it without taking a lock.
        self._state: tuple[bool, int] = (False, 0)
        self.backend_pid: int | None = None  # of the listening connection, for the logs
        self._state_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake_read, self._wake_write = os.pipe()  # close() wakes the thread from select
        self._thread = threading.Thread(
            target=self._run, name=f"atlas-listener-{channel[:40]}", daemon=True
        )
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
                    "%s notifications lost (%s): read from the database on every request until"
                    " they resume",
                    self._what,
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
            application_name="atlas-listener",
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
            log.info(
                "%s changes: listening on %s (pid %d)", self._what, self._channel, self.backend_pid
            )
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
