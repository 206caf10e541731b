"""``/collections`` and ``/collections/{collectionId}`` (OGC API – Features Part 1, 7.13–7.14).

Both answer through the caller's gate: a collection the tier may not see, an unknown one and
one not yet ingested give the same 404 with the same body.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from atlas.api.deps import BaseUrl, CurrentGate
from atlas.api.negotiation import NegotiatedRoute, alternate_link
from atlas.api.responses import collection_document, raster_document
from atlas.errors import UnknownCollection
from atlas.layers import get_layer
from atlas.layers.base import RasterLayer

router = APIRouter(tags=["Collections"], route_class=NegotiatedRoute)

Base = BaseUrl


@router.get("/collections", operation_id="getCollections", summary="The served collections")
def list_collections(gate: CurrentGate, base: Base) -> dict[str, Any]:
    """Every collection the caller may see that holds data: vector ones, then rasters."""
    documents = [collection_document(info, base) for info in gate.collections()]
    documents += [raster_document(layer, meta, base) for layer, meta in gate.rasters()]
    return {
        "links": [
            {"href": f"{base}/collections", "rel": "self", "type": "application/json"},
            alternate_link(f"{base}/collections"),
        ],
        "collections": documents,
    }


@router.get(
    "/collections/{collectionId}", operation_id="describeCollection", summary="One collection"
)
def describe_collection(collectionId: str, gate: CurrentGate, base: Base) -> dict[str, Any]:  # noqa: N803
    """Metadata of one collection; unknown, hidden from the caller or empty: the same 404."""
    try:
        layer = get_layer(collectionId)
    except UnknownCollection:
        raise UnknownCollection(collectionId) from None
    if isinstance(layer, RasterLayer):
        return raster_document(*gate.raster(collectionId), base)
    return collection_document(gate.collection(collectionId), base)
