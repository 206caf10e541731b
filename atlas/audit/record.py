"""What one audit record holds, and the contract of the two audit-log backends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

from atlas.types import BBox

# signin / signin_refused / signout: the browser sessions of atlas.api.signin (never the key).
AuditAction = Literal["read", "tile", "extract", "inventory", "signin", "signin_refused", "signout"]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One access to personal data or to the exact water network, or one extract.

    ``area`` is the requested area as WKT in EPSG:2154 (a bbox polygon, a clip polygon) or None
    when the request named no area (a whole collection, features by id).
    """

    at: dt.datetime  # UTC, timezone-aware
    who: str  # Principal.who
    tier: str
    action: AuditAction
    collection_id: str
    feature_count: int
    request_id: str
    area: str | None = None
    detail: str = ""  # e.g. the fields read ("proprietaire"), the extract format
    # Added for tamper evidence: sha256 chained over the previous record's hash (atlas/audit/
    # chain.py). Set by the log when the record is written and returned by ``since``, so that an
    # export carries it; leave it empty when appending (a given value is ignored).
    hash: str = ""


def bbox_wkt(bbox: BBox) -> str:
    """A bbox as the WKT polygon the ``area`` field holds (EPSG:2154 coordinates)."""
    x0, y0, x1, y1 = bbox.as_tuple()
    return f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """The outcome of recomputing the hash chain: how many records, and the first broken one."""

    count: int  # records found intact, from the first one up to the first broken one
    head: str  # hash of the last intact record: the value to keep elsewhere as an anchor
    broken_seq: int | None = None  # position (1-based) of the first broken record
    reason: str = ""

    @property
    def ok(self) -> bool:
        """True when every record matches its hash and follows the previous one."""
        return self.broken_seq is None


class AuditLog(Protocol):
    """Append-only: records can be added and read, never changed or removed."""

    def append(self, record: AuditRecord) -> None:
        """Write one record durably before the response leaves."""
        ...

    def since(self, start: dt.datetime) -> Iterator[AuditRecord]:
        """Every record at or after ``start``, oldest first."""
        ...

    def verify(self) -> ChainCheck:
        """Recompute the hash chain from the first record; report the first broken one."""
        ...

    def close(self) -> None:
        """Release files or connections."""
        ...
