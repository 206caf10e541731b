"""The portal's home and directory: every activity site with its figures, and the territory's totals.

Read through the caller's gate: the plots counted "on the market" are those of the CNIG stages
``en vente`` and ``en vente avec contraintes`` among the plots the tier sees (the public sees
only those). The territory's vacancy rate is the sites' vacant land units over their land units
(art. L.318-8-2 CU counts units, so a large site weighs by its units, not its hectares).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import quote

from shapely.geometry.base import BaseGeometry

from atlas.layers.activity_plots import ON_THE_MARKET
from atlas.layers.cnig_read import fold
from atlas.policy.gate import Gate
from atlas.portal import words
from atlas.portal.reading import ABSENT, crs84, frame, present
from atlas.query.features import FeatureQuery
from atlas.query.filters import Comparison

SITES, PLOTS = "activity-sites", "activity-plots"
SITE_FIELDS = (
    "site_id", "site_nom", "site_comm_nom", "site_vocadomi", "site_surf_brute",
    "site_surf_comm_dispo", "site_uf_nbre", "site_uf_vacant_nbre", "site_taux_vacance",
)  # fmt: skip
SIMPLIFY_M = 10.0  # outlines on the home map: a pixel at zoom 14 is about 10 m
SortKey = Literal["name", "commune", "area", "available", "vacancy", "plots"]
SORT_KEYS: tuple[str, ...] = get_args(SortKey)
SEARCH_LIMIT = 50


@dataclass(frozen=True)
class SiteRow:
    """One site of the directory, as the caller's tier sees it."""

    site_id: str
    name: str
    commune: str
    vocation: str
    area_ha: float | None
    available_ha: float | None
    vacancy_pct: float | None
    land_units: int
    vacant_units: int
    plots_on_market: int
    outline: BaseGeometry | None  # CRS84, simplified


@dataclass(frozen=True)
class Territory:
    """The totals the home page shows."""

    sites: int
    area_ha: float
    available_ha: float
    plots_on_market: int
    vacancy_pct: float | None


def _number(value: Any) -> float | None:
    return float(value) if present(value) and math.isfinite(float(value)) else None


def on_the_market() -> tuple[Comparison, ...]:
    """The rows of the plots offered for sale."""
    return (Comparison("terr_stade_comm", "in", list(ON_THE_MARKET)),)


def directory(gate: Gate, lang: str) -> list[SiteRow]:
    """Every site the caller sees, by name, with its figures."""
    sites = frame(gate, SITES, SITE_FIELDS)
    if sites is None:
        return []
    plots = frame(gate, PLOTS, ("terr_id", "site_id"), where=on_the_market())
    per_site = plots["site_id"].value_counts().to_dict() if plots is not None else {}
    rows = []
    for record in sites.to_dict("records"):
        geometry = record["geometry"]
        outline = None
        if geometry is not None:
            outline = crs84(geometry.simplify(SIMPLIFY_M, preserve_topology=True))
        vocation = record.get("site_vocadomi")
        rows.append(
            SiteRow(
                site_id=str(record["site_id"]),
                name=str(record.get("site_nom") or record["site_id"]),
                commune=str(record.get("site_comm_nom") or ""),
                vocation=words.value(str(vocation), lang) if present(vocation) else "",
                area_ha=_number(record.get("site_surf_brute")),
                available_ha=_number(record.get("site_surf_comm_dispo")),
                vacancy_pct=_number(record.get("site_taux_vacance")),
                land_units=int(_number(record.get("site_uf_nbre")) or 0),
                vacant_units=int(_number(record.get("site_uf_vacant_nbre")) or 0),
                plots_on_market=int(per_site.get(record["site_id"], 0)),
                outline=outline,
            )
        )
    return sorted(rows, key=lambda r: (fold(r.name), r.site_id))


def totals(gate: Gate, rows: list[SiteRow]) -> Territory:
    """The territory's figures: sites and plots on the market counted by the gate."""
    units = sum(r.land_units for r in rows)
    try:
        plots = gate.count(PLOTS, FeatureQuery(where=on_the_market()))
    except ABSENT:  # no plots loaded, or none this tier may see
        plots = 0
    return Territory(
        sites=gate.count(SITES) if rows else 0,
        area_ha=sum(r.area_ha or 0.0 for r in rows),
        available_ha=sum(r.available_ha or 0.0 for r in rows),
        plots_on_market=plots,
        vacancy_pct=100.0 * sum(r.vacant_units for r in rows) / units if units else None,
    )


def sort_rows(rows: list[SiteRow], key: str, descending: bool = False) -> list[SiteRow]:
    """The directory ordered by a column (``SORT_KEYS``); unknown values last either way."""
    values = {
        "name": lambda r: fold(r.name),
        "commune": lambda r: fold(r.commune),
        "area": lambda r: r.area_ha,
        "available": lambda r: r.available_ha,
        "vacancy": lambda r: r.vacancy_pct,
        "plots": lambda r: r.plots_on_market,
    }[key]
    known = [r for r in rows if values(r) is not None]
    unknown = [r for r in rows if values(r) is None]
    return sorted(known, key=values, reverse=descending) + unknown


@dataclass(frozen=True)
class Found:
    """What a search found: a page to go to straight away, or lists of sites and plots."""

    redirect: str | None
    sites: list[SiteRow]
    plots: list[tuple[str, str]]  # (terr_id, the site's name)


def search(gate: Gate, query: str, lang: str) -> Found:
    """Sites by name, commune or id, plots by id or cadastral parcel, among what the caller sees.

    An exact site or plot id goes straight to its sheet.
    """
    wanted = fold(query)
    if not wanted:
        return Found(None, [], [])
    rows = directory(gate, lang)
    names = {r.site_id: r.name for r in rows}
    for row in rows:
        if fold(row.site_id) == wanted:
            return Found(f"/sites/{quote(row.site_id, safe='')}", [], [])
    sites = [r for r in rows if wanted in fold(r.name) or wanted in fold(r.commune)]
    plots = frame(gate, PLOTS, ("terr_id", "site_id", "terr_refcad")) if len(wanted) >= 3 else None
    found: list[tuple[str, str]] = []
    for record in [] if plots is None else plots.to_dict("records"):
        terr_id = str(record["terr_id"])
        if fold(terr_id) == wanted:
            return Found(f"/plots/{quote(terr_id, safe='')}", [], [])
        refcad = fold(str(record.get("terr_refcad") or ""))
        if wanted in fold(terr_id) or wanted in refcad:
            found.append((terr_id, names.get(str(record.get("site_id")), "")))
    return Found(None, sites[:SEARCH_LIMIT], sorted(found)[:SEARCH_LIMIT])
