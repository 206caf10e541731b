"""The CNIG tables of the inventory, built from the current store versions read through a gate.

Each table holds exactly the fields of its CNIG class in the published order; what the atlas
derives and stores beside them (the water-servicing indicators) is never read, and the SIRENE
extension is read only for the publication rules, then left out. The vacancy figures of each
site (``site_uf_nbre``, ``site_uf_vacant_nbre``, ``site_taux_vacance``) are recomputed from its
plots as art. L.318-8-2 CU defines them (:func:`atlas.layers.activity_sites.vacancy_rate`),
and every site whose declared rate disagrees is listed.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import pandas as pd

from atlas.errors import EmptyCollection, NotFound, UnknownCollection
from atlas.inventory import publication
from atlas.layers.activity_sites import compare_vacancy, vacancy_rate
from atlas.layers.cnig import ETABLISSEMENT, SITE_ECO, TERRAIN_ECO, CnigClass
from atlas.policy.gate import Gate
from atlas.policy.tiers import Tier
from atlas.query.features import FeatureQuery

Mode = Literal["publication", "internal"]
# Resource names of the CNIG datapackage, in its order (POLE-ECO: see atlas.inventory).
RESOURCES: dict[str, CnigClass] = {
    "site-eco": SITE_ECO,
    "terrain-eco": TERRAIN_ECO,
    "etablissement": ETABLISSEMENT,
}
COLLECTIONS: dict[str, str] = {
    SITE_ECO.name: "activity-sites",
    TERRAIN_ECO.name: "activity-plots",
    ETABLISSEMENT.name: "establishments",
}
VACANCY_FIELDS = ("site_uf_nbre", "site_uf_vacant_nbre", "site_taux_vacance")
VACANCY_TOLERANCE = 1.0  # percentage points: CNIG declares whole percents


@dataclass
class CnigTable:
    """One CNIG class: its attribute values (published order, no geometry) and geometries."""

    name: str  # the datapackage resource name, e.g. "site-eco"
    cnig_class: CnigClass
    values: pd.DataFrame  # CNIG fields except the geometry column; Python values or None
    geometry: gpd.GeoSeries  # EPSG:2154, same index as ``values``


@dataclass
class Inventory:
    """The three tables and what the export must report about them."""

    mode: Mode
    created: dt.datetime
    tables: list[CnigTable]
    vacancy: pd.DataFrame  # one row per site: declared and recomputed figures
    disagreements: pd.DataFrame  # site_id, declared, computed (beyond the tolerance)
    sources: dict[str, int | None]  # collection id -> version read (None: empty)
    anonymisation: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def build_inventory(gate: Gate, *, publish: bool) -> Inventory:
    """The inventory from the current versions, read through an internal caller's gate.

    Each collection is read with the action ``inventory``, which the gate audits. Versions are
    read collection by collection: an ingest switching in between shows in ``sources``.
    """
    if gate.tier != Tier.INTERNAL:
        raise NotFound("the inventory is produced for the staff only")
    frames: dict[str, gpd.GeoDataFrame] = {}
    sources: dict[str, int | None] = {}
    for cnig_class in RESOURCES.values():
        required = cnig_class is SITE_ECO
        frames[cnig_class.name], sources[COLLECTIONS[cnig_class.name]] = _read(
            gate, cnig_class, required=required
        )
    sites, vacancy, disagreements = recompute_vacancy(
        frames[SITE_ECO.name], frames[TERRAIN_ECO.name]
    )
    frames[SITE_ECO.name] = sites
    notes = _reference_notes(frames)
    anonymisation: list[str] = []
    if publish:
        published, done = publication.publish(frames)
        frames = {
            k: gpd.GeoDataFrame(v, geometry="geometry", crs=2154) for k, v in published.items()
        }
        anonymisation = done.lines()
    tables = [
        _table(name, cnig_class, frames[cnig_class.name]) for name, cnig_class in RESOURCES.items()
    ]
    return Inventory(
        mode="publication" if publish else "internal",
        created=dt.datetime.now(dt.UTC).replace(microsecond=0),
        tables=tables,
        vacancy=vacancy,
        disagreements=disagreements,
        sources=sources,
        anonymisation=anonymisation,
        notes=notes,
    )


def _read(
    gate: Gate, cnig_class: CnigClass, *, required: bool
) -> tuple[gpd.GeoDataFrame, int | None]:
    """The class's stored CNIG fields (and extensions) of every row, sorted by key."""
    collection_id = COLLECTIONS[cnig_class.name]
    names = tuple(f.name for f in cnig_class.stored_fields)
    try:
        version = gate.collection(collection_id).version
    except UnknownCollection:  # not ingested yet (the gate says so like an unknown one)
        if required:
            raise EmptyCollection(collection_id) from None
        return gpd.GeoDataFrame(columns=list(names), geometry=[], crs=2154), None
    frame = gate.frame(collection_id, FeatureQuery(properties=names), action="inventory")
    frame = frame.sort_values(cnig_class.primary_key, kind="stable").reset_index(drop=True)
    return frame, version


def whole_percent(value: float) -> int:
    """A rate rounded half up to a whole percent, as CNIG declares it (13 for 2 of 15)."""
    return int(math.floor(value + 0.5))


def recompute_vacancy(
    sites: pd.DataFrame, plots: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Sites with the recomputed vacancy figures, the per-site report, the disagreements.

    A site without a counted plot keeps its declared figures (there is nothing to recompute
    them from); the report says so.
    """
    computed = vacancy_rate(plots).set_index("site_id")
    report = pd.DataFrame(
        {
            "site_id": sites["site_id"].astype(object),
            "site_nom": sites["site_nom"].astype(object),
            **{f"{name}_declared": sites[name].astype(object) for name in VACANCY_FIELDS},
        }
    )
    known = report["site_id"].isin(computed.index)
    ids = report.loc[known, "site_id"]
    for name in (*VACANCY_FIELDS, "uf_unknown_nbre"):
        column = pd.Series(None, index=report.index, dtype=object)
        column.loc[known] = computed.loc[ids, name].to_numpy()
        report[f"{name}_computed"] = column
    report["site_taux_vacance_exported"] = [
        whole_percent(float(rate)) if ok else declared
        for ok, rate, declared in zip(
            known,
            report["site_taux_vacance_computed"],
            report["site_taux_vacance_declared"],
            strict=True,
        )
    ]
    disagreements = compare_vacancy(sites, plots, tolerance=VACANCY_TOLERANCE)
    report["disagrees"] = report["site_id"].isin(disagreements["site_id"])
    report["recomputed"] = known
    out = sites.copy()
    for name in ("site_uf_nbre", "site_uf_vacant_nbre"):
        out[name] = out[name].astype(object)
        out.loc[known.to_numpy(), name] = [int(v) for v in report.loc[known, f"{name}_computed"]]
    out["site_taux_vacance"] = report["site_taux_vacance_exported"].to_numpy()
    return out, report.reset_index(drop=True), disagreements


def _reference_notes(frames: dict[str, gpd.GeoDataFrame]) -> list[str]:
    """Plots naming an unknown site, establishments naming an unknown plot (counts only)."""
    notes = []
    site_ids = set(frames[SITE_ECO.name]["site_id"])
    plots = frames[TERRAIN_ECO.name]
    orphans = int((~plots["site_id"].isin(site_ids)).sum()) if len(plots) else 0
    if orphans:
        notes.append(f"{orphans} plot(s) name a site_id that is not in SITE-ECO")
    plot_ids = set(plots["terr_id"]) if len(plots) else set()
    etabs = frames[ETABLISSEMENT.name]
    unknown = sum(
        any(part.strip() not in plot_ids for part in str(value).split("|"))
        for value in etabs["terr_id"]
        if isinstance(value, str)
    )
    if unknown:
        notes.append(f"{unknown} establishment(s) name a terr_id that is not in TERRAIN-ECO")
    return notes


def _table(name: str, cnig_class: CnigClass, frame: gpd.GeoDataFrame) -> CnigTable:
    """The CNIG columns of ``frame`` in the published order; missing ones empty."""
    columns = [f.name for f in cnig_class.fields if f.name != cnig_class.geometry_field]
    values = pd.DataFrame(index=frame.index)
    for column in columns:
        if column in frame:
            series = frame[column].astype(object)
            values[column] = series.where(series.notna(), None)
        else:
            values[column] = None
    geometry = gpd.GeoSeries(frame.geometry, crs=frame.crs or 2154)
    if cnig_class is SITE_ECO:
        values["site_geompoint"] = geopoints(geometry)
    return CnigTable(
        name, cnig_class, values.reset_index(drop=True), geometry.reset_index(drop=True)
    )


def geopoints(geometry: gpd.GeoSeries) -> list[str | None]:
    """Centroids as TableSchema geopoints ("lon, lat"), the form the CNIG example writes."""
    present = geometry.notna() & ~geometry.is_empty
    out: list[str | None] = [None] * len(geometry)
    if present.any():
        lonlat = geometry[present].centroid.to_crs(4326)
        for position, point in zip(present[present].index, lonlat, strict=True):
            out[geometry.index.get_loc(position)] = f"{point.x:.6f}, {point.y:.6f}"
    return out
