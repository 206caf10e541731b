"""The base map's OpenStreetMap extract of the demo territory: roads, waterways, water areas.

Written as OSM XML (API 0.6, the format JOSM and the OSM API write), so that ``atlas demo``
ingests it through the same reader as a real extract. Nothing is drawn at random: roads join
neighbouring towns (the Delaunay edges of the town centres), two streets cross each town, the
A6 and the N104 cross the territory, the Seine and the Essonne are rivers with their surface
as water areas (the Seine's as multipolygon relations, as OSM maps wide rivers), and the lakes
of Viry-Grigny are closed ways. Positions are approximate, names are the real ones.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import shapely

from atlas.demo.territory import Territory, to_l93
from atlas.query.crs import transformer
from atlas.types import STORAGE_CRS

# (ref, highway class, lon/lat points): approximate courses through the agglomeration.
_TRUNK_ROADS: tuple[tuple[str, str, tuple[tuple[float, float], ...]], ...] = (
    ("A 6", "motorway", ((2.376, 48.668), (2.398, 48.640), (2.418, 48.612), (2.432, 48.585))),
    ("N 104", "trunk", ((2.384, 48.626), (2.440, 48.615), (2.500, 48.612), (2.570, 48.623))),
)
_LAKES: tuple[tuple[str, tuple[float, float], float], ...] = (
    ("Lac de Viry", (2.392, 48.664), 260.0),
    ("Lac de Grigny", (2.400, 48.660), 180.0),
)
_STREETS = ("Rue de la République", "Avenue Jean Jaurès")


class _OsmWriter:
    """Nodes, ways and relations in memory, written in the order OSM files use."""

    def __init__(self) -> None:
        self.nodes: list[str] = []
        self.ways: list[str] = []
        self.relations: list[str] = []
        self._next = {"node": 1, "way": 1, "relation": 1}
        self._to_lonlat = transformer(STORAGE_CRS, "EPSG:4326")

    def _id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind] - 1

    def way(self, coords: np.ndarray, tags: dict[str, str]) -> int:
        """A way through Lambert-93 ``coords`` (closed when first == last); its id."""
        closed = len(coords) > 3 and bool(np.allclose(coords[0], coords[-1]))
        points = coords[:-1] if closed else coords
        lon, lat = self._to_lonlat.transform(points[:, 0], points[:, 1])
        refs: list[int] = []
        for x, y in zip(lon, lat, strict=True):
            node = self._id("node")
            self.nodes.append(f"  <node id='{node}' version='1' lat='{y:.7f}' lon='{x:.7f}' />")
            refs.append(node)
        if closed:
            refs.append(refs[0])  # a closed way ends on its first node (OSM wiki "Way")
        way = self._id("way")
        body = "".join(f"\n    <nd ref='{r}' />" for r in refs) + _tags(tags)
        self.ways.append(f"  <way id='{way}' version='1'>{body}\n  </way>")
        return way

    def multipolygon(self, polygon: shapely.Polygon, tags: dict[str, str]) -> None:
        """A multipolygon relation: the polygon's rings as untagged member ways."""
        members = [("outer", self.way(np.asarray(polygon.exterior.coords), {}))]
        members += [("inner", self.way(np.asarray(r.coords), {})) for r in polygon.interiors]
        body = "".join(
            f"\n    <member type='way' ref='{w}' role='{role}' />" for role, w in members
        )
        body += _tags({"type": "multipolygon", **tags})
        self.relations.append(
            f"  <relation id='{self._id('relation')}' version='1'>{body}\n  </relation>"
        )

    def write(self, path: Path) -> None:
        """The OSM XML document."""
        lines = [
            "<?xml version='1.0' encoding='UTF-8'?>",
            "<osm version='0.6' generator='atlas demo'>",
        ]
        lines += self.nodes + self.ways + self.relations + ["</osm>", ""]
        path.write_text("\n".join(lines), encoding="utf-8", newline="\n")


def _tags(tags: dict[str, str]) -> str:
    return "".join(f"\n    <tag k={quoteattr(k)} v={quoteattr(v)} />" for k, v in tags.items())


def _line(coords: shapely.LineString | np.ndarray) -> np.ndarray:
    return np.round(np.asarray(getattr(coords, "coords", coords)), 1)


def write_basemap(path: Path, territory: Territory) -> Path:
    """Write the territory's OSM extract (roads, waterways, water areas) to ``path``."""
    osm = _OsmWriter()
    _roads(osm, territory)
    _water(osm, territory)
    osm.write(path)
    return path


def _roads(osm: _OsmWriter, territory: Territory) -> None:
    for ref, highway, lonlat in _TRUNK_ROADS:
        osm.way(_line(np.asarray(to_l93(lonlat))), {"highway": highway, "ref": ref})
    centres = shapely.MultiPoint([c.centre for c in territory.communes])
    edges = shapely.delaunay_triangles(centres, only_edges=True)
    for number, edge in enumerate(sorted(edges.geoms, key=lambda e: e.wkb), start=1):
        # Roads between towns: departmental roads, numbered in a stable order.
        osm.way(_line(edge), {"highway": "secondary", "ref": f"D {300 + number}"})
    for commune in territory.communes:
        x, y = commune.centre
        half = commune.urban_radius * 0.8
        for name, (dx, dy) in zip(_STREETS, ((half, 0.0), (0.0, half)), strict=True):
            street = np.array([[x - dx, y - dy], [x, y], [x + dx, y + dy]])
            osm.way(_line(street), {"highway": "residential", "name": name})


def _water(osm: _OsmWriter, territory: Territory) -> None:
    for name, course in (("La Seine", territory.seine), ("L'Essonne", territory.essonne)):
        osm.way(_line(course), {"waterway": "river", "name": name})
    for polygon in shapely.get_parts(territory.rivers):
        osm.multipolygon(
            shapely.Polygon(_line(polygon.exterior), [_line(r) for r in polygon.interiors]),
            {"natural": "water", "water": "river"},
        )
    for name, lonlat, radius in _LAKES:
        centre = shapely.Point(to_l93((lonlat,))[0])
        osm.way(_line(centre.buffer(radius, quad_segs=6).exterior), {
            "natural": "water", "water": "lake", "name": name
        })  # fmt: skip
