"""What each site-selection criterion must say, computed independently from the demo source files
(CNIG CSV, Mérimée GeoJSON, PPR GeoJSON) and the served slope COG with geopandas, shapely and
rasterio — not with ``atlas.selection``.
"""

from __future__ import annotations

import json
import math
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.features import geometry_mask

ON_THE_MARKET = {"en vente", "en vente avec contraintes"}
# COVADIS nivalea_st -> ordered class: 01 faible, 02/03 moyen, 04/05 fort, 06/07 très fort.
HAZARD_CLASS = {"01": 1, "02": 2, "03": 2, "04": 3, "05": 3, "06": 4, "07": 4}
# CNIG SITE-ECO: site_voca_<vocation> says a vocation is present (the airport one is shortened).
VOCATION_FLAG = {
    **{
        v: f"site_voca_{v}"
        for v in ("industrielle", "commerciale", "tertiaire", "artisanale", "touristique")
    },
    "portuaire": "site_voca_portuaire",
    "aéroportuaire, aéronautique": "site_voca_aeroportuaire",
}
CLASS_LOWER = {"DN < 100": 0, "DN 100-199": 100, "DN 200-299": 200, "DN >= 300": 300}
BAND_UPPER = {"0-50 m": 50, "50-150 m": 150, "150-500 m": 500, "> 500 m": math.inf}
OVERLAP_M2 = 1.0  # the documented tolerance: below it, an overlap is coordinate rounding


class Oracle:
    """The demo's plots with everything a criterion needs, from the sources."""

    def __init__(self, sources: dict[str, Path], slope_cog: Path) -> None:
        self.sources = sources
        self.slope_cog = slope_cog

    @cached_property
    def plots(self) -> gpd.GeoDataFrame:
        """Every plot (CNIG TERRAIN-ECO) in Lambert-93, indexed by terr_id."""
        table = pd.read_csv(self.sources["activity-plots"], sep=";", dtype=str)
        geometry = [shapely.from_geojson(text) for text in table["terr_geomsurf"]]
        frame = gpd.GeoDataFrame(table, geometry=geometry, crs="EPSG:2154")
        frame["terr_surf_brute"] = frame["terr_surf_brute"].astype(float)
        return frame.set_index("terr_id", drop=False)

    @cached_property
    def sites(self) -> pd.DataFrame:
        """Every site (CNIG SITE-ECO), indexed by site_id."""
        table = pd.read_csv(self.sources["activity-sites"], sep=";", dtype=str)
        for name in ("autoroute_echang_dist", "gare_dist"):
            table[name] = table[name].astype(float)
        return table.set_index("site_id")

    def site_of(self, terr_id: str) -> pd.Series:
        """The site row of a plot."""
        return self.sites.loc[self.plots.loc[terr_id, "site_id"]]

    def vocations(self, terr_id: str) -> set[str]:
        """Dominant vocation and every flagged one of the plot's site."""
        site = self.site_of(terr_id)
        out = {site["site_vocadomi"]}
        out |= {v for v, flag in VOCATION_FLAG.items() if site.get(flag) == "oui"}
        return out

    @cached_property
    def abords(self) -> gpd.GeoDataFrame:
        """The 500 m circle around every protected monument (code du patrimoine L.621-30)."""
        monuments = gpd.read_file(self.sources["heritage-monuments"]).to_crs("EPSG:2154")
        monuments = monuments[monuments["Typologie_de_la_protection"].notna()]
        return gpd.GeoDataFrame(
            {"reference": monuments["Reference"].to_numpy()},
            geometry=monuments.geometry.buffer(500.0, quad_segs=32).to_numpy(),
            crs="EPSG:2154",
        )

    def monuments_over(self, terr_id: str) -> set[str]:
        """References of the monuments whose abords overlap the plot (>= 1 m²)."""
        plot = self.plots.loc[terr_id, "geometry"]
        shared = self.abords.geometry.intersection(plot).area
        return set(self.abords.loc[shared >= OVERLAP_M2, "reference"])

    @cached_property
    def zones(self) -> gpd.GeoDataFrame:
        """The PPR hazard zones with their ordered class."""
        zones = gpd.read_file(self.sources["flood-hazard"]).to_crs("EPSG:2154")
        codes = zones["nivalea_st"].astype(str).str.zfill(2)
        zones["klass"] = codes.map(HAZARD_CLASS)
        return zones

    def hazard_classes(self, terr_id: str) -> set[int]:
        """Classes of the zones overlapping the plot (>= 1 m²)."""
        plot = self.plots.loc[terr_id, "geometry"]
        shared = self.zones.geometry.intersection(plot).area
        return {int(k) for k in self.zones.loc[shared >= OVERLAP_M2, "klass"]}

    @cached_property
    def _slope(self) -> tuple[np.ndarray, object]:
        with rasterio.open(self.slope_cog) as src:
            band = src.read(1, masked=True)
            return band, src.transform

    def mean_slope_pct(self, terr_id: str) -> float | None:
        """Mean of 100·tan(slope) over the pixels centred in the plot (touched if none)."""
        band, transform = self._slope
        plot = self.plots.loc[terr_id, "geometry"]
        for touched in (False, True):
            inside = geometry_mask([plot], band.shape, transform, invert=True, all_touched=touched)
            values = band[inside & ~np.ma.getmaskarray(band)]
            values = np.asarray(values, dtype="float64")
            if values.size:
                return float(np.mean(np.tan(np.radians(values))) * 100)
        return None


def features_by_id(document: dict) -> dict[str, dict]:
    """The features of a response by terr_id."""
    return {f["properties"]["terr_id"]: f for f in document["features"]}


def verdict(feature: dict, criterion: str) -> dict:
    """One criterion's verdict on a feature."""
    (found,) = [v for v in feature["properties"]["criteria"] if v["criterion"] == criterion]
    return found


def without_time(document: dict) -> str:
    """A response as comparable text (its timestamp removed)."""
    return json.dumps({k: v for k, v in document.items() if k != "timeStamp"}, sort_keys=True)
