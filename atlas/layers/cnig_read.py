"""Readers of the CNIG Sites économiques classes: the CSV exchange format, GeoJSON, GeoPackage.

Every source goes through the same checks: the header against the class (missing required
fields refuse the file), the code lists folded onto their published spelling, then the
frictionless TableSchema of the class on every row (a row that breaks it is rejected with the
field, the value and the rule). The CSV exchange format (``;``) carries each geometry as GeoJSON
text; the CNIG's own example writes Lambert-93 coordinates there, although GeoJSON means
lon/lat (RFC 7946 §4), so the CRS of that text is decided from the coordinates when the caller
does not give it (see :func:`geometry_crs`).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from frictionless import Resource, Schema
from pyproj import CRS
from shapely.errors import GEOSException
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from atlas.errors import InvalidInput, ValidationFailed
from atlas.layers.base import ReadOptions, ReadResult, Rejection
from atlas.layers.cnig import (
    LEGACY_VALUES,
    MISSING_VALUES,
    REFCAD_PATTERN,
    URL_PATTERN,
    CnigClass,
    CnigField,
    field_descriptor,
)
from atlas.layers.io import (
    check_column_names,
    list_layers,
    read_text_file,
    read_vector,
    single_source,
)
from atlas.query.crs import resolve_crs

_LONLAT = (-180.0, -90.0, 180.0, 90.0)
# EPSG:2154's projected bounds (metropolitan France and Corsica), rounded outwards.
_LAMBERT93 = (-400_000.0, 6_000_000.0, 1_400_000.0, 7_200_000.0)
_GEOJSON_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
_PATTERN_HINTS = {
    URL_PATTERN: "an http(s) URL",
    REFCAD_PATTERN: "14-character parcel ids (commune 5, prefixe 3, section 2, numero 4) joined by '|'",
}
_INVISIBLE = re.compile(r"[\u200b-\u200d\ufeff]")

Problems = dict[int, list[str]]


def read_cnig(path: Path, options: ReadOptions, cnig_class: CnigClass) -> ReadResult:
    """Read one CNIG source (CSV, GeoJSON, GeoPackage or any GDAL vector) of ``cnig_class``."""
    source = single_source(path)
    if source.suffix.lower() == ".csv":
        return _read_csv(source, options, cnig_class)
    return _read_vector(source, options, cnig_class)


def _read_csv(source: Path, options: ReadOptions, cnig_class: CnigClass) -> ReadResult:
    header, rows = _csv_rows(source)
    notes: list[str] = []
    columns = _check_header(header, cnig_class, notes, geometry_column=True)
    problems: Problems = {}
    width = len(header)
    cells: list[list[str]] = []
    for index, row in enumerate(rows):
        if len(row) != width:
            problems[index] = [
                f"the row has {len(row)} values, the header {width} (a ';' inside an unquoted value?)"
            ]
            row = (row + [""] * width)[:width]
        cells.append([c.strip() for c in row])
    table = pd.DataFrame(cells, columns=header, dtype=object)[columns].reset_index(drop=True)
    _fold_codes(table, cnig_class, notes)
    _validate(table, cnig_class, problems)
    geometries = _parse_geometries(table[cnig_class.geometry_field], cnig_class, problems, notes)
    crs = geometry_crs(geometries, options, field=cnig_class.geometry_field, notes=notes)
    return _result(table, geometries, crs, cnig_class, problems, notes)


def _csv_rows(source: Path) -> tuple[list[str], list[list[str]]]:
    text = read_text_file(source)
    head = text.readline()
    text.seek(0)
    delimiter = "," if head.count(",") and not head.count(";") else ";"
    # A site's perimeter as GeoJSON text easily passes csv's default 128 KiB field limit.
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 26))
    try:
        rows = list(csv.reader(text, delimiter=delimiter))
    except csv.Error as exc:
        raise InvalidInput(f"'{source.name}' is not a readable CSV: {exc}") from exc
    if not rows:
        raise InvalidInput(f"'{source.name}' is empty")
    header = [c.strip().lstrip("\ufeff") for c in rows[0]]
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    return header, body


def _check_header(
    columns: Sequence[str], cnig_class: CnigClass, notes: list[str], *, geometry_column: bool
) -> list[str]:
    """The known columns to keep; ValidationFailed when a required field is missing."""
    check_column_names(list(columns))
    seen = [c for c in columns if c != "geometry"]
    twice = sorted({c for c in seen if seen.count(c) > 1})
    if twice:
        raise ValidationFailed(f"{cnig_class.name}: columns appear twice: {', '.join(twice)}")
    known = set(cnig_class.field_names)
    skip = set(cnig_class.dropped) | (set() if geometry_column else {cnig_class.geometry_field})
    missing = [
        f.name
        for f in cnig_class.fields
        if f.required and f.name not in seen and f.name not in skip
    ]
    if missing:
        raise ValidationFailed(
            f"{cnig_class.name}: required fields missing from the header: {', '.join(missing)}",
            errors=[f"missing field {name}" for name in missing],
        )
    unknown = [c for c in seen if c not in known]
    if unknown:
        notes.append(
            f"columns outside the CNIG {cnig_class.name} class ignored: {', '.join(unknown[:10])}"
        )
    dropped = [c for c in seen if c in cnig_class.dropped]
    if dropped:
        notes.append(f"{', '.join(dropped)} not stored: derived from the geometry")
    return [c for c in seen if c in known and c not in skip and c not in cnig_class.dropped]


def fold(text: str) -> str:
    """A spelling-insensitive key: case, accents, apostrophes, invisible characters, spaces."""
    text = _INVISIBLE.sub("", text).replace("’", "'").replace("‘", "'")
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split()).casefold()


def _fold_codes(table: pd.DataFrame, cnig_class: CnigClass, notes: list[str]) -> None:
    """Write code-list values with the published spelling; note those outside a list (in place)."""
    for spec in cnig_class.fields:
        if spec.enum is None or spec.name not in table:
            continue
        lookup = {fold(v): v for v in spec.enum}
        lookup.update({fold(k): v for k, v in LEGACY_VALUES.get(spec.name, {}).items()})
        mapping = {
            value: lookup.get(fold(value), value)
            for value in table[spec.name].unique()
            if value not in MISSING_VALUES
        }
        table[spec.name] = table[spec.name].map(lambda v, m=mapping: m.get(v, v))
        if spec.enforced:
            continue  # frictionless rejects the rows (the constraint is the CNIG's)
        outside = table[spec.name][~table[spec.name].isin([*spec.enum, *MISSING_VALUES])]
        if len(outside):
            shown = ", ".join(repr(v) for v in sorted(set(outside))[:3])
            notes.append(
                f"{spec.name}: {len(outside)} row(s) outside the CNIG code list ({shown}); "
                "kept, as the standard lists these values without enforcing them"
            )


def _validate(table: pd.DataFrame, cnig_class: CnigClass, problems: Problems) -> None:
    """Check the rows not yet refused against the class's TableSchema; record the failures."""
    # The GeoJSON column is parsed by parse_geojson instead: frictionless checks geojson cells
    # against a JSON schema, which took 80 % of the time on a 5,000-site file and says less.
    columns = [c for c in table.columns if c != cnig_class.geometry_field]
    todo = [i for i in range(len(table)) if i not in problems]
    if not todo or not columns:
        return
    descriptor: dict[str, object] = {
        "fields": [field_descriptor(cnig_class.field(c)) for c in columns],
        "missingValues": list(MISSING_VALUES),
    }
    if cnig_class.primary_key in columns:
        descriptor["primaryKey"] = cnig_class.primary_key
    data = [columns, *table.loc[todo, columns].to_numpy().tolist()]
    resource = Resource(data=data, schema=Schema.from_descriptor(descriptor))
    report = resource.validate(limit_errors=sys.maxsize)
    for task in report.tasks:
        for error in task.errors:
            row_number = getattr(error, "row_number", None)
            if row_number is None:  # a table-level error: our own header is wrong
                raise ValidationFailed(f"{cnig_class.name}: {error.message}")
            index = todo[row_number - 2]  # row 1 is the header
            problems.setdefault(index, []).append(_reason(error, cnig_class))


def _reason(error: object, cnig_class: CnigClass) -> str:
    """One line naming the field, the value and what is wrong with it."""
    kind = getattr(error, "type", "")
    name = getattr(error, "field_name", None)
    cell = str(getattr(error, "cell", "") or "")[:60]
    note = str(getattr(error, "note", ""))
    if kind == "primary-key":
        return f"{cnig_class.primary_key} appears more than once ({note})"
    if name is None:
        return f"{kind}: {note}"
    spec = cnig_class.field(name)
    if kind == "type-error":
        return _type_reason(spec, cell)
    if '"required"' in note:
        return f"{name} is required but empty"
    if '"enum"' in note and spec.enum:
        return f"{name}: '{cell}' is not one of {', '.join(spec.enum)}"
    if '"pattern"' in note and spec.pattern:
        return f"{name}: '{cell}' is not {_PATTERN_HINTS.get(spec.pattern, 'well-formed')}"
    return f"{name}: '{cell}' breaks the constraint {note}"


def _type_reason(spec: CnigField, cell: str) -> str:
    if spec.format == "email":
        return f"{spec.name}: '{cell}' is not an e-mail address"
    if spec.type == "date":
        return f"{spec.name}: '{cell}' is not a date in the format {spec.format}"
    return f"{spec.name}: '{cell}' is not a valid {spec.type}"


def _parse_geometries(
    texts: pd.Series, cnig_class: CnigClass, problems: Problems, notes: list[str]
) -> list[BaseGeometry | None]:
    """Shapely geometries from the GeoJSON text column (None where the row is refused)."""
    name = cnig_class.geometry_field
    out: list[BaseGeometry | None] = []
    closed: list[int] = []
    for index, text in enumerate(texts):
        geom, problem, repaired = parse_geojson(text)
        if problem:
            problems.setdefault(index, []).append(f"{name}: {problem}")
        if repaired:
            closed.append(index + 1)
        out.append(None if problem or index in problems else geom)
    if closed:
        rows = ", ".join(str(r) for r in closed[:10]) + (" …" if len(closed) > 10 else "")
        notes.append(
            f"{name}: {len(closed)} polygon ring(s) not closed (RFC 7946 §3.1.6 wants the last "
            f"position equal to the first), closed by repeating the first position; rows {rows}"
        )
    return out


def parse_geojson(text: str | None) -> tuple[BaseGeometry | None, str | None, bool]:
    """(geometry, problem, True when a ring had to be closed) from one GeoJSON geometry text."""
    if text is None or str(text).strip() in MISSING_VALUES:
        return None, "required but empty", False
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None, f"'{str(text)[:40]}' is not GeoJSON text", False
    kind = obj.get("type") if isinstance(obj, dict) else None
    if kind not in _GEOJSON_TYPES:
        return None, f"not a GeoJSON geometry (type {str(kind)[:20]!r})", False
    if not isinstance(obj.get("coordinates"), list) or not obj["coordinates"]:
        return None, f"GeoJSON {kind} without coordinates", False
    repaired = _close_rings(obj)
    try:
        geom = shape(obj)
    except (GEOSException, ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        return None, f"malformed GeoJSON {kind} ({str(exc)[:80]})", False
    return geom, None, repaired


def _close_rings(obj: dict) -> bool:
    """Close the open rings of a Polygon or MultiPolygon in place; True when one was open."""
    if obj["type"] == "Polygon":
        polygons = [obj["coordinates"]]
    elif obj["type"] == "MultiPolygon":
        polygons = obj["coordinates"]
    else:
        return False
    repaired = False
    for rings in polygons:
        for ring in rings if isinstance(rings, list) else []:
            if isinstance(ring, list) and len(ring) >= 3 and ring[0] != ring[-1]:
                ring.append(ring[0])
                repaired = True
    return repaired


def geometry_crs(
    geometries: Sequence[BaseGeometry | None],
    options: ReadOptions,
    *,
    field: str,
    notes: list[str],
) -> CRS:
    """The CRS of geometry text: ``--crs``; else lon/lat; else Lambert-93 (noted); else an error."""
    given = resolve_crs(options.crs)
    if given is not None:
        return given
    present = [g for g in geometries if g is not None and not g.is_empty]
    if not present:
        return CRS.from_epsg(4326)
    bounds = tuple(float(v) for v in shapely.total_bounds(np.array(present, dtype=object)))
    if _within(bounds, _LONLAT):
        return CRS.from_epsg(4326)  # GeoJSON's own CRS (RFC 7946 §4)
    if _within(bounds, _LAMBERT93):
        notes.append(
            f"{field}: coordinates are not lon/lat but fall in the Lambert-93 envelope; "
            "read as EPSG:2154 (inferred; give --crs to say otherwise)"
        )
        return CRS.from_epsg(2154)
    shown = ", ".join(f"{v:.0f}" for v in bounds)
    raise InvalidInput(
        f"{field}: coordinates (bounds {shown}) are neither lon/lat nor Lambert-93; "
        "give their CRS with --crs EPSG:XXXX"
    )


def _within(bounds: tuple[float, ...], box: tuple[float, float, float, float]) -> bool:
    xmin, ymin, xmax, ymax = bounds
    return box[0] <= xmin and box[1] <= ymin and xmax <= box[2] and ymax <= box[3]


def _read_vector(source: Path, options: ReadOptions, cnig_class: CnigClass) -> ReadResult:
    """GeoJSON, GeoPackage and other GDAL sources: GDAL geometry, CNIG attributes."""
    layer = _gpkg_layer(source, options, cnig_class) if source.suffix.lower() == ".gpkg" else None
    # A GeoJSON in Lambert-93 without a crs member is refused by conform with the --crs hint,
    # never read as Lambert-93 on a guess (only the CSV exchange format's text is, see above).
    frame = read_vector(source, crs=options.crs, layer=layer or options.layer)
    notes: list[str] = []
    columns = _check_header(
        [str(c) for c in frame.columns], cnig_class, notes, geometry_column=False
    )
    table = pd.DataFrame(
        {c: [_as_text(v, cnig_class.field(c)) for v in frame[c]] for c in columns},
        index=range(len(frame)),
        dtype=object,
    )
    _fold_codes(table, cnig_class, notes)
    problems: Problems = {}
    _validate(table, cnig_class, problems)
    geometries = list(frame.geometry)
    return _result(table, geometries, frame.crs, cnig_class, problems, notes)


def _gpkg_layer(source: Path, options: ReadOptions, cnig_class: CnigClass) -> str | None:
    """The GeoPackage layer holding the class: --layer, the only layer, or the one named so."""
    if options.layer:
        return options.layer
    layers = list_layers(source)
    if len(layers) == 1:
        return layers[0]
    wanted = {_key(n) for n in (cnig_class.name, cnig_class.schema_name, *cnig_class.layer_names)}
    matches = [name for name in layers if _key(name) in wanted]
    if len(matches) == 1:
        return matches[0]
    shown = ", ".join(layers[:8])
    raise InvalidInput(
        f"'{source.name}' has layers {shown}; give the one holding {cnig_class.name} with --layer"
    )


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(name))


def _as_text(value: object, spec: CnigField) -> str:
    """A GDAL value written as the CSV exchange format writes it, for the same validation."""
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, float | np.floating) and math.isnan(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "oui" if value else "non"  # a GeoPackage boolean for a CNIG oui/non field
    if isinstance(value, dt.date | pd.Timestamp | np.datetime64):
        stamp = pd.Timestamp(value)
        return stamp.strftime(spec.format or "%Y-%m-%d") if spec.type == "date" else str(value)
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _result(
    table: pd.DataFrame,
    geometries: Sequence[BaseGeometry | None],
    crs: object,
    cnig_class: CnigClass,
    problems: Problems,
    notes: list[str],
) -> ReadResult:
    """The kept rows as a GeoDataFrame of the stored fields, and one rejection per refused row."""
    key = cnig_class.primary_key
    rejected = []
    for index in sorted(problems):
        ident = table.at[index, key] if key in table else ""
        label = f"{index + 1}" + (f" ({ident})" if ident else "")
        rejected.append(Rejection(row=label, reason="; ".join(problems[index])))
    keep = [i for i in range(len(table)) if i not in problems]
    stored = [f.name for f in cnig_class.stored_fields if f.name in table]
    frame = gpd.GeoDataFrame(
        table.loc[keep, stored].reset_index(drop=True),
        geometry=gpd.GeoSeries([geometries[i] for i in keep], crs=crs),
        crs=crs,
    )
    return ReadResult(frame=frame, rejected=rejected, notes=notes, rows_read=len(table))
