"""A write killed with SIGKILL midway leaves the previous version served whole, on both stores;
what it left behind is never listed nor kept over a served version."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from atlas.query.features import FeatureQuery
from tests.helpers import REPO
from tests.stores.fixtures import CONTRACT_LAYER, contract_frame, contract_report

CID = CONTRACT_LAYER.collection_id


def _writer_args(store) -> list[str]:
    if store.kind == "embedded":
        return ["embedded", str(store.root.parent)]
    return ["postgis", store.url, store.schema]


def _run_until_paused(args: list[str], point: str, rows: int = 20_000) -> subprocess.Popen:
    env = os.environ | {"ATLAS_FAULT_PAUSE": point, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.stores.crash_writer", *args, str(rows)],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    line = ""
    while time.monotonic() < deadline:
        line = child.stderr.readline()
        if f"paused at {point}" in line or (not line and child.poll() is not None):
            break
    assert f"paused at {point}" in line, f"the writer never reached {point}: {line!r}"
    return child


@pytest.mark.slow
@pytest.mark.parametrize("point", ["write-midway", "before-switch"])
def test_sigkill_midway_keeps_previous_version(store, point):
    first = contract_frame()
    store.write_version(CONTRACT_LAYER, first, report=contract_report(first))
    child = _run_until_paused(_writer_args(store), point)
    try:
        # While the writer is stalled midway, readers still get the previous version whole.
        assert store.query(CID, FeatureQuery(limit=1000)).number_matched == len(first)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    info = store.collection(CID)
    assert (info.version, info.count) == (1, len(first))
    page = store.query(CID, FeatureQuery(limit=1000))
    assert sorted(f.id for f in page.features) == sorted(first["terr_id"])
    # The next write recovers from the debris and succeeds.
    again = store.write_version(
        CONTRACT_LAYER, first.iloc[:7], report=contract_report(first.iloc[:7])
    )
    assert store.collection(CID).count == 7 and again.version > 1


def _kill(child: subprocess.Popen) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_killed_before_switch_is_never_listed_nor_kept_over_a_served_version(store):
    first = contract_frame()
    store.write_version(CONTRACT_LAYER, first, report=contract_report(first))
    # Two ingests die with their version complete but not switched: with the three newest
    # files kept, the next prune would have kept both and removed v1, the last served one.
    for _ in range(2):
        _kill(_run_until_paused(_writer_args(store), "before-switch", rows=300))
        assert [v.version for v in store.versions(CID)] == [1]
        assert store.collection(CID).version == 1
    second = first.iloc[:7]
    info = store.write_version(CONTRACT_LAYER, second, report=contract_report(second))
    assert [v.version for v in store.versions(CID)] == [info.version, 1]
    assert store.collection(CID).version == info.version
    page = store.query(CID, FeatureQuery(limit=1000))
    assert sorted(f.id for f in page.features) == sorted(second["terr_id"])
    if store.kind == "embedded":
        on_disk = {p.name for p in (store.root / CID).glob("v*")}
        assert on_disk == {
            "v1.duckdb",
            "v1.json",
            f"v{info.version}.duckdb",
            f"v{info.version}.json",
        }
