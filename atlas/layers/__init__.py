"""The layer catalog: one module per collection, each declaring schema, classification and reader."""

from __future__ import annotations

import importlib
from functools import cache

from atlas.errors import UnknownCollection
from atlas.layers.base import Layer, RasterLayer, VectorLayer

# collection id -> module defining ``LAYER``; the order is the order of /collections.
_MODULES: dict[str, str] = {
    "activity-sites": "atlas.layers.activity_sites",
    "activity-plots": "atlas.layers.activity_plots",
    "establishments": "atlas.layers.establishments",
    "parcels": "atlas.layers.parcels",
    "water-pipes": "atlas.layers.water_pipes",
    "water-structures": "atlas.layers.water_structures",
    "heritage-monuments": "atlas.layers.heritage_monuments",
    "heritage-perimeters": "atlas.layers.heritage_perimeters",
    "services": "atlas.layers.services",
    "communes": "atlas.layers.communes",
    "roads": "atlas.layers.roads",
    "waterways": "atlas.layers.waterways",
    "water-bodies": "atlas.layers.water_bodies",
    "flood-hazard": "atlas.layers.flood_hazard",
    "elevation": "atlas.layers.elevation",
    "slope": "atlas.layers.slope",
}


@cache
def catalog() -> dict[str, Layer]:
    """Every layer, by collection id."""
    layers: dict[str, Layer] = {}
    for collection_id, module_name in _MODULES.items():
        layer = importlib.import_module(module_name).LAYER
        if layer.collection_id != collection_id:
            raise RuntimeError(
                f"{module_name} declares {layer.collection_id}, expected {collection_id}"
            )
        layers[collection_id] = layer
    return layers


def get_layer(collection_id: str) -> Layer:
    """The layer of a collection id; UnknownCollection otherwise."""
    try:
        return catalog()[collection_id]
    except KeyError:
        raise UnknownCollection(collection_id) from None


@cache
def vector_layers() -> dict[str, VectorLayer]:
    """The vector layers only (one shared dict, like :func:`catalog`: read it, never change it;
    the stores ask for it on every request)."""
    return {k: v for k, v in catalog().items() if isinstance(v, VectorLayer)}


def raster_layers() -> dict[str, RasterLayer]:
    """The raster layers only."""
    return {k: v for k, v in catalog().items() if isinstance(v, RasterLayer)}
