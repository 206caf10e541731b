"""``/collections`` and ``/collections/{collectionId}`` (OGC API – Features Part 1, 7.13–7.14)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from atlas.api.deps import base_url, get_rasters, get_store
from atlas.api.responses import collection_document, raster_document
from atlas.errors import EmptyCollection, UnknownCollection
from atlas.layers import get_layer, raster_layers
from atlas.layers.base import RasterLayer
from atlas.stores.base import FeatureStore
from atlas.stores.rasters import RasterCatalog

router = APIRouter(tags=["Collections"])

Store = Annotated[FeatureStore, Depends(get_store)]
Rasters = Annotated[RasterCatalog, Depends(get_rasters)]
Base = Annotated[str, Depends(base_url)]


@router.get("/collections", operation_id="getCollections", summary="The served collections")
def list_collections(store: Store, rasters: Rasters, base: Base) -> dict[str, Any]:
    """Every collection that holds data: vector ones from the store, rasters from the catalog."""
    documents = [collection_document(info, base) for info in store.collections()]
    for collection_id in rasters.available():
        layer = raster_layers().get(collection_id)
        if layer is not None:
            documents.append(raster_document(layer, rasters.current(collection_id)[1], base))
    return {
        "links": [{"href": f"{base}/collections", "rel": "self", "type": "application/json"}],
        "collections": documents,
    }


@router.get(
    "/collections/{collectionId}", operation_id="describeCollection", summary="One collection"
)
def describe_collection(
    collectionId: str, store: Store, rasters: Rasters, base: Base
) -> dict[str, Any]:  # noqa: N803
    """Metadata of one collection; an unknown or empty one is a 404."""
    layer = get_layer(collectionId)
    try:
        if isinstance(layer, RasterLayer):
            return raster_document(layer, rasters.current(collectionId)[1], base)
        return collection_document(store.collection(collectionId), base)
    except EmptyCollection:
        # Not ingested yet answers like unknown: a client cannot tell the difference.
        raise UnknownCollection(collectionId) from None
