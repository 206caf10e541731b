"""``atlas serve --workers N``: worker processes sharing the port, each socket of its own."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from atlas.api.serve import reuseport_socket


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_worker_sockets_share_a_port_and_say_tcp():
    port = _free_port()
    first, second = reuseport_socket("127.0.0.1", port), reuseport_socket("127.0.0.1", port)
    try:
        # asyncio sets TCP_NODELAY on an accepted socket only when its protocol is TCP by
        # number; accepted sockets take the listening socket's (0 cost 40 ms a response).
        assert first.proto == socket.IPPROTO_TCP
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            ready, _, _ = select.select([first, second], [], [], 5)  # the kernel chose one
            accepted, _ = ready[0].accept()
            with accepted:
                assert accepted.proto == socket.IPPROTO_TCP
    finally:
        first.close()
        second.close()


@pytest.mark.slow
def test_two_workers_answer_on_one_port_and_stop_together(tmp_path):
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ATLAS_")},
        "ATLAS_DATA_DIR": str(tmp_path / "data"),
        "ATLAS_ACCESS_LOG": "false",
    }
    command = [sys.executable, "-c", "from atlas.cli import main; main()", "serve"]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        answered = 0
        while answered < 20 and time.monotonic() < deadline:
            try:
                # A new connection each time: the kernel spreads them over the two sockets.
                with httpx.Client(timeout=10) as client:
                    response = client.get(f"http://127.0.0.1:{port}/collections")
                assert response.status_code == 200
                answered += 1
            except httpx.TransportError:
                time.sleep(0.5)
        assert answered == 20
        workers = _children(server.pid)
        assert len(workers) == 2
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
    assert code == 0, server.stderr.read().decode()[-2000:] if server.stderr else code
    assert all(not os.path.exists(f"/proc/{pid}") for pid in workers)


def _children(pid: int) -> list[int]:
    found = []
    for stat in os.listdir("/proc"):
        if not stat.isdigit():
            continue
        try:
            with open(f"/proc/{stat}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        with open(f"/proc/{stat}/cmdline", "rb") as handle:
            spawned = b"spawn_main" in handle.read()  # not multiprocessing's resource tracker
        if int(fields[1]) == pid and spawned:
            found.append(int(stat))
    return found


def test_starting_the_app_freezes_its_heap(tmp_path):
    """Objects made while starting leave the collector's generations (no full-GC walk of them)."""
    import gc

    from fastapi.testclient import TestClient

    from atlas.api.app import create_app
    from atlas.settings import Settings, StoreSettings

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    settings = Settings(store=StoreSettings(data_dir=tmp_path / "data", database_url=None))
    with TestClient(create_app(settings)) as client:
        assert client.get("/collections").status_code == 200
        assert gc.get_freeze_count() > 10_000  # the modules, catalogs and caches of a started app
