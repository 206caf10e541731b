"""The size of an extract before it runs: counts through the caller's gate, bytes roughly.

Counts are exact for what the gate will read (the tier's rows, the clip area; see
``tables.count``), so the per-tier cap (``ATLAS_CAP_EXTRACT_*``, features summed over the
collections) is decided before anything is read or written. Bytes are a rough figure (±50 %):
per-field and per-geometry sizes by type, times a factor per format, calibrated on the demo
territory; the zip then compresses text formats three to five times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from atlas.errors import InvalidInput, UnknownCollection
from atlas.extracts.clip import ClipArea
from atlas.extracts.request import ExtractFormat
from atlas.extracts.tables import count
from atlas.layers import catalog
from atlas.policy.gate import Gate
from atlas.query.filters import Expression

# Bytes of one value in a binary encoding (WKB, GeoPackage, dBase-ish), by type.
_FIELD_BYTES = {"string": 18, "integer": 8, "number": 8, "boolean": 1, "date": 10, "datetime": 20}
_GEOMETRY_BYTES = {
    "Point": 21,
    "MultiPoint": 30,
    "LineString": 250,
    "MultiLineString": 260,
    "Polygon": 300,
    "MultiPolygon": 320,
}
# File bytes per binary byte: text formats spell numbers out, Parquet compresses.
_FORMAT_FACTOR = {
    ExtractFormat.GPKG: 0.8,
    ExtractFormat.SHAPEFILE: 1.7,
    ExtractFormat.GEOJSON: 1.55,
    ExtractFormat.CSV: 0.75,
    ExtractFormat.FLATGEOBUF: 0.9,
    ExtractFormat.GEOPARQUET: 0.12,
}


class ExtractTooLarge(InvalidInput):
    """More features than the caller's tier may extract at once."""

    code = "ExtractTooLarge"


@dataclass(frozen=True)
class Estimate:
    """Feature counts per collection, a rough size, and the tier's cap."""

    tier: str
    counts: dict[str, int]
    bytes: int
    cap: int

    @property
    def total(self) -> int:
        """Features over every collection."""
        return sum(self.counts.values())

    @property
    def within_cap(self) -> bool:
        """Whether the tier may run this extract."""
        return self.total <= self.cap

    def document(self) -> dict[str, Any]:
        """The estimate as JSON."""
        return {
            "numberMatched": self.total,
            "collections": dict(self.counts),
            "bytes": self.bytes,
            "cap": self.cap,
            "withinCap": self.within_cap,
        }

    def check(self) -> None:
        """ExtractTooLarge when over the cap, the estimate in the message."""
        if self.within_cap:
            return
        parts = ", ".join(f"{cid} {n:,}" for cid, n in self.counts.items())
        raise ExtractTooLarge(
            f"the extract would hold {self.total:,} features ({parts}; about"
            f" {_megabytes(self.bytes)}); the {self.tier} tier's cap is {self.cap:,} features:"
            " narrow the clip area or the collections"
        )


def estimate(
    gate: Gate,
    collections: list[str],
    area: ClipArea | None,
    fmt: ExtractFormat,
    cap: int,
    filters: Mapping[str, Expression | None] | None = None,
) -> Estimate:
    """Counts through ``gate`` (hidden and unknown collections fail alike) and a rough size."""
    for collection_id in collections:
        check_vector_collection(gate, collection_id)
    filters = filters or {}
    counts = {cid: count(gate, cid, area, filters.get(cid)) for cid in collections}
    size = sum(n * _feature_bytes(gate, cid) for cid, n in counts.items())
    return Estimate(gate.tier.value, counts, int(size * _FORMAT_FACTOR[fmt]), cap)


def check_vector_collection(gate: Gate, collection_id: str) -> None:
    """Unknown, hidden and empty collections fail alike (404); a raster the tier sees is a 400."""
    try:
        gate.collection(collection_id)
    except UnknownCollection:
        if any(layer.collection_id == collection_id for layer, _ in gate.rasters()):
            raise InvalidInput(
                f"collections: '{collection_id}' is a raster; extracts hold vector collections"
            ) from None
        raise


def _feature_bytes(gate: Gate, collection_id: str) -> int:
    view = gate.view(collection_id)
    layer = catalog()[collection_id]
    geometry = 0 if view.geometry == "absent" else _GEOMETRY_BYTES.get(layer.geometry_type, 200)  # type: ignore[union-attr]
    return geometry + sum(_FIELD_BYTES.get(f.type, 16) for f in view.fields)


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"
