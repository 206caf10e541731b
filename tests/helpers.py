"""Test helpers shared by the suites."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = (REPO.parent / "shared" / "data" / "real").resolve()


def in_ci() -> bool:
    """True under CI, where nothing required may be skipped."""
    return bool(os.environ.get("CI"))


def require_real_data(*parts: str) -> Path:
    """The path of a real-data file; skip locally when absent, fail under CI."""
    path = REAL_DATA.joinpath(*parts)
    if not path.exists():
        message = f"real data {path} is absent"
        if in_ci():
            pytest.fail(message + " (required under CI)")
        pytest.skip(message)
    return path
