"""Untrusted files are parsed in a child process that can crash, run out of memory or be killed.

GDAL is a large C library fed with files written by strangers: a crafted file can crash it,
make it allocate terabytes, loop, or (through formats that name other resources) read local
files and fetch URLs. ``run_isolated`` runs a reader in a fresh Python interpreter
(``python -m atlas.layers.sandbox_worker``) that, before it opens anything:

- registers only the accepted OGR drivers (``OGR_SKIP`` lists every other one, and the child
  checks the registered list again and refuses to run otherwise);
- has GDAL's network handlers and PROJ's network off, and runs in a network namespace of its
  own when the kernel allows it (root, or unprivileged user namespaces), so that nothing it
  parses can reach any host, loopback included;
- runs under address-space, CPU-time and file-size limits, in a session of its own that the
  parent kills at the wall-clock limit.

What goes back is the reader's result or the one-line reason it failed; a signal or a limit
becomes an ``InvalidInput``/``HostileInput`` naming the file, never a traceback. This is a
fault boundary (crashes, bombs, runaway parsing, network), not a privilege boundary: the child
runs as the same user, so a code-execution flaw in GDAL would still reach what that user can.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pyogrio

from atlas import errors
from atlas.layers import get_layer
from atlas.layers.base import RasterLayer, RasterResult, ReadOptions, ReadResult, VectorLayer
from atlas.layers.formats import ALLOWED_VECTOR_DRIVERS
from atlas.settings import IngestSettings

log = logging.getLogger("atlas.ingest")

# GDAL and PROJ configuration of the child, on top of the driver list: no directory listing (a
# sidecar of a crafted name cannot be picked up), no PAM sidecars, the /vsicurl/ family limited
# to an extension nothing has and with no retry, PROJ grids never downloaded.
SANDBOX_GDAL_ENV: dict[str, str] = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_PAM_ENABLED": "NO",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".atlas-no-network",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_PROXY": "http://127.0.0.1:9",  # discard port: a last resort if all else failed
    "PROJ_NETWORK": "OFF",
    "GDAL_NUM_THREADS": "1",
}
_RESULT = "result.pickle"
_REQUEST = "request.pickle"


@dataclass(frozen=True, slots=True)
class Limits:
    """What one isolated read may use."""

    memory_bytes: int
    cpu_seconds: int
    wall_seconds: float
    file_bytes: int

    @classmethod
    def from_settings(cls, settings: IngestSettings) -> Limits:
        """The ingest settings' limits for one isolated read."""
        return cls(
            memory_bytes=settings.read_memory_mb * 1024**2,
            cpu_seconds=settings.read_timeout_s,
            wall_seconds=float(settings.read_timeout_s),
            file_bytes=max(settings.max_archive_bytes, settings.max_raster_bytes),
        )


@cache
def skipped_drivers() -> str:
    """Every OGR driver of this GDAL build but the accepted ones, as ``OGR_SKIP`` wants them.

    OGR_SKIP is comma-separated (GDAL_SKIP splits on spaces too, and "MapInfo File" has one).
    """
    names = pyogrio.list_drivers(read=False, write=False)
    return ",".join(sorted(name for name in names if name not in ALLOWED_VECTOR_DRIVERS))


def child_environment(workdir: Path) -> dict[str, str]:
    """The child's environment: ours (ATLAS_* settings, PATH), locked-down GDAL, same modules."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GDAL_", "CPL_", "OGR_"))}
    env.update(SANDBOX_GDAL_ENV)
    env["OGR_SKIP"] = skipped_drivers()
    env["CPL_TMPDIR"] = str(workdir)
    env["TMPDIR"] = str(workdir)
    # The child imports what the parent can (the installed package, or a checkout under test).
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def run_isolated(target: str, *args: Any, limits: Limits, label: str) -> Any:
    """Call ``module:function(*args)`` in the sandboxed child; its return value.

    ``label`` names the input in messages (a file name, never a path of ours).
    """
    with TemporaryDirectory(prefix="atlas-sandbox-") as tmp:
        workdir = Path(tmp)
        with open(workdir / _REQUEST, "wb") as fh:
            pickle.dump({"target": target, "args": args, "limits": limits}, fh)
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            [sys.executable, "-m", "atlas.layers.sandbox_worker", str(workdir)],
            cwd=workdir,
            env=child_environment(workdir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: a timeout kills its threads too
        )
        stderr = _wait(process, limits, label)
        return _outcome(process.returncode, workdir / _RESULT, stderr, limits, label)


def _wait(process: subprocess.Popen[bytes], limits: Limits, label: str) -> bytes:
    try:
        _, stderr = process.communicate(timeout=limits.wall_seconds)
        return stderr or b""
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise errors.HostileInput(
            f"reading '{label}' took more than {limits.wall_seconds:.0f} s: stopped"
        ) from None
    except BaseException:  # Ctrl-C or the caller's own failure: never leave the child behind
        _kill_group(process)
        raise


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.communicate()


def _outcome(returncode: int, result_path: Path, stderr: bytes, limits: Limits, label: str) -> Any:
    if returncode == 0 and result_path.exists():
        with open(result_path, "rb") as fh:
            result = pickle.load(fh)  # noqa: S301 - written by our own child, see module doc
        if "error" in result:
            raise _error(result["error"], label)
        for note in result.get("warnings", ()):
            log.warning("%s: %s", label, note)
        return result["value"]
    tail = stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
    # INFO: the CLI prints the one-line refusal; the child's last words are for the log.
    log.info("isolated read of %s ended with status %s: %s", label, returncode, " | ".join(tail))
    raise _signal_error(returncode, limits, label)


def _signal_error(returncode: int, limits: Limits, label: str) -> errors.AtlasError:
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return errors.HostileInput(
            f"reading '{label}' used more than {limits.cpu_seconds} s of CPU "
            f"or {limits.memory_bytes // 1024**2} MB of memory: stopped"
        )
    if returncode < 0:
        name = signal.Signals(-returncode).name
        return errors.HostileInput(
            f"reading '{label}' crashed the file parser ({name}): the file is malformed or hostile"
        )
    return errors.InvalidInput(f"reading '{label}' failed (the reader exited with {returncode})")


# The only exception classes a child may name; anything else becomes InvalidInput.
_CHILD_ERRORS: dict[str, type[errors.InvalidInput]] = {
    cls.__name__: cls
    for cls in (
        errors.InvalidInput,
        errors.HostileInput,
        errors.UnknownCRS,
        errors.ValidationFailed,
    )
}


def _error(payload: dict[str, Any], label: str) -> errors.AtlasError:
    cls = _CHILD_ERRORS.get(str(payload.get("class")), errors.InvalidInput)
    description = str(payload.get("description") or f"reading '{label}' failed")
    if cls is errors.ValidationFailed:
        return errors.ValidationFailed(description, errors=list(payload.get("errors") or []))
    return cls(description)


def read_vector_layer(collection_id: str, source: str, options: ReadOptions) -> ReadResult:
    """In the child: run the layer's reader on ``source``."""
    layer = get_layer(collection_id)
    if not isinstance(layer, VectorLayer):
        raise errors.InvalidInput(f"{collection_id} is not a vector layer")
    return layer.reader(Path(source), options)


def read_raster_layer(
    collection_id: str, source: str, options: ReadOptions, out_dir: str
) -> RasterResult:
    """In the child: run the raster layer's reader, writing its COG into ``out_dir``."""
    layer = get_layer(collection_id)
    if not isinstance(layer, RasterLayer):
        raise errors.InvalidInput(f"{collection_id} is not a raster layer")
    return layer.reader(Path(source), options, Path(out_dir))


def isolated_vector_read(
    layer: VectorLayer, source: Path, options: ReadOptions, settings: IngestSettings
) -> ReadResult:
    """The layer's reader run in the sandbox on ``source``."""
    result = run_isolated(
        f"{__name__}:read_vector_layer",
        layer.collection_id,
        str(source),
        options,
        limits=Limits.from_settings(settings),
        label=source.name,
    )
    if not isinstance(result, ReadResult):
        raise errors.InvalidInput(f"reading '{source.name}' gave no result")
    return result


def isolated_raster_read(
    layer: RasterLayer, source: Path, options: ReadOptions, out_dir: Path, settings: IngestSettings
) -> RasterResult:
    """The raster layer's reader run in the sandbox; its COG must lie in ``out_dir``."""
    result = run_isolated(
        f"{__name__}:read_raster_layer",
        layer.collection_id,
        str(source),
        options,
        str(out_dir),
        limits=Limits.from_settings(settings),
        label=source.name,
    )
    if not isinstance(result, RasterResult) or not Path(result.path).resolve().is_relative_to(
        out_dir.resolve()
    ):
        raise errors.InvalidInput(f"reading '{source.name}' gave no raster")
    return result
