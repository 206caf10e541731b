"""Drinking-water structures and fittings: StaR-Eau point classes or RAEPA 1.2 OUVRAEP/APPARAEP.

StaR-Eau has one class per kind (aep_reservoir, aep_pompage, aep_traitement, aep_captage,
aep_vanne, aep_appareillage, aep_regulation, aep_point_mesure); a GeoPackage yields all of them,
each row tagged with ``type_ouvrage`` (the class name without ``aep_``) and ``sous_type`` (the
class's own type or function code: type_reservoir, fonction_pompage…). RAEPA 1.2 has two classes,
ouvrages (FNOUVAEP) and appareillages (FNAPPAEP), whose codes are mapped to the same two fields;
``type_libelle`` keeps the RAEPA label where StaR-Eau has no code for it (hydrant, branchement).
Ids: the producer's ``id_aep_<class>``, else ``<class>-<id_noeud_reseau>``; RAEPA IDOUVRAGE or
IDAPPAREIL.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from atlas.errors import InvalidInput, ValidationFailed
from atlas.layers import star_eau as se
from atlas.layers.base import (
    Classification,
    FieldSpec,
    ReadOptions,
    ReadResult,
    VectorLayer,
)
from atlas.layers.io import find_sources

S = Classification.SENSITIVE

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id_ouvrage", "string", S, "structure id", required=True),
    FieldSpec(
        "type_ouvrage", "string", S, "StaR-Eau class", required=True, enum=se.STRUCTURE_TYPES
    ),
    FieldSpec("sous_type", "string", S, "type or function code within the class"),
    FieldSpec("type_libelle", "string", S, "label of the type"),
    FieldSpec("nom_usuel", "string", S, "usual name"),
    FieldSpec("diametre", "number", S, "nominal diameter", unit="mm"),
    FieldSpec(
        "etat_service", "string", S, "status (com_etat_service)", enum=tuple(se.COM_ETAT_SERVICE)
    ),
    FieldSpec("insee_commune", "string", S, "INSEE code of the commune"),
    FieldSpec("maitre_ouvrage", "string", S, "owner (maître d'ouvrage)"),
    FieldSpec("exploitant", "string", S, "operator"),
    FieldSpec("precision_xy", "string", S, "DT-DICT class A/B/C", enum=tuple(se.COM_PRECISION)),
    FieldSpec("an_pose_inf", "integer", S, "earliest year of laying"),
    FieldSpec("an_pose_sup", "integer", S, "latest year of laying"),
    FieldSpec(
        "source_modele", "string", S, "StaR-Eau or RAEPA", required=True, enum=se.SOURCE_MODELS
    ),
)
_NAMES = [f.name for f in FIELDS]
_LAYER_TO_TYPE = {layer: kind for kind, (layer, _, _) in se.STRUCTURE_LAYERS.items()}


def read_water_structures(path: Path, options: ReadOptions) -> ReadResult:
    """Read structures from a StaR-Eau GeoPackage (all classes) or RAEPA shapefiles/GeoJSON."""
    tables = list(_tables(path, options))
    if not tables:
        raise InvalidInput("no StaR-Eau structure layer nor RAEPA OUVRAEP/APPARAEP table found")
    frames, rejected, rows = [], [], 0
    for source, layer in tables:
        raw = se.read_vector_or_empty(source, crs=options.crs, layer=layer)
        if raw.empty:
            continue
        rows += len(raw)
        frame, bad = _convert(raw, layer or source.stem)
        frame, dropped = se.drop_bad(frame, bad, "id_ouvrage", prefix=f"{layer or source.name}:")
        frames.append(frame)
        rejected.extend(dropped)
    if not rows:
        raise ValidationFailed("the structure tables have no features: nothing to ingest")
    kept = [f for f in frames if not f.empty]
    crs = next((f.crs for f in frames if f.crs is not None), None)
    merged = pd.concat(kept, ignore_index=True) if kept else frames[0]
    frame = gpd.GeoDataFrame(merged, geometry="geometry", crs=crs)
    return ReadResult(frame=frame, rejected=rejected, rows_read=rows)


def _tables(path: Path, options: ReadOptions) -> list[tuple[Path, str | None]]:
    """(file, layer) pairs to read: StaR-Eau classes of a GeoPackage, or RAEPA files."""
    files = [path] if path.is_file() else find_sources(path)
    raepa = [p for p in files if any(k in p.name.upper() for k in ("OUVRAEP", "APPARAEP"))]
    if not path.is_file() and raepa:
        return [(p, None) for p in raepa]
    packages = [p for p in files if p.suffix.lower() == ".gpkg"]
    if options.layer:
        return [(f, options.layer) for f in files[:1]]
    if packages:
        layers = set(se.gpkg_layers(packages[0]))
        return [(packages[0], name) for name in _LAYER_TO_TYPE if name in layers]
    return [(f, None) for f in files] if len(files) == 1 else []


def _convert(raw: gpd.GeoDataFrame, table: str) -> tuple[gpd.GeoDataFrame, dict[int, str]]:
    if se.model_of(list(raw.columns)) == se.RAEPA:
        return _from_raepa(raw)
    return _from_star_eau(raw, table)


def _star_eau_type(raw: pd.DataFrame, table: str) -> str:
    if table.lower() in _LAYER_TO_TYPE:
        return _LAYER_TO_TYPE[table.lower()]
    for kind, (layer, _, _) in se.STRUCTURE_LAYERS.items():
        if f"id_{layer}" in raw.columns:
            return kind
    raise InvalidInput(f"'{table}' is not a StaR-Eau structure class: give --layer aep_<class>")


def _from_star_eau(raw: gpd.GeoDataFrame, table: str) -> tuple[gpd.GeoDataFrame, dict[int, str]]:
    raw = raw.rename(columns={c: str(c).lower() for c in raw.columns if c != raw.geometry.name})
    kind = _star_eau_type(raw, table)
    layer, subtype_field, codes = se.STRUCTURE_LAYERS[kind]
    references = se.text_column(raw, f"id_{layer}")
    nodes = se.text_column(raw, "id_noeud_reseau").map(lambda v: f"{layer}-{v}" if v else None)
    subtype = se.text_column(raw, subtype_field, lower=True)
    bad: dict[int, str] = {}
    for index, value in subtype.items():
        if value is not None and value not in codes:
            bad[int(index)] = f"{subtype_field}: '{value[:20]}' is not in the StaR-Eau code list"
    columns = {
        "id_ouvrage": references.where(references.notna(), nodes),
        "type_ouvrage": kind,
        "sous_type": subtype,
        "type_libelle": subtype.map(codes.get),
        "nom_usuel": se.text_column(raw, "nom_usuel"),
        "diametre": raw.get("diametre"),
        "etat_service": se.text_column(raw, "etat_service", lower=True),
        "insee_commune": se.text_column(raw, "insee_commune"),
        "maitre_ouvrage": se.text_column(raw, "maitre_ouvrage"),
        "exploitant": se.text_column(raw, "exploitant"),
        "precision_xy": se.text_column(raw, "precision_xy").map(_upper),
        "an_pose_inf": raw.get("an_pose_inf"),
        "an_pose_sup": raw.get("an_pose_sup"),
        "source_modele": se.STAR_EAU,
    }
    return _frame(columns, raw), bad


def _from_raepa(raw: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[int, str]]:
    raw = raw.rename(columns={c: str(c).upper() for c in raw.columns if c != raw.geometry.name})
    bad: dict[int, str] = {}
    if "FNOUVAEP" in raw:
        ident, table = se.text_column(raw, "IDOUVRAGE"), se.RAEPA_FNOUVAEP
        codes = se.map_codes(raw, "FNOUVAEP", _keys(table), bad, extended=se.EXTENDED_FNOUVAEP)
    else:
        ident, table = se.text_column(raw, "IDAPPAREIL"), se.RAEPA_FNAPPAEP
        codes = se.map_codes(raw, "FNAPPAEP", _keys(table), bad, extended=se.EXTENDED_FNAPPAEP)
    # A structure without a function code is "indéterminé" (00) in RAEPA.
    mapped = codes.map(lambda c: table.get(c or "00"))
    columns = {
        "id_ouvrage": ident,
        "type_ouvrage": mapped.map(lambda t: t[0]),
        "sous_type": mapped.map(lambda t: t[1]),
        "type_libelle": mapped.map(lambda t: t[2]),
        "diametre": raw.get("DIAMETRE"),
        "maitre_ouvrage": se.text_column(raw, "MOUVRAGE"),
        "exploitant": se.text_column(raw, "GEXPLOIT"),
        "precision_xy": se.map_codes(raw, "QUALGLOCXY", se.RAEPA_QUALGLOC, bad),
        "an_pose_inf": raw.get("ANDEBPOSE"),
        "an_pose_sup": raw.get("ANFINPOSE"),
        "source_modele": se.RAEPA,
    }
    return _frame(columns, raw), bad


def _frame(columns: dict[str, object], raw: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    present = {k: v for k, v in columns.items() if v is not None}
    frame = gpd.GeoDataFrame(present, geometry=raw.geometry.values, crs=raw.crs)
    return frame.rename_geometry("geometry") if frame.geometry.name != "geometry" else frame


def _keys(table: Mapping[str, object]) -> dict[str, str]:
    return {code: code for code in table}


def _upper(value: object) -> str | None:
    return value.upper() if isinstance(value, str) else None


LAYER = VectorLayer(
    collection_id="water-structures",
    title="Drinking-water structures",
    description="Reservoirs, pumping and treatment stations, intakes, valves and fittings.",
    geometry_type="Point",
    id_field="id_ouvrage",
    fields=FIELDS,
    reader=read_water_structures,
    standard="StaR-Eau V2024 (Astee/CNIG) AEP point classes; CNIG/COVADIS RAEPA 1.2 OUVRAEP/APPARAEP",
    geometry_classification=S,
)
