"""The sandboxed child of ``atlas.layers.sandbox``: ``python -m atlas.layers.sandbox_worker DIR``.

Order matters: the limits and the network namespace are in place, and GDAL's driver list is
checked, before the target module (and the file it reads) is touched. Nothing here imports
GDAL at module level, so that the environment the parent prepared is what GDAL starts with.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import os
import pickle
import re
import resource
import sys
import traceback
from pathlib import Path
from typing import Any

_CLONE_NEWNET = 0x40000000  # linux/sched.h
_CLONE_NEWUSER = 0x10000000


def limit_resources(limits: Any) -> None:
    """Address space, CPU time (SIGXCPU, then SIGKILL 5 s later), written file size, no core."""
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def isolate_network() -> str:
    """Enter a new, empty network namespace (no interface up, loopback included) if allowed.

    Returns how the network is cut off, for the ingest log: ``namespace`` when the kernel let
    the process leave the host's network, ``gdal-config`` when only GDAL's own options do it.
    """
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    for flags in (_CLONE_NEWNET, _CLONE_NEWUSER | _CLONE_NEWNET):
        if libc.unshare(flags) == 0:
            return "namespace"
    return "gdal-config"


def check_drivers() -> None:
    """Refuse to run when GDAL registered a driver outside the accepted list."""
    import pyogrio

    from atlas.layers.formats import ALLOWED_VECTOR_DRIVERS

    extra = set(pyogrio.list_drivers(read=False, write=False)) - ALLOWED_VECTOR_DRIVERS
    if extra:
        raise RuntimeError(f"GDAL drivers not unregistered: {sorted(extra)[:5]}")


def _call(target: str, args: tuple[Any, ...]) -> Any:
    module_name, _, function_name = target.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    return function(*args)


def _without_paths(text: str) -> str:
    # Messages may carry absolute paths (ours, the temporary directory's): keep the names.
    return re.sub(r"(/[^\s:'\"]+)+/", "", text.splitlines()[0] if text else "")[:200]


def _failure(exc: BaseException, limits: Any) -> dict[str, Any]:
    from atlas.errors import AtlasError, InvalidInput

    if isinstance(exc, InvalidInput):
        return {
            "class": type(exc).__name__,
            "description": exc.description,
            "errors": list(getattr(exc, "errors", []) or []),
        }
    if isinstance(exc, MemoryError):
        mb = limits.memory_bytes // 1024**2
        return {"class": "HostileInput", "description": f"the file needs more than {mb} MB"}
    if isinstance(exc, AtlasError):
        return {"class": "InvalidInput", "description": exc.description}
    reason = _without_paths(str(exc)) or type(exc).__name__
    return {"class": "InvalidInput", "description": f"the file cannot be read: {reason}"}


def main(workdir: Path) -> int:
    """Run the request in ``workdir`` and write its result there; 0 when a result was written."""
    with open(workdir / "request.pickle", "rb") as fh:
        request = pickle.load(fh)  # noqa: S301 - written by the parent a moment ago
    limits = request["limits"]
    limit_resources(limits)
    isolation = isolate_network()
    result: dict[str, Any]
    try:
        check_drivers()
        value = _call(request["target"], tuple(request["args"]))
        result = {"value": value, "isolation": isolation}
        if isolation != "namespace":
            result["warnings"] = ["no network namespace here; GDAL's network options only"]
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent as one line
        traceback.print_exc(file=sys.stderr)
        result = {"error": _failure(exc, limits)}
    with open(workdir / "result.pickle", "wb") as fh:
        pickle.dump(result, fh)
    return 0


if __name__ == "__main__":
    os.umask(0o077)
    sys.exit(main(Path(sys.argv[1])))
