"""Protection perimeters around historic monuments: the 500 m "abords" and delimited PDA.

Code du patrimoine art. L.621-30: the abords of a monument historique are, by default, the
buildings within 500 m of it that are in co-visibility with it; art. L.621-31 lets a périmètre
délimité des abords (PDA) replace that circle. Co-visibility cannot be computed from the open
data, so the derived circle is flagged ``indicatif`` (it bounds the area where the rule may apply,
it is not the legal assiette); a supplied PDA is the legal perimeter and replaces the circle of
every monument it names.

The layer's reader reads PDA polygons (GeoJSON, GeoPackage, Shapefile) carrying the Mérimée
reference(s) of their monument(s); :func:`derive_abords` is what ingest runs when monuments are
ingested.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd

from atlas.errors import InvalidInput
from atlas.layers.base import FieldSpec, ReadOptions, ReadResult, Rejection, VectorLayer
from atlas.layers.io import read_vector, single_source
from atlas.types import STORAGE_CRS

ABORDS_RADIUS_M = 500.0  # code du patrimoine art. L.621-30 II
ABORDS = "abords 500 m (indicatif)"
PDA = "PDA"
ABORDS_SOURCE = "derived: 500 m around the monument (code du patrimoine art. L.621-30)"

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("perimetre_id", "string", required=True, description="perimeter id"),
    FieldSpec("reference", "string", required=True, description="Mérimée reference(s), ' ; '"),
    FieldSpec("type_perimetre", "string", required=True, enum=(ABORDS, PDA), description="kind"),
    FieldSpec("indicatif", "boolean", description="true for the derived 500 m circle"),
    FieldSpec("titre_editorial_de_la_notice", "string", description="monument's title"),
    FieldSpec("source", "string", description="where the perimeter comes from"),
)
_NAMES = [f.name for f in FIELDS]
# Column names that carry the monument reference in PDA files (case-insensitive).
_REFERENCE_COLUMNS = (
    "reference",
    "ref_merimee",
    "reference_merimee",
    "refmerimee",
    "ref_mh",
    "ref",
)
_ID_COLUMNS = ("perimetre_id", "id_pda", "idass", "id")


def derive_abords(
    monuments: gpd.GeoDataFrame, pda: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """The 500 m abords of each protected monument, replaced by the PDA covering it when given."""
    if monuments.crs is None:
        raise InvalidInput("monuments carry no CRS")
    points = monuments.to_crs(STORAGE_CRS)
    if "protection" in points:
        # Only immeubles classés or inscrits generate abords (art. L.621-30 I).
        points = points[points["protection"].notna()]
    titles = points.get(
        "titre_editorial_de_la_notice", pd.Series([None] * len(points), index=points.index)
    )
    circles = gpd.GeoDataFrame(
        {
            "perimetre_id": "abords-" + points["reference"].astype(str),
            "reference": points["reference"].astype(str),
            "type_perimetre": ABORDS,
            "indicatif": True,
            "titre_editorial_de_la_notice": titles,
            "source": ABORDS_SOURCE,
        },
        # 32 segments a quarter: the polygon's area is within 0.05 % of the circle's.
        geometry=points.geometry.buffer(ABORDS_RADIUS_M, quad_segs=32),
        crs=STORAGE_CRS,
    ).reset_index(drop=True)
    return circles if pda is None else apply_pda(circles, pda)


def apply_pda(abords: gpd.GeoDataFrame, pda: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Replace the circles of the monuments a PDA names by that PDA (art. L.621-31)."""
    covered = {ref for refs in pda["reference"] for ref in split_references(refs)}
    kept = abords[~abords["reference"].isin(covered)]
    pda = pda.to_crs(STORAGE_CRS)
    if pda.geometry.name != "geometry":
        pda = pda.rename_geometry("geometry")
    merged = pd.concat([kept, pda[[*_NAMES, "geometry"]]], ignore_index=True)
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=STORAGE_CRS)


def split_references(value: object) -> list[str]:
    """The Mérimée references in a cell ('PA00088001 ; PA00088002', commas, pipes, spaces)."""
    if not isinstance(value, str):
        return []
    return [r for r in re.split(r"[\s;,|/]+", value.upper()) if r]


def read_pda(path: Path, options: ReadOptions) -> ReadResult:
    """Read PDA polygons with the Mérimée reference(s) of the monument(s) they delimit."""
    source = single_source(path)
    raw = read_vector(source, crs=options.crs, layer=options.layer).reset_index(drop=True)
    columns = {c.lower(): c for c in raw.columns if c != raw.geometry.name}
    ref_column = next((columns[c] for c in _REFERENCE_COLUMNS if c in columns), None)
    if ref_column is None:
        raise InvalidInput(
            f"'{source.name}' has no monument reference field (one of {', '.join(_REFERENCE_COLUMNS)})"
        )
    id_column = next((columns[c] for c in _ID_COLUMNS if c in columns), None)
    refs = raw[ref_column].map(split_references)
    rejected = [
        Rejection(row=str(i + 1), reason=f"{ref_column} is empty: the PDA names no monument")
        for i in refs.index
        if not refs[i]
    ]
    keep = refs.map(bool).to_numpy()
    raw, refs = raw[keep], refs[keep]
    frame = gpd.GeoDataFrame(
        {
            "perimetre_id": raw[id_column].astype(str) if id_column else refs.map(_pda_id),
            "reference": refs.map(" ; ".join),
            "type_perimetre": PDA,
            "indicatif": False,
            "titre_editorial_de_la_notice": _optional(raw, columns, "titre_editorial_de_la_notice"),
            "source": _optional(raw, columns, "source").fillna(f"PDA file {source.name}"),
        },
        geometry=raw.geometry,
        crs=raw.crs,
    ).reset_index(drop=True)
    return ReadResult(frame=frame, rejected=rejected, rows_read=len(keep))


def _optional(raw: gpd.GeoDataFrame, columns: dict[str, str], name: str) -> pd.Series:
    if name in columns:
        return raw[columns[name]].astype(object)
    return pd.Series([None] * len(raw), index=raw.index, dtype=object)


def _pda_id(refs: list[str]) -> str:
    """'PDA-<first reference>', plus a short hash of all of them when the PDA names several."""
    if len(refs) == 1:
        return f"PDA-{refs[0]}"
    digest = hashlib.sha1(" ".join(sorted(refs)).encode(), usedforsecurity=False).hexdigest()[:8]
    return f"PDA-{refs[0]}-{digest}"


LAYER = VectorLayer(
    collection_id="heritage-perimeters",
    title="Heritage protection perimeters",
    description="Abords of historic monuments: indicative 500 m circles, or the delimited PDA.",
    geometry_type="MultiPolygon",
    id_field="perimetre_id",
    fields=FIELDS,
    reader=read_pda,
    standard="Code du patrimoine art. L.621-30 and L.621-31 (abords, PDA)",
)
