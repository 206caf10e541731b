"""Site selection: every plot the caller may see, measured against each criterion, then ranked.

Everything is read through the caller's gate — the plots (a public caller sees the plots on the
market only), their sites, the heritage perimeters and hazard zones, the slope raster — so a tier
only ever evaluates, and is only ever told about, what it may see. A criterion that needs fields
the tier does not see (water, for the public) is refused like an unknown field.

Ranking: the plots meeting every criterion first, then by the number of criteria failed, then by
score (``atlas.selection.verdicts``: the mean of the criteria's scores, 0.5 at each threshold),
then by ``terr_id`` so that equal plots keep a stable order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from atlas.errors import InvalidInput, NotFound
from atlas.layers.water_indicators import INDICATOR_NAMES
from atlas.policy.gate import Gate
from atlas.policy.rasters import RasterReader
from atlas.query.features import FeatureQuery
from atlas.query.fields import unknown_fields
from atlas.query.values import is_missing
from atlas.selection import measures, slope, spatial
from atlas.selection.criteria import WATER_CRITERIA, SiteCriteria
from atlas.selection.verdicts import Verdict, plot_score
from atlas.types import BBox

PLOTS = "activity-plots"
# The plot fields a result shows, when the caller's tier sees them.
PLOT_FIELDS = (
    "terr_id",
    "site_id",
    "terr_surf_brute",
    "terr_stade_comm",
    "terr_usage",
    "terr_etat_occup",
    "terr_stade_amngt",
    "terr_maitrise_fonc",
    "terr_m2_prix",
    "terr_cle_en_main",
    *INDICATOR_NAMES,
)
PERIMETER_FIELDS: tuple[str, ...] = ("perimetre_id", "reference", "type_perimetre", "indicatif")
PERIMETER_FIELDS += ("titre_editorial_de_la_notice",)
ZONE_FIELDS = ("id_zone", "classe_alea")


@dataclass(slots=True)
class RankedPlot:
    """One plot of a result: its rank, score, verdicts, shown fields and geometry (EPSG:2154)."""

    terr_id: str
    rank: int
    score: float
    verdicts: list[Verdict]
    properties: dict[str, Any]
    geometry: BaseGeometry | None

    @property
    def failed(self) -> int:
        """How many criteria the plot fails."""
        return sum(not v.ok for v in self.verdicts)

    @property
    def passed(self) -> bool:
        """Whether the plot meets every criterion."""
        return self.failed == 0


@dataclass(slots=True)
class Selection:
    """A ranked result: the plots returned, and how many were evaluated and met everything."""

    criteria: SiteCriteria
    plots: list[RankedPlot]
    evaluated: int
    passing: int

    @property
    def selected_ids(self) -> list[str]:
        """The returned plots that meet every criterion, in rank order (what an extract takes)."""
        return [p.terr_id for p in self.plots if p.passed]


@dataclass(slots=True)
class _Context:
    gate: Gate
    criteria: SiteCriteria
    rows: list[dict[str, Any]]
    plots: gpd.GeoDataFrame


@dataclass(frozen=True, slots=True)
class _Criterion:
    name: str
    active: Callable[[SiteCriteria], bool]
    measure: Callable[[_Context], list[Verdict]]


def unavailable_criteria(gate: Gate) -> frozenset[str]:
    """Criteria the caller's tier may not use: water, without the plots' water indicators."""
    names = set(gate.view(PLOTS).field_names)
    banded = {"eau_dn_classe", "eau_distance_bande"} <= names
    exact = {"eau_dn", "eau_distance_m"} <= names
    return frozenset() if banded or exact else frozenset(WATER_CRITERIA)


def select_sites(gate: Gate, criteria: SiteCriteria) -> Selection:
    """Measure every plot the caller sees against ``criteria``; the ranked, limited result."""
    used = [n for n in sorted(unavailable_criteria(gate)) if getattr(criteria, n) is not None]
    if used:
        raise unknown_fields(used)  # exactly what a name the model does not have gets
    plots, rows = _plots(gate)
    context = _Context(gate, criteria, rows, plots)
    columns = [c.measure(context) for c in CRITERIA if c.active(criteria)]
    ranked = [
        RankedPlot(
            terr_id=str(row["terr_id"]),
            rank=0,
            score=round(plot_score(list(verdicts)), 3),
            verdicts=list(verdicts),
            properties=_shown(row),
            geometry=geometry,
        )
        for row, geometry, *verdicts in zip(rows, plots.geometry, *columns, strict=True)
    ]
    ranked.sort(key=lambda p: (p.failed, -p.score, p.terr_id))
    for number, plot in enumerate(ranked, start=1):
        plot.rank = number
    passing = sum(p.passed for p in ranked)
    kept = [p for p in ranked if p.passed] if criteria.only_passing else ranked
    return Selection(criteria, kept[: criteria.limit], evaluated=len(ranked), passing=passing)


def _plots(gate: Gate) -> tuple[gpd.GeoDataFrame, list[dict[str, Any]]]:
    """The plots the caller sees, and one row each: the plot's fields then its site's."""
    plots = _frame(gate, PLOTS, PLOT_FIELDS)
    if plots is None:
        return gpd.GeoDataFrame(geometry=[], crs="EPSG:2154"), []
    sites = _frame(gate, "activity-sites", measures.SITE_FIELDS)
    table = pd.DataFrame(plots.drop(columns="geometry"))
    if sites is not None:
        site_table = pd.DataFrame(sites.drop(columns="geometry")).drop_duplicates("site_id")
        table = table.merge(site_table, on="site_id", how="left")
    rows = [_plain(row) for row in table.to_dict("records")]
    return plots, rows


def _frame(
    gate: Gate, collection_id: str, fields: tuple[str, ...], bbox: BBox | None = None
) -> gpd.GeoDataFrame | None:
    """The fields of ``fields`` the caller sees; None when the collection holds no data."""
    visible = set(gate.view(collection_id).field_names)
    query = FeatureQuery(bbox=bbox, properties=tuple(f for f in fields if f in visible))
    try:
        return gate.frame(collection_id, query, action="read")
    except NotFound:
        return None


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    # pandas turns missing values into NaN or NA: back to None, so JSON says null.
    return {k: (None if is_missing(v) else v) for k, v in row.items()}


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    names = ("terr_id", "site_id", "site_nom", *PLOT_FIELDS[2:])
    return {name: row[name] for name in names if name in row}


def _rowwise(measure: Callable[[dict[str, Any], SiteCriteria], Verdict]):  # noqa: ANN202
    return lambda ctx: [measure(row, ctx.criteria) for row in ctx.rows]


def _around(plots: gpd.GeoDataFrame) -> BBox | None:
    return BBox(*plots.total_bounds) if not plots.empty else None


def _heritage(ctx: _Context) -> list[Verdict]:
    perimeters = _frame(ctx.gate, "heritage-perimeters", PERIMETER_FIELDS, _around(ctx.plots))
    if perimeters is None:
        raise InvalidInput("outside_heritage: no heritage perimeters are loaded on this server")
    return spatial.heritage(ctx.plots, perimeters)


def _flood(ctx: _Context) -> list[Verdict]:
    zones = _frame(ctx.gate, "flood-hazard", ZONE_FIELDS, _around(ctx.plots))
    if zones is None:
        raise InvalidInput("exclude_flood_classes: no hazard zones are loaded on this server")
    assert ctx.criteria.exclude_flood_classes is not None
    return spatial.flood(ctx.plots, zones, ctx.criteria.exclude_flood_classes)


def _slope(ctx: _Context) -> list[Verdict]:
    assert ctx.criteria.max_slope_pct is not None
    means = slope.mean_slopes_pct(_slope_reader(ctx), list(ctx.plots.geometry))
    return slope.slope(means, ctx.criteria.max_slope_pct)


def _slope_reader(ctx: _Context) -> RasterReader:
    try:
        return ctx.gate.raster_reader("slope")  # the tier may see it and it holds a version
    except NotFound:
        raise InvalidInput("max_slope_pct: no slope raster is loaded on this server") from None


CRITERIA: tuple[_Criterion, ...] = (
    _Criterion(
        "area",
        lambda c: c.min_area_ha is not None or c.max_area_ha is not None,
        _rowwise(measures.area),
    ),
    _Criterion("vocation", lambda c: c.vocations is not None, _rowwise(measures.vocation)),
    _Criterion("usage", lambda c: c.usages is not None, _rowwise(measures.usage)),
    _Criterion("on_market", lambda c: c.on_market is not None, _rowwise(measures.on_market)),
    _Criterion("water", lambda c: c.water, _rowwise(measures.water)),
    _Criterion("heritage", lambda c: c.outside_heritage, _heritage),
    _Criterion("flood", lambda c: c.exclude_flood_classes is not None, _flood),
    _Criterion("slope", lambda c: c.max_slope_pct is not None, _slope),
    _Criterion("motorway", lambda c: c.max_motorway_km is not None, _rowwise(measures.motorway)),
    _Criterion("station", lambda c: c.max_station_km is not None, _rowwise(measures.station)),
)
"""Every criterion, in the order verdicts are listed."""
