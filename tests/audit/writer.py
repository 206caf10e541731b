"""A process that appends records to an audit log (several run at once in test_concurrency)."""

from __future__ import annotations

import os
from pathlib import Path

from atlas.audit import open_audit_log
from atlas.settings import AuditSettings, Settings, StoreSettings
from tests.audit.backends import record


def append_many(data_dir: str, url: str | None, schema: str, count: int, barrier: object) -> None:
    """Open the log as an API worker would, wait for the others, then append ``count`` records."""
    settings = Settings(
        store=StoreSettings(data_dir=Path(data_dir), database_url=url),
        audit=AuditSettings(db_schema=schema),
    )
    log = open_audit_log(settings)
    try:
        barrier.wait()  # type: ignore[attr-defined]
        for n in range(count):
            log.append(record(n, request_id=f"pid{os.getpid()}-{n}"))
    finally:
        log.close()
