"""SQL text shared by the stores: identifier quoting and SQL types of the layer field types.

Identifiers only ever come from layer schemas (checked with ``check_fields``); values are
always bound parameters, never formatted into SQL.
"""

from __future__ import annotations

import re

from atlas.errors import InvalidInput
from atlas.layers.base import FieldSpec

SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "number": "DOUBLE PRECISION",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP WITH TIME ZONE",
}

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,62}$")


def quote(name: str) -> str:
    """A double-quoted SQL identifier; refuses anything that is not a plain name."""
    if not _IDENTIFIER.match(name):
        raise InvalidInput(f"'{name[:40]}' is not a valid field name")
    return '"' + name + '"'


def column_definitions(fields: tuple[FieldSpec, ...]) -> str:
    """``"name" TYPE`` for every field, comma-separated."""
    return ", ".join(f"{quote(f.name)} {SQL_TYPES[f.type]}" for f in fields)


def version_table(collection_id: str, version: int) -> str:
    """The table name of one version of a collection (collection ids use '-': make it '_')."""
    return f"{collection_id.replace('-', '_')}__v{version}"
