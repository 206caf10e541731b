"""The value at a point (OGC API – EDR *position* query), answered as a GeoJSON Feature.

``coords`` is a WKT ``POINT`` in CRS84 (lon lat) or in the CRS ``crs`` names (EPSG:2154 x y,
EPSG:4326 lat lon, as OGC API – Features Part 2 orders axes). A point that is not WKT, not a
point, or outside the territory (``ATLAS_TERRITORY_BBOX``) is a 400; a point where the
collection holds no value (off the raster, at nodata, outside the zones' extent) a 404.
Answers: elevation in metres, slope in percent (and degrees) with its class, the flood-hazard
class with its French and English labels (null class: outside every hazard zone of the PPRs).
"""

from __future__ import annotations

import math
from typing import Any

import shapely
from shapely.errors import ShapelyError
from shapely.geometry import Point

from atlas.errors import InvalidInput, NotFound
from atlas.policy.gate import Gate
from atlas.query.crs import CRS84_CODE, ApiCRS, to_storage, transformer
from atlas.query.features import FeatureQuery
from atlas.tiles.colormaps import FLOOD_CLASSES, SLOPE_CLASSES, SLOPE_UNIT, RasterClass
from atlas.tiles.raster import ZONES, check_style, slope_percent
from atlas.types import STORAGE_CRS

MAX_WKT = 200  # a POINT needs a few dozen characters


def parse_point(coords: str, crs: ApiCRS, territory: tuple[float, float, float, float]) -> Point:
    """The Lambert-93 point ``coords`` names; InvalidInput when unreadable or off the territory."""
    if len(coords) > MAX_WKT:
        raise InvalidInput(f"coords: a WKT POINT of at most {MAX_WKT} characters")
    try:
        geometry = shapely.from_wkt(coords.strip())
    except (ShapelyError, ValueError):
        raise InvalidInput("coords: not a WKT geometry; expected POINT(x y)") from None
    if not isinstance(geometry, Point) or geometry.is_empty or geometry.has_z:
        raise InvalidInput("coords: expected a 2D WKT POINT(x y)")
    if not all(math.isfinite(v) for v in (geometry.x, geometry.y)):
        raise InvalidInput("coords: coordinates must be finite numbers")
    point = to_storage(geometry, crs)
    lon, lat = transformer(STORAGE_CRS, CRS84_CODE).transform(point.x, point.y)
    west, south, east, north = territory
    if not (math.isfinite(lon) and west <= lon <= east and south <= lat <= north):
        raise InvalidInput(
            f"coords: the point lies outside the territory ({west},{south},{east},{north})"
        )
    assert isinstance(point, Point)
    return point


def position(gate: Gate, collection_id: str, point: Point) -> dict[str, Any]:
    """The collection's value at a Lambert-93 point, as the caller may read it."""
    check_style(collection_id, None)  # only the map collections answer
    if collection_id == ZONES:
        version, properties = _hazard(gate, point)
    else:
        reader = gate.raster_reader(collection_id)
        sampled = reader.point(point.x, point.y)
        if sampled is None:
            raise NotFound(f"{collection_id}: the point lies off the raster")
        if sampled.value is None:
            raise NotFound(f"{collection_id}: no value at this point (nodata)")
        version, properties = reader.version, _raster_value(collection_id, sampled.value)
    lon, lat = transformer(STORAGE_CRS, CRS84_CODE).transform(point.x, point.y)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"collection": collection_id, "version": version, **properties},
    }


def _raster_value(collection_id: str, value: float) -> dict[str, Any]:
    if collection_id == "elevation":
        return {"value": value, "unit": "m"}
    percent = float(slope_percent(value))
    found = _class_of(percent, SLOPE_CLASSES)
    return {"value": percent, "unit": SLOPE_UNIT, "degrees": value, **_class_json(found)}


def _class_of(value: float, classes: tuple[RasterClass, ...]) -> RasterClass:
    for item in reversed(classes):
        if item.lower is None or value >= item.lower:
            return item
    return classes[0]


def _class_json(item: RasterClass | None, *, zoned: bool = False) -> dict[str, Any]:
    if item is None and zoned:  # zones whose level could not be read: unknown is not "none"
        return {
            "class": None,
            "label": {"fr": "niveau d'aléa inconnu", "en": "unknown hazard level"},
        }
    if item is None:
        return {
            "class": None,
            "label": {"fr": "hors zone d'aléa des PPR", "en": "outside every PPR hazard zone"},
        }
    return {"class": item.code, "label": {"fr": item.label_fr, "en": item.label_en}}


def _hazard(gate: Gate, point: Point) -> tuple[int, dict[str, Any]]:
    info = gate.collection(ZONES)
    if info.bbox is None or not shapely.box(*info.bbox).intersects(point):
        raise NotFound(f"{ZONES}: the point lies outside the hazard zones' extent")
    page = gate.query(
        ZONES, FeatureQuery(intersects=point, properties=("classe_alea",), limit=1000)
    )
    codes = [f.properties.get("classe_alea") for f in page.features]
    known = [int(c) for c in codes if c is not None]
    found = next((c for c in FLOOD_CLASSES if known and c.code == max(known)), None)
    value = found.code if found else None
    return info.version, {"value": value, **_class_json(found, zoned=bool(codes))}
