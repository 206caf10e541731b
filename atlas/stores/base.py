"""The store contract: what the API, tiles and extracts may ask of either store.

Geometries cross this boundary as shapely objects in EPSG:2154 (the storage CRS); tiles as
MVT bytes in Web Mercator. Field names are checked against the collection's schema before any
SQL is built, and values are always bound parameters.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args, runtime_checkable

import geopandas as gpd
import numpy as np
import shapely
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
    """``field op value`` on one attribute.

    ``casei`` / ``accenti`` make a comparison of a string field case- / accent-insensitive
    (CQL2 ``CASEI`` and ``ACCENTI``): both the column and the value are folded.
    """

    field: str
    op: Operator
    value: Any = None
    casei: bool = False
    accenti: bool = False

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise InvalidInput(f"unknown operator '{self.op}'")
        if self.op == "in" and not isinstance(self.value, list | tuple):
            raise InvalidInput("'in' needs a list of values")


@dataclass(frozen=True, slots=True, init=False)
class And:
    """Every sub-expression holds (``And()`` with none is TRUE)."""

    args: tuple[Expression, ...]

    def __init__(self, *args: Expression) -> None:
        object.__setattr__(self, "args", _expressions(args))


@dataclass(frozen=True, slots=True, init=False)
class Or:
    """At least one sub-expression holds (``Or()`` with none is FALSE)."""

    args: tuple[Expression, ...]

    def __init__(self, *args: Expression) -> None:
        object.__setattr__(self, "args", _expressions(args))


@dataclass(frozen=True, slots=True)
class Not:
    """The sub-expression does not hold (SQL three-valued logic: NOT NULL is NULL, not TRUE)."""

    arg: Expression

    def __post_init__(self) -> None:
        _expressions((self.arg,))


@dataclass(frozen=True, slots=True)
class Between:
    """``low <= field <= high`` (CQL2 ``BETWEEN``, bounds included)."""

    field: str
    low: Any
    high: Any


@dataclass(frozen=True, slots=True)
class Like:
    """A case-sensitive pattern match on a string field: ``%`` any run, ``_`` one character,
    ``\\`` escapes the next one (CQL2 ``LIKE``)."""

    field: str
    pattern: str
    casei: bool = False
    accenti: bool = False


@dataclass(frozen=True, slots=True)
class In:
    """``field`` equals one of ``values`` (an empty list matches nothing)."""

    field: str
    values: tuple[Any, ...]
    casei: bool = False
    accenti: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.values, str | bytes) or not isinstance(self.values, Iterable):
            raise InvalidInput("'in' needs a list of values")
        object.__setattr__(self, "values", tuple(self.values))


@dataclass(frozen=True, slots=True)
class IsNull:
    """The field has no value."""

    field: str


SpatialOperator = Literal[
    "intersects", "within", "contains", "disjoint", "equals", "touches", "crosses", "overlaps"
]
SPATIAL_OPERATORS: tuple[str, ...] = get_args(SpatialOperator)


@dataclass(frozen=True, slots=True)
class SpatialPredicate:
    """``op(feature geometry, geometry)`` with a literal in EPSG:2154 (CQL2 ``S_INTERSECTS``…).

    ``within``: the feature lies within ``geometry``; ``contains``: the feature contains it.
    """

    op: SpatialOperator
    geometry: BaseGeometry

    def __post_init__(self) -> None:
        if self.op not in SPATIAL_OPERATORS:
            raise InvalidInput(f"unknown spatial operator '{str(self.op)[:40]}'")
        check_literal_geometry(self.geometry)


Expression = Comparison | And | Or | Not | Between | Like | In | IsNull | SpatialPredicate
EXPRESSION_TYPES: tuple[type, ...] = get_args(Expression)


def _expressions(args: Iterable[Any]) -> tuple[Expression, ...]:
    out = tuple(args)
    for arg in out:
        if not isinstance(arg, EXPRESSION_TYPES):
            raise InvalidInput("a filter combines expressions only")
    return out


def check_literal_geometry(geometry: Any) -> None:
    """Refuse a geometry literal the stores cannot evaluate the same way (empty, invalid…)."""
    if not isinstance(geometry, BaseGeometry):
        raise InvalidInput("a spatial filter needs a geometry")
    if geometry.is_empty:
        raise InvalidInput("the filter geometry is empty")
    if geometry.geom_type == "GeometryCollection":
        # PostGIS refuses collections in most predicates: refuse them for both stores alike.
        raise InvalidInput("geometry collections are not supported in filters")
    if not bool(np.isfinite(shapely.get_coordinates(geometry)).all()):
        raise InvalidInput("the filter geometry has non-finite coordinates")
    if not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry).split("[")[0]
        raise InvalidInput(f"the filter geometry is not valid ({reason[:60]})")


def all_of(*parts: Expression | None) -> Expression | None:
    """``And`` of the given expressions, skipping ``None``; ``None`` when nothing is left."""
    kept = [p for p in parts if p is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else And(*kept)


def expression_fields(expression: Expression | None) -> list[str]:
    """Every field an expression names, in order of appearance (duplicates kept)."""
    if expression is None or isinstance(expression, SpatialPredicate):
        return []
    if isinstance(expression, And | Or):
        return [name for arg in expression.args for name in expression_fields(arg)]
    if isinstance(expression, Not):
        return expression_fields(expression.arg)
    return [expression.field]


@dataclass(frozen=True, slots=True)
class SortKey:
    """One ``sortby`` key."""

    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class FeatureQuery:
    """Which features, in the storage CRS; every criterion is ANDed (``where`` and ``filter`` too)."""

    bbox: BBox | None = None
    ids: tuple[str, ...] | None = None
    where: tuple[Comparison, ...] = ()
    filter: Expression | None = None  # a CQL2 filter, a tier's row filter…
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
        if self.filter is not None:
            _expressions((self.filter,))


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
        filter: Expression | None = None,
        limit: int | None = None,
    ) -> MvtTile:
        """A Mapbox Vector Tile (one layer named after the collection) for z/x/y in Web Mercator.

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


def check_fields(layer_fields: Sequence[FieldSpec], names: Sequence[str]) -> None:
    """Refuse any field name the collection does not have (before SQL is built).

    The message only echoes the names: a field a tier may not see answers exactly like one
    that does not exist.
    """
    known = {f.name for f in layer_fields}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise unknown_fields(unknown)


def unknown_fields(names: Sequence[str]) -> InvalidInput:
    """The error for names that are not fields: ``unknown field 'x'``."""
    quoted = ", ".join(repr(n[:40]) for n in dict.fromkeys(names))
    plural = "s" if len(dict.fromkeys(names)) > 1 else ""
    return InvalidInput(f"unknown field{plural} {quoted}")


def query_field_names(query: FeatureQuery) -> list[str]:
    """Every field a query names (filters, the filter tree, sort keys, properties)."""
    names = [c.field for c in query.where] + expression_fields(query.filter)
    names += [s.field for s in query.sortby]
    return names + list(query.properties or ())


def typed_value(spec: FieldSpec, value: Any) -> Any:
    """``value`` as the plain Python type of the field; InvalidInput when it cannot be one.

    Strings must be text (no NUL, valid Unicode), numbers real numbers, booleans booleans;
    dates and datetimes accept ISO 8601 text as well (a datetime without offset is UTC).
    """
    if value is None:
        raise InvalidInput(f"'{spec.name}' cannot be compared with null: use IS NULL")
    convert = _CONVERTERS[spec.type]
    converted = convert(value)
    if converted is None:
        raise InvalidInput(
            f"'{spec.name}' is {field_kind(spec)}: {_describe(value)} is not {_article(spec.type)}"
        )
    return converted


def field_kind(spec: FieldSpec) -> str:
    """``a string field``, ``an integer field``… for error messages."""
    return f"{_article(spec.type)} field"


def require_text_field(spec: FieldSpec, operator: str) -> None:
    """Refuse ``operator`` (LIKE, CASEI, ACCENTI) on a field that does not hold text."""
    if spec.type != "string":
        raise InvalidInput(f"{operator} needs a string field: '{spec.name}' is {field_kind(spec)}")


def _article(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def text_value(value: str) -> str:
    """``value`` if both stores can hold it as text; InvalidInput otherwise (NUL, surrogates)."""
    if "\x00" in value:
        raise InvalidInput("a text value must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("a text value must be valid Unicode") from None
    return value


def _string(value: Any) -> str | None:
    return text_value(value) if isinstance(value, str) else None


def _integer(value: Any) -> int | float | None:
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    return _number(value)  # ``nb_lots < 2.5`` is a fair question


def _number(value: Any) -> float | None:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _boolean(value: Any) -> bool | None:
    return bool(value) if isinstance(value, bool | np.bool_) else None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    return None


def _datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    if not isinstance(value, dt.datetime):
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


_CONVERTERS: dict[str, Any] = {
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "date": _date,
    "datetime": _datetime,
}


def _describe(value: Any) -> str:
    """A value as a client wrote it, short, without Python class names."""
    if isinstance(value, str):
        return repr(value[:40])
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, numbers.Number):
        return str(value)[:40]
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, BaseGeometry):
        return "a geometry"
    return "this value"


def selected_names(layer: VectorLayer, query: FeatureQuery) -> list[str]:
    """The fields a query returns: ``query.properties`` or every field, in order."""
    return list(query.properties) if query.properties is not None else layer.field_names


def field_map(fields: Iterable[FieldSpec]) -> Mapping[str, FieldSpec]:
    """Fields by name."""
    return {f.name: f for f in fields}
