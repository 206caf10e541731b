"""The ``settings`` fixture: each key backend, cleaned up afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from atlas.settings import Settings
from tests.auth.fixtures import BACKENDS, drop_keys, key_settings


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path) -> Iterator[Settings]:
    """Settings selecting each key backend, cleaned up afterwards."""
    value = key_settings(request.param, tmp_path)
    try:
        yield value
    finally:
        drop_keys(value)
