"""The hash chain shared by both audit backends: canonical bytes, chained sha256, verification.

Record *n* stores ``sha256(hash(n-1) + "\\n" + canonical(n))``, the first one chaining on
``GENESIS``. Editing, removing or reordering any record breaks the chain from that record on;
only a rewrite of every later hash hides an edit, and keeping the head hash elsewhere (printed by
``atlas audit verify``) exposes that and a truncated tail. The canonical form is sorted-key
compact JSON of the nine record fields, ``at`` in UTC with microseconds, so that both backends and
anyone holding a CSV export compute the same bytes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import get_args

from atlas.audit.record import AuditAction, AuditRecord, ChainCheck
from atlas.errors import InvalidInput

GENESIS = "0" * 64
ACTIONS = frozenset(get_args(AuditAction))
AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width: text order is time order
# The columns both backends store, in this order, before the hash.
COLUMNS = (
    "at",
    "who",
    "tier",
    "action",
    "collection_id",
    "feature_count",
    "area",
    "request_id",
    "detail",
)


def utc(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC; a naive datetime is refused rather than guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput("audit timestamps must be timezone-aware")
    return value.astimezone(dt.UTC)


def format_at(value: dt.datetime) -> str:
    """The canonical text of a timestamp: UTC, microseconds, ``Z``."""
    return utc(value).strftime(AT_FORMAT)


def parse_at(text: str) -> dt.datetime:
    """The inverse of ``format_at``."""
    return dt.datetime.strptime(text, AT_FORMAT).replace(tzinfo=dt.UTC)


def checked(record: AuditRecord) -> AuditRecord:
    """The record as it will be stored (``at`` in UTC, no hash), or InvalidInput."""
    if record.action not in ACTIONS:
        raise InvalidInput(f"unknown audit action '{record.action}'")
    if isinstance(record.feature_count, bool) or not isinstance(record.feature_count, int):
        raise InvalidInput("feature_count must be an integer")
    if record.feature_count < 0:
        raise InvalidInput("feature_count cannot be negative")
    texts = (record.who, record.tier, record.collection_id, record.request_id)
    if not all(isinstance(text, str) and text for text in texts):
        raise InvalidInput("who, tier, collection_id and request_id must be non-empty text")
    if any("\x00" in text for text in (*texts, record.area or "", record.detail)):
        raise InvalidInput("audit fields cannot contain NUL characters")  # PostgreSQL text cannot
    return dataclasses.replace(record, at=utc(record.at), hash="")


def record_from(values: Sequence[object], digest: str) -> AuditRecord:
    """A stored record from its ``COLUMNS`` values (``at`` as text or datetime) and its hash."""
    fields = dict(zip(COLUMNS, values, strict=True))
    at = fields.pop("at")
    at = parse_at(at) if isinstance(at, str) else utc(at)  # type: ignore[arg-type]
    return AuditRecord(at=at, **fields, hash=digest)  # type: ignore[arg-type]


def canonical(record: AuditRecord) -> bytes:
    """The bytes the hash covers: every field but the hash, sorted-key compact JSON."""
    payload = {name: getattr(record, name) for name in COLUMNS}
    payload["at"] = format_at(record.at)
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(previous: str, record: AuditRecord) -> str:
    """The hash of ``record`` following a record whose hash is ``previous``."""
    return hashlib.sha256(previous.encode("ascii") + b"\n" + canonical(record)).hexdigest()


def check_chain(rows: Iterable[tuple[int, AuditRecord]]) -> ChainCheck:
    """Recompute the chain over ``(seq, record)`` in seq order; stop at the first break."""
    head, count = GENESIS, 0
    for seq, record in rows:
        if seq != count + 1:
            reason = f"record {seq} stands where record {count + 1} should (records removed?)"
            return ChainCheck(count=count, head=head, broken_seq=seq, reason=reason)
        if chain_hash(head, record) != record.hash:
            reason = f"record {seq} does not match its hash (altered, or records before it removed)"
            return ChainCheck(count=count, head=head, broken_seq=seq, reason=reason)
        head, count = record.hash, seq
    return ChainCheck(count=count, head=head)
