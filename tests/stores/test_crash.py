"""A write killed with SIGKILL midway leaves the previous version served whole, on both stores."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from atlas.stores.base import FeatureQuery
from tests.helpers import REPO
from tests.stores.fixtures import CONTRACT_LAYER, contract_frame, contract_report

CID = CONTRACT_LAYER.collection_id


def _writer_args(store) -> list[str]:
    if store.kind == "embedded":
        return ["embedded", str(store.root.parent)]
    return ["postgis", store.url, store.schema]


def _run_until_paused(args: list[str], point: str) -> subprocess.Popen:
    env = os.environ | {"ATLAS_FAULT_PAUSE": point, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.stores.crash_writer", *args, "20000"],
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
