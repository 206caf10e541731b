"""Activity parks: their footprints, and their plots as unions of whole cadastral parcels.

Park names are those of Grand Paris Sud's parks where known (Bois Chaland, Clé de Saint-Pierre,
Carré Sénart, Villaroche, Genopole…) and plausible inventions elsewhere; positions are
approximate, areas rounded down. Each park has a target vacancy between 0 and 30 % that the
plots' occupation states realise exactly; two parks declare a stale rate (see STALE_SITES).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from atlas.demo.cadastre import Parcels
from atlas.demo.territory import Territory, to_l93


@dataclass(frozen=True)
class SiteSpec:
    """What the demo states about one park (facts and demo choices)."""

    name: str
    commune: str  # INSEE code
    lon: float
    lat: float
    hectares: float
    vocation: str  # CNIG site_vocadomi
    lot_side: float  # metres: typical side of one cadastral lot
    vacancy: float  # share of plots vacant or in friche, realised exactly
    state: str = "existant et actif"  # CNIG site_etat
    created: int = 1975


SITES: tuple[SiteSpec, ...] = (
    SiteSpec("Parc d'activités du Bois Chaland", "91340", 2.415, 48.606, 85, "mixte", 95, 0.08, created=1973),
    SiteSpec("ZAC de la Clé de Saint-Pierre", "91573", 2.527, 48.604, 45, "mixte", 90, 0.12, created=2006),
    SiteSpec("Parc industriel de Bondoufle", "91086", 2.372, 48.619, 55, "industrielle", 100, 0.18, created=1970),
    SiteSpec("Zone d'activités des Haies Blanches", "91553", 2.497, 48.616, 20, "artisanale", 70, 0.25, created=1981),
    SiteSpec("Carré Sénart", "77251", 2.561, 48.621, 70, "commerciale", 120, 0.05, created=2002),
    SiteSpec("Parc d'activités de Villaroche", "77384", 2.640, 48.605, 110, "aéroportuaire, aéronautique", 140, 0.03, created=1972),
    SiteSpec("Écopôle de Sénart", "77122", 2.586, 48.646, 40, "industrielle", 110, 0.0, state="création", created=2019),
    SiteSpec("Parc d'activités de Chanteloup", "77296", 2.611, 48.634, 90, "entrepôts, logistique", 160, 0.02, created=1990),
    SiteSpec("Parc d'activités de la Montagne des Glaises", "91174", 2.455, 48.606, 25, "mixte", 80, 0.28, created=1968),
    SiteSpec("Genopole Campus 1", "91228", 2.447, 48.620, 18, "tertiaire", 70, 0.10, created=1998),
    SiteSpec("Parc du Bois Briard", "91228", 2.424, 48.625, 22, "tertiaire", 75, 0.22, created=1985),
    SiteSpec("ZAC des Docks de Ris", "91521", 2.411, 48.657, 12, "mixte", 65, 0.30, created=1995),
    SiteSpec("Zone d'activités des Radars", "91286", 2.381, 48.651, 15, "artisanale", 65, 0.15, created=1979),
    SiteSpec("Zone d'activités du Moulin Galant", "91659", 2.461, 48.592, 30, "commerciale", 100, 0.12, created=1983),
    SiteSpec("Parc d'activités des Bordes", "77445", 2.575, 48.596, 45, "mixte", 90, 0.06, created=1988),
    SiteSpec("Zone d'activités de la Plaine du Moulin à Vent", "77067", 2.596, 48.556, 25, "artisanale", 75, 0.09, created=1992),
    SiteSpec("Parc d'activités de la Ferme du Plessis", "77495", 2.636, 48.576, 20, "industrielle", 90, 0.14, created=1996),
    SiteSpec("Zone d'activités de la Plaine de Tigery", "91617", 2.515, 48.636, 15, "artisanale", 70, 0.0, state="création", created=2021),
    SiteSpec("Zone d'activités des Brateaux", "77326", 2.556, 48.576, 12, "artisanale", 65, 0.20, created=1986),
    SiteSpec("Zone d'activités des Montceaux", "91179", 2.486, 48.556, 10, "industrielle", 70, 0.17, created=1977),
)  # fmt: skip

# Parks whose declared site_taux_vacance is stale (an old survey, never updated): the value in
# the file is this one, not the one the plots give. The vacancy check must flag exactly these.
STALE_SITES: dict[str, float] = {
    "Parc industriel de Bondoufle": 4.0,
    "ZAC des Docks de Ris": 12.5,
}


@dataclass
class Plot:
    """One CNIG TERRAIN-ECO: whole parcels of one park."""

    site: int
    parcels: list[int]
    geometry: shapely.Geometry
    attributes: dict[str, object] = field(default_factory=dict)


def footprints(territory: Territory, rng) -> list[shapely.Polygon]:
    """Each park's footprint: a rotated rectangle of its area, kept off the rivers."""
    centres = to_l93(tuple((s.lon, s.lat) for s in SITES))
    shapes = []
    for spec, (x, y) in zip(SITES, centres, strict=True):
        ratio = float(rng.uniform(1.2, 1.9))
        width = np.sqrt(spec.hectares * 10_000 / ratio)
        box = shapely.box(-width * ratio / 2, -width / 2, width * ratio / 2, width / 2)
        angle = float(rng.uniform(0, np.pi))
        cos, sin = np.cos(angle), np.sin(angle)
        shape = shapely.transform(
            box,
            lambda c, cos=cos, sin=sin, x=x, y=y: np.column_stack(
                [x + c[:, 0] * cos - c[:, 1] * sin, y + c[:, 0] * sin + c[:, 1] * cos]
            ),
        )
        shape = shapely.difference(
            shapely.intersection(shape, territory.envelope), territory.rivers.buffer(40)
        )
        shapes.append(max(shapely.get_parts(shape), key=lambda g: g.area))
    return shapes


def make_plots(parcels: Parcels, rng) -> list[Plot]:
    """Group each park's parcels into plots (1–4 adjacent parcels), by nearest plot seed."""
    plots: list[Plot] = []
    for number, spec in enumerate(SITES):
        members = np.flatnonzero(parcels.park == number)
        if len(members) == 0:
            continue
        per_plot = 1.3 if spec.vocation in ("entrepôts, logistique", "commerciale") else 1.8
        count = max(2, int(round(len(members) / per_plot)))
        count = min(count, len(members))
        chosen = rng.choice(members, size=count, replace=False)
        chosen.sort()
        seeds = parcels.seeds[chosen]
        points = parcels.seeds[members]
        nearest = np.argmin(((points[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2), axis=1)
        for k in range(count):
            group = members[nearest == k]
            if len(group) == 0:
                continue
            plots.extend(_connected_plots(number, group, parcels))
    return plots


def _connected_plots(site: int, group: np.ndarray, parcels: Parcels) -> list[Plot]:
    """One plot per connected block of ``group`` (a plot is one unit of land, CNIG)."""
    union = shapely.union_all(parcels.geometries[group])
    parts = shapely.get_parts(union)
    if len(parts) == 1:
        return [Plot(site=site, parcels=[int(i) for i in group], geometry=union)]
    inner = shapely.point_on_surface(parcels.geometries[group])
    plots = []
    for part in parts:
        members = group[shapely.contains(part, inner)]
        if len(members):
            plots.append(Plot(site=site, parcels=[int(i) for i in members], geometry=part))
    return plots
