"""Translate a FeatureQuery into a SQL WHERE clause with bound parameters.

Shared by both stores; field names were checked against the schema before (``check_fields``)
and are quoted, values are parameters. Spatial predicates use the bounding-box operator first
(``&&``) so that the GiST / R-tree index is used, then the exact predicate.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import shapely

from atlas.stores.base import Comparison, FeatureQuery
from atlas.stores.sql import quote


@dataclass(slots=True)
class Where:
    """A SQL condition and its parameters, in order."""

    sql: str
    params: list[Any] = field(default_factory=list)


@dataclass(slots=True)
class WhereBuilder:
    """Builds WHERE clauses; ``placeholder(i)`` gives the i-th parameter marker of the driver."""

    placeholder: Callable[[int], str]
    srid: int | None = None  # PostGIS needs the SRID on constructed geometries; DuckDB does not
    _params: list[Any] = field(default_factory=list)

    def build(self, query: FeatureQuery) -> Where:
        """The condition for every criterion of ``query`` (``TRUE`` when none)."""
        self._params = []
        parts: list[str] = []
        if query.bbox is not None:
            box = query.bbox.as_tuple()
            parts.append(
                f"geom && {self._envelope(*box)} AND ST_Intersects(geom, {self._envelope(*box)})"
            )
        if query.ids is not None:
            parts.append(self._in("feature_id", list(query.ids)))
        for comparison in query.where:
            parts.append(self._comparison(comparison))
        if query.intersects is not None:
            xmin, ymin, xmax, ymax = query.intersects.bounds
            parts.append(f"geom && {self._envelope(xmin, ymin, xmax, ymax)}")
            parts.append(f"ST_Intersects(geom, {self._geometry(query.intersects)})")
        if query.within_distance is not None:
            geometry, distance = query.within_distance
            xmin, ymin, xmax, ymax = geometry.bounds
            box = self._envelope(xmin - distance, ymin - distance, xmax + distance, ymax + distance)
            parts.append(f"geom && {box}")
            parts.append(
                f"ST_DWithin(geom, {self._geometry(geometry)}, {self._param(float(distance))})"
            )
        return Where(sql=" AND ".join(parts) if parts else "TRUE", params=self._params)

    def _param(self, value: Any) -> str:
        self._params.append(value)
        return self.placeholder(len(self._params))

    def _envelope(self, xmin: float, ymin: float, xmax: float, ymax: float) -> str:
        args = ", ".join(self._param(float(v)) for v in (xmin, ymin, xmax, ymax))
        return f"ST_MakeEnvelope({args}, {self.srid})" if self.srid else f"ST_MakeEnvelope({args})"

    def _geometry(self, geometry: shapely.Geometry) -> str:
        marker = self._param(shapely.to_wkb(geometry))
        return (
            f"ST_GeomFromWKB({marker}, {self.srid})" if self.srid else f"ST_GeomFromWKB({marker})"
        )

    def _in(self, column: str, values: list[Any]) -> str:
        if not values:
            return "FALSE"
        return f"{column} IN ({', '.join(self._param(v) for v in values)})"

    def _comparison(self, comparison: Comparison) -> str:
        column = quote(comparison.field)
        op = comparison.op
        if op == "is null":
            return f"{column} IS NULL"
        if op == "is not null":
            return f"{column} IS NOT NULL"
        if op == "in":
            return self._in(column, list(comparison.value))
        if op == "like":
            return f"{column} LIKE {self._param(str(comparison.value))}"
        sql_op = "<>" if op == "!=" else op
        return f"{column} {sql_op} {self._param(comparison.value)}"


def python_value(value: Any) -> Any:
    """A driver value as a plain JSON-friendly Python value (dates stay dates)."""
    # Dates and datetimes stay typed: the API decides how to serialise them.
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value
