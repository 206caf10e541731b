"""Cadastral parcels: Etalab cadastre GeoJSON and DGFiP PCI vecteur EDIGÉO sheets.

Etalab (cadastre.data.gouv.fr, "parcelles") publishes GeoJSON, often gzipped, with the fields
``id, commune, prefixe, section, numero, contenance, arpente, created, updated``; ``id`` is the
14-character parcel reference (commune 5 + prefixe 3 + section 2 + numero 4). EDIGÉO sheets are
read through GDAL's EDIGEO driver (layer ``PARCELLE_id``; where the GDAL build lacks that
driver, EDIGÉO input is refused with a clear error) and mapped to the Etalab names: IDU
(12 characters, commune without its département) gives prefixe/section/numero — section and
numero written as Etalab writes them, without leading zeros ('0A' -> 'A', '0033' -> '33'),
while the id keeps them — and SUPF (the fiscal area) gives ``contenance``. The département is
not written in the sheet: it comes from the sheet's published name (``edigeo-740240000A01`` →
74024) found in the archive or directory name (io.unpacked names its directory after the archive).

Neither source holds owners. The internal tier of the atlas may add them from the fichiers
fonciers (MAJIC, owners that are legal entities): ``proprietaire`` (or MAJIC's ``ddenom``) is kept
when the input has it and stays empty otherwise; it is personal data.
"""

from __future__ import annotations

import re
from pathlib import Path
from tempfile import TemporaryDirectory

import geopandas as gpd
import pandas as pd
import pyogrio

from atlas.errors import InvalidInput
from atlas.layers.base import (
    Classification,
    FieldSpec,
    ReadOptions,
    ReadResult,
    Rejection,
    VectorLayer,
)
from atlas.layers.io import (
    VECTOR_SUFFIXES,
    find_sources,
    gunzip,
    is_archive,
    read_vector,
    single_source,
    unpacked,
)

# Commune (2 + 3, Corsica 2A/2B), prefixe 3, section 2, numero 4: the CNIG terr_refcad pattern
# extended to Corsica.
PARCEL_ID = re.compile(r"^(?:[0-9]{2}|2A|2B)[0-9]{3}[0-9]{3}[0-9A-Z]{2}[0-9]{4}$")
_SHEET_NAME = re.compile(
    r"(?<![0-9A-Z])((?:[0-9]{2}|2A|2B)[0-9]{3})[0-9]{3}[0-9A-Z]{2}[0-9]{2}(?![0-9])"
)
_INSEE_DIR = re.compile(r"^((?:[0-9]{2}|2A|2B)[0-9]{3})$")
_SOURCES = VECTOR_SUFFIXES + (".json.gz", ".geojson.gz")
_BUSINESS, _INTERNAL = Classification.BUSINESS, Classification.INTERNAL
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "id", "string", _BUSINESS, required=True, description="parcel reference, 14 characters"
    ),
    FieldSpec(
        "commune", "string", _INTERNAL, required=True, description="INSEE code of the commune"
    ),
    FieldSpec(
        "prefixe",
        "string",
        _INTERNAL,
        required=True,
        description="prefix (former commune), 3 chars",
    ),
    FieldSpec(
        "section",
        "string",
        _INTERNAL,
        required=True,
        description="cadastral section (no leading 0)",
    ),
    FieldSpec(
        "numero", "string", _INTERNAL, required=True, description="parcel number (no leading 0)"
    ),
    FieldSpec("contenance", "integer", _BUSINESS, unit="m2", description="legal (fiscal) area"),
    FieldSpec("arpente", "boolean", _INTERNAL, description="area surveyed (arpentée)"),
    FieldSpec("created", "date", _INTERNAL, description="creation date in the PCI"),
    FieldSpec("updated", "date", _INTERNAL, description="last update in the PCI"),
    FieldSpec(
        "proprietaire",
        "string",
        Classification.PERSONAL,
        description="owner (fichiers fonciers/MAJIC, legal entities); empty in the open data",
    ),
    # Derived at ingest (atlas.derive), not read: the activity site whose plots list the parcel
    # in terr_refcad. Partners see which parcels make up a park (DESIGN: "id, area, site").
    FieldSpec(
        "site_id",
        "string",
        _BUSINESS,
        description="activity site whose plots list this parcel in terr_refcad (derived)",
    ),
)
_NAMES = [f.name for f in FIELDS if f.name != "site_id"]


def read_parcels(path: Path, options: ReadOptions) -> ReadResult:
    """Read Etalab cadastre parcels (GeoJSON, .json.gz) or an EDIGÉO sheet (THF, tar.bz2, dir)."""
    if is_archive(path):
        with unpacked(path) as directory:
            return _read_unpacked(directory, options, name_hint=path)
    return _read_unpacked(path, options, name_hint=path)


def _read_unpacked(path: Path, options: ReadOptions, *, name_hint: Path) -> ReadResult:
    if path.is_dir():
        sheets = find_sources(path, (".thf",))
        if sheets:
            return read_edigeo(sheets, options, name_hint=name_hint)
        path = single_source(path, _SOURCES)
    if path.name.lower().endswith(".thf"):
        return read_edigeo([path], options, name_hint=name_hint)
    if path.name.lower().endswith(".gz"):
        with TemporaryDirectory(prefix="atlas-gunzip-") as tmp:
            return read_etalab(gunzip(path, Path(tmp)), options)
    return read_etalab(path, options)


def read_etalab(path: Path, options: ReadOptions) -> ReadResult:
    """Read an Etalab cadastre "parcelles" file (or any vector file with the Etalab names)."""
    frame = read_vector(path, crs=options.crs, layer=options.layer)
    frame = frame.rename(columns={c: c.lower() for c in frame.columns if c != "geometry"})
    if "proprietaire" not in frame and "ddenom" in frame:
        frame = frame.rename(columns={"ddenom": "proprietaire"})
    if "id" not in frame and {"commune", "prefixe", "section", "numero"} <= set(frame.columns):
        frame["id"] = frame["commune"] + frame["prefixe"] + frame["section"] + frame["numero"]
    if "id" not in frame:
        raise InvalidInput(
            f"'{path.name}' has no parcel 'id' (Etalab cadastre field names expected)"
        )
    return _check_ids(frame)


def _check_ids(frame: gpd.GeoDataFrame) -> ReadResult:
    """Keep the rows whose id is a parcel reference; fill commune…numero from it when absent."""
    frame = frame.reset_index(drop=True)
    ids = frame["id"].astype("string").str.strip()
    valid = ids.str.match(PARCEL_ID).fillna(False).astype(bool)
    rejected = [
        Rejection(
            row=f"{i + 1} ({str(ids[i])[:20]})", reason="id is not a 14-character parcel reference"
        )
        for i in valid[~valid].index
    ]
    frame = frame[valid.to_numpy()].copy()
    frame["id"] = ids[valid]
    parts = {"commune": (0, 5), "prefixe": (5, 8), "section": (8, 10), "numero": (10, 14)}
    for name, (start, end) in parts.items():
        from_id = frame["id"].str.slice(start, end)
        if name in ("section", "numero"):
            from_id = from_id.map(_unpadded)
        frame[name] = frame[name].where(frame[name].notna(), from_id) if name in frame else from_id
    columns = [c for c in _NAMES if c in frame.columns]
    out = gpd.GeoDataFrame(frame[columns], geometry=frame.geometry, crs=frame.crs)
    return ReadResult(frame=out.reset_index(drop=True), rejected=rejected, rows_read=len(valid))


def read_edigeo(sheets: list[Path], options: ReadOptions, *, name_hint: Path) -> ReadResult:
    """Read the PARCELLE_id layer of EDIGÉO sheets (GDAL's EDIGEO driver) into Etalab names."""
    if "EDIGEO" not in pyogrio.list_drivers():
        raise InvalidInput("EDIGÉO is not supported here: this GDAL build has no EDIGEO driver")
    frames = [_read_sheet(sheet, options, name_hint) for sheet in sheets]
    frame = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    result = _check_ids(frame)
    result.notes.append(f"EDIGÉO: {len(sheets)} sheet(s), layer PARCELLE_id, contenance from SUPF")
    return result


def _read_sheet(sheet: Path, options: ReadOptions, name_hint: Path) -> gpd.GeoDataFrame:
    raw = read_vector(sheet, crs=options.crs, layer="PARCELLE_id")
    if raw.crs is not None and raw.crs.to_epsg() == 2154:
        raw = raw.set_crs(2154, allow_override=True)  # GDAL names it IGNF:LAMB93; same CRS
    idu = raw["IDU"].astype("string").str.strip()
    commune = _sheet_commune(sheet, name_hint, idu)
    out = gpd.GeoDataFrame(
        {
            "id": commune[:2] + idu,
            "commune": commune,
            "prefixe": idu.str.slice(3, 6),
            "section": idu.str.slice(6, 8).map(_unpadded),
            "numero": idu.str.slice(8, 12).map(_unpadded),
            "contenance": raw["SUPF"].round(),
            "created": raw["CREAT_DATE"].map(_edigeo_date) if "CREAT_DATE" in raw else None,
            "updated": raw["UPDATE_DATE"].map(_edigeo_date) if "UPDATE_DATE" in raw else None,
        },
        geometry=raw.geometry,
        crs=raw.crs,
    )
    return out


def _sheet_commune(sheet: Path, name_hint: Path, idu: pd.Series) -> str:
    """The commune INSEE code of a sheet, from its published name; its last 3 digits are IDU's."""
    local = idu.dropna().str.slice(0, 3).mode()
    if local.empty:
        raise InvalidInput(f"EDIGÉO sheet '{sheet.name}' has no parcel with an IDU")
    candidates: list[str] = []
    for part in reversed((*name_hint.parts, *sheet.parts)):
        candidates += _SHEET_NAME.findall(part.upper())
        candidates += _INSEE_DIR.findall(part.upper())
    for code in candidates:
        if code[2:] == local.iloc[0]:
            return code
    raise InvalidInput(
        "EDIGÉO does not name the département: give the sheet under its published name "
        f"(edigeo-DDCCC….tar.bz2, commune …{local.iloc[0]}) or in a directory named so"
    )


def _unpadded(part: object) -> object:
    """Section and numero as Etalab writes them, without leading zeros ('0A' -> 'A', '0037' -> '37')."""
    if not isinstance(part, str):
        return part
    return part.lstrip("0") or "0"


def _edigeo_date(value: object) -> str | None:
    """EDIGÉO dates are YYYYMMDD integers."""
    text = str(value).strip() if value is not None else ""
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if re.fullmatch(r"[0-9]{8}", text) else None


LAYER = VectorLayer(
    collection_id="parcels",
    title="Cadastral parcels",
    description="Parcels of the cadastre (PCI): reference, legal area; owners internal only.",
    geometry_type="MultiPolygon",
    id_field="id",
    fields=FIELDS,
    reader=read_parcels,
    standard="Etalab cadastre (PCI vecteur, DGFiP); EDIGÉO",
    # Parcels are not public (DESIGN tier table); partners see their outline with id and area.
    geometry_classification=Classification.BUSINESS,
    # 41,000 demo parcels: a z13 tile holds up to ~4,800 of them (440 kB with every field).
    min_zoom=13,
)
