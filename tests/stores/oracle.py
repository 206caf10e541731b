"""A pandas/shapely oracle for the filter tree: SQL three-valued logic evaluated row by row.

Written independently of ``atlas.stores.where``: folding uses ``unicodedata``, LIKE a regular
expression, spatial predicates shapely's methods.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import unicodedata
from typing import Any

import geopandas as gpd
import pandas as pd

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

_OPS = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def matching_ids(frame: gpd.GeoDataFrame, expression: Expression, id_field: str) -> list[str]:
    """Sorted ids of the rows where ``expression`` is TRUE (not FALSE, not NULL)."""
    return sorted(
        str(row[id_field]) for _, row in frame.iterrows() if evaluate(expression, row) is True
    )


def evaluate(expression: Expression, row: pd.Series) -> bool | None:
    """TRUE, FALSE or NULL (None) for one row."""
    if isinstance(expression, And):
        return _and([evaluate(a, row) for a in expression.args])
    if isinstance(expression, Or):
        return _or([evaluate(a, row) for a in expression.args])
    if isinstance(expression, Not):
        value = evaluate(expression.arg, row)
        return None if value is None else not value
    if isinstance(expression, SpatialPredicate):
        return bool(getattr(row.geometry, expression.op)(expression.geometry))
    return _attribute(expression, row)


def _attribute(expression: Any, row: pd.Series) -> bool | None:
    value = _value(row[expression.field])
    if isinstance(expression, IsNull):
        return value is None
    if isinstance(expression, Comparison) and expression.op in ("is null", "is not null"):
        return (value is None) == (expression.op == "is null")
    if value is None:
        return None
    if isinstance(expression, Between):
        return expression.low <= value <= expression.high
    casei, accenti = expression.casei, expression.accenti
    value = _fold(value, casei, accenti)
    if isinstance(expression, Like):
        return _like(expression.pattern, casei, accenti).fullmatch(value) is not None
    if isinstance(expression, In):
        return value in [_fold(v, casei, accenti) for v in expression.values]
    if expression.op == "in":
        return value in [_fold(v, casei, accenti) for v in expression.value]
    if expression.op == "like":
        return _like(expression.value, casei, accenti).fullmatch(value) is not None
    return _OPS[expression.op](value, _fold(expression.value, casei, accenti))


def _value(value: Any) -> Any:
    if value is None or (not isinstance(value, str | dt.date) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _fold(value: Any, casei: bool, accenti: bool) -> Any:
    if not isinstance(value, str):
        return value
    if accenti:
        decomposed = unicodedata.normalize("NFD", value)
        value = unicodedata.normalize(
            "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
        )
    return value.lower() if casei else value


def _like(pattern: str, casei: bool, accenti: bool) -> re.Pattern[str]:
    out, chars = [], iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(re.escape(_fold(next(chars), casei, accenti)))
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(_fold(char, casei, accenti)))
    return re.compile("".join(out), re.DOTALL)


def _and(values: list[bool | None]) -> bool | None:
    if False in values:
        return False
    return None if None in values else True


def _or(values: list[bool | None]) -> bool | None:
    if True in values:
        return True
    return None if None in values else False
