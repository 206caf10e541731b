"""``GET /pmtiles/{archive}``: the PMTiles archives of ``ATLAS_PMTILES_DIR``, with byte ranges.

A PMTiles client (MapLibre's ``pmtiles://`` protocol, GDAL's ``/vsicurl/``) reads an archive in
HTTP range requests: the header and root directory first, then a leaf directory and the tiles it
draws. ``Range: bytes=a-b`` answers 206 with those bytes, a range past the end 416 with the
archive's size; several ranges in one request are refused (416) — no PMTiles client sends them,
and a multipart answer would only cost. Only archives lying directly in the configured directory
are served, named like ``atlas export pmtiles`` names them; any other name, a path, or no
directory configured is the 404 of an unknown archive. The archives are the public tier's (the
export refuses any other), so every caller may read them; their names are versioned, so a
public answer is ``immutable``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi import Path as PathParam
from fastapi.responses import Response, StreamingResponse

from atlas.api.auth import CurrentPrincipal
from atlas.api.deps import CurrentSettings
from atlas.errors import NotFound, RangeNotSatisfiable
from atlas.policy.tiers import Tier

router = APIRouter(tags=["Tiles"])

PMTILES = "application/vnd.pmtiles"
IMMUTABLE = "public, max-age=31536000, immutable"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.pmtiles$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK = 1 << 20


def archive_path(directory: Path | None, name: str) -> Path:
    """The archive ``name`` directly inside ``directory``; NotFound for anything else."""
    shown = name if len(name) <= 80 else name[:80] + "…"
    missing = NotFound(f"PMTiles archive '{shown}' not found")
    if directory is None or not NAME.match(name) or ".." in name:
        raise missing
    root = directory.resolve()
    path = (root / name).resolve()  # a symbolic link pointing elsewhere leaves the directory
    if path.parent != root or not path.is_file():
        raise missing
    return path


def byte_range(header: str, size: int) -> tuple[int, int]:
    """(first, last) byte of a ``Range`` header (RFC 9110, 14.1.2), within ``size``."""
    match = _RANGE.match(header.replace(" ", ""))
    if match is None:
        if "," in header:
            raise RangeNotSatisfiable("one byte range per request", size=size)
        raise RangeNotSatisfiable(f"Range: not 'bytes=first-last': '{header[:40]}'", size=size)
    first, last = match.groups()
    if not first and not last:
        raise RangeNotSatisfiable("Range: 'bytes=-' names no byte", size=size)
    if not first:  # bytes=-N: the last N bytes
        if int(last) == 0 or size == 0:
            raise RangeNotSatisfiable("Range: 'bytes=-0' names no byte", size=size)
        return max(size - int(last), 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiable(f"the range starts past the archive's {size} bytes", size=size)
    return start, end


def _chunks(path: Path, start: int, length: int) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        fh.seek(start)
        while length > 0:
            data = fh.read(min(length, _CHUNK))
            if not data:
                return
            length -= len(data)
            yield data


@router.get(
    "/pmtiles/{archive}",
    operation_id="getPmtilesArchive",
    summary="A PMTiles archive of the public tier (HTTP range requests)",
    response_class=Response,
    responses={
        200: {"content": {PMTILES: {}}, "description": "the whole archive"},
        206: {"content": {PMTILES: {}}, "description": "the requested byte range"},
        404: {"description": "no such archive"},
        416: {"description": "a range past the end, or several ranges"},
    },
)
def get_archive(
    archive: Annotated[str, PathParam(description="file name, e.g. atlas-public-….pmtiles")],
    principal: CurrentPrincipal,
    settings: CurrentSettings,
    range_: Annotated[str | None, Header(alias="Range", include_in_schema=False)] = None,
) -> Response:
    """The archive, or one byte range of it (206)."""
    path = archive_path(settings.pmtiles.dir, archive)
    stat = os.stat(path)
    size = stat.st_size
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": f'"{stat.st_mtime_ns:x}-{size:x}"',
    }
    if principal.tier is Tier.PUBLIC:
        headers["Cache-Control"] = IMMUTABLE  # credentialed callers: the middleware's private
    if range_ is None:
        start, end, status = 0, size - 1, 200
    else:
        start, end = byte_range(range_, size)
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(max(end - start + 1, 0))
    return StreamingResponse(
        _chunks(path, start, end - start + 1),
        status_code=status,
        media_type=PMTILES,
        headers=headers,
    )
