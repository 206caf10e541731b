"""One base for the ASGI middlewares that edit every HTTP answer's headers as it starts.

Each subclass says, once per request, how to edit the response start (``editor``): the request
id, the security headers, the tier's cache headers, a dead session cookie's clearing. Pure ASGI
rather than Starlette's BaseHTTPMiddleware, which would buffer streamed bodies (extracts, tiles).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Editor = Callable[[MutableHeaders, Message], None]


class ResponseStartMiddleware:
    """ASGI middleware: ``editor(scope)``'s edit applied to every HTTP response start."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def editor(self, scope: Scope) -> Editor:
        """The edit of this request's response headers (called before the app runs)."""
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app, editing the headers of its answer as it starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, editing(send, self.editor(scope)))


def editing(send: Send, *edits: Editor) -> Send:
    """``send`` with ``edits`` applied in order to the response start's headers (one
    middleware's edit, or the edge's copy of the whole stack's: atlas.api.plain_tiles)."""

    async def edited(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for edit in edits:
                edit(headers, message)
        await send(message)

    return edited
