"""Response documents shaped once for every route."""

from __future__ import annotations

import math
from typing import Any

from atlas.api.negotiation import alternate_link
from atlas.layers.base import RasterLayer
from atlas.query.crs import CRS84, CRS84_CODE, STORAGE_URI, SUPPORTED, transformer
from atlas.stores.base import CollectionInfo
from atlas.tiles.raster import STYLES as MAP_STYLES
from atlas.types import STORAGE_CRS

QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"  # Part 3, 6.2
MAP_TILESETS = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map"  # OGC API – Tiles 7.6


def wgs84_bbox(bbox: tuple[float, float, float, float] | None) -> list[float] | None:
    """A Lambert-93 box as a CRS84 box (densified edges so the box still contains the data)."""
    # A non-finite box (data stored before atlas.layers.sanity) is no extent: it is left out
    # rather than written as invalid JSON or answered with a 500.
    if bbox is None or not all(math.isfinite(v) for v in bbox):
        return None
    to_wgs84 = transformer(STORAGE_CRS, CRS84_CODE)
    xmin, ymin, xmax, ymax = to_wgs84.transform_bounds(*bbox, densify_pts=21)
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
        return None
    # Outward to the 7th decimal (~1 cm): a rounded box must still contain the data.
    return [
        math.floor(xmin * 1e7) / 1e7,
        math.floor(ymin * 1e7) / 1e7,
        math.ceil(xmax * 1e7) / 1e7,
        math.ceil(ymax * 1e7) / 1e7,
    ]


def collection_document(info: CollectionInfo, base: str) -> dict[str, Any]:
    """The OGC collection document of a vector collection."""
    href = f"{base}/collections/{info.id}"
    return {
        "id": info.id,
        "title": info.title,
        "description": info.description,
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [wgs84_bbox(info.bbox)], "crs": CRS84}},
        "storageCrs": STORAGE_URI,
        "crs": list(SUPPORTED),
        "links": [
            {"href": href, "rel": "self", "type": "application/json"},
            alternate_link(href),
            {"href": f"{href}/items", "rel": "items", "type": "application/geo+json"},
            {"href": f"{href}/queryables", "rel": QUERYABLES, "type": "application/schema+json"},
            # The draft's relation name, which GDAL 3.6 follows (see get_queryables).
            {"href": f"{href}/queryables", "rel": "queryables", "type": "application/json"},
            *(map_links(href) if info.id in MAP_STYLES else []),
        ],
        "numberOfFeatures": info.count,
        "version": info.version,
        "updated": info.updated.isoformat(),
    }


def raster_document(layer: RasterLayer, meta: dict[str, Any], base: str) -> dict[str, Any]:
    """The collection document of a raster collection (coverage)."""
    bbox = meta.get("bounds")
    return {
        "id": layer.collection_id,
        "title": layer.title,
        "description": layer.description,
        "itemType": "coverage",
        # GDAL's OAPIF driver (3.6, Debian 12) skips a collection only on this member, not on
        # itemType: without it, it lists the raster as a layer and asks for its items (a 404).
        "layerDataType": "Coverage",
        "extent": {"spatial": {"bbox": [wgs84_bbox(tuple(bbox)) if bbox else None], "crs": CRS84}},
        "storageCrs": STORAGE_URI,
        "links": [
            {
                "href": f"{base}/collections/{layer.collection_id}",
                "rel": "self",
                "type": "application/json",
            },
            *map_links(f"{base}/collections/{layer.collection_id}"),
        ],
        "version": meta.get("version"),
        "updated": meta.get("created"),
    }


def map_links(href: str) -> list[dict[str, str]]:
    """Links of a collection with map tiles: its map tilesets, legend and point values."""
    return [
        {"href": f"{href}/map/tiles", "rel": MAP_TILESETS, "type": "application/json"},
        {"href": f"{href}/legend", "rel": "describedby", "type": "application/json",
         "title": "legend of the map tiles"},
        {"href": f"{href}/position", "rel": "data", "type": "application/geo+json",
         "title": "value at a point (OGC API – EDR position, coords=POINT(lon lat))"},
    ]  # fmt: skip
