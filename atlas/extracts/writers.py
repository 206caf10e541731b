"""One writer per format, through GDAL (pyogrio, Arrow path) or geopandas for GeoParquet.

Every writer gets the layers already typed and sorted (``tables.py``) and reprojected, and writes
into one directory. Files are named after the layer (``activity_sites.geojson``…); nothing in a
data file depends on the time, so both stores give the same bytes (GeoPackage and the dBase header
of a Shapefile carry a write date: they are the exceptions, said in the README).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from atlas.extracts.request import CsvGeometry, ExtractFormat, OutputOptions
from atlas.query.crs import CRS84_CODE

SHAPEFILE_NAME_LENGTH = 10  # dBase III field names
# OWASP "CSV Injection": Excel, LibreOffice and Google Sheets evaluate a cell starting with one of
# these as a formula (=HYPERLINK(…), =cmd|…, @SUM(…)), whatever the column's declared type.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_MULTI = {"Point": "MultiPoint", "LineString": "MultiLineString", "Polygon": "MultiPolygon"}


@dataclass(frozen=True)
class OutLayer:
    """A layer ready to write: its name, declared geometry type, id field and rows (target CRS)."""

    name: str
    geometry_type: str
    id_field: str
    frame: gpd.GeoDataFrame


@dataclass
class Written:
    """What a writer produced."""

    files: list[str] = field(default_factory=list)  # relative to the output directory
    renamed: dict[str, dict[str, str]] = field(default_factory=dict)  # layer -> {field: written}
    notes: list[str] = field(default_factory=list)


def write_layers(layers: list[OutLayer], options: OutputOptions, out_dir: Path) -> Written:
    """Write ``layers`` in ``options.format`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = Written()
    writer = _WRITERS[options.format]
    for layer in layers:
        writer(_promoted(layer), options, out_dir, written)
    written.files = sorted(dict.fromkeys(written.files))
    return written


def _promoted(layer: OutLayer) -> OutLayer:
    """Single and multi geometries mixed (a polygon cut in two): every row becomes multi."""
    geometries = np.asarray(layer.frame.geometry.values, dtype=object)
    types = {g.geom_type for g in geometries if g is not None}
    declared = layer.geometry_type
    multi = _MULTI.get(declared)
    if multi is None or multi not in types:
        return layer
    promoted = [
        g if g is None or g.geom_type == multi else getattr(shapely, multi)([g]) for g in geometries
    ]
    frame = layer.frame.copy()
    frame["geometry"] = gpd.GeoSeries(promoted, index=frame.index, crs=frame.crs)
    return OutLayer(layer.name, multi, layer.id_field, frame)


def _write(frame: pd.DataFrame, path: Path, out: OutLayer | None, **kwargs: object) -> None:
    options = {"geometry_type": out.geometry_type} if out is not None else {}
    pyogrio.write_dataframe(frame, path, use_arrow=True, **options, **kwargs)  # type: ignore[arg-type]


def _gpkg(layer: OutLayer, options: OutputOptions, out_dir: Path, written: Written) -> None:
    path = out_dir / "extract.gpkg"
    # GeoPackage 1.2: what GDAL < 3.7, ArcGIS and older QGIS read without a warning.
    options_ = {"VERSION": "1.2"} if not path.exists() else {}
    _write(layer.frame, path, layer, layer=layer.name, driver="GPKG", dataset_options=options_)
    written.files.append(path.name)


def _geojson(layer: OutLayer, options: OutputOptions, out_dir: Path, written: Written) -> None:
    path = out_dir / f"{layer.name}.geojson"
    # RFC 7946 files are CRS84 only; in any other CRS GDAL writes the 2008 "crs" member.
    rfc7946 = "YES" if options.crs.code == CRS84_CODE else "NO"
    # No ID_FIELD: GDAL would move the id out of "properties", where the standard puts it.
    _write(layer.frame, path, layer, driver="GeoJSON", layer_options={"RFC7946": rfc7946})
    written.files.append(path.name)


def _flatgeobuf(layer: OutLayer, options: OutputOptions, out_dir: Path, written: Written) -> None:
    path = out_dir / f"{layer.name}.fgb"
    _write(layer.frame, path, layer, driver="FlatGeobuf", layer_options={"SPATIAL_INDEX": "YES"})
    written.files.append(path.name)


def _geoparquet(layer: OutLayer, options: OutputOptions, out_dir: Path, written: Written) -> None:
    path = out_dir / f"{layer.name}.parquet"
    layer.frame.to_parquet(path, index=False, compression="zstd")
    written.files.append(path.name)


def _shapefile(layer: OutLayer, options: OutputOptions, out_dir: Path, written: Written) -> None:
    names = shapefile_names(list(layer.frame.columns.drop("geometry")))
    frame = layer.frame.rename(columns=names)
    path = out_dir / f"{layer.name}.shp"
    _write(frame, path, layer, driver="ESRI Shapefile", layer_options={"ENCODING": "UTF-8"})
    written.files += [f"{layer.name}.{ext}" for ext in ("shp", "shx", "dbf", "prj", "cpg")]
    written.renamed[layer.name] = {k: v for k, v in names.items() if k != v}


def shapefile_names(names: list[str]) -> dict[str, str]:
    """Field names of at most 10 characters, unique regardless of case (dBase), stable."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        short = name[:SHAPEFILE_NAME_LENGTH]
        number = 1
        while short.lower() in used:
            suffix = f"_{number}"
            short = name[: SHAPEFILE_NAME_LENGTH - len(suffix)] + suffix
            number += 1
        used.add(short.lower())
        out[name] = short
    return out


def _csv(layer: OutLayer, options: OutputOptions, out_dir: Path, written: Written) -> None:
    path = out_dir / f"{layer.name}.csv"
    frame = neutralised(_iso_dates(layer.frame))
    if options.csv_geometry == CsvGeometry.WKT:
        layer_options = {"GEOMETRY": "AS_WKT", "CREATE_CSVT": "YES"}
        _write(frame, path, layer, driver="CSV", layer_options=layer_options)
        geometry_xml = '<GeometryField encoding="WKT" field="WKT"/>'
        vrt_type = layer.geometry_type
    else:
        x, y = xy(np.asarray(frame.geometry.values, dtype=object))
        table = pd.DataFrame(frame.drop(columns="geometry")).assign(x=x, y=y)
        _write(table, path, None, driver="CSV", layer_options={"CREATE_CSVT": "YES"})
        geometry_xml = '<GeometryField encoding="PointFromColumns" x="x" y="y"/>'
        vrt_type = "Point"
    vrt = out_dir / f"{layer.name}.vrt"
    vrt.write_text(_vrt(layer.name, path.name, vrt_type, options.crs.code, geometry_xml))
    written.files += [path.name, f"{layer.name}.csvt", vrt.name]


def xy(geometries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y of each geometry: a point itself, else a point on its surface (nan when absent)."""
    points = np.array(
        [
            None
            if g is None or g.is_empty
            else g
            if g.geom_type == "Point"
            else shapely.point_on_surface(g)
            for g in geometries
        ],
        dtype=object,
    )
    return shapely.get_x(points), shapely.get_y(points)


def neutralised(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Text cells a spreadsheet would run as a formula, prefixed with ``'`` (OWASP's advice).

    Only text: numeric columns are written as numbers, so a negative number stays a number (the
    ``.csvt`` types it), and a text that starts with ``-`` is text, as the ``.csvt`` says.
    """
    out = frame.copy()
    for name in out.columns.drop("geometry"):
        column = out[name]
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        if any(isinstance(v, str) and v.startswith(FORMULA_TRIGGERS) for v in column):
            out[name] = pd.Series(
                [
                    f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_TRIGGERS) else v
                    for v in column
                ],
                index=out.index,
                dtype=column.dtype,
            )
    return out


def _iso_dates(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dates as ISO 8601 text (GDAL's CSV writer would write 2024/01/31)."""
    out = frame.copy()
    for name in out.columns.drop("geometry"):
        column = out[name]
        if column.dtype == object and any(isinstance(v, dt.date) for v in column):
            out[name] = pd.Series(
                [v.isoformat() if isinstance(v, dt.date) else v for v in column],
                index=out.index,
                dtype=object,
            )
    return out


def _vrt(name: str, csv_name: str, geometry_type: str, crs: str, geometry_xml: str) -> str:
    """An OGR VRT that gives GDAL the CSV's geometry and CRS (a CSV file carries neither)."""
    return (
        "<OGRVRTDataSource>\n"
        f"  <OGRVRTLayer name={quoteattr(name)}>\n"
        f'    <SrcDataSource relativeToVRT="1">{escape(csv_name)}</SrcDataSource>\n'
        f"    <SrcLayer>{escape(name)}</SrcLayer>\n"
        f"    <GeometryType>wkb{escape(geometry_type)}</GeometryType>\n"
        f"    <LayerSRS>{escape(crs)}</LayerSRS>\n"
        f"    {geometry_xml}\n"
        "  </OGRVRTLayer>\n"
        "</OGRVRTDataSource>\n"
    )


_WRITERS: dict[ExtractFormat, Callable[[OutLayer, OutputOptions, Path, Written], None]] = {
    ExtractFormat.GPKG: _gpkg,
    ExtractFormat.SHAPEFILE: _shapefile,
    ExtractFormat.GEOJSON: _geojson,
    ExtractFormat.CSV: _csv,
    ExtractFormat.FLATGEOBUF: _flatgeobuf,
    ExtractFormat.GEOPARQUET: _geoparquet,
}
