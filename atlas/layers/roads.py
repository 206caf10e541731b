"""Roads: OpenStreetMap ways tagged ``highway=*``, the base map's road network.

Fields keep the OSM keys (OSM wiki *Key:highway*): ``highway`` is the road class, ``name`` and
``ref`` label it, ``oneway``, ``bridge`` and ``tunnel`` are the tags' own values. Ways of other
``highway`` values (``proposed``, ``construction``, ``platform``, ``raceway``…) are not roads
and are left out with a note; a way without any highway tag is not read at all. Public for every
tier: OpenStreetMap data is open (ODbL, attribution required).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from atlas.layers import osm
from atlas.layers.base import FieldSpec, ReadOptions, ReadResult, VectorLayer

# OSM wiki Key:highway: roads, link roads, special road types and paths, most important first.
HIGHWAY_CLASSES: tuple[str, ...] = (
    "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
    "motorway_link", "trunk_link", "primary_link", "secondary_link", "tertiary_link",
    "living_street", "service", "pedestrian", "track", "bus_guideway", "busway", "road",
    "footway", "bridleway", "steps", "path", "cycleway",
)  # fmt: skip
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("osm_id", "string", required=True, description="the OSM way, as 'way/<id>'"),
    FieldSpec(
        "highway", "string", required=True, enum=HIGHWAY_CLASSES, description="OSM road class"
    ),
    FieldSpec("name", "string", description="OSM name"),
    FieldSpec("ref", "string", description="road number (OSM ref: 'D 448', 'A 6')"),
    FieldSpec("oneway", "string", description="OSM oneway ('yes', 'no', '-1')"),
    FieldSpec("bridge", "string", description="OSM bridge ('yes', 'viaduct'…)"),
    FieldSpec("tunnel", "string", description="OSM tunnel ('yes', 'culvert'…)"),
)


def read_roads(path: Path, options: ReadOptions) -> ReadResult:
    """Read the highway ways of an OSM extract (``.osm`` or ``.osm.pbf``) into the roads schema."""
    raw, name = osm.read_osm(path, options, "lines")
    highway = osm.text(raw, "highway")
    kept = highway.isin(HIGHWAY_CLASSES)
    frame = gpd.GeoDataFrame(
        {
            "osm_id": osm.way_ids(raw),
            "highway": highway,
            **{key: osm.text(raw, key) for key in ("name", "ref", "oneway", "bridge", "tunnel")},
        },
        geometry=raw.geometry,
        crs=raw.crs,
    )[kept.to_numpy()]
    notes = [f"read {name} (OpenStreetMap: {osm.OSM_LICENCE})"]
    notes += osm.left_out_note(highway, kept, "highway ways")
    return ReadResult(frame=frame, notes=notes, rows_read=int(highway.notna().sum()))


LAYER = VectorLayer(
    collection_id="roads",
    title="Roads",
    description="Road network of the base map: OpenStreetMap highway ways with their class.",
    geometry_type="LineString",
    id_field="osm_id",
    fields=FIELDS,
    reader=read_roads,
    standard="OpenStreetMap (Key:highway), ODbL",
    # Every street of the agglomeration below z10 is a tile of unreadable hair.
    min_zoom=10,
)
