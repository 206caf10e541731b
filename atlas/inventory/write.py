"""Writing the inventory: CNIG CSVs, a GeoPackage, a datapackage, reports; validated, then moved.

Formats, each as the CNIG Sites économiques standard v1.0.1 writes it:

- one CSV per class (``site-eco.csv``, ``terrain-eco.csv``, ``etablissement.csv``): ``;`` as
  separator (the CNIG examples), UTF-8 without BOM (``encoding`` of the CNIG datapackage),
  CRLF line ends (the examples; RFC 4180), quoted only where needed; the header is the class's
  fields in the published order; dates in each field's TableSchema format (``%Y-%m-%d``, or
  ``%Y`` for ``site_creation_date`` and ``etab_effectif_annee``); numbers with a ``.``.
- geometries as GeoJSON text in their column, in lon/lat (WGS 84): the TableSchema type
  ``geojson`` means RFC 7946 GeoJSON, whose only CRS is lon/lat (§4), the schemas' own examples
  and the ETABLISSEMENT example are lon/lat, and ``site_geompoint`` is a geopoint ("lon, lat").
  The SITE-ECO and TERRAIN-ECO examples write Lambert-93 numbers there; the atlas reads both
  (``cnig_read.geometry_crs``) but writes the form the specification names. Coordinates are
  rounded to 7 decimals (about 1 cm) and polygon rings follow the right-hand rule (§3.1.6).
- ``sites_economiques.gpkg`` (the name of the CNIG template), one layer per class named as the
  CNIG SQL model's tables (``site_eco``, ``terrain_eco``, ``etablissement``), geometry column
  named after the CNIG field, in EPSG:2154 as that model declares; attributes as in the CSV
  (dates as text, ``char(10)``/``char(4)`` in the model).
- ``datapackage.json`` (frictionless) listing the CSVs with their dialect and the CNIG
  TableSchemas, written beside them in ``schemas/`` from ``atlas.layers.cnig.table_schema``
  (field for field the published ones, which a test proves) so that the package validates
  offline; ``validation-report.json`` (frictionless, per CSV), ``inventory-report.json`` (mode,
  versions read, anonymisation counts, vacancy disagreements) and ``vacancy.csv`` (every site's
  declared and recomputed figures).

Everything is written into a fresh directory beside OUT_DIR and validated there; only a valid
export is renamed to OUT_DIR (one ``rename``), so a failure leaves OUT_DIR as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from atlas.errors import AtlasError, InvalidInput
from atlas.inventory.tables import RESOURCES, CnigTable, Inventory, build_inventory
from atlas.layers.activity_plots import LAYER as PLOTS_LAYER
from atlas.layers.activity_sites import LAYER as SITES_LAYER
from atlas.layers.cnig import STANDARD, CnigClass, CnigField, table_schema
from atlas.layers.establishments import LAYER as ESTABLISHMENTS_LAYER
from atlas.policy.gate import Gate
from atlas.query.values import as_date, is_missing

DELIMITER = ";"
ENCODING = "utf-8"
LINE_END = "\r\n"
DIGITS = 7  # lon/lat decimals: about 1 cm
GEOPACKAGE = "sites_economiques.gpkg"
CNIG_HOME = "https://github.com/cnigfr/schema-sites-economiques"
_GEOMETRY_TYPES = {
    "site-eco": SITES_LAYER.geometry_type,
    "terrain-eco": PLOTS_LAYER.geometry_type,
    "etablissement": ESTABLISHMENTS_LAYER.geometry_type,
}
_NUMBER = CnigField("number", "number")
_TITLES = {"publication": "publication (données personnelles anonymisées)", "internal": "interne"}


class InvalidInventory(AtlasError):
    """The stored data do not make an inventory valid against the CNIG schemas."""

    status = 409
    code = "InventoryInvalid"


@dataclass
class ExportResult:
    """Where the export went and what it holds."""

    path: Path
    inventory: Inventory
    rows: dict[str, int]

    def summary(self) -> str:
        """One line for the command line."""
        counts = ", ".join(f"{n} {name}" for name, n in self.rows.items())
        return (
            f"inventory ({self.inventory.mode}) written to {self.path}: {counts}; "
            f"{len(self.inventory.disagreements)} declared vacancy rate(s) disagree"
        )


def export_inventory(gate: Gate, out_dir: Path, *, publish: bool) -> ExportResult:
    """Build, write and validate the inventory, then move it to ``out_dir`` in one rename.

    ``out_dir`` must not exist, or be an empty directory; its parent must exist. On any
    failure nothing is left behind and ``out_dir`` is untouched.
    """
    out_dir = Path(os.path.abspath(out_dir))
    _check_target(out_dir)
    inventory = build_inventory(gate, publish=publish)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        rows = write_inventory(inventory, staging)
        report = validate_directory(staging)
        _write_json(staging / "validation-report.json", report)
        if not report["valid"]:
            raise InvalidInventory(_first_errors(report))
        os.rename(staging, out_dir)  # onto an absent or empty directory: atomic
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportResult(out_dir, inventory, rows)


def inventory_zip(gate: Gate, *, publish: bool) -> tuple[bytes, str]:
    """The export as a zip archive (the HTTP answer) and its file name."""
    mode = "publication" if publish else "internal"
    name = f"inventaire-zae-{dt.date.today():%Y-%m-%d}-{mode}"
    with tempfile.TemporaryDirectory() as tmp:
        result = export_inventory(gate, Path(tmp) / name, publish=publish)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(result.path.rglob("*")):
                if path.is_file():
                    archive.write(path, f"{name}/{path.relative_to(result.path).as_posix()}")
    return buffer.getvalue(), f"{name}.zip"


def _check_target(out_dir: Path) -> None:
    if not out_dir.parent.is_dir():
        raise InvalidInput(f"'{out_dir.parent}' is not a directory")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InvalidInput(f"'{out_dir}' exists and is not an empty directory")


# -- writing --------------------------------------------------------------------------------


def write_inventory(inventory: Inventory, directory: Path) -> dict[str, int]:
    """Every file of the export into ``directory``; the row count of each CNIG table."""
    (directory / "schemas").mkdir()
    rows = {}
    for table in inventory.tables:
        write_csv(directory / f"{table.name}.csv", table)
        _write_json(directory / "schemas" / f"{table.name}.json", _schema_file(table.cnig_class))
        rows[table.name] = len(table.values)
    write_geopackage(directory / GEOPACKAGE, inventory.tables)
    _write_json(directory / "datapackage.json", _datapackage(inventory))
    _write_json(directory / "inventory-report.json", _inventory_report(inventory, rows))
    write_vacancy(directory / "vacancy.csv", inventory.vacancy)
    return rows


def write_vacancy(path: Path, vacancy: pd.DataFrame) -> None:
    """Every site's declared and recomputed vacancy figures, ``;`` CSV like the CNIG files."""
    with open(path, "w", encoding=ENCODING, newline="") as out:
        writer = csv.writer(out, delimiter=DELIMITER, lineterminator=LINE_END)
        writer.writerow(list(vacancy.columns))
        for record in vacancy.itertuples(index=False, name=None):
            writer.writerow([_report_cell(value) for value in record])


def _report_cell(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "oui" if value else "non"
    if isinstance(value, float | int | np.number) and not is_missing(value):
        return cell(round(float(value), 2), _NUMBER)
    return "" if is_missing(value) else str(value)


def write_csv(path: Path, table: CnigTable) -> None:
    """The CNIG exchange CSV of one class."""
    specs = table.cnig_class.fields
    geometry = geojson_texts(table.geometry)
    with open(path, "w", encoding=ENCODING, newline="") as out:
        writer = csv.writer(out, delimiter=DELIMITER, lineterminator=LINE_END)
        writer.writerow([spec.name for spec in specs])
        for index, record in enumerate(table.values.itertuples(index=False, name=None)):
            values = dict(zip(table.values.columns, record, strict=True))
            writer.writerow(
                [
                    geometry[index]
                    if spec.name == table.cnig_class.geometry_field
                    else cell(values.get(spec.name), spec)
                    for spec in specs
                ]
            )


def cell(value: object, spec: CnigField) -> str:
    """One value as the CNIG CSV writes it."""
    if is_missing(value):
        return ""
    if spec.type == "date":
        return _date_text(value, spec.format or "%Y-%m-%d")
    if spec.type in ("number", "integer") and not isinstance(value, str):
        number = float(value)  # type: ignore[arg-type]
        if number.is_integer():
            return str(int(number))
        return np.format_float_positional(number, trim="-")
    return str(value)


def _date_text(value: object, fmt: str) -> str:
    try:
        date = as_date(value)
    except ValueError:
        return str(value).strip()  # already in the field's format (a year), or wrong
    return "" if date is None else date.strftime(fmt)


def geojson_texts(geometry: gpd.GeoSeries) -> list[str]:
    """RFC 7946 GeoJSON text of each geometry: lon/lat, 7 decimals, right-hand rule rings."""
    out = [""] * len(geometry)
    present = (geometry.notna() & ~geometry.is_empty).to_numpy()
    if not present.any():
        return out
    lonlat = geometry[present].to_crs(4326).to_numpy()
    rounded = shapely.transform(lonlat, lambda coords: np.round(coords, DIGITS))
    oriented = shapely.orient_polygons(rounded, exterior_cw=False)
    texts = shapely.to_geojson(oriented)
    for position, text in zip(np.flatnonzero(present), texts, strict=True):
        out[position] = str(text)
    return out


def write_geopackage(path: Path, tables: list[CnigTable]) -> None:
    """One layer per class, EPSG:2154, attributes typed as the CNIG SQL model (dates as text)."""
    for table in tables:
        cnig_class = table.cnig_class
        data = {
            spec.name: _typed(table.values[spec.name], spec)
            for spec in cnig_class.fields
            if spec.name != cnig_class.geometry_field
        }
        frame = gpd.GeoDataFrame(
            data,
            geometry=gpd.GeoSeries(table.geometry.to_numpy(), crs=2154),
            crs=2154,
        ).rename_geometry(cnig_class.geometry_field)
        frame.to_file(
            path,
            layer=cnig_class.layer_names[0],
            driver="GPKG",
            engine="pyogrio",
            geometry_type=_GEOMETRY_TYPES[table.name] if frame.empty else None,
            layer_options={"GEOMETRY_NAME": cnig_class.geometry_field},
        )


def _typed(series: pd.Series, spec: CnigField) -> pd.Series:
    if spec.type in ("number", "integer"):
        return pd.to_numeric(series, errors="coerce").astype("float64")
    return pd.Series([cell(v, spec) or None for v in series], index=series.index, dtype=object)


def _schema_file(cnig_class: CnigClass) -> dict[str, Any]:
    return {
        "name": cnig_class.schema_name,
        "title": f"Classe {cnig_class.name} du standard CNIG Sites Economiques",
        "version": "v1.0.1",
        "homepage": CNIG_HOME,
        **table_schema(cnig_class),
    }


def _datapackage(inventory: Inventory) -> dict[str, Any]:
    resources = [
        {
            "name": table.name,
            "path": f"{table.name}.csv",
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": ENCODING,
            "dialect": {"delimiter": DELIMITER},
            "schema": f"schemas/{table.name}.json",
            "sources": [
                {
                    "title": f"{STANDARD}, classe {table.cnig_class.name}",
                    "path": f"{CNIG_HOME}/blob/main/schema/{table.name}/schema.json",
                }
            ],
        }
        for table in inventory.tables
    ]
    return {
        "name": f"inventaire-zae-{inventory.mode}",
        "title": f"Inventaire des zones d'activité économique (art. L.318-8-2 CU) — "
        f"{_TITLES[inventory.mode]}",
        "description": _description(inventory),
        "profile": "tabular-data-package",
        "created": inventory.created.isoformat(),
        "sources": [{"title": STANDARD, "path": CNIG_HOME}],
        "resources": resources,
    }


def _description(inventory: Inventory) -> str:
    if inventory.mode == "internal":
        return (
            "Exemplaire interne: contient des données personnelles et des établissements non "
            "diffusibles (SIRENE). Ne pas publier; utiliser `atlas inventory export --publish`. "
            f"Géométries: aussi dans {GEOPACKAGE} (EPSG:2154)."
        )
    return (
        "Exemplaire de publication: données personnelles anonymisées (CRPA art. L.312-1-2, "
        "RGPD), établissements non diffusibles retirés (art. A123-96 code de commerce). "
        f"Géométries: aussi dans {GEOPACKAGE} (EPSG:2154)."
    )


def _inventory_report(inventory: Inventory, rows: dict[str, int]) -> dict[str, Any]:
    disagreements = inventory.disagreements
    return {
        "mode": inventory.mode,
        "created": inventory.created.isoformat(),
        "standard": STANDARD,
        "sources": inventory.sources,
        "rows": rows,
        "pole-eco": "not exported: the atlas stores no POLE-ECO class (pole_nom, "
        "pole_identif_date, pole_surface are required and unknown)",
        "anonymisation": inventory.anonymisation,
        "vacancy": {
            "rule": "art. L.318-8-2 CU: vacant units (terr_etat_occup 'vacant' or 'friche') over "
            "the site's land units (plots with terr_utile not 'non'); whole percents",
            "recomputed_sites": int(inventory.vacancy["recomputed"].sum()),
            "tolerance_points": 1.0,
            "disagreements": [
                {
                    "site_id": str(site_id),
                    "declared": float(declared),
                    "computed": round(float(computed), 2),
                }
                for site_id, declared, computed in disagreements.itertuples(index=False)
            ],
        },
        "notes": inventory.notes,
    }


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding=ENCODING)


# -- validation -----------------------------------------------------------------------------


def validate_csv(path: Path, schema: dict[str, Any]) -> Any:
    """The frictionless report of one CNIG CSV against a TableSchema descriptor."""
    from frictionless import Resource, Schema, formats

    resource = Resource(
        path=path.name,
        basepath=str(path.parent),
        schema=Schema.from_descriptor(schema),
        control=formats.CsvControl(delimiter=DELIMITER),
        encoding=ENCODING,
    )
    return resource.validate(limit_errors=sys.maxsize)


def validate_directory(directory: Path) -> dict[str, Any]:
    """Each CSV of an export against its class's TableSchema (the one embedded in the code)."""
    resources = []
    for name, cnig_class in RESOURCES.items():
        report = validate_csv(directory / f"{name}.csv", table_schema(cnig_class))
        task = report.tasks[0]
        resources.append(
            {
                "name": name,
                "path": f"{name}.csv",
                "valid": report.valid,
                "rows": task.stats.get("rows"),
                "errors": [_error(e) for e in task.errors[:200]],
                "error_count": len(task.errors),
            }
        )
    return {
        "valid": all(r["valid"] for r in resources),
        "validator": "frictionless",
        "standard": STANDARD,
        "resources": resources,
    }


def _error(error: Any) -> dict[str, Any]:
    return {
        "type": error.type,
        "row": getattr(error, "row_number", None),
        "field": getattr(error, "field_name", None),
        "message": error.message,
    }


def _first_errors(report: dict[str, Any]) -> str:
    """One line naming where the export breaks the schemas (rows and fields, never values)."""
    count = sum(r["error_count"] for r in report["resources"])
    first = (
        next(
            f"{r['path']} row {e['row']} {e['field'] or ''} {e['type']}".replace("  ", " ")
            for r in report["resources"]
            for e in r["errors"]
        )
        if count
        else "none listed"
    )
    return (
        f"the inventory does not validate against the CNIG schemas ({count} error(s); first: "
        f"{first}); nothing written"
    )
