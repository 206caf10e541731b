"""CSV export of audit records: one row per record, with its chained hash."""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from atlas.audit.chain import COLUMNS, format_at
from atlas.audit.record import AuditRecord
from atlas.errors import InvalidInput
from atlas.stores.files import fsync_dir

HEADER = (*COLUMNS, "hash")


def write_csv(records: Iterable[AuditRecord], stream: TextIO) -> int:
    """Write the header and one row per record (RFC 4180); return the number of records.

    Values are written exactly as stored (no spreadsheet-formula escaping), so that the hash of
    each row can be recomputed from the export: open it as data, not by double-clicking.
    """
    writer = csv.writer(stream)
    writer.writerow(HEADER)
    count = 0
    for record in records:
        row = [getattr(record, name) for name in HEADER]
        row[0] = format_at(record.at)
        writer.writerow(["" if value is None else value for value in row])
        count += 1
    return count


def write_csv_file(records: Iterable[AuditRecord], path: Path) -> int:
    """``write_csv`` into ``path`` atomically: a failed export leaves no half file behind."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            count = write_csv(records, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)
    return count


def parse_when(text: str, *, end: bool = False) -> dt.datetime:
    """A CLI date or instant as an aware UTC datetime; naive values are UTC.

    A bare date means its midnight, or with ``end`` the next midnight, so that ``--until DATE``
    includes that whole day.
    """
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        try:
            instant = dt.datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(
                f"'{text[:40]}' is not a date (2026-12-01) or an ISO instant"
            ) from None
        return instant.replace(tzinfo=dt.UTC) if instant.tzinfo is None else instant
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return start + dt.timedelta(days=1) if end else start
