"""Waterways: OpenStreetMap ways tagged ``waterway=*`` (rivers, streams, canals), as lines.

Fields keep the OSM keys (OSM wiki *Key:waterway*): ``waterway`` is the class, ``name`` labels
it, ``intermittent`` and ``tunnel`` (a culverted stretch) are the tags' own values. The water
areas (a river's banks drawn as a polygon, lakes, ponds) are the ``water-bodies`` collection.
Public for every tier (OpenStreetMap, ODbL).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from atlas.layers import osm
from atlas.layers.base import FieldSpec, ReadOptions, ReadResult, VectorLayer

# OSM wiki Key:waterway, the linear watercourses (dams, weirs and locks are not courses).
WATERWAY_CLASSES: tuple[str, ...] = (
    "river", "stream", "tidal_channel", "canal", "drain", "ditch", "brook", "canal_spillway",
)  # fmt: skip
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("osm_id", "string", required=True, description="the OSM way, as 'way/<id>'"),
    FieldSpec("waterway", "string", required=True, enum=WATERWAY_CLASSES, description="OSM class"),
    FieldSpec("name", "string", description="OSM name"),
    FieldSpec("intermittent", "string", description="OSM intermittent ('yes' when it dries up)"),
    FieldSpec("tunnel", "string", description="OSM tunnel ('culvert'…)"),
)


def read_waterways(path: Path, options: ReadOptions) -> ReadResult:
    """Read the waterway ways of an OSM extract (``.osm`` or ``.osm.pbf``)."""
    raw, name = osm.read_osm(path, options, "lines")
    waterway = osm.text(raw, "waterway")
    kept = waterway.isin(WATERWAY_CLASSES)
    frame = gpd.GeoDataFrame(
        {
            "osm_id": osm.way_ids(raw),
            "waterway": waterway,
            **{key: osm.text(raw, key) for key in ("name", "intermittent", "tunnel")},
        },
        geometry=raw.geometry,
        crs=raw.crs,
    )[kept.to_numpy()]
    notes = [f"read {name} (OpenStreetMap: {osm.OSM_LICENCE})"]
    notes += osm.left_out_note(waterway, kept, "waterway ways")
    return ReadResult(frame=frame, notes=notes, rows_read=int(waterway.notna().sum()))


LAYER = VectorLayer(
    collection_id="waterways",
    title="Waterways",
    description="Rivers, streams and canals of the base map (OpenStreetMap waterway ways).",
    geometry_type="LineString",
    id_field="osm_id",
    fields=FIELDS,
    reader=read_waterways,
    standard="OpenStreetMap (Key:waterway), ODbL",
    min_zoom=8,
)
