"""CQL2 filters (OGC API Features Part 3, OGC 21-065) parsed into the store's filter tree.

``parse_filter`` reads CQL2-text or CQL2-JSON with pygeofilter's grammar and JSON walker, then
turns its syntax tree into :data:`atlas.query.filters.Expression`, checking every property against
the fields the caller may see and typing every literal against its field. Both encodings go
through the same conversion, so the same filter gives the same tree.

Supported: ``AND`` ``OR`` ``NOT``; ``=`` ``<>`` ``<`` ``<=`` ``>`` ``>=`` (a property on one side,
a literal on the other); ``BETWEEN``, ``LIKE`` (``%`` and ``_``, ``\\`` escapes), ``IN``,
``IS NULL`` and their ``NOT`` forms; ``CASEI`` and ``ACCENTI`` on text; the spatial predicates
``S_INTERSECTS`` ``S_WITHIN`` ``S_CONTAINS`` ``S_DISJOINT`` ``S_EQUALS`` ``S_TOUCHES``
``S_CROSSES`` ``S_OVERLAPS`` against a WKT / GeoJSON / ``BBOX`` literal in ``filter-crs``
(default CRS84, lon/lat; coordinates in the CRS's own axis order, so lat/lon for EPSG:4326),
reprojected to EPSG:2154. Dates and timestamps compare with the comparison operators
(``terr_actu_date > DATE('2024-06-30')``).

Not supported, refused with the operator's name: temporal operators (``T_BEFORE``…) and
intervals, array operators, arithmetic, ``RELATE``/``DWITHIN``, other functions, comparisons of
two properties. In CQL2-text a property name that is not a plain identifier (``ban-id``) is
written in double quotes (``"ban-id"``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import shapely
import shapely.geometry
from lark import Lark, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from pygeofilter import ast, values
from pygeofilter.cql2 import get_op
from pygeofilter.parsers.cql2_json.parser import walk_cql_json
from pygeofilter.parsers.cql2_text import parser as text_parser
from shapely.geometry.base import BaseGeometry

from atlas.errors import InvalidInput
from atlas.query.crs import CRS84, resolve_crs, transform_geometry, transformer
from atlas.query.fields import QueryField, require_text_field, unknown_fields
from atlas.query.filters import (
    And,
    Between,
    Comparison,
    Expression,
    In,
    IsNull,
    Like,
    Not,
    Or,
    SpatialPredicate,
)
from atlas.query.values import typed_value
from atlas.types import STORAGE_CRS, STORAGE_EPSG

FilterLang = Literal["cql2-text", "cql2-json"]
MAX_FILTER_CHARS = 20_000
MAX_DEPTH = 64  # nesting of AND / OR / NOT: deeper filters are refused before any SQL

_COMPARISONS: dict[type, str] = {
    ast.Equal: "=",
    ast.NotEqual: "!=",
    ast.LessThan: "<",
    ast.LessEqual: "<=",
    ast.GreaterThan: ">",
    ast.GreaterEqual: ">=",
}
_FLIPPED = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_SPATIAL: dict[type, str] = {
    ast.GeometryIntersects: "intersects",
    ast.GeometryWithin: "within",
    ast.GeometryContains: "contains",
    ast.GeometryDisjoint: "disjoint",
    ast.GeometryEquals: "equals",
    ast.GeometryTouches: "touches",
    ast.GeometryCrosses: "crosses",
    ast.GeometryOverlaps: "overlaps",
}
_CONVERSE = {"within": "contains", "contains": "within"}  # S_WITHIN(literal, geometry)…
_NAMED: dict[type, str] = {
    ast.Relate: "RELATE",
    ast.DistanceWithin: "DWITHIN",
    ast.DistanceBeyond: "BEYOND",
    ast.BBox: "BBOX",
    ast.Exists: "EXISTS",
    ast.Include: "INCLUDE",
}
_JSON_OPS = {
    "and", "or", "not", "=", "<>", "<", "<=", ">", ">=", "like", "between", "in", "isNull",
    "casei", "accenti", "s_intersects", "s_within", "s_contains", "s_disjoint", "s_equals",
    "s_touches", "s_crosses", "s_overlaps",
}  # fmt: skip
_JSON_LITERAL_KEYS = {"property", "date", "timestamp"}
_FOLDS = {"lower": "casei", "casei": "casei", "accenti": "accenti"}
_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
_UNSUPPORTED_CALL = re.compile(r"\b([TA]_[A-Za-z]+|S_DWITHIN|DWITHIN|INTERVAL)\s*\(", re.IGNORECASE)


def parse_filter(
    source: str | Mapping[str, Any],
    lang: FilterLang = "cql2-text",
    *,
    fields: Mapping[str, QueryField],
    filter_crs: str | None = None,
    geometry_name: str | None = "geometry",
) -> Expression:
    """A CQL2-text or CQL2-JSON filter as a typed filter tree; InvalidInput when it is not one.

    ``fields`` are the properties the caller may name (a field missing from it answers
    ``unknown field 'x'``, exactly like one that does not exist); ``geometry_name`` is the
    spatial property (``None``: spatial predicates answer ``unknown field``); ``filter_crs``
    is the CRS of geometry literals (OGC ``filter-crs``, default CRS84).
    """
    if lang not in ("cql2-text", "cql2-json"):
        raise InvalidInput(
            f"unsupported filter-lang '{str(lang)[:40]}': use cql2-text or cql2-json"
        )
    project = _projector(filter_crs or CRS84)
    try:
        node = _parse_text(source) if lang == "cql2-text" else _parse_json(source)
        return _Converter(fields, project, geometry_name).convert(node, 0)
    except RecursionError:
        raise InvalidInput("the filter is nested too deeply") from None


# -- CQL2-text ---------------------------------------------------------------------------------


@v_args(meta=False, inline=True)
class _TextTransformer(text_parser.CQLTransformer):
    """pygeofilter's transformer, with CQL2 quote escaping and without its debug prints."""

    def SINGLE_QUOTED(self, token: str) -> str:  # noqa: N802 - the grammar's terminal name
        return token[1:-1].replace("''", "'")

    def wkt__geometry_with_srid(self, srid: Any, geometry: dict[str, Any]) -> dict[str, Any]:
        return geometry | {"srid": str(srid)}  # EWKT is not CQL2: refused in the conversion

    def wkt__multipoint_2(self, *coordinates: Any) -> dict[str, Any]:
        return {"type": "MultiPoint", "coordinates": coordinates}


# pygeofilter's CQL2-text grammar, corrected where it departs from CQL2 (OGC 21-065, Annex A):
# OR binds looser than AND (it gives them one precedence), NOT applies to a parenthesised
# expression too, a quote inside a string is doubled ('it''s'), and line breaks are whitespace.
_GRAMMAR_FIXES = (
    (
        """?condition: condition_1
          | condition "AND"i condition_1                                 -> and_
          | condition "OR"i condition_1                                   -> or_

?condition_1: predicate
            | "NOT"i predicate                                               -> not_
            | "NOT"i "(" predicate ")"                                       -> not_
            | "(" condition ")"
""",
        """?condition: conjunction
          | condition "OR"i conjunction -> or_

?conjunction: condition_1
            | conjunction "AND"i condition_1 -> and_

?condition_1: predicate
            | "NOT"i condition_1 -> not_
            | "(" condition ")"
""",
    ),
    ('SINGLE_QUOTED: "\'" /.*?/ "\'"', "SINGLE_QUOTED: /'(?:[^']|'')*'/"),
    ("%ignore WS_INLINE", "%ignore WS_INLINE\n%import common.WS\n%ignore WS"),
)


def prepare() -> None:
    """Build the CQL2-text parser now (its LALR tables take 0.1 s of CPU, 0.4 s on a busy
    machine) rather than in the first request that carries a filter text."""
    _text_grammar_parser()


@lru_cache(maxsize=1)
def _text_grammar_parser() -> Lark:
    """The CQL2-text parser: pygeofilter's grammar with ``_GRAMMAR_FIXES``, its transformer."""
    path = os.path.join(os.path.dirname(text_parser.__file__), "grammar.lark")
    with open(path, encoding="utf-8") as handle:
        grammar = handle.read()
    for original, fixed in _GRAMMAR_FIXES:
        if original not in grammar:  # another pygeofilter release: the tests say which fix
            raise RuntimeError(f"pygeofilter's CQL2 grammar changed near {original[:30]!r}")
        grammar = grammar.replace(original, fixed)
    return Lark(
        grammar,
        parser="lalr",
        maybe_placeholders=False,
        transformer=_TextTransformer(),
        import_paths=[os.path.dirname(os.path.dirname(text_parser.__file__))],
        source_path=path,
    )


def _parse_text(source: Any) -> Any:
    if not isinstance(source, str):
        raise InvalidInput("a cql2-text filter must be text")
    if len(source) > MAX_FILTER_CHARS:
        raise InvalidInput(f"the filter is longer than {MAX_FILTER_CHARS} characters")
    if not source.strip():
        raise InvalidInput("the filter is empty")
    try:
        return _text_grammar_parser().parse(source)
    except UnexpectedInput as exc:
        raise InvalidInput(_unsupported_keyword(source) or _syntax_error(exc)) from None
    except RecursionError:
        raise
    except Exception:  # a literal the grammar accepts but cannot convert (DATE('2024-02-30'))
        raise InvalidInput("malformed CQL2 text: a literal is not valid") from None


def _unsupported_keyword(source: str) -> str | None:
    """Name a CQL2 operator pygeofilter's grammar does not know (``T_BEFORE(…)``, ``A_EQUALS(…)``)."""
    outside_strings = _STRING_LITERAL.sub("''", source)
    match = _UNSUPPORTED_CALL.search(outside_strings)
    if match is None:
        return None
    name = match.group(1).upper()
    if name.startswith("T_") or name == "INTERVAL":
        return f"unsupported operator '{name}': compare date fields with =, <, >, BETWEEN…"
    return f"unsupported operator '{name}'"


def _syntax_error(exc: UnexpectedInput) -> str:
    """Where the text went wrong, in the parser's terms but without its internals."""
    if isinstance(exc, UnexpectedEOF) or getattr(exc, "line", -1) < 0:
        return "malformed CQL2 text: the filter ends too early"
    where = f"at line {exc.line}, column {exc.column}"
    if isinstance(exc, UnexpectedCharacters):
        return f"malformed CQL2 text {where}: unexpected character {exc.char!r}"
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        return "malformed CQL2 text: the filter ends too early"
    if isinstance(exc, UnexpectedToken):
        return f"malformed CQL2 text {where}: unexpected {str(exc.token)[:40]!r}"
    return f"malformed CQL2 text {where}"


# -- CQL2-JSON ---------------------------------------------------------------------------------


def _parse_json(source: Any) -> Any:
    if isinstance(source, str | bytes):
        if len(source) > MAX_FILTER_CHARS:
            raise InvalidInput(f"the filter is longer than {MAX_FILTER_CHARS} characters")
        try:
            source = json.loads(source)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"malformed CQL2 JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
    if not isinstance(source, Mapping):
        raise InvalidInput("a cql2-json filter must be a JSON object")
    prepared = _json_node(source, 0)
    try:
        return walk_cql_json(prepared)
    except RecursionError:
        raise
    except Exception:  # anything our own checks let through: say little, never Python's words
        raise InvalidInput("malformed CQL2 JSON filter") from None


def _json_node(node: Any, depth: int) -> Any:
    """Check one CQL2-JSON node and rewrite it into the shapes pygeofilter's walker expects."""
    if depth > MAX_DEPTH:
        raise InvalidInput("the filter is nested too deeply")
    if isinstance(node, list):
        return [_json_node(item, depth + 1) for item in node]
    if not isinstance(node, Mapping):
        return node
    if "op" in node:
        return _json_operation(node, depth)
    if "bbox" in node:  # pygeofilter reads the four numbers in the wrong order: use our path
        return {"function": {"name": "bbox", "arguments": _json_numbers(node["bbox"])}}
    if "interval" in node:
        raise InvalidInput("unsupported operator 'interval': temporal operators are not supported")
    if "function" in node:
        name = node["function"].get("name") if isinstance(node["function"], Mapping) else None
        raise InvalidInput(f"unsupported function '{str(name)[:40]}'")
    if "property" in node and not isinstance(node["property"], str):
        raise InvalidInput("a property name must be text")
    if not _JSON_LITERAL_KEYS.intersection(node) and not {"type", "coordinates"} <= set(node):
        raise InvalidInput("the filter holds a JSON object that is not CQL2")
    return dict(node)


def _json_operation(node: Mapping[str, Any], depth: int) -> Any:
    op, args = node.get("op"), node.get("args")
    if not isinstance(op, str) or op not in _JSON_OPS:
        raise InvalidInput(f"unsupported operator '{str(op)[:40]}'")
    if not isinstance(args, list) or not args:
        raise InvalidInput(f"the operator '{op}' needs a list of arguments")
    args = [_json_node(arg, depth + 1) for arg in args]
    if op == "between" and len(args) == 3:  # CQL2 1.0; pygeofilter wants [value, [low, high]]
        args = [args[0], args[1:]]
    unary = ("not", "isNull", "casei", "accenti")
    if op in unary and len(args) != 1:
        raise InvalidInput(f"the operator '{op}' takes one argument")
    if op not in (*unary, "and", "or") and len(args) != 2:
        raise InvalidInput(f"the operator '{op}' takes two arguments")
    if op == "accenti":
        return {"function": {"name": "accenti", "arguments": args}}
    return {"op": op, "args": args}


def _json_numbers(value: Any) -> list[float]:
    if not isinstance(value, list) or not all(_is_number(v) for v in value):
        raise InvalidInput("a bbox is a list of 4 or 6 numbers")
    return list(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# -- geometry literals -------------------------------------------------------------------------

Projector = Callable[[BaseGeometry], BaseGeometry]


@lru_cache(maxsize=32)
def _projector(crs: str) -> Projector:
    """To EPSG:2154 from literals in ``crs``'s own axis order: lon/lat for CRS84, lat/lon for
    EPSG:4326 (OGC API Features Part 2 and CQL2 take coordinates in the CRS's axis order).

    Cached: ``to_epsg`` searches PROJ's database, 20 ms for CRS84 (which has no EPSG code) on
    every filtered request before (200,000 parcels: a third of a filtered items request)."""
    text = str(crs).strip()
    source = resolve_crs(text)
    if source is None or source.to_epsg() == STORAGE_EPSG:
        return lambda geometry: geometry
    moved = transformer(text, STORAGE_CRS, always_xy=False)
    return lambda geometry: transform_geometry(geometry, moved)


def _bbox(numbers: list[Any]) -> BaseGeometry:
    if len(numbers) not in (4, 6) or not all(_is_number(n) for n in numbers):
        raise InvalidInput("a BBOX is 4 or 6 numbers")
    half = len(numbers) // 2
    low, high = numbers[:2], numbers[half : half + 2]  # the z values of a 3D box are dropped
    if low[0] > high[0] or low[1] > high[1]:
        raise InvalidInput("a BBOX gives its lower corner first")
    return shapely.box(low[0], low[1], high[0], high[1])


def _geometry_literal(value: Any) -> BaseGeometry:
    if isinstance(value, ast.Function) and value.name == "bbox":
        return _bbox(list(value.arguments))
    if isinstance(value, values.Envelope):
        raise InvalidInput("ENVELOPE is not CQL2: use BBOX(xmin, ymin, xmax, ymax)")
    if not isinstance(value, values.Geometry):
        raise InvalidInput("a spatial operator needs a geometry literal")
    if "srid" in value.geometry:
        raise InvalidInput("SRID=…; is not CQL2: give the CRS with the filter-crs parameter")
    try:
        geometry = shapely.geometry.shape(value.geometry)
    except Exception:  # GeoJSON with the wrong nesting, too few points…
        raise InvalidInput("a geometry literal is not a valid geometry") from None
    return shapely.force_2d(geometry)


# -- from pygeofilter's tree to ours -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Operand:
    """One side of a predicate: a property or a literal, maybe under CASEI / ACCENTI."""

    name: str | None = None
    value: Any = None
    casei: bool = False
    accenti: bool = False


class _Converter:
    """pygeofilter's syntax tree to :data:`Expression`, fields and literals checked."""

    def __init__(
        self, fields: Mapping[str, QueryField], project: Projector, geometry_name: str | None
    ) -> None:
        self.fields = fields
        self.project = project
        self.geometry_name = geometry_name

    def convert(self, node: Any, depth: int) -> Expression:
        if depth > MAX_DEPTH:
            raise InvalidInput("the filter is nested too deeply")
        if isinstance(node, ast.And | ast.Or):
            return self._combination(node, depth)
        if isinstance(node, ast.Not):
            return Not(self.convert(node.sub_node, depth + 1))
        for kind, method in self._predicates():
            if isinstance(node, kind):
                return method(node)
        raise _unsupported(node)

    def _predicates(self) -> list[tuple[type, Callable[[Any], Expression]]]:
        return [
            (ast.Comparison, self._comparison),
            (ast.Between, self._between),
            (ast.Like, self._like),
            (ast.In, self._in),
            (ast.IsNull, self._is_null),
            (ast.SpatialComparisonPredicate, self._spatial),
        ]

    def _combination(self, node: ast.Combination, depth: int) -> Expression:
        kind = type(node)
        items: list[Expression] = []
        for side in (node.lhs, node.rhs):  # pygeofilter nests a AND b AND c as (a AND b) AND c
            converted = self.convert(side, depth + 1)
            same = isinstance(converted, And) if kind is ast.And else isinstance(converted, Or)
            items += list(converted.args) if same else [converted]  # type: ignore[union-attr]
        return And(*items) if kind is ast.And else Or(*items)

    def _comparison(self, node: ast.Comparison) -> Expression:
        op = _COMPARISONS.get(type(node))
        if op is None:
            raise _unsupported(node)
        lhs, rhs = self._operand(node.lhs), self._operand(node.rhs)
        if lhs.name is None and rhs.name is not None:
            lhs, rhs, op = rhs, lhs, _FLIPPED[op]
        if lhs.name is None or rhs.name is not None:
            raise InvalidInput("a comparison needs a property on one side and a value on the other")
        spec = self._field(lhs.name, lhs.casei or rhs.casei, lhs.accenti or rhs.accenti)
        return Comparison(
            spec.name,
            op,  # type: ignore[arg-type]
            typed_value(spec, rhs.value),
            casei=lhs.casei or rhs.casei,
            accenti=lhs.accenti or rhs.accenti,
        )

    def _between(self, node: ast.Between) -> Expression:
        spec = self._field(self._property(node.lhs).name)
        low, high = (self._literal(v).value for v in (node.low, node.high))
        between = Between(spec.name, typed_value(spec, low), typed_value(spec, high))
        return Not(between) if node.not_ else between

    def _like(self, node: ast.Like) -> Expression:
        prop = self._property(node.lhs)
        pattern = node.pattern
        if isinstance(pattern, Mapping):  # CQL2-JSON: CASEI('a%') is still raw JSON here
            pattern = walk_cql_json(dict(pattern))
        literal = self._literal(pattern)
        casei, accenti = prop.casei or literal.casei or node.nocase, prop.accenti or literal.accenti
        spec = self._field(prop.name, casei, accenti)
        require_text_field(spec, "LIKE")
        like = Like(spec.name, typed_value(spec, literal.value), casei=casei, accenti=accenti)
        return Not(like) if node.not_ else like

    def _in(self, node: ast.In) -> Expression:
        prop = self._property(node.lhs)
        literals = [self._literal(v) for v in node.sub_nodes]
        casei = prop.casei or any(v.casei for v in literals)
        accenti = prop.accenti or any(v.accenti for v in literals)
        spec = self._field(prop.name, casei, accenti)
        typed = tuple(typed_value(spec, v.value) for v in literals)
        member = In(spec.name, typed, casei=casei, accenti=accenti)
        return Not(member) if node.not_ else member

    def _is_null(self, node: ast.IsNull) -> Expression:
        spec = self._field(self._property(node.lhs).name)
        return Not(IsNull(spec.name)) if node.not_ else IsNull(spec.name)

    def _spatial(self, node: ast.SpatialComparisonPredicate) -> Expression:
        op = _SPATIAL[type(node)]
        lhs, rhs = node.lhs, node.rhs
        if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
            lhs, rhs, op = rhs, lhs, _CONVERSE.get(op, op)
        if not isinstance(lhs, ast.Attribute):
            raise InvalidInput("a spatial operator needs the geometry property on one side")
        if self.geometry_name is None or lhs.name != self.geometry_name:
            if lhs.name in self.fields:
                raise InvalidInput(f"'{lhs.name}' is not a geometry property")
            raise unknown_fields([lhs.name])
        geometry = self.project(_geometry_literal(rhs))
        if not bool(np.isfinite(shapely.get_coordinates(geometry)).all()):
            raise InvalidInput("the filter geometry lies outside the area of its CRS")
        return SpatialPredicate(op, geometry)  # type: ignore[arg-type]

    # -- operands --------------------------------------------------------------------------

    def _operand(self, node: Any) -> _Operand:
        if isinstance(node, ast.Function) and node.name.lower() in _FOLDS:
            if len(node.arguments) != 1:
                raise InvalidInput(f"{_FOLDS[node.name.lower()].upper()} takes one argument")
            inner = self._operand(node.arguments[0])
            flag = _FOLDS[node.name.lower()]
            return _Operand(
                inner.name,
                inner.value,
                casei=inner.casei or flag == "casei",
                accenti=inner.accenti or flag == "accenti",
            )
        if isinstance(node, ast.Attribute):
            return _Operand(name=node.name)
        if isinstance(node, ast.Node | values.Geometry | values.Envelope | list):
            raise _unsupported(node)
        return _Operand(value=node)

    def _property(self, node: Any) -> _Operand:
        operand = self._operand(node)
        if operand.name is None:
            raise InvalidInput("this operator needs a property on its left-hand side")
        return operand

    def _literal(self, node: Any) -> _Operand:
        operand = self._operand(node)
        if operand.name is not None:
            raise InvalidInput("comparing two properties is not supported")
        return operand

    def _field(self, name: str | None, casei: bool = False, accenti: bool = False) -> QueryField:
        spec = self.fields.get(name or "")
        if spec is None:
            if name is not None and name == self.geometry_name:
                raise InvalidInput(f"'{name}' can only be used with the spatial operators")
            raise unknown_fields([name or ""])
        if casei or accenti:
            require_text_field(spec, "CASEI" if casei else "ACCENTI")
        return spec


def _unsupported(node: Any) -> InvalidInput:
    """The error for a valid CQL2 construct this server does not evaluate, named as in CQL2."""
    if isinstance(node, ast.Function):
        return InvalidInput(f"unsupported function '{str(node.name)[:40]}'")
    name = None
    if isinstance(node, ast.Node):
        name = _NAMED.get(type(node)) or get_op(node)
    elif isinstance(node, values.Envelope):
        name = "ENVELOPE"
    if name is None:
        return InvalidInput("unsupported expression in the filter")
    if isinstance(node, ast.TemporalPredicate):
        return InvalidInput(
            f"unsupported operator '{name.upper()}': compare date fields with =, <, >, BETWEEN…"
        )
    return InvalidInput(f"unsupported operator '{name.upper()}'")
