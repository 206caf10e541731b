"""The append-only audit log of sensitive reads and extracts.

Every internal read of personal data (parcel owners) or of the exact water network, and every
extract, appends one ``AuditRecord`` (who, when, collection, area, feature count, request id).
Two backends keep one contract (``record.AuditLog``): SQLite under ``ATLAS_DATA_DIR/audit`` for
the embedded setup, the ``atlas_audit`` schema in PostgreSQL when ``ATLAS_DATABASE_URL`` is set.
Both refuse UPDATE and DELETE in the database itself and chain each record's sha256 over the
previous one (``chain.py``). Appends that arrive together share one commit (``group.py``). The
policy gate is the one writer (``atlas.policy.gate``); nothing in the HTTP API changes or lists the
log; reading is ``atlas audit export`` and ``verify``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from atlas.audit.record import AuditLog, AuditRecord, ChainCheck
from atlas.errors import AtlasError, StoreUnavailable
from atlas.settings import Settings

__all__ = ["AuditLog", "AuditRecord", "ChainCheck", "open_audit_log"]

log = logging.getLogger("atlas.audit")


def open_audit_log(settings: Settings) -> AuditLog:
    """The log the settings select: PostgreSQL when ATLAS_DATABASE_URL is set, else SQLite."""
    store = settings.store
    if store.database_url is not None:
        from atlas.audit.postgres import PostgresAuditLog

        return PostgresAuditLog(
            store.database_url.get_secret_value(),
            schema=settings.audit.db_schema,
            statement_timeout_ms=store.statement_timeout_ms,
        )
    from atlas.audit.embedded import EmbeddedAuditLog

    return EmbeddedAuditLog(store.data_dir)


@contextmanager
def unavailable_on(action: str, *errors: type[BaseException]) -> Iterator[None]:
    """Driver errors become StoreUnavailable; their text goes to the log, never further."""
    try:
        yield
    except AtlasError:
        raise
    except errors as err:
        log.error("audit log %s failed: %s", action, " ".join(str(err).split()))  # one line
        raise StoreUnavailable("the audit log is unavailable, retry later") from err
