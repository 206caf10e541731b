"""``run_demo``: generate and ingest everything into the embedded store, in time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from atlas.demo.build import INGEST_ORDER, run_demo
from atlas.settings import Settings, StoreSettings
from atlas.stores import open_store


def _run(tmp_path: Path, scale: float) -> tuple[list, float]:
    # the embedded store, whatever ATLAS_DATABASE_URL says
    settings = Settings(store=StoreSettings(data_dir=tmp_path / "data", database_url=None))
    store = open_store(settings.store)
    started = time.perf_counter()
    try:
        reports = run_demo(store, tmp_path / "sources", settings, seed=20261122, scale=scale)
    finally:
        store.close()
    return reports, time.perf_counter() - started


def _check(reports: list) -> None:
    assert [r.collection_id for r in reports] == list(INGEST_ORDER)
    for report in reports:
        assert report.kept > 0, report.summary()
        assert report.repaired == [], report.summary()
        if report.collection_id != "services":
            assert report.rejected == [], report.summary()
    monuments = next(r for r in reports if r.collection_id == "heritage-monuments")
    assert any("heritage-perimeters" in note for note in monuments.notes)
    # The communes come first, and every later vector layer is checked against their outline.
    assert reports[0].collection_id == "communes" and reports[0].kept == 23
    for report in reports[1:]:
        if report.collection_id not in ("elevation", "slope"):
            assert any("communes collection's outline" in n for n in report.notes), report.notes


def test_small_demo_ingests(demo_embedded) -> None:
    # The session's demo (tests/served_demo.py) is the small demo ingested as run_demo does it.
    assert demo_embedded.kind == "embedded"
    _check(demo_embedded.reports)


@pytest.mark.slow
def test_full_demo_under_two_minutes(tmp_path: Path) -> None:
    reports, seconds = _run(tmp_path, 1.0)
    _check(reports)
    assert seconds < 120, f"atlas demo took {seconds:.0f} s"
