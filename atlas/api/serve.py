"""``atlas serve``: the API in one process, or in several that share its port evenly.

With ``ATLAS_WORKERS`` > 1, each worker process opens its own listening socket on the same
address with ``SO_REUSEPORT``, and the kernel spreads new connections over them by hashing each
connection's addresses. uvicorn's own ``--workers`` shares one socket instead: whichever worker's
event loop is free accepts, and since our endpoints run in threads that loop is nearly always
free, so one worker took most connections (seen: 75 % of the CPU on one of two workers, eight
clients; 98 % in the issue's bench) while the other idled.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import signal
import socket
import sys
from types import FrameType
from typing import Any

import uvicorn

from atlas.settings import ApiSettings

log = logging.getLogger(__name__)

_BACKLOG = 2048


def serve(settings: ApiSettings, host: str, port: int, workers: int) -> None:
    """Serve until interrupted; with several workers, stop them all when one dies."""
    options = _uvicorn_options(settings, host, port)
    if workers <= 1:
        from atlas.api.app import create_app

        uvicorn.run(create_app(), **options)
        return
    context = multiprocessing.get_context("spawn")  # no state of this process leaks in
    processes = [
        context.Process(target=_worker, args=(options,), name=f"atlas-worker-{i}")
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    log.info("atlas serve: %d workers on %s:%d (SO_REUSEPORT)", workers, host, port)

    def stop(signum: int, _frame: FrameType | None) -> None:
        for process in processes:
            if process.is_alive():
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        multiprocessing.connection.wait([p.sentinel for p in processes])  # the first to end
    finally:
        stop(signal.SIGTERM, None)
        for process in processes:
            process.join(timeout=15)
    codes = [p.exitcode for p in processes]
    if any(code not in (0, -signal.SIGTERM) for code in codes):
        sys.exit(f"atlas serve: a worker stopped (exit codes {codes})")


def _worker(options: dict[str, Any]) -> None:
    """One worker: its own socket on the shared port, one uvicorn server."""
    sock = reuseport_socket(options["host"], options["port"])
    config = uvicorn.Config("atlas.api.app:create_app", factory=True, **options)
    uvicorn.Server(config).run(sockets=[sock])


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` that other processes may open too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP by name: asyncio sets TCP_NODELAY on accepted sockets only when their protocol
    # says TCP, and they inherit it from this one. With 0 ("default"), Nagle's algorithm held
    # each body sent after its headers until the client's delayed ACK: +40 ms per response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(_BACKLOG)
    sock.set_inheritable(True)
    return sock


def _uvicorn_options(settings: ApiSettings, host: str, port: int) -> dict[str, Any]:
    return {
        "host": host,
        "port": port,
        "log_level": settings.log_level,
        "access_log": settings.access_log,
        # uvicorn would trust X-Forwarded-For/-Proto from 127.0.0.1 (FORWARDED_ALLOW_IPS) and
        # rewrite the client before the app sees the peer: ATLAS_TRUSTED_PROXIES decides alone.
        "proxy_headers": False,
    }
