"""Does a GeoJSON file declare its CRS, or only imply lon/lat (RFC 7946 §4)?

GDAL labels every GeoJSON EPSG:4326, whether its top-level object has a ``crs`` member (the
2008 specification) or not; only in the second case may a ``--crs`` relabel the coordinates.
The top-level keys are read from the first MiB, which holds them in every writer we know
(GDAL, QGIS, geopandas write ``crs`` before ``features``); a ``crs`` member after a long
``features`` array is looked for in the last MiB. When in doubt, the file declares one.
"""

from __future__ import annotations

import re
from pathlib import Path

_CHUNK = 1 << 20
# A JSON string (with escapes) or one structural character: enough to follow the nesting.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\]:]')
_CRS_MEMBER = re.compile(rb'"crs"\s*:\s*\{')
_NULL = re.compile(rb"\s*null")


def declares_crs(path: Path) -> bool:
    """True when the GeoJSON file at ``path`` has a non-null top-level ``crs`` member."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(_CHUNK)
        if size <= _CHUNK:
            return _head_declares(head) is True
        fh.seek(size - _CHUNK)
        tail = fh.read(_CHUNK)
    # A head cut inside a string can mislead the nesting count: only its "yes" is trusted.
    return _head_declares(head) is True or bool(_CRS_MEMBER.search(tail))


def _head_declares(head: bytes) -> bool | None:
    """True or False once the head settles it; None when the top level goes on past it."""
    depth = 0
    previous = b""
    for match in _TOKEN.finditer(head):
        token = match.group()
        if token in (b"{", b"["):
            depth += 1
        elif token in (b"}", b"]"):
            depth -= 1
            if depth == 0:
                return False  # the top-level object closed without a crs member
        elif token == b":" and depth == 1 and previous == b'"crs"':
            return not _NULL.match(head, match.end())
        previous = token
    return None
