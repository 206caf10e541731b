"""The site-selection page: its form (the criteria of ``atlas.selection``, labelled FR/EN) and the
result as a table and a small GeoJSON, built from the caller's gate only.

The form is a GET form whose parameters are exactly those of ``GET /site-selection``: the page's
URL is the search's permalink (opening it restores the criteria), and the result is computed by
the very functions the API answers with (:func:`run_selection`), so page and API cannot differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd

from atlas.layers.cnig import SITE_VOCADOMI, TERR_USAGE
from atlas.layers.flood_hazard import CLASS_LABELS
from atlas.maps.geojson import feature_collection
from atlas.maps.labels import FIELDS, Lang
from atlas.policy.gate import Gate
from atlas.selection import (
    RankedPlot,
    Selection,
    parse_criteria,
    query_criteria,
    select_sites,
    unavailable_criteria,
)
from atlas.selection.criteria import SiteCriteria

# Query parameters of the page that are not criteria (the API's GET takes crs; the page, lang).
PAGE_PARAMS = frozenset({"lang", "f"})
# Plot fields of the result table, in order, when the tier sees them (labels: atlas.maps.labels).
TABLE_FIELDS = (
    "terr_surf_brute",
    "terr_stade_comm",
    "terr_usage",
    "terr_m2_prix",
    "eau_dn_classe",
    "eau_distance_bande",
    "eau_dn",
    "eau_distance_m",
)
_COLUMNS = {"terr_usage": ("Usage", "Use")}  # not on the maps' popups, so not in their labels
_FLOOD_EN = {0: "none", 1: "low", 2: "medium", 3: "high", 4: "very high"}

# (French, English) labels of the criteria: names, units and the choices' words.
LABELS: dict[str, tuple[str, str]] = {
    "min_area_ha": ("Surface minimale (ha)", "Smallest area (ha)"),
    "max_area_ha": ("Surface maximale (ha)", "Largest area (ha)"),
    "vocations": ("Vocation du parc", "Vocation of the park"),
    "usages": ("Usage du terrain", "Use of the plot"),
    "on_market": ("Commercialisation", "On the market"),
    "water_min_dn": ("Conduite d’eau : diamètre minimal (mm)", "Water main: smallest DN (mm)"),
    "water_max_distance_m": (
        "Conduite d’eau : distance maximale (m)",
        "Water main: largest distance (m)",
    ),
    "outside_heritage": (
        "Hors des périmètres de protection du patrimoine",
        "Outside heritage protection perimeters",
    ),
    "exclude_flood_classes": ("Exclure l’aléa inondation", "Exclude the flood hazard"),
    "max_slope_pct": ("Pente moyenne maximale (%)", "Largest mean slope (%)"),
    "max_motorway_km": ("Échangeur autoroutier à moins de (km)", "Motorway junction within (km)"),
    "max_station_km": ("Gare à moins de (km)", "Railway station within (km)"),
    "only_passing": (
        "Seulement les terrains qui remplissent tous les critères",
        "Only the plots meeting every criterion",
    ),
    "limit": ("Nombre de terrains affichés", "Plots shown"),
    "any": ("indifférent", "any"),
    "yes": ("oui", "yes"),
    "no": ("non", "no"),
    "on_market_true": ("en vente", "for sale"),
    "on_market_false": ("pas en vente", "not for sale"),
}
NUMBERS: tuple[str, ...] = ("min_area_ha", "max_area_ha", "water_min_dn", "water_max_distance_m")
NUMBERS += ("max_slope_pct", "max_motorway_km", "max_station_km", "limit")


@dataclass(frozen=True, slots=True)
class Choice:
    """One checkbox or option: the value sent and its label."""

    value: str
    label: str
    checked: bool


@dataclass(frozen=True, slots=True)
class FormField:
    """One criterion of the form, as the template draws it."""

    name: str
    label: str
    kind: str  # "number", "checks" (several values), "select" (one of), "check" (yes / absent)
    value: str = ""
    choices: tuple[Choice, ...] = ()


def label(key: str, lang: Lang) -> str:
    """The label of a criterion or a word, in ``lang``."""
    return LABELS[key][lang is Lang.EN]


def criteria_items(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The query's criteria: page parameters and the empty fields a GET form sends left out."""
    return [(k, v) for k, v in items if k not in PAGE_PARAMS and v.strip() != ""]


def raw_criteria(items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The criteria of a query string, as ``GET /site-selection`` reads them."""
    return query_criteria(criteria_items(items))


def run_selection(gate: Gate, raw: dict[str, Any]) -> Selection:
    """The search of ``raw`` as the caller: what ``/site-selection`` answers (same cap, order)."""
    criteria = parse_criteria(raw, unavailable=unavailable_criteria(gate))
    if criteria.limit > gate.page_cap:
        criteria = criteria.model_copy(update={"limit": gate.page_cap})
    return select_sites(gate, criteria)


def form_fields(gate: Gate, raw: dict[str, Any], lang: Lang) -> list[FormField]:
    """The criteria the caller's tier may use, filled with what the query gave (FR or EN)."""
    hidden = unavailable_criteria(gate)
    out: list[FormField] = []
    for name in SiteCriteria.model_fields:
        if name in hidden:
            continue  # the public has no water indicator: no water criterion either
        given = raw.get(name)
        if name in NUMBERS:
            out.append(FormField(name, label(name, lang), "number", str(given or "")))
        elif name in ("vocations", "usages", "exclude_flood_classes"):
            out.append(_checks(name, given or [], lang))
        elif name == "on_market":
            options = [("", "any"), ("true", "on_market_true"), ("false", "on_market_false")]
            choices = tuple(Choice(v, label(k, lang), str(given) == v) for v, k in options)
            out.append(FormField(name, label(name, lang), "select", choices=choices))
        else:  # outside_heritage, only_passing: checked means true
            out.append(FormField(name, label(name, lang), "check", str(given or "")))
    return out


def _checks(name: str, given: list[str], lang: Lang) -> FormField:
    chosen = {str(v).casefold() for v in given}
    if name == "exclude_flood_classes":
        words = CLASS_LABELS if lang is Lang.FR else _FLOOD_EN
        pairs = [(str(k), f"{k} — {words[k]}") for k in CLASS_LABELS]
    else:
        codes = SITE_VOCADOMI if name == "vocations" else TERR_USAGE
        pairs = [(code, code) for code in codes]
    choices = tuple(Choice(v, text, v.casefold() in chosen) for v, text in pairs)
    return FormField(name, label(name, lang), "checks", choices=choices)


def table_columns(selection: Selection, lang: Lang) -> list[tuple[str, str]]:
    """(field, label) of the plot fields the result holds (the tier's), in table order."""
    present = {k for plot in selection.plots for k in plot.properties}
    labels = {**FIELDS["activity-sites"], **FIELDS["activity-plots"], **_COLUMNS}
    return [(name, labels[name][lang is Lang.EN]) for name in TABLE_FIELDS if name in present]


def table_rows(selection: Selection, lang: Lang) -> list[dict[str, Any]]:
    """One row per plot: rank, id, site, the shown fields, verdict and reasons in ``lang``."""
    reason = "reason_en" if lang is Lang.EN else "reason_fr"
    return [
        {
            "rank": plot.rank,
            "terr_id": plot.terr_id,
            "site_nom": plot.properties.get("site_nom"),
            "properties": plot.properties,
            "passed": plot.passed,
            "score": plot.score,
            "reasons": [getattr(v, reason) for v in sorted(plot.verdicts, key=lambda v: v.ok)],
        }
        for plot in selection.plots
    ]


def result_geojson(plots: list[RankedPlot], sheet_href: str) -> dict[str, Any]:
    """The plots in CRS84 (1 m precision) with rank, verdict and the link to each plot's sheet
    (``sheet_href`` formatted with the plot id)."""
    shaped = [p for p in plots if p.geometry is not None and not p.geometry.is_empty]
    frame = gpd.GeoDataFrame(
        {
            "terr_id": [p.terr_id for p in shaped],
            "rank": [p.rank for p in shaped],
            "passed": [p.passed for p in shaped],
            "site_nom": [p.properties.get("site_nom") for p in shaped],
            "href": [sheet_href.format(terr_id=p.terr_id) for p in shaped],
        },
        geometry=[p.geometry for p in shaped],
        crs="EPSG:2154",
    ).to_crs(4326)
    return feature_collection(frame)
