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


def append_until_killed(data_dir: str, url: str | None, schema: str, threads: int) -> None:
    """Append from ``threads`` threads forever, printing each request id once ``append`` returned.

    The parent kills this process with SIGKILL: every id it read must then be in the log.
    """
    import sys
    import threading

    settings = Settings(
        store=StoreSettings(data_dir=Path(data_dir), database_url=url),
        audit=AuditSettings(db_schema=schema),
    )
    log = open_audit_log(settings)
    printed = threading.Lock()

    def work(worker: int) -> None:
        for n in range(10**9):
            request_id = f"t{worker}-{n}"
            log.append(record(n, request_id=request_id))
            with printed:
                sys.stdout.write(request_id + "\n")
                sys.stdout.flush()

    for worker in range(threads):
        threading.Thread(target=work, args=(worker,), daemon=True).start()
    threading.Event().wait()  # until killed


if __name__ == "__main__":
    import sys

    data, link, name, count = sys.argv[1:5]
    append_until_killed(data, link or None, name, int(count))
