"""Timed HTTP load with wrk (Debian package ``wrk``): requests/s and latency percentiles.

A Python client on the same two cores would spend as much CPU as the servers it times (and
flatten the ratios towards 1); wrk's C event loop costs little. Each of its connections walks a
list of request paths from its own starting point, so that every server gets the same mix.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("ATLAS_WRK_PATHS")) do paths[#paths + 1] = line end
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("start", counter * 7919)
end
local i = nil
function request()
  if i == nil then i = start or 0 end
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""
# Before each run the machine is let go quiet: the previous server's backlog (requests wrk had
# sent when it stopped, a database still running them) must not fall on the next server's slice.
SETTLE_IDLE_SHARE = 0.8  # of both cores' time, over one window
SETTLE_WINDOW_S = 0.25
SETTLE_MAX_S = 5.0  # a machine busy with something else is measured as it is
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class Load:
    """What one wrk run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers and socket errors

    @property
    def per_second(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds


def available() -> bool:
    """Whether wrk is installed."""
    return shutil.which("wrk") is not None


def run(  # noqa: PLR0913
    base: str,
    paths: list[str],
    headers: dict[str, str],
    *,
    connections: int,
    seconds: float,
    threads: int = 2,
) -> Load:
    """``connections`` keep-alive connections sending ``paths`` to ``base`` for ``seconds``,
    once the machine has gone quiet (:func:`settle`)."""
    settle()
    with TemporaryDirectory(prefix="atlas-wrk-") as tmp:
        script, listing = Path(tmp) / "paths.lua", Path(tmp) / "paths.txt"
        script.write_text(_SCRIPT)
        listing.write_text("\n".join(paths) + "\n")
        command = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}"]
        command += [f"-d{seconds:g}s", "--latency", "--timeout", "60s", "-s", str(script)]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        done = subprocess.run(
            [*command, base],
            capture_output=True,
            text=True,
            check=True,
            env={"ATLAS_WRK_PATHS": str(listing), "PATH": "/usr/bin:/bin"},
        )
    return _parse(done.stdout)


def settle() -> float:
    """Wait until the CPUs are idle for ``SETTLE_IDLE_SHARE`` of a window (at most
    ``SETTLE_MAX_S``); the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < SETTLE_MAX_S:
        before = _cpu_times()
        time.sleep(SETTLE_WINDOW_S)
        after = _cpu_times()
        total = sum(after) - sum(before)
        if total <= 0 or (after[3] + after[4] - before[3] - before[4]) / total >= SETTLE_IDLE_SHARE:
            break
    return time.monotonic() - started


def _cpu_times() -> list[int]:
    """The machine's CPU time counters (``/proc/stat``: user nice system idle iowait …)."""
    with open("/proc/stat") as stat:
        return [int(v) for v in stat.readline().split()[1:]]


def _parse(output: str) -> Load:
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+),", output)
    if total is None:
        raise RuntimeError(f"wrk printed no total:\n{output}")
    seconds = float(total.group(2)) * _UNITS[total.group(3)] / 1000
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket:
        errors += sum(int(n) for n in socket.groups())
    return Load(
        requests=int(total.group(1)),
        seconds=seconds,
        p50_ms=_percentile(output, "50"),
        p99_ms=_percentile(output, "99"),
        errors=errors,
    )


def _percentile(output: str, which: str) -> float:
    found = re.search(rf"^\s+{which}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk printed no {which}th percentile:\n{output}")
    return float(found.group(1)) * _UNITS[found.group(2)]
