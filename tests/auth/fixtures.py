"""Key backends for tests (keys.sqlite in a tmp dir, or a throwaway PostgreSQL schema) and probes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from atlas.auth.keys import KeyRing
from atlas.settings import AuthSettings, LimitSettings, Settings, StoreSettings
from tests.conftest import postgis_url
from tests.helpers import REPO

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgis)]


def key_settings(kind: str, tmp_path, **limits: int) -> Settings:
    """Settings for one backend; PostgreSQL gets a unique ``atlas_auth_test_…`` schema."""
    url = postgis_url() if kind == "postgresql" else None
    return Settings(
        store=StoreSettings(data_dir=tmp_path / "data", database_url=url),
        auth=AuthSettings(db_schema=f"atlas_auth_test_{uuid.uuid4().hex[:10]}"),
        limits=LimitSettings(**limits),
    )


def environment(settings: Settings) -> dict[str, str]:
    """The ATLAS_* variables that select the same backend as ``settings``."""
    url = settings.store.database_url
    return {
        "ATLAS_DATA_DIR": str(settings.store.data_dir),
        "ATLAS_DATABASE_URL": url.get_secret_value() if url else "",
        "ATLAS_AUTH_DB_SCHEMA": settings.auth.db_schema,
    }


def drop_keys(settings: Settings) -> None:
    """Remove what the test created in PostgreSQL (the SQLite file goes with tmp_path)."""
    if settings.store.database_url is None:
        return
    from atlas.auth.keys import open_keyring

    ring = open_keyring(settings.store, settings.auth)
    try:
        ring.backend.drop()  # type: ignore[attr-defined]
    finally:
        ring.close()


@contextmanager
def key_statements(ring: KeyRing) -> Iterator[list[str]]:
    """Every SQL statement the ring sends while the block runs, seen by the drivers' hooks.

    PostgreSQL: SQLAlchemy's ``before_cursor_execute`` on the keys' engine. SQLite: sqlite3's
    trace callback on every connection to keys.sqlite (the engine's, and the cache's own).
    """
    seen: list[str] = []
    engine: sa.Engine = ring.backend.engine  # type: ignore[attr-defined]
    if engine.dialect.name == "sqlite":

        def traced(dbapi_connection, _record) -> None:
            dbapi_connection.set_trace_callback(seen.append)

        sa.event.listen(engine, "connect", traced)
        engine.dispose()  # pooled connections are replaced by traced ones
        assert ring.cache is not None
        ring.cache._freshness._conn.set_trace_callback(seen.append)  # type: ignore[attr-defined]
        try:
            yield seen
        finally:
            sa.event.remove(engine, "connect", traced)
            ring.cache._freshness._conn.set_trace_callback(None)  # type: ignore[attr-defined]
        return

    def hook(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", hook)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", hook)


def reads_keys(statements: list[str]) -> list[str]:
    """The statements that touch the keys table."""
    return [s for s in statements if "api_keys" in s]


def atlas_keys(settings: Settings, *args: str) -> str:
    """``atlas keys …`` in a process of its own (another worker, an operator); its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "atlas.cli", "keys", *args],
        env=os.environ | environment(settings) | {"PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def listening(ring: KeyRing, *, writes: int = 0, since: object = None) -> object:
    """Wait until the ring can see changes (PostgreSQL: its LISTEN is in place) and, on
    PostgreSQL, until the notifications of its own ``writes`` since ``since`` came back (SQLite
    sees them at once); return the generation."""
    assert ring.cache is not None
    freshness = ring.cache._freshness  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while True:
        seen = freshness.generation()
        caught_up = not isinstance(seen, int) or not writes or seen >= since + writes  # type: ignore[operator]
        if seen is not None and caught_up:
            return seen
        assert time.monotonic() < deadline, "the key ring never caught up"
        time.sleep(0.01)
