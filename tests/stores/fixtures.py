"""A small synthetic layer and data set for the store contract suite."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import shapely

from atlas.layers.base import Classification, FieldSpec, ReadResult, VectorLayer
from atlas.layers.conform import IngestReport


def _no_reader(path, options):  # the contract suite writes frames directly
    raise NotImplementedError


CONTRACT_LAYER = VectorLayer(
    collection_id="contract-plots",
    title="Contract plots",
    description="synthetic plots for the store contract suite",
    geometry_type="Polygon",
    id_field="terr_id",
    fields=(
        FieldSpec("terr_id", "string", required=True),
        FieldSpec("site_id", "string"),
        FieldSpec("terr_surf_brute", "number", unit="ha"),
        FieldSpec("nb_lots", "integer"),
        FieldSpec("terr_utile", "boolean"),
        FieldSpec("terr_actu_date", "date"),
        FieldSpec("ban-id", "string", Classification.INTERNAL),
        FieldSpec("terr_m2_prix", "number", Classification.BUSINESS),
        FieldSpec("terr_nom", "string"),
        FieldSpec("terr_maj", "datetime"),
    ),
    reader=_no_reader,
    standard="synthetic",
)

# Names that filters must treat as plain values: accents, case, quotes, SQL, LIKE wildcards,
# scripts outside Latin-1, a missing value.
NAMES = (
    "Les Épinettes",
    "LES EPINETTES",
    "les épinettes",
    "Parc d'activités du Bois",
    "100% béton_armé",
    "x' OR '1'='1",
    'Ørsted"; DROP TABLE features; --',
    "東京 🏭",
    'Zone "Nord" \\ sud',
    None,
    "Saint-Éloi",
    "saint-eloi",
)

# Lambert-93 around Évry-Courcouronnes.
ORIGIN = (655_000.0, 6_835_000.0)


def contract_frame(n: int = 60, seed: int = 7) -> gpd.GeoDataFrame:
    """``n`` plots on a jittered grid, with every field type and some nulls."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    rows = []
    for i in range(n):
        x = ORIGIN[0] + (i % side) * 200 + rng.uniform(0, 20)
        y = ORIGIN[1] + (i // side) * 200 + rng.uniform(0, 20)
        w, h = rng.uniform(50, 150, size=2)
        rows.append(
            {
                "terr_id": f"91228_TERRAIN-ECO_{i:05d}",
                "site_id": f"91228_SITE-ECO_{i % 4:05d}",
                "terr_surf_brute": round(w * h / 10_000, 4),
                "nb_lots": None if i % 7 == 0 else int(i % 5),
                "terr_utile": bool(i % 2),
                "terr_actu_date": dt.date(2024, 1 + i % 12, 1 + i % 28),
                "ban-id": None if i % 3 else f"91228_{i:04d}_00001",
                "terr_m2_prix": float(40 + i),
                "terr_nom": NAMES[i % len(NAMES)],
                "terr_maj": dt.datetime(2024, 5, 1 + i % 28, i % 24, tzinfo=dt.UTC),
                "geometry": shapely.box(x, y, x + w, y + h),
            }
        )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:2154")
    frame["nb_lots"] = frame["nb_lots"].astype("Int64")
    return frame


def contract_report(frame: gpd.GeoDataFrame) -> IngestReport:
    """A report as ingest would make it."""
    return IngestReport(
        collection_id=CONTRACT_LAYER.collection_id,
        source="synthetic",
        rows_read=len(frame),
        kept=len(frame),
    )


__all__ = ["CONTRACT_LAYER", "NAMES", "ReadResult", "contract_frame", "contract_report"]
