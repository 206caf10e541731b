"""The filter tree: what a query asks of attributes and geometry, whoever wrote it.

A CQL2 filter (``atlas.query.cql2``), a tier's row conditions (``atlas.policy.rules``) and a
``name=value`` query parameter all become these nodes; the stores render them as SQL
(``atlas.stores.where``). Literals are already typed against their field (``typed_value``) and
geometries are in EPSG:2154.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from atlas.errors import InvalidInput

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


def check_expression(expression: Any) -> None:
    """Refuse anything that is not a node of the filter tree."""
    _expressions((expression,))


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
