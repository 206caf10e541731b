"""What an input file really is: its name promises a format, its bytes must keep the promise.

GDAL opens far more than the six formats the national standards publish in (and OpenStreetMap's,
for the base map), and some of those formats are programs: an OGR VRT (XML) or a GDALG (JSON)
names other files, SQL and URLs, so a VRT saved as ``parcelles.geojson`` once made an ingest
read the API keys' SQLite file and fetch URLs. Every file a reader hands to GDAL is therefore
checked here first: its extension must be one of the accepted formats and its first bytes must
be that format's. The sandboxed reader (``atlas.layers.sandbox``) additionally unregisters every
other GDAL driver, so even a file that passed these checks can only be parsed by one of the
accepted drivers.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from atlas.errors import HostileInput, InvalidInput

# The OGR drivers an ingest may use, by the names GDAL gives them; nothing else is registered
# in the sandboxed reader (OGR_SKIP), which checks the list again after GDAL started.
# OSM (OpenStreetMap XML and PBF) is allowed for the base-map layers (roads, waterways, water
# bodies): an OSM file holds data only — the format names no other file, no SQL, no URL — and
# GDAL parses its XML with expat without loading external entities; _check_osm_xml refuses any
# DOCTYPE anyway, so no entity (external or expanding) ever reaches the parser.
ALLOWED_VECTOR_DRIVERS = frozenset(
    {"GeoJSON", "GPKG", "ESRI Shapefile", "CSV", "FlatGeobuf", "EDIGEO", "OSM"}
)

_SQLITE_MAGIC = b"SQLite format 3\x00"
_FGB_MAGIC = b"fgb"  # then a version byte and 'fgb\0' (FlatGeobuf spec, "magic bytes")
_SHP_MAGIC = 9994  # ESRI Shapefile Technical Description, main file header, byte 0
_HEAD = 64 * 1024


@dataclass(frozen=True, slots=True)
class InputFormat:
    """An accepted input format: its name, the GDAL driver that reads it, its file suffixes."""

    name: str
    driver: str | None  # None: read by Atlas itself, not by GDAL
    suffixes: tuple[str, ...]
    check: Callable[[Path], None]


def _head(path: Path, size: int = _HEAD) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(size)
    except OSError as exc:
        raise InvalidInput(f"cannot read '{path.name}': {exc.strerror}") from exc


def _refuse_markup(path: Path, head: bytes, expected: str) -> None:
    """A file that is XML (VRT, GML, KML…) or another program-like format where data is due."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        raise HostileInput(f"'{path.name}' is XML (a VRT?), not {expected}: refused")
    if text.startswith(_SQLITE_MAGIC):
        raise HostileInput(f"'{path.name}' is an SQLite database, not {expected}: refused")


def _check_json(path: Path) -> None:
    head = _head(path)
    _refuse_markup(path, head, "GeoJSON")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    # A .json array is a table Atlas reads itself (the découpage administratif's COG, see
    # atlas.layers.cog); no accepted GDAL driver opens one.
    table = path.suffix.lower() == ".json" and text.startswith(b"[")
    if not (text.startswith(b"{") or table):
        raise HostileInput(f"'{path.name}' is not a JSON object (GeoJSON expected): refused")
    if b"\x00" in head:  # JSON text never holds a NUL byte (RFC 8259 §7)
        raise HostileInput(f"'{path.name}' is binary, not GeoJSON: refused")
    # GDAL's GDALG driver reads a JSON object naming a pipeline of other files and URLs; it is
    # not registered in the sandbox, and a JSON object with that key is never a GeoJSON.
    if re.search(rb'"\s*type\s*"\s*:\s*"\s*gdal_streamed_alg', head):
        raise HostileInput(f"'{path.name}' is a GDAL pipeline (GDALG), not GeoJSON: refused")


def _check_text(path: Path) -> None:
    head = _head(path)
    _refuse_markup(path, head, "a text table")
    if b"\x00" in head:
        raise HostileInput(f"'{path.name}' is binary, not a text table: refused")


def _check_fgb(path: Path) -> None:
    head = _head(path, 8)
    if not (head[:3] == _FGB_MAGIC and head[4:7] == _FGB_MAGIC):
        raise HostileInput(f"'{path.name}' is not a FlatGeobuf file (wrong magic bytes): refused")


def _check_shapefile(path: Path) -> None:
    """The .shp and its .shx must be shapefiles whose headers match their sizes."""
    stem = path.with_suffix("")
    missing = [ext for ext in (".shx", ".dbf") if not sibling(stem, ext)]
    if missing:
        raise InvalidInput(f"shapefile '{path.name}' is incomplete: missing {', '.join(missing)}")
    for part in (path, sibling(stem, ".shx")):
        assert part is not None  # checked above
        _check_shp_header(part)
    prj = sibling(stem, ".prj")
    if prj is not None:
        _check_text(prj)


def _check_shp_header(path: Path) -> None:
    data = _head(path, 100)
    if len(data) < 100 or int.from_bytes(data[:4], "big") != _SHP_MAGIC:
        raise InvalidInput(f"shapefile '{path.name}' is truncated or not a shapefile")
    declared = int.from_bytes(data[24:28], "big") * 2  # file length in 16-bit words
    actual = path.stat().st_size
    if declared != actual:
        raise InvalidInput(
            f"shapefile '{path.name}' is truncated: header says {declared} bytes, file has {actual}"
        )


def sibling(stem: Path, ext: str) -> Path | None:
    """The file beside ``stem`` with extension ``ext`` (either case), if any."""
    for candidate in (stem.with_suffix(ext), stem.with_suffix(ext.upper())):
        if candidate.exists():
            return candidate
    return None


# A GeoPackage may hold the triggers and R-tree tables the standard defines (GeoPackage 1.3,
# annexes F.3 and F.9 — GDAL and QGIS write them); any other trigger, any view, any other
# virtual table is refused: a view is a query the file chooses, a virtual table a module that
# can read outside the file.
_STANDARD_TRIGGER = re.compile(
    r"^(gpkg_[a-z_]+|rtree_\w+_(insert|update\d*|delete)|trigger_(insert|update)_feature_count_\w+"
    r"|trigger_delete_feature_count_\w+)$"
)


def _check_gpkg(path: Path) -> None:
    if _head(path, 16) != _SQLITE_MAGIC:
        raise HostileInput(f"'{path.name}' is not a GeoPackage (not an SQLite database): refused")
    try:
        objects = _sqlite_schema(path)
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"'{path.name}' is not a readable GeoPackage: {exc}") from exc
    for kind, name, sql in objects:
        if kind == "view":
            raise HostileInput(f"GeoPackage '{path.name}' holds a view ('{name[:40]}'): refused")
        if kind == "trigger" and not _STANDARD_TRIGGER.match(name):
            raise HostileInput(
                f"GeoPackage '{path.name}' holds a non-standard trigger ('{name[:40]}'): refused"
            )
        text = sql or ""
        if kind == "table" and re.match(r"\s*CREATE\s+VIRTUAL\s+TABLE", text, re.I):
            if not re.search(r"\bUSING\s+rtree\s*\(", text, re.I):
                raise HostileInput(
                    f"GeoPackage '{path.name}' holds a virtual table ('{name[:40]}'): refused"
                )


def _sqlite_schema(path: Path) -> list[tuple[str, str, str | None]]:
    # immutable=1: no journal, no lock, nothing written next to the file; trusted_schema off so
    # that nothing in the schema runs while it is listed.
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    connection = sqlite3.connect(uri, uri=True)
    try:
        connection.execute("PRAGMA trusted_schema=OFF")
        rows = connection.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    finally:
        connection.close()
    return [(str(t), str(n), s) for t, n, s in rows]


# EDIGÉO (NF Z 52-000): the THF names the other files of the exchange by lot name (LON) and
# sub-set names (GNN, GON, QAN, DIN, SCN, GDN); GDAL builds their paths from those names, so a
# name holding a path separator or '..' would point GDAL anywhere.
_EDIGEO_NAME_TAGS = ("LON", "GNN", "GON", "QAN", "DIN", "SCN", "GDN")
_EDIGEO_NAME = re.compile(r"^[A-Za-z0-9_]{0,16}$")


def _check_edigeo(path: Path) -> None:
    head = _head(path)
    _refuse_markup(path, head, "an EDIGÉO sheet")
    if not head.startswith(b"BOM"):
        raise HostileInput(f"'{path.name}' is not an EDIGÉO THF file (no BOM record): refused")
    text = path.read_bytes()[: 1 << 20].decode("latin-1")
    for line in text.splitlines():
        tag, _, value = line.partition(":")
        if tag[:3] in _EDIGEO_NAME_TAGS and not _EDIGEO_NAME.match(value.strip()):
            raise HostileInput(
                f"EDIGÉO sheet '{path.name}' names a file outside its directory ({tag[:3]}): refused"
            )


# OSM XML (wiki "OSM XML"): an optional XML declaration, then the <osm> root. Comments may come
# between; nothing else may — a DOCTYPE would declare entities (a SYSTEM one names another file
# or a URL, nested ones expand to gigabytes), and XML allows a DOCTYPE only before the root, so
# the prolog is where to look.
_OSM_PROLOG = re.compile(rb"^(<\?xml[^>]*\?>)?(\s*<!--(?:(?!--).)*-->)*\s*<osm[\s>]", re.DOTALL)
_OSM_PBF_HEADER = b"\x0a\x09OSMHeader"  # the first BlobHeader's type field (OSM PBF format)


def _check_osm_xml(path: Path) -> None:
    text = _head(path).lstrip(b"\xef\xbb\xbf \t\r\n")
    if _OSM_PROLOG.match(text):
        return
    if re.search(rb"<!(DOCTYPE|ENTITY)", text[:4096], re.I):
        raise HostileInput(
            f"'{path.name}' declares a DOCTYPE (entities can name other files): refused"
        )
    raise HostileInput(f"'{path.name}' is not OpenStreetMap XML (no <osm> root): refused")


def _check_osm_pbf(path: Path) -> None:
    head = _head(path, 64)
    # A PBF starts with the 4-byte length of its first BlobHeader, whose type is OSMHeader.
    if len(head) < 15 or head[4:15] != _OSM_PBF_HEADER:
        raise HostileInput(f"'{path.name}' is not an OpenStreetMap PBF file: refused")


def _check_gzip(path: Path) -> None:
    if _head(path, 2) != b"\x1f\x8b":
        raise HostileInput(f"'{path.name}' is not a gzip file (wrong magic bytes): refused")


FORMATS: tuple[InputFormat, ...] = (
    InputFormat("GeoJSON", "GeoJSON", (".geojson", ".json"), _check_json),
    InputFormat("GeoPackage", "GPKG", (".gpkg",), _check_gpkg),
    InputFormat("ESRI Shapefile", "ESRI Shapefile", (".shp",), _check_shapefile),
    InputFormat("CSV", "CSV", (".csv", ".txt"), _check_text),
    InputFormat("FlatGeobuf", "FlatGeobuf", (".fgb",), _check_fgb),
    InputFormat("EDIGÉO", "EDIGEO", (".thf",), _check_edigeo),
    InputFormat("gzip", None, (".gz",), _check_gzip),
    InputFormat("OpenStreetMap XML", "OSM", (".osm",), _check_osm_xml),
    InputFormat("OpenStreetMap PBF", "OSM", (".osm.pbf",), _check_osm_pbf),
)


def format_of(path: Path) -> InputFormat:
    """The accepted format the file's name promises; HostileInput for any other name."""
    name = path.name.lower()
    for fmt in FORMATS:
        if name.endswith(fmt.suffixes):
            return fmt
    accepted = ", ".join(s for fmt in FORMATS for s in fmt.suffixes)
    raise HostileInput(f"'{path.name}': not an accepted format (accepted: {accepted})")


def check_input(path: Path) -> InputFormat:
    """Check that ``path`` is a regular file whose bytes are the format its name promises."""
    if not path.is_file():  # a device or a FIFO would block or stream forever
        raise HostileInput(f"'{path.name}' is not a regular file: refused")
    fmt = format_of(path)
    fmt.check(path)
    return fmt


def check_sources(source: Path) -> None:
    """Check a file, or every file of a directory a reader could pick, before any parser runs.

    The sandboxed reader checks each file again as it opens it; checking here first gives the
    refusal without starting a process, and covers files a reader would only list.
    """
    if source.is_file():
        check_input(source)
        return
    accepted = tuple(s for fmt in FORMATS for s in fmt.suffixes)
    for path in sorted(source.rglob("*")):
        # Readers skip what find_sources skips (macOS "._x" and __MACOSX copies, hidden files).
        skipped = any(part.startswith((".", "__")) for part in path.relative_to(source).parts)
        if path.is_file() and path.name.lower().endswith(accepted) and not skipped:
            check_input(path)
