"""Activity plots: the CNIG Sites économiques class TERRAIN-ECO, and its join to the cadastre.

``terr_refcad`` lists the cadastral parcels of a plot, joined by ``|``; each id has the 14
characters of the Etalab cadastre parcel ``id`` (commune 5 + prefixe 3 + section 2 + numero 4),
so :func:`plots_parcels` joins plots to the ``parcels`` collection on ``id``. The CNIG pattern
(``\\d{8}[0-9A-Z]{2}\\d{4}``) has no room for the Corsican communes 2A/2B; it is kept as
published, since these ids must stay valid against the standard.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from atlas.errors import InvalidInput
from atlas.layers.base import ReadOptions, ReadResult, TierGrant, VectorLayer
from atlas.layers.cnig import STANDARD, TERRAIN_ECO, field_specs
from atlas.layers.cnig_read import read_cnig
from atlas.layers.water_indicators import INDICATOR_FIELDS

# The CNIG fields, then the water-servicing indicators derived at ingest (water_indicators).
# "On the market" in the CNIG commercialisation stages: what the public map offers.
ON_THE_MARKET = ("en vente", "en vente avec contraintes")
FIELDS = (*field_specs(TERRAIN_ECO), *INDICATOR_FIELDS)
PARCEL_ID = re.compile(r"\d{8}[0-9A-Z]{2}\d{4}")


def read_activity_plots(path: Path, options: ReadOptions) -> ReadResult:
    """Read CNIG TERRAIN-ECO rows (CSV ``;`` with GeoJSON text, GeoJSON, GeoPackage)."""
    return read_cnig(path, options, TERRAIN_ECO)


def refcad_ids(value: str | None) -> list[str]:
    """The parcel ids of one ``terr_refcad`` value, in order, without repeats; [] when empty.

    InvalidInput names the first id that is not 14 characters of the cadastre's form.
    """
    if value is None or (isinstance(value, float) and value != value):
        return []
    text = str(value).strip()
    if not text:
        return []
    ids = [part.strip() for part in text.split("|")]
    for ident in ids:
        if not PARCEL_ID.fullmatch(ident):
            raise InvalidInput(
                f"terr_refcad: '{ident[:20]}' is not a parcel id (14 characters: commune 5, "
                "prefixe 3, section 2, numero 4)"
            )
    return list(dict.fromkeys(ids))


def plots_parcels(plots: pd.DataFrame) -> pd.DataFrame:
    """One row per (terr_id, parcel_id) pair listed in the plots' ``terr_refcad``."""
    pairs: list[tuple[str, str]] = []
    for terr_id, value in zip(plots["terr_id"], plots["terr_refcad"], strict=True):
        try:
            ids = refcad_ids(value)
        except InvalidInput as exc:
            raise InvalidInput(f"plot '{terr_id}': {exc.description}") from None
        pairs.extend((terr_id, parcel_id) for parcel_id in ids)
    return pd.DataFrame(pairs, columns=["terr_id", "parcel_id"], dtype=object)


LAYER = VectorLayer(
    collection_id="activity-plots",
    title="Activity plots",
    description="Plots of the activity parks: land control, stage, occupancy (CNIG TERRAIN-ECO).",
    geometry_type="Polygon",
    id_field="terr_id",
    fields=FIELDS,
    reader=read_activity_plots,
    standard=STANDARD + ", class TERRAIN-ECO",
    grants={
        "public": TierGrant(
            rows=(("terr_stade_comm", "in", ON_THE_MARKET),),
            reason="the public map shows the plots on the market only (DESIGN tier table)",
        )
    },
)
