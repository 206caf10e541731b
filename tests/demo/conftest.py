"""A small demo territory generated once per session (scale 0.1: ~4,000 parcels)."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas.demo.build import generate

SMALL = 0.1


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The files of a small demo territory (default seed)."""
    return generate(tmp_path_factory.mktemp("demo-small"), scale=SMALL)
