"""Water bodies: OpenStreetMap water areas (lakes, ponds, a river's surface, reservoirs).

An area is kept when it is tagged ``natural=water`` (OSM wiki *Tag:natural=water*, its kind in
``water=*``: ``river``, ``lake``, ``pond``, ``reservoir``…), or with the older tagging still
found in extracts, ``waterway=riverbank|dock`` or ``landuse=reservoir|basin``. Closed ways and
multipolygon relations alike (GDAL's OSM driver assembles the relations). Fields are those keys'
values. Public for every tier (OpenStreetMap, ODbL).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from atlas.layers import osm
from atlas.layers.base import FieldSpec, ReadOptions, ReadResult, VectorLayer

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "osm_id",
        "string",
        required=True,
        description="the OSM object, as 'way/<id>' (a closed way) or 'relation/<id>'",
    ),
    FieldSpec("natural", "string", description="OSM natural ('water')"),
    FieldSpec("water", "string", description="OSM water: its kind ('river', 'lake', 'pond'…)"),
    FieldSpec("waterway", "string", description="OSM waterway of an area ('riverbank', 'dock')"),
    FieldSpec("landuse", "string", description="OSM landuse of an area ('reservoir', 'basin')"),
    FieldSpec("name", "string", description="OSM name"),
    FieldSpec("intermittent", "string", description="OSM intermittent ('yes' when it dries up)"),
)


def read_water_bodies(path: Path, options: ReadOptions) -> ReadResult:
    """Read the water areas of an OSM extract (``.osm`` or ``.osm.pbf``)."""
    raw, name = osm.read_osm(path, options, "multipolygons")
    values = {key: osm.text(raw, key) for key in ("natural", "water", "waterway", "landuse")}
    kept = (
        (values["natural"] == "water")
        | values["waterway"].isin(("riverbank", "dock"))
        | values["landuse"].isin(("reservoir", "basin"))
    )
    frame = gpd.GeoDataFrame(
        {
            "osm_id": osm.area_ids(raw),
            **values,
            **{key: osm.text(raw, key) for key in ("name", "intermittent")},
        },
        geometry=raw.geometry,
        crs=raw.crs,
    )[kept.to_numpy()]
    notes = [f"read {name} (OpenStreetMap: {osm.OSM_LICENCE}): {int(kept.sum())} water areas"]
    return ReadResult(frame=frame, notes=notes, rows_read=int(kept.sum()))


LAYER = VectorLayer(
    collection_id="water-bodies",
    title="Water bodies",
    description="Lakes, ponds and river surfaces of the base map (OpenStreetMap water areas).",
    geometry_type="MultiPolygon",
    id_field="osm_id",
    fields=FIELDS,
    reader=read_water_bodies,
    standard="OpenStreetMap (Tag:natural=water), ODbL",
)
