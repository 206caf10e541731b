"""Drinking-water pipes: StaR-Eau ``aep_canalisation`` or RAEPA 1.2 ``RAEPA_CANALAEP_L``.

One schema under the StaR-Eau V2024 names, fed by either model; ``source_modele`` says which.
The diameter keeps the StaR-Eau name ``diametre_equivalent`` (mm; the equivalent diameter of a
non-circular section) and no other diameter field is exposed: DESIGN.md's ``diametre`` is the
RAEPA name, mapped into it. RAEPA service pipes (BRANCHEMNT = O) are skipped with a note:
StaR-Eau keeps branchements in a separate class (aep_canalisation_branchement), not a main.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from atlas.errors import InvalidInput
from atlas.layers import star_eau as se
from atlas.layers.base import Classification, FieldSpec, ReadOptions, ReadResult, VectorLayer

S = Classification.SENSITIVE
STAR_EAU_LAYER = "aep_canalisation"

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id_canalisation", "string", S, "pipe id", required=True),
    FieldSpec("id_aep_canalisation", "string", S, "producer's pipe reference"),
    FieldSpec("materiau", "string", S, "material (com_materiau)", enum=tuple(se.COM_MATERIAU)),
    FieldSpec("materiau_libelle", "string", S, "label of the material"),
    FieldSpec("diametre_equivalent", "integer", S, "equivalent diameter", unit="mm"),
    FieldSpec("an_pose_inf", "integer", S, "earliest year of laying"),
    FieldSpec("an_pose_sup", "integer", S, "latest year of laying"),
    FieldSpec("precision_xy", "string", S, "DT-DICT class A/B/C", enum=tuple(se.COM_PRECISION)),
    FieldSpec(
        "mode_circulation",
        "string",
        S,
        "flow mode (com_mode_circulation)",
        enum=tuple(se.COM_MODE_CIRCULATION),
    ),
    FieldSpec(
        "fonction_canalisation",
        "string",
        S,
        "function (aep_fonction_canalisation)",
        enum=tuple(se.AEP_FONCTION_CANALISATION),
    ),
    FieldSpec(
        "contenu_canalisation",
        "string",
        S,
        "water carried (aep_contenu_canalisation)",
        enum=tuple(se.AEP_CONTENU_CANALISATION),
    ),
    FieldSpec(
        "etat_service", "string", S, "status (com_etat_service)", enum=tuple(se.COM_ETAT_SERVICE)
    ),
    FieldSpec("insee_commune", "string", S, "INSEE code of the commune"),
    FieldSpec("maitre_ouvrage", "string", S, "owner (maître d'ouvrage)"),
    FieldSpec("exploitant", "string", S, "operator"),
    FieldSpec(
        "source_modele", "string", S, "StaR-Eau or RAEPA", required=True, enum=se.SOURCE_MODELS
    ),
)
_NAMES = [f.name for f in FIELDS]
_CODED = ("mode_circulation", "fonction_canalisation", "contenu_canalisation", "etat_service")


def read_water_pipes(path: Path, options: ReadOptions) -> ReadResult:
    """Read pipes from a StaR-Eau GeoPackage or a RAEPA shapefile/GeoJSON (or a directory)."""
    found = se.sources(path, "CANALAEP")
    if len(found) != 1:
        raise InvalidInput(f"several pipe tables found ({', '.join(p.name for p in found[:5])})")
    source = found[0]
    layer = options.layer
    if layer is None and source.suffix.lower() == ".gpkg":
        layers = se.gpkg_layers(source)
        layer = STAR_EAU_LAYER if STAR_EAU_LAYER in layers else None
    raw = se.read_table(source, crs=options.crs, layer=layer)
    if se.model_of(list(raw.columns)) == se.RAEPA:
        return _from_raepa(raw)
    return _from_star_eau(raw)


def _from_star_eau(raw: gpd.GeoDataFrame) -> ReadResult:
    raw = raw.rename(columns={c: str(c).lower() for c in raw.columns if c != raw.geometry.name})
    ids = se.text_column(raw, "id_canalisation")
    references = se.text_column(raw, "id_aep_canalisation")
    materiau = se.text_column(raw, "materiau", lower=True)
    columns = {
        "id_canalisation": ids.where(ids.notna(), references),
        "id_aep_canalisation": references,
        "materiau": materiau,
        "materiau_libelle": materiau.map(se.COM_MATERIAU.get),
        "diametre_equivalent": raw.get("diametre_equivalent"),
        "an_pose_inf": raw.get("an_pose_inf"),
        "an_pose_sup": raw.get("an_pose_sup"),
        "precision_xy": se.text_column(raw, "precision_xy").map(_upper),
        **{name: se.text_column(raw, name, lower=True) for name in _CODED},
        "insee_commune": se.text_column(raw, "insee_commune"),
        "maitre_ouvrage": se.text_column(raw, "maitre_ouvrage"),
        "exploitant": se.text_column(raw, "exploitant"),
        "source_modele": se.STAR_EAU,
    }
    # Code-list checks happen in conform() through each field's enum: the row and the reason.
    frame = gpd.GeoDataFrame(_present(columns), geometry=raw.geometry, crs=raw.crs)
    return ReadResult(frame=frame, rows_read=len(raw))


def _from_raepa(raw: gpd.GeoDataFrame) -> ReadResult:
    raw = raw.rename(columns={c: str(c).upper() for c in raw.columns if c != raw.geometry.name})
    service = se.text_column(raw, "BRANCHEMNT").map(_upper) == "O"
    notes = []
    if service.any():
        notes.append(f"{int(service.sum())} service pipes (BRANCHEMNT=O) skipped: not mains")
    rows_read = len(raw)
    raw = raw[~service.to_numpy()].reset_index(drop=True)
    bad: dict[int, str] = {}
    materiau = se.map_codes(raw, "MATERIAU", se.RAEPA_MATERIAU, bad)
    columns = {
        "id_canalisation": se.text_column(raw, "IDCANA"),
        "materiau": materiau,
        "materiau_libelle": materiau.map(se.COM_MATERIAU.get),
        "diametre_equivalent": raw.get("DIAMETRE"),
        "an_pose_inf": raw.get("ANDEBPOSE"),
        "an_pose_sup": raw.get("ANFINPOSE"),
        "precision_xy": se.map_codes(raw, "QUALGLOCXY", se.RAEPA_QUALGLOC, bad),
        "mode_circulation": se.map_codes(raw, "MODECIRC", se.RAEPA_MODECIRC, bad),
        "fonction_canalisation": se.map_codes(raw, "FONCCANAEP", se.RAEPA_FONCCANAEP, bad),
        "contenu_canalisation": se.map_codes(
            raw, "CONTCANAEP", se.RAEPA_CONTCANAEP, bad, extended=se.EXTENDED_CONTCANAEP
        ),
        "etat_service": se.map_codes(raw, "ENSERVICE", se.RAEPA_ENSERVICE, bad),
        "maitre_ouvrage": se.text_column(raw, "MOUVRAGE"),
        "exploitant": se.text_column(raw, "GEXPLOIT"),
        "source_modele": se.RAEPA,
    }
    frame = gpd.GeoDataFrame(_present(columns), geometry=raw.geometry, crs=raw.crs)
    frame, rejected = se.drop_bad(frame, bad, "id_canalisation")
    return ReadResult(frame=frame, rejected=rejected, notes=notes, rows_read=rows_read)


def _present(columns: dict[str, object]) -> dict[str, object]:
    # Optional fields a source does not carry are left out; conform() fills them with nulls.
    return {k: v for k, v in columns.items() if v is not None}


def _upper(value: object) -> str | None:
    return value.upper() if isinstance(value, str) else None


LAYER = VectorLayer(
    collection_id="water-pipes",
    title="Drinking-water pipes",
    description="Drinking-water mains (StaR-Eau / RAEPA): material, diameter, age, precision.",
    geometry_type="MultiLineString",
    id_field="id_canalisation",
    fields=FIELDS,
    reader=read_water_pipes,
    standard="StaR-Eau V2024 (Astee/CNIG) aep_canalisation; CNIG/COVADIS RAEPA 1.2 CANALAEP",
    geometry_classification=S,
    min_zoom=10,  # the demo network at z10: ~5,400 mains, 450 kB with every field
)
