"""Establishments: the CNIG Sites économiques class ETABLISSEMENT (one feature per SIRET).

CNIG writes ``etab_geompoint`` as a GeoJSON MultiPoint (an establishment may have several
entrances or buildings). DESIGN: the public sees the name, activity and headcount band of a
publicly listed business; partners (b2b) also see its business contact; staff see all.
"""

from __future__ import annotations

from pathlib import Path

from atlas.layers.base import ReadOptions, ReadResult, VectorLayer
from atlas.layers.cnig import ETABLISSEMENT, STANDARD, field_specs
from atlas.layers.cnig_read import read_cnig

FIELDS = field_specs(ETABLISSEMENT)


def read_establishments(path: Path, options: ReadOptions) -> ReadResult:
    """Read CNIG ETABLISSEMENT rows (CSV ``;`` with GeoJSON text, GeoJSON, GeoPackage)."""
    return read_cnig(path, options, ETABLISSEMENT)


LAYER = VectorLayer(
    collection_id="establishments",
    title="Establishments",
    description="Businesses located in the activity parks (CNIG ETABLISSEMENT).",
    geometry_type="MultiPoint",
    id_field="SIRET",
    fields=FIELDS,
    reader=read_establishments,
    standard=STANDARD + ", class ETABLISSEMENT",
)
