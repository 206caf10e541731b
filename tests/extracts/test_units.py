"""The job registry, Shapefile field names and cutting, without a server."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading

import numpy as np
import pytest
import shapely

from atlas.errors import NotFound, TooManyRequests
from atlas.extracts.clip import ClipArea, keep_and_cut
from atlas.extracts.jobs import ExtractJobs, JobNotReady
from atlas.extracts.writers import shapefile_names
from atlas.policy.tiers import ANONYMOUS, Principal, Tier

ALICE = Principal(tier=Tier.B2B, key_id="k1", name="alice")
BOB = Principal(tier=Tier.B2B, key_id="k2", name="bob")


@pytest.fixture
def jobs(tmp_path):
    registry = ExtractJobs(tmp_path / "extracts", workers=2, keep=dt.timedelta(hours=1))
    yield registry
    registry.close()


def _archive_work(job_dir_root):
    def work(job_id, created, progress):
        progress(50, "half way")
        (job_dir_root / job_id / "a.zip").write_bytes(b"PK")
        return {"archive": "a.zip", "counts": {}}

    return work


def test_a_job_runs_and_belongs_to_its_caller(jobs) -> None:
    state = jobs.submit(ALICE, _archive_work(jobs.root), query={}, estimate={})
    jobs.wait(state.job_id, timeout=10)
    done = jobs.get(state.job_id, ALICE)
    assert (done.status, done.progress) == ("successful", 100)
    assert jobs.archive(state.job_id, ALICE).read_bytes() == b"PK"
    for other in (BOB, ANONYMOUS, Principal(tier=Tier.INTERNAL, key_id="k1", name="alice")):
        with pytest.raises(NotFound) as error:
            jobs.get(state.job_id, other)
        assert error.value.description == f"extract job '{state.job_id}' not found"
    assert len(state.job_id) == 32
    assert "owner" not in done.document() and "k1" not in json.dumps(done.document())


def test_download_before_the_end_is_409_and_the_cap_of_running_jobs_is_429(jobs) -> None:
    release = threading.Event()

    def blocked(job_id, created, progress):
        release.wait(10)
        return {"archive": "none.zip"}

    try:
        states = [jobs.submit(ALICE, blocked, query={}, estimate={}) for _ in range(3)]
        with pytest.raises(JobNotReady):
            jobs.archive(states[0].job_id, ALICE)
        with pytest.raises(TooManyRequests):
            jobs.submit(ALICE, blocked, query={}, estimate={})
        jobs.submit(BOB, _archive_work(jobs.root), query={}, estimate={})  # others are not held
    finally:
        release.set()


def test_a_failed_job_says_why_without_internals(jobs) -> None:
    def broken(job_id, created, progress):
        raise RuntimeError("/secret/path exploded")

    state = jobs.submit(ALICE, broken, query={}, estimate={})
    jobs.wait(state.job_id, timeout=10)
    failed = jobs.get(state.job_id, ALICE)
    assert failed.status == "failed" and "secret" not in failed.message
    with pytest.raises(JobNotReady):
        jobs.archive(state.job_id, ALICE)


def test_a_job_of_a_process_that_ended_is_failed_and_purged_later(jobs) -> None:
    state = jobs.submit(ALICE, _archive_work(jobs.root), query={}, estimate={})
    jobs.wait(state.job_id, timeout=10)
    status_path = jobs.root / state.job_id / "status.json"
    data = json.loads(status_path.read_text())
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    host = data["worker"].split(":")[0]
    data.update(status="running", worker=f"{host}:{dead.stdout.strip()}:0000")
    status_path.write_text(json.dumps(data))
    assert jobs.get(state.job_id, ALICE).status == "failed"
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat()
    status_path.write_text(json.dumps({**data, "updated": old}))
    jobs.purge()
    assert not (jobs.root / state.job_id).exists()


def test_unknown_and_malformed_ids_are_404(jobs) -> None:
    for job_id in ("x" * 32, "../../etc", "", "a" * 500):
        with pytest.raises(NotFound):
            jobs.get(job_id, ALICE)


def test_shapefile_names_are_short_unique_and_stable() -> None:
    names = [
        "site_voca_industrielle",
        "site_voca_commerciale",
        "site_voca_tertiaire",
        "SIRET",
        "siret",
    ]
    short = shapefile_names(names)
    assert all(len(v) <= 10 for v in short.values())
    assert len({v.lower() for v in short.values()}) == len(names)
    assert short["SIRET"] == "SIRET" and short == shapefile_names(names)


def test_keep_and_cut_against_shapely() -> None:
    area = ClipArea("bbox", shapely.box(0, 0, 10, 10))
    geometries = np.array(
        [
            shapely.box(5, 5, 15, 15),  # cut
            shapely.box(10, 0, 20, 10),  # touches only: left out
            shapely.box(1, 1, 2, 2),  # inside: unchanged
            shapely.MultiPolygon([shapely.box(-5, 1, -1, 2), shapely.box(1, 1, 3, 3)]),
            shapely.LineString([(-5, 5), (5, 5)]),
            shapely.Point(10, 10),  # on the boundary: a point intersecting is kept
            shapely.Point(11, 11),
            None,
        ],
        dtype=object,
    )
    keep, cut = keep_and_cut(geometries, area)
    assert keep.tolist() == [True, False, True, True, True, True, False, False]
    assert cut[0].equals(shapely.box(5, 5, 10, 10))
    assert cut[2] is geometries[2]
    assert cut[3].geom_type == "MultiPolygon" and cut[3].equals(shapely.box(1, 1, 3, 3))
    assert cut[4].equals(shapely.LineString([(0, 5), (5, 5)]))
