"""The store contract: what the API, tiles and extracts may ask of either store.

Geometries cross this boundary as shapely objects in EPSG:2154 (the storage CRS); tiles as
MVT bytes in Web Mercator. Field names are checked against the collection's schema before any
SQL is built, and values are always bound parameters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from atlas.errors import InvalidInput
from atlas.layers.base import FieldSpec, VectorLayer
from atlas.layers.conform import IngestReport
from atlas.types import BBox, TileXYZ

Operator = Literal["=", "!=", "<", "<=", ">", ">=", "in", "like", "is null", "is not null"]
OPERATORS: tuple[str, ...] = (
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "like",
    "is null",
    "is not null",
)


@dataclass(frozen=True, slots=True)
class Comparison:
    """``field op value`` on one attribute."""

    field: str
    op: Operator
    value: Any = None

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise InvalidInput(f"unknown operator '{self.op}'")
        if self.op == "in" and not isinstance(self.value, list | tuple):
            raise InvalidInput("'in' needs a list of values")


@dataclass(frozen=True, slots=True)
class SortKey:
    """One ``sortby`` key."""

    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class FeatureQuery:
    """Which features, in the storage CRS; every criterion is ANDed."""

    bbox: BBox | None = None
    ids: tuple[str, ...] | None = None
    where: tuple[Comparison, ...] = ()
    intersects: BaseGeometry | None = None
    within_distance: tuple[BaseGeometry, float] | None = None  # (geometry, metres)
    properties: tuple[str, ...] | None = None  # None: all fields
    sortby: tuple[SortKey, ...] = ()
    limit: int = 100
    offset: int = 0

    def __post_init__(self) -> None:
        if self.limit < 0 or self.offset < 0:
            raise InvalidInput("limit and offset must be zero or positive")
        if self.within_distance is not None and not self.within_distance[1] >= 0:
            raise InvalidInput("the distance must be zero or positive")


@dataclass(slots=True)
class Feature:
    """One feature: id, attributes, geometry in EPSG:2154."""

    id: str
    properties: dict[str, Any]
    geometry: BaseGeometry | None


@dataclass(slots=True)
class FeaturePage:
    """A page of features and the total that matched."""

    features: list[Feature]
    number_matched: int
    limit: int
    offset: int

    @property
    def number_returned(self) -> int:
        """How many features this page holds."""
        return len(self.features)


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One stored version of a collection."""

    collection_id: str
    version: int
    created: dt.datetime
    count: int
    bbox: tuple[float, float, float, float] | None  # EPSG:2154
    report: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    """What a client learns about a served collection."""

    id: str
    title: str
    description: str
    geometry_type: str
    id_field: str
    fields: tuple[FieldSpec, ...]
    count: int
    bbox: tuple[float, float, float, float] | None  # EPSG:2154
    version: int
    updated: dt.datetime


@runtime_checkable
class FeatureStore(Protocol):
    """The typed contract both stores implement."""

    kind: str

    def collections(self) -> list[CollectionInfo]:
        """Every vector collection that has a current version."""
        ...

    def collection(self, collection_id: str) -> CollectionInfo:
        """Metadata of one collection; UnknownCollection when absent."""
        ...

    def query(self, collection_id: str, query: FeatureQuery) -> FeaturePage:
        """Features by bbox / attributes / ids / spatial predicate, with paging."""
        ...

    def feature(self, collection_id: str, feature_id: str) -> Feature:
        """One feature by id; NotFound when absent."""
        ...

    def tile(
        self,
        collection_id: str,
        tile: TileXYZ,
        *,
        properties: tuple[str, ...] = (),
        extent: int = 4096,
    ) -> bytes:
        """A Mapbox Vector Tile (one layer named after the collection) for z/x/y in Web Mercator."""
        ...

    def write_version(
        self, layer: VectorLayer, frame: gpd.GeoDataFrame, *, report: IngestReport
    ) -> VersionInfo:
        """Store ``frame`` (EPSG:2154, schema columns) as a new version and make it current atomically."""
        ...

    def versions(self, collection_id: str) -> list[VersionInfo]:
        """Every complete version of a collection, newest first."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


def check_fields(layer_fields: tuple[FieldSpec, ...], names: list[str] | tuple[str, ...]) -> None:
    """Refuse any field name the collection does not have (before SQL is built)."""
    known = {f.name for f in layer_fields}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(repr(n[:40]) for n in unknown)}")


def query_field_names(query: FeatureQuery) -> list[str]:
    """Every field a query names (filters, sort keys, properties)."""
    names = [c.field for c in query.where] + [s.field for s in query.sortby]
    return names + list(query.properties or ())
