"""The ``backend`` fixture: every audit test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.audit.backends import Backend, backend_settings
from tests.conftest import postgis_url


@pytest.fixture(params=["embedded", pytest.param("postgres", marks=pytest.mark.postgis)])
def backend(request: pytest.FixtureRequest, tmp_path) -> Iterator[Backend]:
    """An empty audit backend of each kind."""
    url = postgis_url() if request.param == "postgres" else None
    instance = Backend(request.param, backend_settings(request.param, tmp_path / "data", url))
    try:
        yield instance
    finally:
        instance.drop()


@pytest.fixture
def audit_log(backend: Backend) -> Iterator[object]:
    """An open, empty log on each backend."""
    log = backend.open()
    try:
        yield log
    finally:
        log.close()


@pytest.fixture
def postgres_backend(tmp_path) -> Iterator[Backend]:
    """The PostgreSQL backend alone, for what only PostgreSQL has (TRUNCATE)."""
    instance = Backend("postgres", backend_settings("postgres", tmp_path / "data", postgis_url()))
    try:
        yield instance
    finally:
        instance.drop()
