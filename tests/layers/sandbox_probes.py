"""Functions the sandbox tests run in the sandboxed child (imported there by name)."""

from __future__ import annotations

import ctypes
import socket


def crash() -> None:
    """Dereference NULL, as a parser bug in C would."""
    ctypes.string_at(0)


def allocate(megabytes: int) -> int:
    """Ask for more memory than the limit allows."""
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)


def spin() -> None:
    """Loop forever, as a parser stuck on a crafted file would."""
    while True:
        pass


def reach(port: int) -> dict[str, str]:
    """Try the loopback server by TCP and through GDAL's /vsicurl/; say what happened."""
    import pyogrio

    outcome: dict[str, str] = {}
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            outcome["tcp"] = "connected"
    except OSError as exc:
        outcome["tcp"] = f"refused: {exc.__class__.__name__}"
    try:
        pyogrio.read_info(f"/vsicurl/http://127.0.0.1:{port}/parcels.geojson")
        outcome["gdal"] = "read"
    except Exception as exc:  # noqa: BLE001 - any failure is the expected outcome
        outcome["gdal"] = f"refused: {exc.__class__.__name__}"
    return outcome


def drivers() -> list[str]:
    """The OGR drivers GDAL registered in the child."""
    import pyogrio

    return sorted(pyogrio.list_drivers(read=False, write=False))
