"""Fields one collection derives from another, kept true whichever of them is ingested last.

The parcels carry the activity site whose plots list them (``terr_refcad``), kept the same way.
The plots and sites carry the water-servicing indicators (``atlas.layers.water_indicators``),
computed from the exact network: when plots or sites are ingested they are computed before the
write; when the network is ingested, the current plots and sites are written again as new
versions with fresh indicators. Each write is the store's usual atomic version switch.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from atlas.errors import EmptyCollection, InvalidInput, UnknownCollection
from atlas.layers import get_layer
from atlas.layers.base import ReadResult, VectorLayer
from atlas.layers.conform import conform
from atlas.layers.water_indicators import INDICATOR_NAMES, water_indicators
from atlas.stores.base import FeatureQuery, FeatureStore

WATER_SERVED = ("activity-plots", "activity-sites")
_PAGE = 10_000


def current_frame(
    store: FeatureStore, collection_id: str, query: FeatureQuery | None = None
) -> gpd.GeoDataFrame | None:
    """The current version's features matching ``query`` (all by default), schema columns in
    EPSG:2154; None when the collection was never ingested."""
    layer = get_layer(collection_id)
    if not isinstance(layer, VectorLayer):
        raise TypeError(f"{collection_id} is not a vector collection")
    try:
        store.collection(collection_id)
    except (EmptyCollection, UnknownCollection):
        return None
    return store.frame(collection_id, query)


def with_water_indicators(store: FeatureStore, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` (plots or sites) with its indicators computed from the stored network."""
    indicators = water_indicators(frame, current_frame(store, "water-pipes"))
    out = frame.copy()
    for name in INDICATOR_NAMES:
        out[name] = indicators[name]
    return out


def refresh_water_served(store: FeatureStore, pipes: gpd.GeoDataFrame) -> list[str]:
    """After a network ingest: new versions of the plots and sites with fresh indicators."""
    notes = []
    for collection_id in WATER_SERVED:
        frame = current_frame(store, collection_id)
        if frame is None or frame.empty:
            continue
        layer = get_layer(collection_id)
        assert isinstance(layer, VectorLayer)
        indicators = water_indicators(frame, pipes)
        for name in INDICATOR_NAMES:
            frame[name] = indicators[name]
        # Through conform again: values read back are Python objects, the stores write by type.
        typed, report = conform(
            ReadResult(frame=frame), layer, source="water indicators refreshed from water-pipes"
        )
        info = store.write_version(layer, typed, report=report)
        served = int(pd.notna(indicators["eau_dn"]).sum())
        notes.append(
            f"{collection_id}: water indicators refreshed ({served} of {len(frame)} within "
            f"reach of a main) -> version {info.version}"
        )
    return notes


def with_stored_abords(
    store: FeatureStore, pda: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, str | None]:
    """PDA perimeters being ingested, plus the 500 m abords of the stored monuments they leave.

    Ingesting the PDA must not erase the circles of every other monument: the collection is the
    set of perimeters in force (code du patrimoine art. L.621-30 and L.621-31).
    """
    from atlas.layers.heritage_perimeters import derive_abords

    monuments = current_frame(store, "heritage-monuments")
    if monuments is None or monuments.empty:
        return pda, None
    layer = get_layer("heritage-perimeters")
    assert isinstance(layer, VectorLayer)
    combined = derive_abords(monuments, pda)
    frame, _ = conform(ReadResult(frame=combined), layer, source="PDA and stored monuments")
    circles = len(frame) - len(pda)
    return frame, f"heritage-perimeters: {circles} abords of stored monuments kept beside the PDA"


def parcel_sites(plots: gpd.GeoDataFrame | None) -> dict[str, str]:
    """Parcel id -> site id, from the plots' ``terr_refcad`` (the first site by id on a tie)."""
    from atlas.layers.activity_plots import plots_parcels

    if plots is None or plots.empty:
        return {}
    try:
        pairs = plots_parcels(plots[["terr_id", "terr_refcad"]])
    except InvalidInput:
        return {}  # a malformed terr_refcad was reported at the plots' ingest
    sites = dict(zip(plots["terr_id"], plots["site_id"], strict=True))
    out: dict[str, str] = {}
    for terr_id, parcel_id in sorted(zip(pairs["terr_id"], pairs["parcel_id"], strict=True)):
        site = sites.get(terr_id)
        if site is not None and site == site:
            out.setdefault(parcel_id, str(site))
    return out


def with_parcel_sites(store: FeatureStore, parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``parcels`` with ``site_id`` from the stored plots."""
    mapping = parcel_sites(current_frame(store, "activity-plots"))
    out = parcels.copy()
    out["site_id"] = [mapping.get(str(i)) for i in out["id"]]
    return out


def refresh_parcel_sites(store: FeatureStore, plots: gpd.GeoDataFrame) -> list[str]:
    """After a plots ingest: a new parcels version when the parcels' sites changed."""
    parcels = current_frame(store, "parcels")
    if parcels is None or parcels.empty:
        return []
    mapping = parcel_sites(plots)
    fresh = [mapping.get(str(i)) for i in parcels["id"]]
    current = [None if pd.isna(v) else str(v) for v in parcels["site_id"]]
    if fresh == current:
        return []
    parcels["site_id"] = fresh
    layer = get_layer("parcels")
    assert isinstance(layer, VectorLayer)
    typed, report = conform(ReadResult(frame=parcels), layer, source="sites refreshed from plots")
    info = store.write_version(layer, typed, report=report)
    listed = sum(v is not None for v in fresh)
    return [f"parcels: site of {listed} parcels refreshed from the plots -> version {info.version}"]
