"""Fields as a query names them: a name and a type, checked before any SQL is built.

A layer's ``FieldSpec`` (``atlas.layers.base``) is a :class:`QueryField`; so is anything else
with a ``name`` and a ``type``. A field a tier may not see is refused with exactly the words a
nonexistent field gets, so probing reveals nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, Protocol, TypeVar

from atlas.errors import InvalidInput

FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime"]


class QueryField(Protocol):
    """What a query needs to know of a field."""

    @property
    def name(self) -> str:
        """The field's name (the national standard's)."""
        ...

    @property
    def type(self) -> FieldType:
        """The field's value type."""
        ...


F = TypeVar("F", bound=QueryField)


def field_map(fields: Iterable[F]) -> Mapping[str, F]:
    """Fields by name."""
    return {f.name: f for f in fields}


def check_fields(fields: Iterable[QueryField], names: Iterable[str]) -> None:
    """Refuse any name that is not one of ``fields`` (the message only echoes the names)."""
    known = {f.name for f in fields}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise unknown_fields(unknown)


def unknown_fields(names: Sequence[str]) -> InvalidInput:
    """The error for names that are not fields: ``unknown field 'x'``."""
    distinct = list(dict.fromkeys(names))
    quoted = ", ".join(repr(n[:40]) for n in distinct)
    return InvalidInput(f"unknown field{'s' if len(distinct) > 1 else ''} {quoted}")


def field_kind(spec: QueryField) -> str:
    """``a string field``, ``an integer field``… for error messages."""
    return f"{article(spec.type)} field"


def require_text_field(spec: QueryField, operator: str) -> None:
    """Refuse ``operator`` (LIKE, CASEI, ACCENTI) on a field that does not hold text."""
    if spec.type != "string":
        raise InvalidInput(f"{operator} needs a string field: '{spec.name}' is {field_kind(spec)}")


def article(word: str) -> str:
    """``a date``, ``an integer``."""
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"
