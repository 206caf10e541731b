"""The embedded store's DuckDB runs each statement on ``ATLAS_EMBEDDED_THREADS`` threads (one by
default: requests already run side by side, see StoreSettings.embedded_threads)."""

from __future__ import annotations

import pytest

from atlas.settings import StoreSettings
from atlas.stores import open_store


@pytest.mark.parametrize(("configured", "expected"), [(None, 1), (3, 3)])
def test_threads_per_statement(tmp_path, monkeypatch, configured, expected) -> None:
    monkeypatch.delenv("ATLAS_DATABASE_URL", raising=False)
    if configured is not None:
        monkeypatch.setenv("ATLAS_EMBEDDED_THREADS", str(configured))
    store = open_store(StoreSettings(data_dir=tmp_path))
    try:
        threads = store._db.execute("SELECT current_setting('threads')").fetchone()[0]
    finally:
        store.close()
    assert int(threads) == expected


def test_a_bad_thread_count_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ATLAS_EMBEDDED_THREADS", "0")
    with pytest.raises(ValueError, match="embedded_threads"):
        StoreSettings(data_dir=tmp_path)
