"""Request ids for the audit records the policy gate writes.

The gate (``atlas.policy.gate``) is the one writer of the audit log: every audited read, tile,
extract and inventory goes through it, bound to the request's id::

    from atlas.api.audit import request_id

    gate = request.app.state.policy.gate(principal, request_id(request))

The request id is the one the request-id middleware put on ``request.state.request_id`` (and
sends back as ``X-Request-Id``); without it, ``request_id`` makes one and keeps it there, so that
every record of one request carries the same id. Nothing here, and no route, lets a client read,
change or delete the log.
"""

from __future__ import annotations

import uuid

from fastapi import Request


def request_id(request: Request) -> str:
    """The request's id: the one on ``request.state`` (middleware), else a new one kept there."""
    current = getattr(request.state, "request_id", None)
    if not current:
        current = uuid.uuid4().hex
        request.state.request_id = current
    return current
