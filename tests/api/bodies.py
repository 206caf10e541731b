"""What no error body may contain: SQL, driver or library names, tracebacks, paths, addresses."""

from __future__ import annotations

import re

# Case-sensitive SQL keywords (a French description may say "from" in lower case, never "FROM").
SQL_WORDS = ("SELECT", "FROM", "WHERE", "INSERT", "UPDATE", "DELETE", "ST_", "::")
INTERNALS = (
    "psycopg", "sqlalchemy", "duckdb", "postgres", "PostgreSQL", "Traceback", "File \"",
    "sqlstate", "SQLSTATE", "Error(", "/usr/", "/tmp/", "/work/", "site-packages", "127.0.0.1",
)  # fmt: skip


def internals_in(body: str) -> list[str]:
    """The forbidden pieces ``body`` holds (its requestId, random hex, left out)."""
    text = re.sub(r'"requestId"\s*:\s*"[0-9a-f]+"', "", body)
    found = [w for w in SQL_WORDS if re.search(rf"(?<![A-Za-z]){re.escape(w)}", text)]
    return found + [w for w in INTERNALS if w.lower() in text.lower()]
