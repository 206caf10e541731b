"""Key-backend settings for tests: keys.sqlite in a tmp dir, or a throwaway PostgreSQL schema."""

from __future__ import annotations

import uuid

import pytest

from atlas.settings import AuthSettings, LimitSettings, Settings, StoreSettings
from tests.conftest import postgis_url

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgis)]


def key_settings(kind: str, tmp_path, **limits: int) -> Settings:
    """Settings for one backend; PostgreSQL gets a unique ``atlas_auth_test_…`` schema."""
    url = postgis_url() if kind == "postgresql" else None
    return Settings(
        store=StoreSettings(data_dir=tmp_path / "data", database_url=url),
        auth=AuthSettings(db_schema=f"atlas_auth_test_{uuid.uuid4().hex[:10]}"),
        limits=LimitSettings(**limits),
    )


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
