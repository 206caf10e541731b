"""The demo's OpenStreetMap extract: byte-stable, read by the OSM readers, inside the territory."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import shapely

from atlas.demo.basemap import write_basemap
from atlas.demo.territory import build_territory
from atlas.layers import get_layer
from atlas.layers.base import ReadOptions, VectorLayer
from atlas.layers.conform import conform


def _read(collection_id: str, path: Path):
    layer = get_layer(collection_id)
    assert isinstance(layer, VectorLayer)
    frame, report = conform(layer.reader(path, ReadOptions()), layer, source=path.name)
    assert report.rejected == [] and report.repaired == [], report.summary()
    return frame


def test_same_territory_same_bytes(small_demo: dict[str, Path], tmp_path: Path) -> None:
    again = write_basemap(tmp_path / "again.osm", build_territory())
    assert again.read_bytes() == small_demo["roads"].read_bytes()
    assert small_demo["waterways"] == small_demo["water-bodies"] == small_demo["roads"]


def test_roads_join_the_towns(small_demo: dict[str, Path]) -> None:
    territory = build_territory()
    roads = _read("roads", small_demo["roads"])
    classes = Counter(roads["highway"])
    assert classes["motorway"] == 1 and classes["trunk"] == 1
    assert classes["residential"] == 2 * len(territory.communes)
    network = shapely.union_all(roads.geometry.to_numpy())
    for commune in territory.communes:  # every town centre lies on the network
        assert network.distance(shapely.Point(commune.centre)) < 1.0, commune.name
    assert set(roads.loc[roads["highway"] == "motorway", "ref"]) == {"A 6"}


def test_water_is_the_seine_and_the_essonne(small_demo: dict[str, Path]) -> None:
    territory = build_territory()
    waterways = _read("waterways", small_demo["waterways"]).set_index("name")
    assert set(waterways.index) == {"La Seine", "L'Essonne"}
    assert waterways.loc["La Seine", "geometry"].hausdorff_distance(territory.seine) < 1.0
    bodies = _read("water-bodies", small_demo["water-bodies"])
    rivers = bodies[bodies["water"] == "river"]
    assert all(osm_id.startswith("relation/") for osm_id in rivers["osm_id"])
    surface = shapely.union_all(rivers.geometry.to_numpy())
    assert surface.symmetric_difference(territory.rivers).area < 0.001 * territory.rivers.area
    assert set(bodies.loc[bodies["water"] == "lake", "name"]) == {"Lac de Viry", "Lac de Grigny"}
