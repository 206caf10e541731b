"""Cancelling the database work of a request whose client went away.

The API binds one :class:`CancelScope` per request (``atlas.api.disconnect``); a store registers
how to interrupt the statement it is running (psycopg's ``cancel()``, DuckDB's ``interrupt()``)
for as long as it runs. When the client disconnects, the scope is cancelled: the running
statement is interrupted and any later one refused before it starts, so an abandoned request
holds no connection and no CPU. Outside a request (CLI, ingest, extract jobs) nothing is bound
and registering costs one context-variable lookup.

The scope travels in a ``ContextVar``: the sync handlers run in anyio's thread pool, which
copies the request's context into the worker thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from atlas.errors import RequestCancelled

log = logging.getLogger(__name__)

Interrupt = Callable[[], None]


class CancelScope:
    """The database work of one request: interrupted when :meth:`cancel` is called."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._running: dict[int, Interrupt] = {}
        self._next = 0

    @property
    def cancelled(self) -> bool:
        """True once the request was abandoned."""
        return self._cancelled

    def cancel(self) -> None:
        """Interrupt every running statement and refuse the next ones (idempotent, thread-safe)."""
        # Interrupts run under the lock: ``running`` cannot return a connection to its pool
        # while a cancel request for it is still on its way to the server.
        with self._lock:
            self._cancelled = True
            for interrupt in self._running.values():
                try:
                    interrupt()
                except Exception:  # a failed interrupt leaves the statement to its timeout
                    log.warning("could not interrupt an abandoned statement", exc_info=True)

    @contextmanager
    def running(self, interrupt: Interrupt) -> Iterator[None]:
        """While the block runs, :meth:`cancel` calls ``interrupt``; refused once cancelled."""
        with self._lock:
            if self._cancelled:
                raise RequestCancelled("the client closed the request")
            key = self._next
            self._next += 1
            self._running[key] = interrupt
        try:
            yield
        finally:
            with self._lock:
                del self._running[key]


_current: ContextVar[CancelScope | None] = ContextVar("atlas_cancel_scope", default=None)


def bind(scope: CancelScope) -> Token[CancelScope | None]:
    """Make ``scope`` the current request's (the API's disconnect middleware calls this)."""
    return _current.set(scope)


def unbind(token: Token[CancelScope | None]) -> None:
    """Undo :func:`bind`."""
    _current.reset(token)


@contextmanager
def interruptible(interrupt: Interrupt) -> Iterator[None]:
    """Register ``interrupt`` with the current request's scope, if any, for the block."""
    scope = _current.get()
    if scope is None:
        yield
        return
    with scope.running(interrupt):
        yield


def cancelled() -> bool:
    """True when the current request was abandoned by its client."""
    scope = _current.get()
    return scope is not None and scope.cancelled
