"""Water-servicing indicators of plots and sites, derived from the exact drinking-water network.

An investor needs to know whether a plot can be served ("is there a main of what size near it")
but may not see the network itself: French authorities may withhold the plans of drinking-water
networks as sensitive infrastructure (CRPA art. L.311-5, 2° d, security of persons and systems).
So the plots and sites carry two coarse indicators for partners — the nearest main's diameter
class and a distance band — and two exact values for the staff. Only mains in service count: an
abandoned or planned main serves nothing.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from atlas.layers.base import Classification, FieldSpec

# Nominal diameter classes (mm). 100 mm is the smallest main a DN 100 fire hydrant may sit on
# (référentiel national DECI, arrêté du 15 décembre 2015); 200 and 300 mm are the sizes that
# carry an industrial demand.
DN_CLASSES = ("DN < 100", "DN 100-199", "DN 200-299", "DN >= 300")
_DN_EDGES = (100, 200, 300)
# Distance bands (m): connection cost grows with the length of the branch to lay.
DISTANCE_BANDS = ("0-50 m", "50-150 m", "150-500 m", "> 500 m")
_DISTANCE_EDGES = (50.0, 150.0, 500.0)
SEARCH_RADIUS_M = 2_000.0  # beyond this the exact values stay empty and the band is "> 500 m"

INDICATOR_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "eau_dn_classe",
        "string",
        Classification.BUSINESS,
        "diameter class of the nearest drinking-water main in service (derived)",
        enum=DN_CLASSES,
    ),
    FieldSpec(
        "eau_distance_bande",
        "string",
        Classification.BUSINESS,
        "distance band to the nearest drinking-water main in service (derived)",
        enum=DISTANCE_BANDS,
    ),
    FieldSpec(
        "eau_dn",
        "integer",
        Classification.INTERNAL,
        "nominal diameter of the nearest main in service (derived)",
        unit="mm",
    ),
    FieldSpec(
        "eau_distance_m",
        "number",
        Classification.INTERNAL,
        "distance to the nearest main in service (derived)",
        unit="m",
    ),
)
INDICATOR_NAMES = tuple(f.name for f in INDICATOR_FIELDS)


def dn_class(diameter: float | None) -> str | None:
    """The class of a nominal diameter in mm; None when unknown."""
    if diameter is None or not diameter == diameter or diameter <= 0:
        return None
    return DN_CLASSES[int(np.searchsorted(_DN_EDGES, diameter, side="right"))]


def distance_band(distance: float | None) -> str:
    """The band of a distance in metres; no main within reach is the farthest band."""
    if distance is None or not distance == distance:
        return DISTANCE_BANDS[-1]
    return DISTANCE_BANDS[int(np.searchsorted(_DISTANCE_EDGES, distance, side="right"))]


def water_indicators(targets: gpd.GeoDataFrame, pipes: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """The four indicator columns for each row of ``targets`` (same index), both in EPSG:2154.

    ``pipes`` holds the water-pipes collection (``diametre_equivalent``, ``etat_service``); None
    or empty when no network is loaded, which leaves every indicator empty: unknown, not "far".
    """
    out = pd.DataFrame(index=targets.index, columns=list(INDICATOR_NAMES), dtype=object)
    if pipes is None or pipes.empty or targets.empty:
        return out
    mains = pipes.loc[
        (pipes["etat_service"].isna() | (pipes["etat_service"] == "en_service"))
        & pipes.geometry.notna(),
        ["diametre_equivalent", "geometry"],
    ]
    if mains.empty:
        return out
    present = targets.loc[targets.geometry.notna() & ~targets.geometry.is_empty, ["geometry"]]
    joined = gpd.sjoin_nearest(
        present, mains, how="left", max_distance=SEARCH_RADIUS_M, distance_col="_distance"
    )
    # Ties (a plot touching two mains) resolve to the largest main: that is what can serve it.
    joined = joined.sort_values(["_distance", "diametre_equivalent"], ascending=[True, False])
    nearest = joined[~joined.index.duplicated(keep="first")]
    diameters = nearest["diametre_equivalent"].astype("Float64")
    distances = nearest["_distance"].astype(float).round(1)
    out.loc[nearest.index, "eau_dn"] = diameters.astype(object).where(diameters.notna(), None)
    out.loc[nearest.index, "eau_distance_m"] = distances.where(distances.notna(), None)
    out.loc[nearest.index, "eau_dn_classe"] = [
        dn_class(None if pd.isna(d) else float(d)) for d in diameters
    ]
    out.loc[present.index, "eau_distance_bande"] = [
        distance_band(None if pd.isna(d) else float(d))
        for d in out.loc[present.index, "eau_distance_m"]
    ]
    return out
