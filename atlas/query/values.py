"""Values as the fields hold them: one rule for typing a client's value, one for a missing value,
one for dates, whichever store, reader or writer asks.

``typed_value`` turns what a client wrote (a CQL2 literal, a ``name=value`` query parameter) into
the plain Python type of the field, or refuses it with a message naming the field; the stores
bind exactly that value, so a text compared with a number field is a 400 here, never a driver
error. ``is_missing`` says whether a value is no value at all (None, NaN, pandas' NA and NaT),
and ``as_date`` / ``as_datetime`` what date or instant a value stands for.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from atlas.errors import InvalidInput
from atlas.query.fields import QueryField, article, field_kind

_BOOLEAN_TEXT = {"true": True, "false": False}


def typed_value(spec: QueryField, value: Any, *, text: bool = False) -> Any:
    """``value`` as the plain Python type of the field; InvalidInput when it cannot be one.

    Strings must be text (no NUL, valid Unicode), numbers finite real numbers, booleans
    booleans; dates and datetimes accept ISO 8601 text as well (a datetime without offset is
    UTC). ``text``: the value is a query parameter's text, so numbers and booleans are parsed
    from it (``nb_lots=2``, ``terr_utile=true``).
    """
    if value is None:
        raise InvalidInput(f"'{spec.name}' cannot be compared with null: use IS NULL")
    if text and isinstance(value, str):
        value = _from_text(spec, value)
    converted = _CONVERTERS[spec.type](value)
    if converted is None:
        raise InvalidInput(
            f"'{spec.name}' is {field_kind(spec)}: {describe(value)} is not {article(spec.type)}"
        )
    return converted


def text_value(value: str) -> str:
    """``value`` if both stores can hold it as text; InvalidInput otherwise (NUL, surrogates)."""
    if "\x00" in value:
        raise InvalidInput("a text value must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("a text value must be valid Unicode") from None
    return value


def is_missing(value: Any) -> bool:
    """True for no value at all: None, a float NaN, pandas' NA and NaT, NumPy's NaT.

    Anything else is a value, lists, arrays and bytes included (``pd.isna`` would answer an
    array with an array).
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    if isinstance(value, np.datetime64 | np.timedelta64):
        return bool(np.isnat(value))
    return False


def as_date(value: Any) -> dt.date | None:
    """The calendar date ``value`` stands for (None when missing); ValueError when none.

    A datetime gives its date (DuckDB hands dates over as timestamps); text must be an ISO 8601
    date (``2024-06-30``).
    """
    if is_missing(value):
        return None
    if isinstance(value, dt.datetime):  # pd.Timestamp too
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip())
    raise ValueError(f"not a date: {describe(value)}")


def as_datetime(value: Any) -> dt.datetime | None:
    """The UTC instant ``value`` stands for (None when missing); ValueError when none.

    A datetime without offset is UTC, a date its midnight UTC; text must be ISO 8601.
    """
    if is_missing(value):
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip())
    elif isinstance(value, np.datetime64):
        value = pd.Timestamp(value).to_pydatetime()
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if not isinstance(value, dt.datetime):
        raise ValueError(f"not a datetime: {describe(value)}")
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def describe(value: Any) -> str:
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


def _from_text(spec: QueryField, value: str) -> Any:
    """A query parameter's text as a number or boolean where the field holds one."""
    try:
        if spec.type == "integer":
            return int(value)
        if spec.type == "number":
            return float(value)  # inf and nan are refused by the converter
    except ValueError:
        return value  # refused by the converter, with the field's name
    if spec.type == "boolean":
        return _BOOLEAN_TEXT.get(value.strip().lower(), value)
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
    # A client's timestamp is not a date: comparing a date field with one is refused.
    if isinstance(value, dt.datetime) or not isinstance(value, str | dt.date):
        return None
    try:
        return as_date(value)
    except ValueError:
        return None


def _datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str | dt.date):
        return None
    try:
        return as_datetime(value)
    except ValueError:
        return None


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "date": _date,
    "datetime": _datetime,
}
