"""Long CLI jobs draw a progress bar on a terminal and nothing in a log or a pipe.

The terminal is a real pseudo-terminal (``pty``) as the child process's stderr; the log is a
pipe. Each long command runs both ways in a fresh process over the session's demo (embedded
store: the bar does not depend on the store), and ``atlas.progress`` is checked on its own.
"""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest

from atlas import progress

# What a tqdm bar leaves in a stream: carriage-return redraws and "33%|███" or "12tile/s]".
BAR = re.compile(r"\d+%\||/s\]|█")


def drawn(text: str) -> bool:
    """Whether ``text`` holds a progress bar."""
    return "\r" in text and BAR.search(text) is not None


def quiet_text(text: str) -> bool:
    """Whether ``text`` holds no trace of one."""
    return "\r" not in text and BAR.search(text) is None


def open_terminal() -> tuple[int, int]:
    """A pseudo-terminal of 100 columns: (master, slave) descriptors."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    return master, slave


def read_all(fd: int, into: list[bytes]) -> None:
    """Read a pty master until the other side is closed (Linux then answers EIO)."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        into.append(chunk)


def run_atlas(args: list[str], env: dict[str, str], *, tty: bool) -> tuple[int, str, str]:
    """``atlas ARGS`` in a fresh process, stderr on a pseudo-terminal or a pipe; (rc, out, err)."""
    command = [sys.executable, "-m", "atlas.cli", *args]
    if not tty:
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=600, check=False
        )
        return done.returncode, done.stdout, done.stderr
    master, slave = open_terminal()
    chunks: list[bytes] = []
    # Read while the child writes: a full pty buffer would block it.
    reader = threading.Thread(target=read_all, args=(master, chunks), daemon=True)
    try:
        child = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env
        )
        os.close(slave)
        reader.start()
        out, _ = child.communicate(timeout=600)
        reader.join(timeout=30)
    finally:
        os.close(master)
    return child.returncode, out.decode(), b"".join(chunks).decode(errors="replace")


def environment(data_dir: Path, **more: str) -> dict[str, str]:
    """Our environment without ATLAS_ settings, on the embedded store in ``data_dir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATLAS_")}
    return {**env, "ATLAS_DATA_DIR": str(data_dir), **more}


@pytest.fixture(scope="module")
def demo_dir(demo_embedded) -> Path:
    """The data directory of the session's demo (embedded store), only read here."""
    return demo_embedded.settings.store.data_dir


@pytest.fixture(params=[True, False], ids=["terminal", "pipe"])
def tty(request) -> bool:
    """Each command runs with stderr on a terminal, then in a pipe."""
    return request.param


def check(result: tuple[int, str, str], tty: bool) -> str:
    """The command succeeded, with a bar on a terminal and none in a pipe; its stdout."""
    code, out, err = result
    assert code == 0, err
    assert drawn(err) if tty else quiet_text(err), repr(err[-2000:])
    assert quiet_text(out)  # results on stdout never carry a bar
    return out


def test_ingest(demo_sources, tmp_path, tty) -> None:
    result = run_atlas(
        ["ingest", "communes", str(demo_sources["communes"])],
        environment(tmp_path / "data"),
        tty=tty,
    )
    assert "communes" in check(result, tty)


def test_maps_build(demo_dir, tmp_path, tty) -> None:
    args = ["maps", "build", "--tier", "public", str(tmp_path / "maps")]
    out = check(run_atlas(args, environment(demo_dir), tty=tty), tty)
    assert len(out.splitlines()) == 2  # both languages, each line whole despite the bar


def test_tiles_seed(demo_dir, tmp_path, tty) -> None:
    env = environment(demo_dir, ATLAS_TILE_CACHE_DIR=str(tmp_path / "cache"))
    out = check(run_atlas(["tiles", "seed", "--zoom", "9-10"], env, tty=tty), tty)
    assert "tiles of WebMercatorQuad z9-10" in out


def test_export_pmtiles(demo_dir, tmp_path, tty) -> None:
    args = ["export", "pmtiles", "--max-zoom", "6", str(tmp_path)]
    assert check(run_atlas(args, environment(demo_dir), tty=tty), tty).startswith("wrote ")


def test_quiet_draws_nothing_even_on_a_terminal(demo_dir, tmp_path) -> None:
    args = ["export", "pmtiles", "--max-zoom", "6", "--quiet", str(tmp_path)]
    check(run_atlas(args, environment(demo_dir), tty=True), tty=False)


@pytest.mark.slow
def test_demo(tmp_path, tty) -> None:
    """The whole demo (about 40 s a run: each layer's reader is a process of its own)."""
    args = ["demo", "--scale", "0.02", "--out", str(tmp_path / "sources")]
    out = check(run_atlas(args, environment(tmp_path / "data"), tty=tty), tty)
    assert "demo territory ready" in out


def test_on_terminal_reads_the_stream() -> None:
    master, slave = open_terminal()
    try:
        with os.fdopen(slave, "w", closefd=False) as terminal:
            assert progress.on_terminal(stream=terminal)
            assert not progress.on_terminal(quiet=True, stream=terminal)
        assert not progress.on_terminal(stream=io.StringIO())
        closed = io.StringIO()
        closed.close()
        assert not progress.on_terminal(stream=closed)  # a closed stream is no terminal
    finally:
        os.close(slave)
        os.close(master)


def test_bar_and_track_draw_only_on_a_terminal(monkeypatch) -> None:
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    assert list(progress.track(range(5), desc="steps")) == [0, 1, 2, 3, 4]
    with progress.bar(total=3) as bar:
        bar.update(3)
    assert log.getvalue() == ""
    master, slave = open_terminal()
    chunks: list[bytes] = []
    reader = threading.Thread(target=read_all, args=(master, chunks), daemon=True)
    reader.start()
    try:
        with os.fdopen(slave, "w") as terminal:
            monkeypatch.setattr(sys, "stderr", terminal)
            assert list(progress.track([1, 2, 3], desc="steps")) == [1, 2, 3]
            terminal.flush()
    finally:
        reader.join(timeout=10)
        os.close(master)
    assert drawn(b"".join(chunks).decode())
