"""Public services: INSEE BPE (Base permanente des équipements) geolocated records.

INSEE publishes the BPE as ``;``-separated CSV with the variables DEPCOM, DCIRIS, AN, TYPEQU,
LAMBERT_X, LAMBERT_Y, QUALITE_XY (and, from the 2023 edition, NOMRS, the name). The coordinates
are Lambert-93 (RGF93, EPSG:2154) in metropolitan France and UTM in the overseas departments,
which this Lambert-93 atlas does not store. QUALITE_XY is a label (Acceptable, Bonne, Mauvaise,
Non géolocalisé) or, in the variable dictionary, its code 0–3; a row "Non géolocalisé" or without
coordinates has no position and is rejected with that reason.

The BPE has no identifier: ``id`` is built from what locates one equipment — DEPCOM, TYPEQU, the
coordinates and the rank of the row among identical (DEPCOM, TYPEQU, x, y) rows, in file order —
hashed (SHA-1, 12 hex digits) behind a readable ``DEPCOM-TYPEQU-`` prefix. It does not depend on
the year (AN) nor on the row number, so an equipment that did not move keeps its id from one
edition to the next; two identical doctors in one building get ranks 1 and 2.
"""

from __future__ import annotations

import csv
import hashlib
import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from atlas.errors import InvalidInput
from atlas.layers import bpe_codes
from atlas.layers.base import (
    Classification,
    FieldSpec,
    ReadOptions,
    ReadResult,
    Rejection,
    VectorLayer,
)
from atlas.layers.io import assign_crs, read_text_file, single_source

QUALITE_XY = ("Acceptable", "Bonne", "Mauvaise", "Non géolocalisé")
_QUALITE_CODES = {"0": "Acceptable", "1": "Bonne", "2": "Mauvaise", "3": "Non géolocalisé"}
# Lambert-93 covers metropolitan France within these bounds (EPSG:2154 projected bounds, rounded
# out); a point outside is a swapped or overseas coordinate, not a French equipment.
_L93_BOUNDS = (-400_000.0, 6_000_000.0, 1_400_000.0, 7_200_000.0)
_OVERSEAS = ("97", "98")

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "id",
        "string",
        required=True,
        description="stable id built from DEPCOM, TYPEQU, position, rank",
    ),
    FieldSpec("DEPCOM", "string", required=True, description="INSEE code of the commune"),
    FieldSpec("DCIRIS", "string", description="commune + IRIS code"),
    FieldSpec("AN", "integer", description="edition (year) of the BPE"),
    FieldSpec("TYPEQU", "string", required=True, description="type of equipment (BPE code)"),
    FieldSpec("libelle_typequ", "string", description="INSEE label of TYPEQU; empty if unlisted"),
    FieldSpec("domaine", "string", enum=tuple(bpe_codes.DOMAINS), description="BPE domain letter"),
    FieldSpec("libelle_domaine", "string", description="label of the BPE domain"),
    FieldSpec("LAMBERT_X", "number", unit="m", description="easting, Lambert-93"),
    FieldSpec("LAMBERT_Y", "number", unit="m", description="northing, Lambert-93"),
    FieldSpec("QUALITE_XY", "string", enum=QUALITE_XY, description="quality of the position"),
    # NOMRS names the equipment; for a doctor, a nurse or a craftsman it is a natural person's
    # name (GDPR), so it is personal by default; the tier policy may open it per TYPEQU.
    FieldSpec("NOMRS", "string", Classification.PERSONAL, description="name (BPE 2023 onward)"),
)


def read_services(path: Path, options: ReadOptions) -> ReadResult:
    """Read a BPE CSV (``;`` or ``,``, UTF-8 or Windows-1252) into the services schema."""
    source = single_source(path, (".csv", ".txt"))
    table = _read_table(source)
    rejected: list[Rejection] = []
    keep = np.ones(len(table), dtype=bool)
    x = pd.to_numeric(table["LAMBERT_X"].str.replace(",", ".", regex=False), errors="coerce")
    y = pd.to_numeric(table["LAMBERT_Y"].str.replace(",", ".", regex=False), errors="coerce")
    labels = {value: _qualite(value) for value in table["QUALITE_XY"].unique()}
    table["QUALITE_XY"] = table["QUALITE_XY"].map(labels)
    checked_bounds = options.crs is None
    # Vectorised screen first (a national BPE has millions of rows); reasons only for the suspects.
    for index in np.flatnonzero(~_plainly_good(table, x, y, checked_bounds=checked_bounds)):
        row = table.iloc[index]
        reason = _row_problem(row, x[index], y[index], checked_bounds=checked_bounds)
        if reason:
            keep[index] = False
            rejected.append(
                Rejection(row=f"{index + 1} ({row['DEPCOM']} {row['TYPEQU']})", reason=reason)
            )
    rows_read = len(table)
    table, x, y = table[keep].copy(), x[keep], y[keep]
    table["LAMBERT_X"], table["LAMBERT_Y"] = x, y
    _derive(table)
    frame = gpd.GeoDataFrame(
        table[[f.name for f in FIELDS]].reset_index(drop=True),
        geometry=gpd.points_from_xy(x, y),
    )
    frame = assign_crs(frame, options.crs or "EPSG:2154", source_name=source.name)
    notes = (
        [] if options.crs else ["coordinates read as Lambert-93 (EPSG:2154), as INSEE documents"]
    )
    return ReadResult(frame=frame, rejected=rejected, notes=notes, rows_read=rows_read)


def _read_table(source: Path) -> pd.DataFrame:
    text = read_text_file(source)
    head = text.readline()
    text.seek(0)
    delimiter = ";" if head.count(";") >= head.count(",") else ","
    try:
        table = pd.read_csv(
            text, sep=delimiter, dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InvalidInput(f"'{source.name}' is not a readable BPE CSV: {str(exc)[:120]}") from exc
    table.columns = [str(c).strip().strip('"').upper() for c in table.columns]
    missing = [c for c in ("DEPCOM", "TYPEQU", "LAMBERT_X", "LAMBERT_Y") if c not in table.columns]
    if missing:
        raise InvalidInput(f"'{source.name}' lacks the BPE variables {', '.join(missing)}")
    for column in ("DCIRIS", "AN", "QUALITE_XY", "NOMRS"):
        if column not in table.columns:
            table[column] = ""
    for column in table.columns:
        table[column] = table[column].str.strip()
    return table.reset_index(drop=True)


def _qualite(value: str) -> str:
    """QUALITE_XY as INSEE's label, whether given as a label (any case/accents) or a code 0–3."""
    if value in _QUALITE_CODES:
        return _QUALITE_CODES[value]
    folded = _fold(value)
    for label in QUALITE_XY:
        if _fold(label) == folded:
            return label
    return value


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def _plainly_good(
    table: pd.DataFrame, x: pd.Series, y: pd.Series, *, checked_bounds: bool
) -> np.ndarray:
    """Rows that pass every check of :func:`_row_problem`, computed column-wise."""
    xmin, ymin, xmax, ymax = _L93_BOUNDS
    good = (
        table["TYPEQU"].str.match(bpe_codes.TYPEQU_PATTERN)
        & (table["QUALITE_XY"] != "Non géolocalisé")
        & ~table["DEPCOM"].str.startswith(_OVERSEAS)
        & np.isfinite(x)
        & np.isfinite(y)
    )
    if checked_bounds:
        good &= x.between(xmin, xmax) & y.between(ymin, ymax)
    return good.fillna(False).to_numpy(dtype=bool)


def _row_problem(row: pd.Series, x: float, y: float, *, checked_bounds: bool) -> str | None:
    """Why a BPE row cannot be kept, or None."""
    typequ = row["TYPEQU"]
    if not bpe_codes.is_typequ(typequ):
        return f"TYPEQU '{typequ[:12]}' is not a BPE code (a letter A-G and three digits)"
    if row["QUALITE_XY"] == "Non géolocalisé":
        return "QUALITE_XY is 'Non géolocalisé': the equipment has no position"
    if row["DEPCOM"].startswith(_OVERSEAS):
        return "overseas equipment: its UTM coordinates are outside this Lambert-93 atlas"
    if not (np.isfinite(x) and np.isfinite(y)):
        return "LAMBERT_X/LAMBERT_Y empty or not numbers: the equipment has no position"
    xmin, ymin, xmax, ymax = _L93_BOUNDS
    if checked_bounds and not (xmin <= x <= xmax and ymin <= y <= ymax):
        return f"LAMBERT_X/LAMBERT_Y ({x:.0f}, {y:.0f}) outside metropolitan Lambert-93"
    return None


def _derive(table: pd.DataFrame) -> None:
    """Add the stable id, the domain and the labels (in place)."""
    table["domaine"] = table["TYPEQU"].map(bpe_codes.domain_of)
    table["libelle_domaine"] = table["domaine"].map(bpe_codes.DOMAINS)
    table["libelle_typequ"] = table["TYPEQU"].map(bpe_codes.label_of)
    # Built as Python strings: on an empty table pandas would type the mapped columns int64,
    # and an Arrow string column refuses to be added to those.
    keys = pd.Series(
        [
            f"{depcom}|{typequ}|{x:.2f}|{y:.2f}"
            for depcom, typequ, x, y in zip(
                table["DEPCOM"],
                table["TYPEQU"],
                table["LAMBERT_X"],
                table["LAMBERT_Y"],
                strict=True,
            )
        ],
        index=table.index,
        dtype=object,
    )
    rank = keys.groupby(keys).cumcount() + 1
    digests = (keys + "|" + rank.astype(str)).map(
        lambda k: hashlib.sha1(k.encode(), usedforsecurity=False).hexdigest()[:12]
    )
    table["id"] = table["DEPCOM"] + "-" + table["TYPEQU"] + "-" + digests


LAYER = VectorLayer(
    collection_id="services",
    title="Public services and equipment",
    description="INSEE BPE equipment (services, shops, schools, health, transport, sport, tourism).",
    geometry_type="Point",
    id_field="id",
    fields=FIELDS,
    reader=read_services,
    standard="INSEE Base permanente des équipements (BPE)",
)
