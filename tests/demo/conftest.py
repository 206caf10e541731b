"""The demo territory's files, each generated once: small (the served demo's) and full scale."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from atlas.demo.build import generate
from tests.served_demo import SCALE

SMALL = SCALE


@pytest.fixture(scope="session")
def small_demo(demo_sources: dict[str, Path]) -> dict[str, Path]:
    """The files of a small demo territory (default seed), the served demo's own."""
    return demo_sources


@pytest.fixture(scope="session")
def full_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], float]:
    """The files of the full-scale demo, generated once, and how many seconds that took."""
    started = time.perf_counter()
    files = generate(tmp_path_factory.mktemp("demo-full"))
    return files, time.perf_counter() - started
