"""Audit-log appends per second at 1 and 32 threads: ``python bench/audit_append.py [--records 640]``.

Appends ``--records`` records to an empty log (SQLite under a temporary directory, and —
when ATLAS_TEST_DATABASE_URL or ATLAS_DATABASE_URL is set — PostgreSQL in a throwaway schema,
dropped afterwards) from one thread, then from 32 threads at once, each append returning once its
record is durable, and prints appends/s and the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import threading
import time
import uuid
from pathlib import Path
from tempfile import TemporaryDirectory

from _common import _drop_schemas, database_url, load_average, machine

from atlas.audit import open_audit_log
from atlas.audit.record import AuditRecord
from atlas.settings import AuditSettings, Settings, StoreSettings


def _record(n: int) -> AuditRecord:
    return AuditRecord(
        at=dt.datetime.now(dt.UTC),
        who="key:bench (bench)",
        tier="internal",
        action="read",
        collection_id="parcels",
        feature_count=n,
        request_id=f"bench{n:06d}",
        area="POLYGON((650000 6850000,651000 6850000,651000 6851000,650000 6850000))",
        detail="fields: proprietaire",
    )


def _rate(settings: Settings, threads: int, records: int) -> float:
    """Appends per second of ``records`` records spread over ``threads`` threads."""
    log = open_audit_log(settings)
    try:
        log.append(_record(0))  # opened and created before the clock starts
        each = records // threads
        barrier = threading.Barrier(threads + 1)

        def work(offset: int) -> None:
            barrier.wait()
            for n in range(each):
                log.append(_record(offset + n))

        workers = [threading.Thread(target=work, args=(i * each,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        barrier.wait()
        started = time.perf_counter()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        assert log.verify().ok
        return each * threads / elapsed
    finally:
        log.close()


def _setups(tmp: Path) -> list[tuple[str, Settings]]:
    setups = [("embedded (SQLite)", Settings(store=StoreSettings(data_dir=tmp, database_url=None)))]
    url = database_url()
    if url is not None:
        schema = f"atlas_bench_audit_{uuid.uuid4().hex[:10]}"
        settings = Settings(
            store=StoreSettings(data_dir=tmp / "pg", database_url=url),
            audit=AuditSettings(db_schema=schema),
        )
        setups.append(("PostgreSQL", settings))
    return setups


def main(argv: list[str] | None = None) -> int:
    """Print appends/s per setup and thread count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=640)
    args = parser.parse_args(argv)
    print(machine())
    with TemporaryDirectory() as tmp:
        for name, settings in _setups(Path(tmp)):
            for threads in (1, 32):
                # A fresh log per run: each starts from an empty file or schema.
                run = settings.model_copy(deep=True)
                run.store.data_dir = Path(tmp) / f"{uuid.uuid4().hex[:8]}"
                if settings.store.uses_postgis:
                    run.audit.db_schema = f"{settings.audit.db_schema}_{threads}"
                try:
                    rate = _rate(run, threads, args.records)
                finally:
                    if settings.store.uses_postgis:
                        _drop_schemas(run, run.audit.db_schema)
                print(f"{name}, {threads:2d} threads: {rate:7.0f} appends/s")
    print(load_average())
    return 0


if __name__ == "__main__":
    sys.exit(main())
