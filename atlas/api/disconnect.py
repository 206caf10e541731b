"""Abandoned requests cancel their database work (``atlas.cancel``).

The handlers are sync and run in the thread pool, so nothing in them hears that the client went
away. :class:`CancelOnDisconnect` binds a :class:`~atlas.cancel.CancelScope` to each request and
listens to the server's ``receive`` for the ``http.disconnect`` message while the app runs; when
it comes before the answer is complete, the scope is cancelled: the statement the store
registered is interrupted (PostgreSQL cancel request, DuckDB interrupt) and the store raises
``RequestCancelled``, so its connection goes back to the pool at once instead of serving a
client that is gone. The app still gets every message it asks for, the disconnect included.
"""

from __future__ import annotations

import math

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atlas import cancel

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CancelOnDisconnect:
    """ASGI middleware: the request's cancel scope, cancelled when the client disconnects."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._limiter: anyio.CapacityLimiter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app with a cancel scope bound and a task listening for the disconnect."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        work = cancel.CancelScope()
        answered = anyio.Event()
        inbox, outbox = anyio.create_memory_object_stream[Message](math.inf)

        async def tracking_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered.set()  # a disconnect from now on is the end of a served request

        token = cancel.bind(work)
        failure: BaseException | None = None
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._listen, scope, receive, inbox, work, answered)
                try:
                    await self.app(scope, _forwarding(outbox), tracking_send)
                except BaseException as exc:  # raised below, outside the group, unwrapped
                    failure = exc
                finally:
                    group.cancel_scope.cancel()
        finally:
            cancel.unbind(token)
        if failure is not None:
            raise failure

    async def _listen(  # noqa: PLR0913
        self,
        scope: Scope,
        receive: Receive,
        inbox: ObjectSendStream[Message],
        work: cancel.CancelScope,
        answered: anyio.Event,
    ) -> None:
        """Pass the server's messages on; on a disconnect, cancel the request's work first."""
        keep_body = scope["method"] in _BODY_METHODS  # JsonBodies bounded those bodies
        async with inbox:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    if not answered.is_set():
                        # psycopg's cancel() connects to the server: not on the event loop.
                        await anyio.to_thread.run_sync(work.cancel, limiter=self._cancel_limiter())
                    await inbox.send(message)
                    return
                if not keep_body:
                    if message.get("more_body", False):
                        continue  # a GET's body means nothing (RFC 9110 9.3.1): not kept
                    message = {**message, "body": b""}
                await inbox.send(message)

    def _cancel_limiter(self) -> anyio.CapacityLimiter:
        # Its own threads: a pool full of running handlers must not delay their cancellation.
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(4)
        return self._limiter


def _forwarding(outbox: ObjectReceiveStream[Message]) -> Receive:
    async def receive() -> Message:
        try:
            return await outbox.receive()
        except anyio.EndOfStream:  # the client left: say so again to whoever asks
            return {"type": "http.disconnect"}

    return receive
