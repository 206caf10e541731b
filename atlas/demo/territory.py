"""The territory's frame: communes (real names, codes, populations), envelope, rivers, towns.

Facts written down (not read at run time): the members of the CA Grand Paris Sud Seine Essonne
Sénart (EPCI SIREN 200059228, geo.api.gouv.fr découpage administratif), approximate town-centre
positions and an approximate outline of the EPCI (simplified to ~700 m). Commune geometries are
synthetic: a Voronoi partition of the town centres clipped to that outline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from atlas.query.crs import transformer
from atlas.types import STORAGE_CRS

EPCI_SIREN = "200059228"
EPCI_NAME = "CA Grand Paris Sud Seine Essonne Sénart"

# INSEE code, name, population totale (2021 legal populations), postcode, centre lon, lat,
# whether the commune is a "ville nouvelle" (Évry, Sénart: networks laid from the 1970s).
COMMUNES: tuple[tuple[str, str, int, str, float, float, bool], ...] = (
    ("91228", "Évry-Courcouronnes", 67041, "91000", 2.437, 48.628, True),
    ("91174", "Corbeil-Essonnes", 53962, "91100", 2.472, 48.602, False),
    ("77445", "Savigny-le-Temple", 30874, "77176", 2.584, 48.586, True),
    ("91521", "Ris-Orangis", 30448, "91130", 2.414, 48.650, False),
    ("91286", "Grigny", 26556, "91350", 2.389, 48.658, False),
    ("77122", "Combs-la-Ville", 22874, "77380", 2.571, 48.662, True),
    ("77296", "Moissy-Cramayel", 18631, "77550", 2.596, 48.626, True),
    ("77251", "Lieusaint", 14181, "77127", 2.548, 48.630, True),
    ("91573", "Saint-Pierre-du-Perray", 12174, "91280", 2.512, 48.612, True),
    ("77067", "Cesson", 11238, "77240", 2.602, 48.565, True),
    ("91086", "Bondoufle", 10937, "91070", 2.381, 48.614, True),
    ("77495", "Vert-Saint-Denis", 9132, "77240", 2.626, 48.567, False),
    ("91553", "Saint-Germain-lès-Corbeil", 7561, "91250", 2.489, 48.622, False),
    ("91600", "Soisy-sur-Seine", 7461, "91450", 2.452, 48.651, False),
    ("91340", "Lisses", 7370, "91090", 2.421, 48.600, True),
    ("77326", "Nandy", 6368, "77176", 2.560, 48.583, False),
    ("91577", "Saintry-sur-Seine", 5922, "91250", 2.494, 48.595, False),
    ("91659", "Villabé", 5697, "91100", 2.453, 48.588, False),
    ("91179", "Le Coudray-Montceaux", 4790, "91830", 2.490, 48.563, False),
    ("91617", "Tigery", 4439, "91250", 2.508, 48.642, False),
    ("91225", "Étiolles", 3202, "91450", 2.480, 48.633, False),
    ("77384", "Réau", 2052, "77550", 2.623, 48.608, False),
    ("91435", "Morsang-sur-Seine", 603, "91250", 2.497, 48.576, False),
)
# Voronoi generators for the commune partition: the town centres above, moved where a commune's
# territory lies mostly to one side of its town (Étiolles' forest of Sénart, Réau's fields).
_PARTITION_SHIFT: dict[str, tuple[float, float]] = {
    "91225": (0.007, 0.008),
    "77384": (0.010, -0.002),
    "91617": (0.005, 0.005),
    "77495": (0.015, -0.008),
    "91179": (-0.005, -0.008),
    "91435": (0.004, -0.002),
}

# Approximate outline of the EPCI (lon, lat), simplified to ~700 m.
ENVELOPE_LONLAT: tuple[tuple[float, float], ...] = (
    (2.357, 48.611), (2.391, 48.640), (2.365, 48.645), (2.396, 48.674), (2.430, 48.654),
    (2.493, 48.681), (2.523, 48.658), (2.555, 48.676), (2.568, 48.667), (2.583, 48.678),
    (2.587, 48.665), (2.614, 48.663), (2.630, 48.625), (2.663, 48.617), (2.648, 48.595),
    (2.653, 48.560), (2.610, 48.535), (2.535, 48.573), (2.499, 48.543), (2.465, 48.541),
    (2.468, 48.555), (2.454, 48.558), (2.470, 48.576), (2.422, 48.573), (2.411, 48.588),
    (2.394, 48.589), (2.406, 48.595), (2.399, 48.605), (2.372, 48.600),
)  # fmt: skip

# The Seine flows from the south-east (Saint-Fargeau) north-west through Le Coudray, Corbeil,
# Évry/Étiolles, Ris/Soisy and Grigny; the Essonne joins it at Corbeil from the south-west.
SEINE_LONLAT: tuple[tuple[float, float], ...] = (
    (2.560, 48.528), (2.515, 48.545), (2.497, 48.560), (2.487, 48.580), (2.488, 48.597),
    (2.480, 48.610), (2.466, 48.624), (2.456, 48.637), (2.444, 48.647), (2.427, 48.655),
    (2.410, 48.664), (2.395, 48.672), (2.380, 48.690),
)  # fmt: skip
ESSONNE_LONLAT: tuple[tuple[float, float], ...] = (
    (2.400, 48.545), (2.425, 48.560), (2.440, 48.575), (2.452, 48.590), (2.465, 48.600),
    (2.484, 48.606),
)  # fmt: skip


@dataclass(frozen=True)
class Commune:
    """One member commune, its synthetic boundary and its town (EPSG:2154)."""

    code: str
    name: str
    population: int
    postcode: str
    centre: tuple[float, float]
    new_town: bool
    geometry: shapely.Polygon
    urban_radius: float  # metres: the radius of the built-up town around the centre


@dataclass(frozen=True)
class Territory:
    """The frame everything else is generated in (EPSG:2154)."""

    envelope: shapely.Polygon
    communes: tuple[Commune, ...]
    seine: shapely.LineString
    essonne: shapely.LineString
    rivers: shapely.MultiPolygon  # the river beds (not cadastred)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the envelope."""
        return tuple(self.envelope.bounds)  # type: ignore[return-value]

    def commune(self, code: str) -> Commune:
        """The commune with INSEE ``code``."""
        return next(c for c in self.communes if c.code == code)

    def urban_weight(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """0–1: how built-up the ground is at (x, y), from the towns' gaussian footprints."""
        weight = np.zeros_like(x, dtype=float)
        for c in self.communes:
            d2 = (x - c.centre[0]) ** 2 + (y - c.centre[1]) ** 2
            weight = np.maximum(weight, np.exp(-d2 / (2 * c.urban_radius**2)))
        return weight


def to_l93(coords: tuple[tuple[float, float], ...]) -> list[tuple[float, float]]:
    """Lon/lat pairs to Lambert-93."""
    xs, ys = transformer("EPSG:4326", STORAGE_CRS).transform(
        [c[0] for c in coords], [c[1] for c in coords]
    )
    return list(zip(xs, ys, strict=True))


def build_territory() -> Territory:
    """The communes partition, the rivers and the towns; depends on no random draw."""
    envelope = shapely.Polygon(to_l93(ENVELOPE_LONLAT))
    generators = []
    for code, *_, lon, lat, _new in COMMUNES:
        dx, dy = _PARTITION_SHIFT.get(code, (0.0, 0.0))
        generators.append((lon + dx, lat + dy))
    points = shapely.MultiPoint(to_l93(tuple(generators)))
    cells = shapely.voronoi_polygons(points, extend_to=envelope.buffer(5000), ordered=True)
    centres = to_l93(tuple((c[4], c[5]) for c in COMMUNES))
    communes = []
    for (code, name, pop, postcode, _lon, _lat, new_town), cell, centre in zip(
        COMMUNES, cells.geoms, centres, strict=True
    ):
        geometry = _largest(shapely.intersection(cell, envelope))
        # ~120 m² of built-up land per inhabitant, at least a village of 350 m radius.
        radius = max(350.0, float(np.sqrt(pop * 120 / np.pi)) * 0.75)
        communes.append(Commune(code, name, pop, postcode, centre, new_town, geometry, radius))
    seine = shapely.LineString(to_l93(SEINE_LONLAT))
    essonne = shapely.LineString(to_l93(ESSONNE_LONLAT))
    rivers = shapely.union(seine.buffer(70), essonne.buffer(12))
    rivers = shapely.intersection(rivers, envelope)
    if isinstance(rivers, shapely.Polygon):
        rivers = shapely.MultiPolygon([rivers])
    return Territory(envelope, tuple(communes), seine, essonne, rivers)


def _largest(geometry: shapely.Geometry) -> shapely.Polygon:
    """The largest polygon of a clipping result."""
    if isinstance(geometry, shapely.Polygon):
        return geometry
    return max(shapely.get_parts(geometry), key=lambda g: g.area)
