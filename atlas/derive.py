"""Fields one collection derives from another, kept true whichever of them is ingested last.

The plots and sites carry the water-servicing indicators (``atlas.layers.water_indicators``),
computed from the exact network: when plots or sites are ingested they are computed before the
write; when the network is ingested, the current plots and sites are written again as new
versions with fresh indicators. The parcels carry the activity site whose plots list them
(``terr_refcad``), and the heritage perimeters derive from the monuments, the same way.

Every ingest writes its collection and the ones refreshed from it in ONE store batch
(``FeatureStore.batch``), switched together: a killed network ingest leaves either the old
network with the old indicators or the new network with the new ones, never a mix. A repair
step run afterwards was the other way; it would serve the mix until it ran, and every reader
would have to know that. The batch also locks the collections an ingest derives values from,
so that what it read is still what is served when it switches.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from atlas.errors import EmptyCollection, InvalidInput, UnknownCollection
from atlas.faults import checkpoint
from atlas.layers import get_layer
from atlas.layers.base import ReadResult, VectorLayer
from atlas.layers.conform import IngestReport, conform
from atlas.layers.water_indicators import INDICATOR_NAMES, water_indicators
from atlas.query.features import FeatureQuery
from atlas.query.filters import Comparison
from atlas.stores.base import FeatureStore, VersionBatch

WATER_SERVED = ("activity-plots", "activity-sites")
# What an ingest of the key reads values from or refreshes: locked for its whole batch.
_RELATED: dict[str, tuple[str, ...]] = {
    "water-pipes": WATER_SERVED,
    "activity-plots": ("water-pipes", "parcels"),
    "activity-sites": ("water-pipes",),
    "parcels": ("activity-plots",),
    "heritage-monuments": ("heritage-perimeters",),
    "heritage-perimeters": ("heritage-monuments",),
}


def ingest_collections(collection_id: str) -> tuple[str, ...]:
    """The collections an ingest of ``collection_id`` writes or derives from (its batch)."""
    return (collection_id, *_RELATED.get(collection_id, ()))


def with_derived_fields(
    store: FeatureStore, collection_id: str, frame: gpd.GeoDataFrame, report: IngestReport
) -> gpd.GeoDataFrame:
    """``frame`` with the fields it derives from other stored collections (before its write)."""
    if collection_id in WATER_SERVED:
        return with_water_indicators(store, frame)
    if collection_id == "parcels":
        return with_parcel_sites(store, frame)
    if collection_id == "heritage-perimeters":
        frame, note = with_stored_abords(store, frame)
        report.notes.extend([note] if note else [])
    return frame


def refresh_dependents(
    store: FeatureStore,
    batch: VersionBatch,
    collection_id: str,
    frame: gpd.GeoDataFrame,
    *,
    source: str,
) -> list[str]:
    """Stage in ``batch`` the collections derived from ``frame``, just written; their notes."""
    if collection_id == "water-pipes":
        return refresh_water_served(store, batch, frame)
    if collection_id == "activity-plots":
        return refresh_parcel_sites(store, batch, frame)
    if collection_id == "heritage-monuments":
        return [refresh_perimeters(store, batch, frame, source)]
    return []


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


def refresh_water_served(
    store: FeatureStore, batch: VersionBatch, pipes: gpd.GeoDataFrame
) -> list[str]:
    """After a network write: new versions of the plots and sites with fresh indicators."""
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
        info = batch.write(layer, typed, report=report)
        served = int(pd.notna(indicators["eau_dn"]).sum())
        notes.append(
            f"{collection_id}: water indicators refreshed ({served} of {len(frame)} within "
            f"reach of a main) -> version {info.version}"
        )
        checkpoint("refresh-midway")
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


def refresh_parcel_sites(
    store: FeatureStore, batch: VersionBatch, plots: gpd.GeoDataFrame
) -> list[str]:
    """After a plots write: a new parcels version when the parcels' sites changed."""
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
    info = batch.write(layer, typed, report=report)
    listed = sum(v is not None for v in fresh)
    return [f"parcels: site of {listed} parcels refreshed from the plots -> version {info.version}"]


def refresh_perimeters(
    store: FeatureStore, batch: VersionBatch, monuments: gpd.GeoDataFrame, source: str
) -> str:
    """After a monuments write: the heritage perimeters derived again (500 m abords).

    The delimited perimeters (PDA) already stored are legal perimeters that no monument file
    carries (code du patrimoine art. L.621-31): they are read back and kept, replacing the
    circles of the monuments they name.
    """
    from atlas.layers.heritage_perimeters import PDA, derive_abords

    layer = get_layer("heritage-perimeters")
    assert isinstance(layer, VectorLayer)
    stored = FeatureQuery(where=(Comparison("type_perimetre", "=", PDA),))
    pda = current_frame(store, layer.collection_id, stored)
    derived = derive_abords(monuments, pda if pda is not None and len(pda) else None)
    frame, report = conform(ReadResult(frame=derived), layer, source=f"derived from {source}")
    info = batch.write(layer, frame, report=report)
    return f"{layer.collection_id}: {info.count} perimeters derived -> version {info.version}"
