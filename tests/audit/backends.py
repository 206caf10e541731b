"""The two audit backends for tests: SQLite in a tmp dir, PostgreSQL in a throwaway schema."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg

from atlas.audit.record import AuditLog, AuditRecord
from atlas.settings import AuditSettings, Settings, StoreSettings

T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


def record(n: int = 0, *, at: dt.datetime | None = None, **fields: object) -> AuditRecord:
    """A plausible record; ``n`` varies the count and request id."""
    values: dict[str, object] = {
        "at": at or T0 + dt.timedelta(minutes=n),
        "who": "key:k1 (service éco)",
        "tier": "internal",
        "action": "read",
        "collection_id": "parcels",
        "feature_count": n,
        "request_id": f"req{n:04d}",
        "area": "POLYGON((650000 6850000,651000 6850000,651000 6851000,650000 6850000))",
        "detail": "fields: proprietaire",
    }
    values.update(fields)
    return AuditRecord(**values)  # type: ignore[arg-type]


@dataclass
class Backend:
    """One backend: how to open its log, and a raw connection that bypasses the log's code."""

    kind: str
    settings: Settings

    @property
    def url(self) -> str:
        """The PostgreSQL URL (postgres only)."""
        assert self.settings.store.database_url is not None
        return self.settings.store.database_url.get_secret_value()

    @property
    def schema(self) -> str:
        """The PostgreSQL schema (postgres only)."""
        return self.settings.audit.db_schema

    @property
    def sqlite_path(self) -> Path:
        """The SQLite file (embedded only)."""
        return self.settings.store.data_dir / "audit" / "audit.sqlite"

    def open(self) -> AuditLog:
        """A new log instance on this backend, as the API and the CLI open it."""
        from atlas.audit import open_audit_log

        return open_audit_log(self.settings)

    def raw(self, *statements: str) -> None:
        """Run SQL on a plain driver connection, committing; driver errors propagate."""
        if self.kind == "embedded":
            conn = sqlite3.connect(self.sqlite_path)
            try:
                for statement in statements:
                    conn.execute(statement)
                conn.commit()
            finally:
                conn.close()
            return
        with psycopg.connect(self.url) as conn:
            conn.execute(f"SET search_path = {self.schema}")
            for statement in statements:
                conn.execute(statement)

    def env(self) -> dict[str, str]:
        """The environment that selects this backend for the ``atlas`` command."""
        env = {"ATLAS_DATA_DIR": str(self.settings.store.data_dir), "ATLAS_DATABASE_URL": ""}
        if self.kind == "postgres":
            env |= {"ATLAS_DATABASE_URL": self.url, "ATLAS_AUDIT_DB_SCHEMA": self.schema}
        return env

    def drop(self) -> None:
        """Remove what the test created in PostgreSQL (the SQLite file goes with tmp_path)."""
        if self.kind == "postgres":
            with psycopg.connect(self.url) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


def backend_settings(kind: str, data_dir: Path, url: str | None) -> Settings:
    """Settings selecting one backend; PostgreSQL gets a unique ``atlas_audit_test_…`` schema."""
    return Settings(
        store=StoreSettings(data_dir=data_dir, database_url=url),
        audit=AuditSettings(db_schema=f"atlas_audit_test_{uuid.uuid4().hex[:10]}"),
    )
