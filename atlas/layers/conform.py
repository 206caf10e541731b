"""Bring a reader's rows to the layer schema: types, required fields, ids, geometry validity, CRS.

Shared by every vector layer, so that the report of an ingest (read, kept, repaired, rejected)
means the same thing for a cadastre file and for a CNIG inventory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from atlas.errors import ValidationFailed
from atlas.layers.base import FieldSpec, ReadResult, Rejection, VectorLayer
from atlas.layers.io import to_storage_crs
from atlas.layers.sanity import Territory, check_crs, coordinate_problems, territory_problems

_FAMILY = {
    "Point": ("Point", "MultiPoint"),
    "MultiPoint": ("Point", "MultiPoint"),
    "LineString": ("LineString", "MultiLineString"),
    "MultiLineString": ("LineString", "MultiLineString"),
    "Polygon": ("Polygon", "MultiPolygon"),
    "MultiPolygon": ("Polygon", "MultiPolygon"),
}


@dataclass(slots=True)
class IngestReport:
    """What an ingest did, row by row when a row was touched."""

    collection_id: str
    source: str
    rows_read: int = 0
    kept: int = 0
    repaired: list[Rejection] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    version: int | None = None
    seconds: float | None = None

    def summary(self) -> str:
        """One line for the terminal."""
        line = (
            f"{self.collection_id}: read {self.rows_read}, kept {self.kept}, "
            f"repaired {len(self.repaired)}, rejected {len(self.rejected)}"
        )
        if self.version is not None:
            line += f" -> version {self.version}"
        if self.seconds is not None:
            line += f" in {self.seconds:.1f} s"
        return line

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form, stored with the version."""
        return {
            "collection": self.collection_id,
            "source": self.source,
            "rows_read": self.rows_read,
            "kept": self.kept,
            "repaired": [{"row": str(r.row), "reason": r.reason} for r in self.repaired],
            "rejected": [{"row": str(r.row), "reason": r.reason} for r in self.rejected],
            "notes": self.notes,
            "version": self.version,
            "seconds": self.seconds,
        }


def conform(
    result: ReadResult,
    layer: VectorLayer,
    *,
    source: str,
    territory: Territory | None = None,
) -> tuple[gpd.GeoDataFrame, IngestReport]:
    """Validate and normalise ``result`` to ``layer``; the rows kept and the report.

    Rows outside ``territory`` (default: EPSG:2154's area of use) are rejected; an input whose
    coordinates cannot be in its CRS is refused whole (CRSMismatch, see atlas.layers.sanity).
    """
    frame = result.frame
    report = IngestReport(
        collection_id=layer.collection_id,
        source=source,
        rows_read=result.rows_read
        if result.rows_read is not None
        else len(frame) + len(result.rejected),
        rejected=list(result.rejected),
        notes=list(result.notes),
    )
    _check_columns(frame, layer)
    frame = frame.reset_index(drop=True)
    territory = territory or Territory()
    check_crs(frame.geometry, territory, source=source)
    # Before any GEOS operation: make_valid raises on an infinite coordinate.
    refused = coordinate_problems(frame.geometry)
    bad: dict[int, str] = dict(refused)
    columns: dict[str, pd.Series] = {}
    for spec in layer.fields:
        columns[spec.name] = _coerce(
            frame[spec.name] if spec.name in frame else None, spec, len(frame), bad
        )
    geometry = _repair_geometries(frame, layer, report, bad, skip=refused)
    out = gpd.GeoDataFrame(columns, geometry=geometry, crs=frame.crs)
    _check_ids(out, layer, bad)
    out = to_storage_crs(out)
    outside = territory_problems(out.geometry, frame.geometry, territory, skip=bad)
    for index, reason in outside.items():
        bad.setdefault(index, reason)
    keep = np.ones(len(out), dtype=bool)
    for index, reason in sorted(bad.items()):
        keep[index] = False
        report.rejected.append(Rejection(row=_row_label(frame, index, layer), reason=reason))
    out = out[keep].reset_index(drop=True)
    report.kept = len(out)
    return out, report


def _row_label(frame: gpd.GeoDataFrame, index: int, layer: VectorLayer) -> str:
    # Row numbers are 1-based like a spreadsheet; the id helps when there is one.
    ident = frame[layer.id_field].iloc[index] if layer.id_field in frame else None
    return f"{index + 1}" + (f" ({ident})" if ident is not None and ident == ident else "")


def _check_columns(frame: gpd.GeoDataFrame, layer: VectorLayer) -> None:
    missing = [f.name for f in layer.fields if f.required and f.name not in frame.columns]
    if missing:
        raise ValidationFailed(
            f"{layer.collection_id}: required fields missing from the input: {', '.join(missing)}"
        )


def _coerce(
    values: pd.Series | None, spec: FieldSpec, length: int, bad: dict[int, str]
) -> pd.Series:
    if values is None:
        values = pd.Series([None] * length, dtype="object")
    values = values.reset_index(drop=True)
    missing = values.isna() | values.astype("string").str.strip().isin(["", "NA", "NaN", "N/A"])
    # object dtype first: on a pandas "str" column, where(..., None) writes NaN, which str() makes "nan"
    converted = _convert(values.astype(object).where(~missing, None), spec)
    failed = converted.isna() & ~missing
    for index in np.flatnonzero(failed.to_numpy()):
        bad.setdefault(
            int(index), f"{spec.name}: '{str(values.iloc[index])[:40]}' is not a valid {spec.type}"
        )
    if spec.required:
        for index in np.flatnonzero(missing.to_numpy()):
            bad.setdefault(int(index), f"{spec.name} is required but empty")
    if spec.enum is not None:
        allowed = set(spec.enum)
        for index, value in converted.items():
            if value is not None and value == value and value not in allowed:
                bad.setdefault(
                    int(index), f"{spec.name}: '{str(value)[:40]}' is not in the code list"
                )
    return converted


def _convert(values: pd.Series, spec: FieldSpec) -> pd.Series:
    if spec.type == "string":
        return values.map(lambda v: None if v is None else str(v).strip()).astype("object")
    if spec.type in ("number", "integer"):
        text = values.map(lambda v: None if v is None else str(v).strip().replace(",", "."))
        numbers = pd.to_numeric(text, errors="coerce")
        # 'inf', 'Infinity', '1e999': no store may hold them, so the row is rejected as invalid.
        numbers = numbers.where(np.isfinite(numbers))
        if spec.type == "integer":
            whole = numbers.where(numbers.isna() | (numbers == np.floor(numbers)))
            return whole.astype("Int64")
        return numbers.astype("float64")
    if spec.type == "boolean":
        return values.map(_to_bool).astype("boolean")
    if spec.type == "date":
        return values.map(_to_date).astype("object")
    return pd.to_datetime(values, errors="coerce", utc=True)


_TRUE = {"true", "1", "oui", "o", "yes", "y", "t", "vrai"}
_FALSE = {"false", "0", "non", "n", "no", "f", "faux"}


def _to_bool(value: object) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = str(value).strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def _to_date(value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if len(text) == 4 and text.isdigit():  # CNIG "%Y" dates (site_creation_date)
        return dt.date(int(text), 1, 1)
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return dt.datetime.strptime(text[:25], fmt).date()
        except ValueError:
            continue
    return None


def _repair_geometries(
    frame: gpd.GeoDataFrame,
    layer: VectorLayer,
    report: IngestReport,
    bad: dict[int, str],
    *,
    skip: Container[int] = (),
) -> gpd.GeoSeries:
    family = _FAMILY[layer.geometry_type]
    multi = layer.geometry_type.startswith("Multi")
    out: list[BaseGeometry | None] = []
    for index, geom in enumerate(frame.geometry):
        if index in skip:  # refused already (non-finite, absurd, at (0, 0))
            out.append(None)
            continue
        fixed, problem, repaired = _repair_one(geom, family, multi)
        if problem:
            bad.setdefault(index, problem)
        elif repaired:
            report.repaired.append(Rejection(row=_row_label(frame, index, layer), reason=repaired))
        out.append(fixed)
    return gpd.GeoSeries(out, crs=frame.crs)


def _repair_one(
    geom: BaseGeometry | None, family: tuple[str, str], multi: bool
) -> tuple[BaseGeometry | None, str | None, str | None]:
    """(geometry, rejection reason, repair note)."""
    if geom is None or geom.is_empty:
        return None, "geometry is missing or empty", None
    if geom.has_z:
        geom = shapely.force_2d(geom)
    repaired = None
    if not geom.is_valid:
        repaired = f"invalid geometry repaired ({explain_validity(geom)})"
        geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    geom = _keep_family(geom, family)
    if geom is None or geom.is_empty:
        return None, f"geometry is not a {family[0]} and cannot be made one", None
    if multi and not geom.geom_type.startswith("Multi"):
        geom = {
            "Point": shapely.MultiPoint,
            "LineString": shapely.MultiLineString,
            "Polygon": shapely.MultiPolygon,
        }[geom.geom_type]([geom])
    elif not multi and geom.geom_type.startswith("Multi"):
        if len(geom.geoms) != 1:
            return None, f"a single {family[0]} is expected, got {len(geom.geoms)} parts", None
        geom = geom.geoms[0]
    return geom, None, repaired


def _keep_family(geom: BaseGeometry, family: tuple[str, str]) -> BaseGeometry | None:
    if geom.geom_type in family:
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in geom.geoms if g.geom_type in family]
        flat: list[BaseGeometry] = []
        for part in parts:
            flat.extend(part.geoms if part.geom_type.startswith("Multi") else [part])
        if not flat:
            return None
        return flat[0] if len(flat) == 1 else shapely.union_all(flat)
    return None


def _check_ids(frame: gpd.GeoDataFrame, layer: VectorLayer, bad: dict[int, str]) -> None:
    ids = frame[layer.id_field]
    for index in np.flatnonzero(ids.isna().to_numpy()):
        bad.setdefault(int(index), f"{layer.id_field} (the feature id) is empty")
    duplicated = ids.duplicated(keep="first") & ids.notna()
    for index in np.flatnonzero(duplicated.to_numpy()):
        bad.setdefault(int(index), f"{layer.id_field} '{ids.iloc[index]}' appears more than once")
