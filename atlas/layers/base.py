"""What a layer declares: its schema, the classification of its fields, its reader.

A layer module in ``atlas/layers/`` builds one :class:`VectorLayer` or :class:`RasterLayer`.
Readers turn a national-format file into a GeoDataFrame whose columns are the layer's field
names (the national standard's names) and whose geometry is in EPSG:2154; everything else
(geometry repair, type coercion, the ingest report, the store) is shared.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd

from atlas.query.fields import FieldType

GeometryType = Literal[
    "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"
]


class Classification(enum.StrEnum):
    """Who may see a field; the tier policy (issue 3) maps these to tiers.

    public: anyone; business: partners and investors (prices, land control); internal: staff only;
    personal: data about a natural person (GDPR: owners, buyers' names), internal and audited;
    sensitive: critical infrastructure (the drinking-water network), internal and audited.
    """

    PUBLIC = "public"
    BUSINESS = "business"
    INTERNAL = "internal"
    PERSONAL = "personal"
    SENSITIVE = "sensitive"


# Which tiers each classification admits (DESIGN.md's default tier policy). Personal and
# sensitive data reach only the staff, and every such read is audited.
CLASSIFICATION_TIERS: dict[Classification, frozenset[str]] = {
    Classification.PUBLIC: frozenset({"public", "b2b", "internal"}),
    Classification.BUSINESS: frozenset({"b2b", "internal"}),
    Classification.INTERNAL: frozenset({"internal"}),
    Classification.PERSONAL: frozenset({"internal"}),
    Classification.SENSITIVE: frozenset({"internal"}),
}
AUDITED = frozenset({Classification.PERSONAL, Classification.SENSITIVE})

RowCondition = tuple[str, str, object]  # (field, operator, value), an atlas.stores Comparison


@dataclass(frozen=True, slots=True)
class TierGrant:
    """What a layer gives one tier, narrowing what the classification of its fields admits.

    A grant can only take away: ``fields`` is intersected with the fields the classification
    admits, ``rows`` are ANDed to every query, ``geometry`` replaces exact geometry. So a slip in
    a grant can hide too much, never show personal or sensitive data.
    """

    fields: tuple[str, ...] | None = None  # None: every field the classification admits
    rows: tuple[RowCondition, ...] = ()
    geometry: Literal["exact", "generalised", "absent"] = "exact"
    tolerance_m: float = 0.0  # for "generalised": the precision the tier may see
    visible: bool = True  # False hides the whole collection from the tier
    reason: str = ""  # why the grant narrows the default (shown in the policy report)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One attribute of a layer, under the national standard's name."""

    name: str
    type: FieldType
    classification: Classification = Classification.PUBLIC
    description: str = ""
    required: bool = False
    enum: tuple[str, ...] | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What the caller of a reader may say about the input."""

    crs: str | None = None  # source CRS when the file does not carry one (``--crs``)
    layer: str | None = None  # layer name inside a multi-layer source (GeoPackage)


@dataclass(slots=True)
class Rejection:
    """A row that could not be kept, with the reason."""

    row: int | str
    reason: str


@dataclass(slots=True)
class ReadResult:
    """A reader's output: the rows in the layer's schema plus what it had to drop or note."""

    frame: gpd.GeoDataFrame
    rejected: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows_read: int | None = None


VectorReader = Callable[[Path, ReadOptions], ReadResult]


@dataclass(frozen=True)
class VectorLayer:
    """A vector collection: schema, classification and reader."""

    collection_id: str
    title: str
    description: str
    geometry_type: GeometryType
    id_field: str
    fields: tuple[FieldSpec, ...]
    reader: VectorReader
    standard: str
    geometry_classification: Classification = Classification.PUBLIC
    grants: dict[str, TierGrant] = field(default_factory=dict)  # tier -> grant; absent: default
    # The lowest zoom its vector tiles are served at: a dense layer below it would be megabytes
    # of features too small to see (TileJSON minzoom; lower tiles are a 404).
    min_zoom: int = 0
    kind: Literal["vector"] = "vector"

    def field(self, name: str) -> FieldSpec:
        """The field called ``name``; KeyError when the layer has none."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def field_names(self) -> list[str]:
        """Field names in schema order."""
        return [f.name for f in self.fields]


RasterReader = Callable[[Path, ReadOptions, Path], "RasterResult"]


@dataclass(slots=True)
class RasterResult:
    """A raster reader's output: a Cloud-Optimized GeoTIFF written in EPSG:2154."""

    path: Path
    notes: list[str] = field(default_factory=list)
    metadata: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RasterLayer:
    """A raster collection (elevation, slope, flood hazard) stored as a COG."""

    collection_id: str
    title: str
    description: str
    unit: str | None
    reader: RasterReader
    standard: str
    classification: Classification = Classification.PUBLIC
    kind: Literal["raster"] = "raster"


Layer = VectorLayer | RasterLayer
