"""OpenStreetMap extracts (OSM XML, ``.osm.pbf``) read with GDAL's OSM driver for the base map.

The driver runs with Atlas's own configuration (``osmconf.ini`` beside this module): it turns
only the keys the base-map layers keep into fields and drops every other tag, so nothing
unexpected (contacts, personal notes) is read. An OSM object is named as on openstreetmap.org,
``way/123`` or ``relation/456``: ids of ways and relations overlap, these do not.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd

from atlas.errors import InvalidInput
from atlas.layers.base import ReadOptions
from atlas.layers.io import read_vector, single_source

OSM_SUFFIXES = (".osm", ".osm.pbf")
CONFIG_FILE = Path(__file__).with_name("osmconf.ini")
OSM_LICENCE = "© OpenStreetMap contributors, ODbL 1.0"


def read_osm(
    path: Path, options: ReadOptions, layer: Literal["lines", "multipolygons"]
) -> tuple[gpd.GeoDataFrame, str]:
    """One layer of the driver's (``lines``: ways; ``multipolygons``: areas), and the file name."""
    source = single_source(path, OSM_SUFFIXES)
    open_options = {"CONFIG_FILE": str(CONFIG_FILE)}
    try:
        frame = read_vector(source, crs=options.crs, layer=layer, open_options=open_options)
    except InvalidInput as exc:
        # The driver's fast node index needs ids in increasing order, as osmium and Geofabrik
        # write them; a file in another order is read again with the slower SQLite index.
        if "Non increasing node id" not in exc.description:
            raise
        open_options["USE_CUSTOM_INDEXING"] = "NO"
        frame = read_vector(source, crs=options.crs, layer=layer, open_options=open_options)
    return frame.reset_index(drop=True), source.name


def way_ids(frame: gpd.GeoDataFrame) -> pd.Series:
    """``way/<id>`` for the driver's ``lines`` layer."""
    return "way/" + frame["osm_id"].astype(str)


def area_ids(frame: gpd.GeoDataFrame) -> pd.Series:
    """``relation/<id>`` for multipolygon relations, ``way/<id>`` for closed ways."""
    relation = frame["osm_id"].notna() & (frame["osm_id"].astype(str) != "")
    return pd.Series(
        [
            f"relation/{r}" if is_relation else f"way/{w}"
            for r, w, is_relation in zip(
                frame["osm_id"], frame["osm_way_id"], relation, strict=True
            )
        ],
        index=frame.index,
        dtype=object,
    )


def text(frame: gpd.GeoDataFrame, key: str) -> pd.Series:
    """The values of an OSM key as text; None where the object has no such tag."""
    if key not in frame:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    # A list, not Series.map: map turns the Nones back into NaN in an object column.
    values = [None if v is None or v != v or str(v) == "" else str(v) for v in frame[key]]
    return pd.Series(values, index=frame.index, dtype=object)


def left_out_note(values: pd.Series, kept: pd.Series, what: str) -> list[str]:
    """A note naming the values of objects the layer does not keep (most frequent first)."""
    others = Counter(v for v in values[~kept] if v is not None)
    if not others:
        return []
    listed = ", ".join(f"{v} ({n})" for v, n in others.most_common(8))
    return [f"{sum(others.values())} {what} of other classes left out: {listed}"]
