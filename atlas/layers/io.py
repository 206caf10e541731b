"""Safe access to input files: archives, vector sources, CRS resolution, format sniffing.

Every reader goes through here, so the hostile-input guards (zip bombs, path traversal,
disguised files, truncated shapefiles) hold for every layer.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from tempfile import TemporaryDirectory

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS

from atlas.errors import HostileInput, InvalidInput
from atlas.layers.formats import check_input
from atlas.layers.geojson_crs import declares_crs
from atlas.query.crs import CRS84_CODE, resolve_crs, transformer
from atlas.settings import IngestSettings
from atlas.types import STORAGE_CRS

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2")
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".csv", ".fgb")
# A column name must be a plain identifier: the standards' names are, and anything else
# (quotes, semicolons, spaces, SQL) is refused before it can reach a store.
SAFE_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,62}$")


def check_column_names(columns: list[str]) -> None:
    """Refuse column names that are not plain identifiers (a column named like SQL, say)."""
    bad = [c for c in columns if c != "geometry" and not SAFE_COLUMN.match(str(c))]
    if bad:
        shown = ", ".join(repr(str(c)[:40]) for c in bad[:3])
        raise HostileInput(f"column names must be plain identifiers; refused: {shown}")


def _check_member_name(name: str) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", name):
        raise HostileInput(f"archive member '{name[:80]}' points outside the archive")


def _check_zip(archive: zipfile.ZipFile, compressed_size: int, limits: IngestSettings) -> None:
    infos = archive.infolist()
    if len(infos) > limits.max_archive_members:
        raise HostileInput(
            f"archive has {len(infos)} members, more than {limits.max_archive_members}"
        )
    total = 0
    for info in infos:
        _check_member_name(info.filename)
        if info.external_attr >> 28 == 0o12:  # symlink in the Unix mode bits
            raise HostileInput(f"archive member '{info.filename[:80]}' is a symbolic link")
        total += info.file_size
    if total > limits.max_archive_bytes:
        raise HostileInput(
            f"archive expands to {total} bytes, more than {limits.max_archive_bytes}"
        )
    if compressed_size and total / compressed_size > limits.max_compression_ratio:
        raise HostileInput(
            f"archive compression ratio {total / compressed_size:.0f}:1 looks like a zip bomb"
        )


def _check_tar(archive: tarfile.TarFile, limits: IngestSettings) -> None:
    total = 0
    members = archive.getmembers()
    if len(members) > limits.max_archive_members:
        raise HostileInput(
            f"archive has {len(members)} members, more than {limits.max_archive_members}"
        )
    for member in members:
        _check_member_name(member.name)
        if member.issym() or member.islnk() or member.isdev():
            raise HostileInput(f"archive member '{member.name[:80]}' is a link or a device")
        total += member.size
    if total > limits.max_archive_bytes:
        raise HostileInput(
            f"archive expands to {total} bytes, more than {limits.max_archive_bytes}"
        )


def is_archive(path: Path) -> bool:
    """True for the archive formats Atlas unpacks."""
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


@contextmanager
def unpacked(path: Path, limits: IngestSettings | None = None) -> Iterator[Path]:
    """Yield a directory holding the archive's files, after the safety checks; or the path itself."""
    if not is_archive(path):
        yield path
        return
    limits = limits or IngestSettings()
    # The directory is named after the archive: some formats carry part of their identity only
    # in the published file name (an EDIGÉO sheet 'edigeo-740240000A01' names its département).
    with TemporaryDirectory(prefix=f"atlas-unpack-{archive_stem(path)}-") as tmp:
        target = Path(tmp)
        try:
            if path.name.lower().endswith(".zip"):
                with zipfile.ZipFile(path) as archive:
                    _check_zip(archive, path.stat().st_size, limits)
                    _extract_zip_capped(archive, target, limits)
            else:
                with tarfile.open(path) as archive:
                    _check_tar(archive, limits)
                    archive.extractall(target, filter="data")
        except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
            raise InvalidInput(f"'{path.name}' is not a readable archive: {exc}") from exc
        yield target


def archive_stem(path: Path) -> str:
    """The archive's name without its archive suffix, reduced to safe file-name characters."""
    name = path.name
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60]


def _extract_zip_capped(archive: zipfile.ZipFile, target: Path, limits: IngestSettings) -> None:
    # The declared sizes can lie: count the bytes really written as well.
    written = 0
    for info in archive.infolist():
        if info.is_dir():
            continue
        dest = target / PurePosixPath(info.filename.replace("\\", "/"))
        dest.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as src, open(dest, "wb") as out:
            while chunk := src.read(1 << 20):
                written += len(chunk)
                if written > limits.max_archive_bytes:
                    raise HostileInput("archive expands beyond the size cap (zip bomb)")
                out.write(chunk)


def find_sources(directory: Path, suffixes: tuple[str, ...] = VECTOR_SUFFIXES) -> list[Path]:
    """Data files inside an unpacked archive, sorted; hidden files and folders skipped."""
    return [
        p
        for p in sorted(directory.rglob("*"))
        if p.is_file()
        and p.name.lower().endswith(suffixes)
        and not any(part.startswith((".", "__")) for part in p.relative_to(directory).parts)
    ]


def single_source(path: Path, suffixes: tuple[str, ...] = VECTOR_SUFFIXES) -> Path:
    """The one data file of a path that may be a directory of an unpacked archive."""
    if path.is_file():
        return path
    found = find_sources(path, suffixes)
    if not found:
        raise InvalidInput(f"no file with a supported extension ({', '.join(suffixes)}) found")
    if len(found) > 1:
        names = ", ".join(p.name for p in found[:5])
        raise InvalidInput(f"several data files found ({names}); give one of them")
    return found[0]


def read_vector(
    path: Path,
    *,
    crs: str | None = None,
    layer: str | None = None,
    columns: list[str] | None = None,
    open_options: dict[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read one vector source with GDAL (pyogrio), its CRS from the file or from ``crs``.

    ``open_options`` are the driver's dataset open options (the OSM driver's CONFIG_FILE).

    A CRS given by the caller overrides the file's only when the file has none (a GeoJSON
    without a ``crs`` member only implies lon/lat) or when the file's coordinates cannot be in
    the CRS it declares; otherwise, when both differ, the file wins and the caller gets an
    error (silently re-labelling coordinates would misplace every feature).
    """
    check_input(path)  # the bytes must be the format the name promises (no VRT, no GDALG…)
    try:
        frame = pyogrio.read_dataframe(
            path, layer=layer, columns=columns, use_arrow=False, **(open_options or {})
        )
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InvalidInput(f"cannot read '{path.name}': {_gdal_message(exc)}") from exc
    except pyogrio.errors.CRSError as exc:
        raise InvalidInput(f"'{path.name}' declares a CRS that cannot be read") from exc
    check_column_names([str(c) for c in frame.columns])
    implied = path.suffix.lower() in (".geojson", ".json") and not declares_crs(path)
    return assign_crs(frame, crs, source_name=path.name, implied=implied)


def assign_crs(
    frame: gpd.GeoDataFrame, crs: str | None, *, source_name: str, implied: bool = False
) -> gpd.GeoDataFrame:
    """Give the frame its CRS: the file's, else the caller's, else an error.

    ``implied``: the frame's CRS is only what the format implies (GeoJSON without a ``crs``
    member, RFC 7946 §4), so the caller's replaces it.
    """
    given = resolve_crs(crs)
    if frame.crs is None or (implied and given is not None):
        if given is None:
            raise InvalidInput(f"'{source_name}' carries no CRS: give one with --crs EPSG:XXXX")
        return frame.set_crs(given, allow_override=True)
    if given is not None and not frame.crs.equals(given):
        if not crs_can_hold(frame, frame.crs) and crs_can_hold(frame, given):
            # The file's label is demonstrably wrong (metres labelled lon/lat, say): the
            # caller's correction wins, or the data could never be ingested.
            return frame.set_crs(given, allow_override=True)
        file_crs = frame.crs.to_string()
        raise InvalidInput(
            f"'{source_name}' declares {file_crs} but --crs says {given.to_string()}; remove --crs"
        )
    return frame


def crs_can_hold(frame: gpd.GeoDataFrame, crs: CRS) -> bool:
    """False when the frame's coordinates lie far outside ``crs``'s area of use."""
    coords = shapely.get_coordinates(frame.geometry.to_numpy())
    coords = coords[np.isfinite(coords).all(axis=1)]
    if not len(coords) or crs.area_of_use is None:
        return True
    west, south, east, north = crs.area_of_use.bounds
    if not crs.is_geographic:
        west, south, east, north = transformer(CRS84_CODE, crs.to_wkt()).transform_bounds(
            west, south, east, north, densify_pts=21
        )
    # Half the area's size around it: a neighbouring zone is fine, another continent is not.
    margin_x, margin_y = (east - west) / 2, (north - south) / 2
    (xmin, ymin), (xmax, ymax) = coords.min(axis=0), coords.max(axis=0)
    return bool(
        west - margin_x <= xmin
        and xmax <= east + margin_x
        and south - margin_y <= ymin
        and ymax <= north + margin_y
    )


def list_layers(path: Path) -> list[str]:
    """The layer names of a multi-layer source (GeoPackage), after the format checks."""
    check_input(path)
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as exc:
        raise InvalidInput(f"cannot read '{path.name}': {_gdal_message(exc)}") from exc


def gunzip(path: Path, target: Path, limits: IngestSettings | None = None) -> Path:
    """Decompress a .gz into ``target``, refusing a bomb while streaming, not after.

    Both caps are checked on the bytes really written, chunk by chunk: the size cap, and the
    compression ratio once past 1 MiB (a real GeoJSON compresses 5 to 20 times; a bomb
    thousands of times, and it is stopped after a few megabytes instead of gigabytes).
    """
    check_input(path)
    limits = limits or IngestSettings()
    compressed = max(path.stat().st_size, 1)
    out_path = target / path.name[: -len(".gz")]
    written = 0
    try:
        with gzip.open(path, "rb") as src, open(out_path, "wb") as out:
            while chunk := src.read(1 << 20):
                written += len(chunk)
                if written > limits.max_archive_bytes:
                    raise HostileInput(
                        f"'{path.name}' expands beyond {limits.max_archive_bytes} bytes (gzip bomb)"
                    )
                if written > 1 << 20 and written / compressed > limits.max_compression_ratio:
                    raise HostileInput(
                        f"'{path.name}' expands more than {limits.max_compression_ratio:.0f} times "
                        "(gzip bomb): refused"
                    )
                out.write(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise InvalidInput(f"'{path.name}' is not a readable gzip file") from exc
    return out_path


def _gdal_message(exc: Exception) -> str:
    # GDAL messages name the full path; keep only the first line and strip directories.
    text = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    text = text.split("; It might help")[0]  # GDAL's hint about driver prefixes: not for users
    return re.sub(r"(/[^\s:'\"]+)+/", "", text)[:200]


def to_storage_crs(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject to EPSG:2154 (geopandas uses always_xy, so lon/lat order is right)."""
    if frame.crs is None:
        raise InvalidInput("no CRS known for the input")
    if frame.crs.to_epsg() == 2154:
        return frame
    return frame.to_crs(STORAGE_CRS)


def sniff_bytes(path: Path, size: int = 512) -> bytes:
    """The first bytes of a file, to check what it really is."""
    with open(path, "rb") as fh:
        return fh.read(size)


def read_text_file(path: Path) -> io.StringIO:
    """A text table's content, after the format checks (no XML, no binary under a .csv name)."""
    check_input(path)
    return read_text_lines(path.read_bytes())


def read_text_lines(raw: bytes) -> io.StringIO:
    """Decode bytes as UTF-8 (with or without BOM), else Latin-1 (older French exports)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return io.StringIO(raw.decode(encoding))
        except UnicodeDecodeError:
            continue
    raise InvalidInput("the file is neither UTF-8 nor Windows-1252 text")
