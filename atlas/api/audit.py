"""Writing the audit log from the API: request ids, the log on ``app.state``, ``audit(...)``.

The request id is the one the request-id middleware put on ``request.state.request_id`` (and
sends back as ``X-Request-Id``); without it, ``request_id`` makes one and keeps it there, so that
every record of one request carries the same id. Most audited reads go through the tier policy's
``Gate``, which appends its own records: build it with that id::

    from atlas.api.audit import request_id

    gate = request.app.state.policy.gate(principal, request_id(request))

For anything audited outside the gate (an extract job finishing, an inventory), call
``audit`` once the answer is computed and *before* returning it::

    from atlas.api.audit import audit

    @router.post("/extracts")
    def create_extract(request: Request, principal: CurrentPrincipal, ...) -> ...:
        frame = ...
        audit(request, action="extract", collection_id=cid, feature_count=len(frame),
              area=bbox_wkt(bbox), detail="format: gpkg", principal=principal)
        return ...

``audit`` writes synchronously and durably (an fsync, or a committed PostgreSQL transaction): call
it from a plain ``def`` handler (FastAPI runs those in its thread pool) or, from an ``async def``
one, through ``await run_in_threadpool(audit, request, ...)``. When the log cannot be written it
raises ``StoreUnavailable`` (503) and the data is not sent: an unaudited sensitive read never
leaves. For a streamed response, call it before the stream starts. Nothing here, and no route,
lets a client read, change or delete the log.
"""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import Request

from atlas.audit.record import AuditAction, AuditLog, AuditRecord
from atlas.policy.tiers import ANONYMOUS, Principal
from atlas.types import BBox


def get_audit_log(request: Request) -> AuditLog:
    """The audit log opened in the lifespan."""
    return request.app.state.audit


def request_id(request: Request) -> str:
    """The request's id: the one on ``request.state`` (middleware), else a new one kept there."""
    current = getattr(request.state, "request_id", None)
    if not current:
        current = uuid.uuid4().hex
        request.state.request_id = current
    return current


def bbox_wkt(bbox: BBox) -> str:
    """A bbox as the WKT polygon the ``area`` field holds (EPSG:2154 coordinates)."""
    x0, y0, x1, y1 = bbox.as_tuple()
    return f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"


def audit(
    request: Request,
    *,
    action: AuditAction,
    collection_id: str,
    feature_count: int,
    area: str | None = None,
    detail: str = "",
    principal: Principal | None = None,
) -> AuditRecord:
    """Append one record for this request (caller from ``principal`` or ``request.state``)."""
    caller = principal or getattr(request.state, "principal", None) or ANONYMOUS
    record = AuditRecord(
        at=dt.datetime.now(dt.UTC),
        who=caller.who,
        tier=caller.tier.value,
        action=action,
        collection_id=collection_id,
        feature_count=feature_count,
        request_id=request_id(request),
        area=area,
        detail=detail,
    )
    get_audit_log(request).append(record)
    return record
