"""A PostgreSQL 15 + PostGIS server of a test's own, which the test may stop and start again.

The shared test server (ATLAS_TEST_DATABASE_URL) is used by every other suite and must never be
stopped; fault tests run ``initdb`` into a temporary directory instead and start a cluster on a
free loopback port with Debian's binaries (``postgresql-15-postgis-3``, which ``.ci/run``
installs). Missing binaries are a skip locally and a failure under CI. initdb refuses to run as
root (CI runs as root), so the server's commands then run as the ``postgres`` user, as
``.ci/run`` does, in a directory that user owns.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.helpers import in_ci

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivatePostgres:
    """One cluster in a temporary directory: ``start()``, ``stop()``, ``url``, ``close()``."""

    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
            message = f"PostgreSQL 15 binaries are not in {PG_BIN} (Debian postgresql-15)"
            if in_ci():
                pytest.fail(message + ": required under CI")
            pytest.skip(message)
        self.root = Path(tempfile.mkdtemp(prefix="atlas-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C.UTF-8", "-N",
        )  # fmt: skip
        self.start()

    @property
    def url(self) -> str:
        """The superuser's URL (trust authentication on loopback, for this test only)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str, check: bool = True) -> int:
        command = [str(PG_BIN / tool), *args]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        # From /: the test's working directory may be one the postgres user cannot enter.
        run = subprocess.run(command, cwd="/", capture_output=True, text=True, timeout=120)
        assert run.returncode == 0 or not check, f"{tool} failed: {run.stderr or run.stdout}"
        return run.returncode

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.root / "server.log")
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", log, "-w", "-t", "60", "-o", options, "start"
        )

    def stop(self) -> None:
        """Stop the server at once, as a crash or a cut network would (``-m immediate``)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def close(self) -> None:
        """Stop the server if it runs, and remove its files."""
        if self._run("pg_ctl", "-D", str(self.data), "status", check=False) == 0:
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
