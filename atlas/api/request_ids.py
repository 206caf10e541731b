"""One id per request, made before anything runs and sent back as ``X-Request-Id``.

The gate writes it into audit records and 5xx bodies carry it, so a user's report, the log and
the audit trail meet on one value. A client-sent id is not trusted (it could collide on purpose).
"""

from __future__ import annotations

import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Scope

from atlas.api.response_start import Editor, ResponseStartMiddleware


class RequestIds(ResponseStartMiddleware):
    """ASGI middleware: ``request.state.request_id`` in, ``X-Request-Id`` out."""

    def editor(self, scope: Scope) -> Editor:
        """Set the id in the shared request state; the answer carries it."""
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        def add_id(headers: MutableHeaders, _message: Message) -> None:
            headers["X-Request-Id"] = request_id

        return add_id
