"""Natural-hazard zones of a PPR (plan de prévention des risques), COVADIS/CNIG PPR standard.

The COVADIS "PPR naturels" géostandard (v1.0, 2012, CNIG) publishes the hazard map as the table
``N_ZONE_ALEA_PPRN_<gaspar>_S_<dept>`` next to the perimeter and the regulatory zoning; its
attributes are kept under their names. Two are derived for site selection:

- ``classe_alea``, an ordered class from ``nivalea_st``, the standard's normalised level
  (01 faible, 02 moyen, 03 moyen plus, 04 fort, 05 fort plus, 06 très fort, 07 très fort plus):
  0 nul, 1 faible (01), 2 moyen (02, 03), 3 fort (04, 05), 4 très fort (06, 07). When
  ``nivalea_st`` is empty, the free ``nivalea`` label (Fai, M, M+, F, F+, TF, TF+, or the words)
  is used; a level that is neither stays empty (unknown is not "no hazard").
- ``inondation``: the zone's GASPAR risk code (``coderisque``, 7 digits) is in the flood family
  11x0000 of the GASPAR nomenclature: 1100000 inondation, 1110000 par une crue (débordement de
  cours d'eau), 1120000 crue à débordement lent, 1130000 crue torrentielle ou à montée rapide,
  1140000 ruissellement et coulée de boue, 1150000 lave torrentielle, 1160000 remontées de nappes,
  1170000 submersion marine. A multirisk zone (9999999) does not say which hazards it mixes in a
  coded field, so its ``inondation`` is left empty rather than guessed from ``descript``.

Hazard maps are public documents (code de l'environnement art. L.562-3 and R.562-2: the PPR is
put to public inquiry and annexed to the PLU), so every field is public.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd

from atlas.errors import InvalidInput, ValidationFailed
from atlas.layers.base import FieldSpec, ReadOptions, ReadResult, VectorLayer
from atlas.layers.io import find_sources, list_layers, read_vector

_ZONE_ALEA = re.compile(r"n_zone_alea", re.I)
MULTIRISK = "9999999"
FLOOD_CODES = range(1_100_000, 1_200_000)  # GASPAR 11x0000: the "Inondation" family
# nivalea_st (COVADIS PPR standard, NiveauAleaStandard) -> ordered class.
CLASS_BY_STANDARD_LEVEL = {
    "00": 0,
    "01": 1,
    "02": 2,
    "03": 2,
    "04": 3,
    "05": 3,
    "06": 4,
    "07": 4,
}
# nivalea is free text in the standard: the abbreviations PPR maps use, and the words.
CLASS_BY_LABEL = {
    "nul": 0,
    "fai": 1,
    "faible": 1,
    "m": 2,
    "m+": 2,
    "moy": 2,
    "moyen": 2,
    "moyen plus": 2,
    "f": 3,
    "f+": 3,
    "fort": 3,
    "fort plus": 3,
    "tf": 4,
    "tf+": 4,
    "tres fort": 4,
    "tres fort plus": 4,
}
CLASS_LABELS = {0: "nul", 1: "faible", 2: "moyen", 3: "fort", 4: "très fort"}

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id_zone", "string", required=True, description="zone id"),
    FieldSpec("id_gaspar", "string", description="GASPAR id of the PPR procedure"),
    FieldSpec("descript", "string", description="hazard description / map codes"),
    FieldSpec("coderisque", "string", description="GASPAR risk code (7 digits)"),
    FieldSpec("nomrisque", "string", description="GASPAR risk label"),
    FieldSpec("multi_alea", "string", description="'oui' when the zone mixes hazards"),
    FieldSpec("nivalea", "string", description="hazard level as mapped (Fai, M, F, F+…)"),
    FieldSpec("nivalea_st", "string", description="standard hazard level code 01–07"),
    FieldSpec("srce_geom", "string", description="source of the geometry"),
    FieldSpec("srce_annee", "string", description="year of the source"),
    FieldSpec("precision", "string", description="geometric precision"),
    FieldSpec("titrecarte", "string", description="title of the map"),
    FieldSpec("datecarte", "date", description="date of the map"),
    FieldSpec("typecarte", "string", description="type of the map"),
    FieldSpec("nomfic", "string", description="file of the map"),
    FieldSpec("urlfic", "string", description="URL of the map"),
    FieldSpec(
        "classe_alea",
        "integer",
        description="derived class: 0 nul, 1 faible, 2 moyen, 3 fort, 4 très fort",
    ),
    FieldSpec("inondation", "boolean", description="derived: GASPAR flood family 11x0000"),
)
_NAMES = [f.name for f in FIELDS]
_SOURCE_NAMES = _NAMES[:-2]


def hazard_class(nivalea_st: object, nivalea: object) -> int | None:
    """The ordered class of a zone from its standard level, else from its label."""
    code = _text(nivalea_st)
    if code:
        code = code.zfill(2)
        if code in CLASS_BY_STANDARD_LEVEL:
            return CLASS_BY_STANDARD_LEVEL[code]
    label = _text(nivalea)
    if label:
        folded = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
        return CLASS_BY_LABEL.get(re.sub(r"\s+", " ", folded).strip())
    return None


def is_flood(coderisque: object) -> bool | None:
    """True for a GASPAR flood code (11x0000), None for multirisk or an unreadable code."""
    code = _text(coderisque)
    if not code or code == MULTIRISK or not code.isdigit():
        return None
    return int(code) in FLOOD_CODES


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def _zone_source(path: Path, options: ReadOptions) -> tuple[Path, str | None]:
    """The hazard-zone file (and layer) among the PPR files: the ``n_zone_alea_*`` one."""
    candidates = [path] if path.is_file() else find_sources(path)
    zones = candidates if path.is_file() else [p for p in candidates if _ZONE_ALEA.search(p.name)]
    if len(zones) != 1:
        found = ", ".join(p.name for p in candidates[:5]) or "nothing"
        raise InvalidInput(f"expected one n_zone_alea_* file of a PPR, found: {found}")
    source = zones[0]
    if options.layer or source.suffix.lower() != ".gpkg":
        return source, options.layer
    layers = [name for name in list_layers(source) if _ZONE_ALEA.search(name)]
    if len(layers) != 1:
        raise InvalidInput("the GeoPackage has no single n_zone_alea_* layer: give --layer")
    return source, layers[0]


def read_flood_hazard(path: Path, options: ReadOptions) -> ReadResult:
    """Read the PPR hazard zones (zip of shapefiles, GeoJSON, GeoPackage) and derive the classes."""
    source, layer = _zone_source(path, options)
    raw = read_vector(source, crs=options.crs, layer=layer).reset_index(drop=True)
    raw = raw.rename(columns={c: c.lower() for c in raw.columns if c != raw.geometry.name})
    if raw.empty:
        raise ValidationFailed(f"'{source.name}' has no features")
    if "id_zone" not in raw:
        raise InvalidInput(f"'{source.name}' has no id_zone field: not a PPR n_zone_alea table")
    frame = raw[[c for c in _SOURCE_NAMES if c in raw] + [raw.geometry.name]].copy()
    for name in ("id_zone", "coderisque", "nivalea_st", "srce_annee"):
        if name in frame:
            frame[name] = frame[name].map(_as_code).astype(object)
    if "nivalea_st" in frame:
        frame["nivalea_st"] = frame["nivalea_st"].map(lambda v: v.zfill(2) if v else v)
    frame["classe_alea"] = [
        hazard_class(st, lv)
        for st, lv in zip(_column(frame, "nivalea_st"), _column(frame, "nivalea"), strict=True)
    ]
    frame["inondation"] = [is_flood(code) for code in _column(frame, "coderisque")]
    notes = []
    unknown = int(pd.isna(frame["classe_alea"]).sum())
    if unknown:
        notes.append(f"{unknown} zones have no readable hazard level: classe_alea left empty")
    return ReadResult(frame=frame, notes=notes, rows_read=len(raw))


def _as_code(value: object) -> str | None:
    # Shapefile/GeoJSON may carry codes as numbers (id_zone 205, nivalea_st 4.0): keep the text.
    if isinstance(value, float) and value == value and value.is_integer():
        value = int(value)
    return _text(value)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series([None] * len(frame), index=frame.index)


LAYER = VectorLayer(
    collection_id="flood-hazard",
    title="Natural hazard zones (PPR)",
    description="Hazard zones of PPR maps with an ordered hazard class and a flood flag.",
    geometry_type="MultiPolygon",
    id_field="id_zone",
    fields=FIELDS,
    reader=read_flood_hazard,
    standard="COVADIS/CNIG géostandard PPR naturels (N_ZONE_ALEA_PPRN), GASPAR risk codes",
)
