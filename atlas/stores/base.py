"""The store contract: what the policy gate may ask of either store, and what it gets back.

Questions are ``atlas.query`` types (``FeatureQuery`` and its filter tree); geometries cross this
boundary as shapely objects in EPSG:2154 (the storage CRS), tiles as MVT bytes in Web Mercator.
Field names are checked against the collection's schema before any SQL is built, and values are
always bound parameters.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from atlas.errors import InvalidInput
from atlas.layers.base import FieldSpec, VectorLayer
from atlas.layers.conform import IngestReport
from atlas.query.features import FeatureQuery
from atlas.query.filters import Expression
from atlas.query.grids import TileGrid
from atlas.types import TileXYZ


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


@dataclass(frozen=True, slots=True)
class MvtTile:
    """One encoded vector tile and what it holds: ``features`` of the ``matched`` in the tile."""

    data: bytes  # b"" when the tile holds nothing
    features: int
    matched: int  # before the feature cap: matched - features were left out, smallest first

    @property
    def dropped(self) -> int:
        """How many features the cap left out."""
        return self.matched - self.features


class VersionBatch(Protocol):
    """New versions staged in one ``FeatureStore.batch``: served together, or not at all."""

    def write(
        self, layer: VectorLayer, frame: gpd.GeoDataFrame, *, report: IngestReport
    ) -> VersionInfo:
        """Stage ``frame`` (EPSG:2154, schema columns) as the next version; served at the switch."""
        ...


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
        """Features by bbox / attributes / ids / spatial predicate / filter, with paging."""
        ...

    def count(self, collection_id: str, query: FeatureQuery) -> int:
        """How many features match ``query`` (paging ignored)."""
        ...

    def frame(self, collection_id: str, query: FeatureQuery | None = None) -> gpd.GeoDataFrame:
        """Every matching feature (paging ignored, ``sortby`` kept) as a GeoDataFrame in EPSG:2154.

        Columns: the layer's fields in schema order (or ``query.properties``) then ``geometry``;
        a RangeIndex; nullable pandas dtypes (``Int64``, ``boolean``), dates as ``datetime.date``,
        datetimes as UTC timestamps.
        """
        ...

    def tile(
        self,
        collection_id: str,
        tile: TileXYZ,
        *,
        properties: tuple[str, ...] = (),
        extent: int = 4096,
        filter: Expression | None = None,
        limit: int | None = None,
        grid: TileGrid | None = None,
    ) -> MvtTile:
        """A Mapbox Vector Tile (one layer named after the collection) for z/x/y of ``grid``
        (``atlas.query.grids``; None: WebMercatorQuad), clipped and quantised in its CRS.

        ``filter`` keeps only the features it matches (a tier's row filter, a CQL2 filter);
        geometry is simplified for the zoom and, past ``limit`` features, the smallest are left
        out (``atlas.stores.mvt``).
        """
        ...

    def write_version(
        self, layer: VectorLayer, frame: gpd.GeoDataFrame, *, report: IngestReport
    ) -> VersionInfo:
        """Store ``frame`` (EPSG:2154, schema columns) as a new version and make it current atomically."""
        ...

    def batch(self, *, collections: Sequence[str]) -> AbstractContextManager[VersionBatch]:
        """A block whose staged versions become current in ONE atomic switch when it ends.

        ``collections`` names every collection the block writes or derives values from: they
        are locked against other writers for the whole block, so what is read there stays the
        served data until the switch. An error or a killed process before the switch leaves
        every collection's served version as it was; writing an unnamed collection is an error.
        """
        ...

    def versions(self, collection_id: str) -> list[VersionInfo]:
        """The versions that were served (the current one first), newest first; never one
        whose switch did not happen."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


_COLLECTION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def batch_collections(collections: Iterable[str]) -> tuple[str, ...]:
    """The collections of a batch, sorted and unique: every batch takes its locks in this order,
    so two batches never each hold a lock the other waits for."""
    names = tuple(sorted(set(collections)))
    for name in names:
        # They name directories and lock keys: plain collection ids only.
        if not _COLLECTION_ID.fullmatch(name):
            raise InvalidInput(f"'{name[:40]}' is not a collection id")
    if not names:
        raise InvalidInput("a batch names at least one collection")
    return names


def staged_collection(collection_id: str, *, locked: Iterable[str], staged: Iterable[str]) -> str:
    """``collection_id`` if a batch may write it (named when opened, not written yet)."""
    if collection_id not in set(locked):
        raise ValueError(f"'{collection_id}' was not named when the batch was opened")
    if collection_id in set(staged):
        raise ValueError(f"'{collection_id}' is written twice in one batch")
    return collection_id


def selected_names(layer: VectorLayer, query: FeatureQuery) -> list[str]:
    """The fields a query returns: ``query.properties`` or every field, in order."""
    return list(query.properties) if query.properties is not None else layer.field_names


def page_count(query: FeatureQuery, returned: int) -> int | None:
    """The number matched when the page itself tells it (no count statement needed), else None.

    A first page with room left holds every match; so does a page as long as the list of ids the
    query names (one feature by id: a page of one, not a count).
    """
    if query.offset == 0 and returned < query.limit:
        return returned
    if query.offset == 0 and query.ids is not None and returned >= len(set(query.ids)):
        return returned
    return None
