"""Establishments: the CNIG Sites économiques class ETABLISSEMENT (one feature per SIRET).

CNIG writes ``etab_geompoint`` as a GeoJSON MultiPoint (an establishment may have several
entrances or buildings). DESIGN: the public sees the name, activity and headcount band of a
publicly listed business; partners (b2b) also see its business contact; staff see all.
"""

from __future__ import annotations

from pathlib import Path

from atlas.layers.base import ReadOptions, ReadResult, TierGrant, VectorLayer
from atlas.layers.cnig import ETABLISSEMENT, STANDARD, field_specs
from atlas.layers.cnig_read import read_cnig

FIELDS = field_specs(ETABLISSEMENT)


def read_establishments(path: Path, options: ReadOptions) -> ReadResult:
    """Read CNIG ETABLISSEMENT rows (CSV ``;`` with GeoJSON text, GeoJSON, GeoPackage)."""
    return read_cnig(path, options, ETABLISSEMENT)


# Only establishments whose SIRENE record is diffusible reach anyone outside the staff: an
# objection to publication (status 'P', art. A123-96 code de commerce) binds every re-user.
_DIFFUSIBLE = (("statutDiffusionEtablissement", "=", "O"),)
# The public sees who is there and what they do (DESIGN: name, activity, size band). Not
# terr_id: an occupied plot is off the market, so hidden from the public, and its id with it.
PUBLIC_FIELDS = (
    "SIRET",
    "SIREN",
    "etab_raison_sociale",
    "etab_nom",
    "comm_nom",
    "comm_insee",
    "epci_nom",
    "epci_siren",
    "etab_activite_code",
    "etab_activite_libelle",
    "etab_effectif_code",
    "etab_effectif_libelle",
)
PUBLIC_TOLERANCE_M = 50.0

LAYER = VectorLayer(
    collection_id="establishments",
    title="Establishments",
    description="Businesses located in the activity parks (CNIG ETABLISSEMENT).",
    geometry_type="MultiPoint",
    id_field="SIRET",
    fields=FIELDS,
    reader=read_establishments,
    standard=STANDARD + ", class ETABLISSEMENT",
    grants={
        "public": TierGrant(
            fields=PUBLIC_FIELDS,
            rows=_DIFFUSIBLE,
            # A sole trader's establishment may be their home: the public map places a
            # business within its park, not at a door.
            geometry="generalised",
            tolerance_m=PUBLIC_TOLERANCE_M,
            reason="diffusible SIRENE records only; name, activity, size band; 50 m positions",
        ),
        "b2b": TierGrant(rows=_DIFFUSIBLE, reason="diffusible SIRENE records only"),
    },
)
