"""The ``atlas`` command: a bad input exits non-zero with one line on stderr, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SITE = "91228_SITE-ECO_00001"


def run_atlas(*args: str, data_dir, **env_vars: str) -> subprocess.CompletedProcess[str]:
    """``atlas ARGS`` in a fresh process (the entry point's ``main``), on the embedded store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATLAS_")}
    env.update(ATLAS_DATA_DIR=str(data_dir), **env_vars)
    return subprocess.run(
        [sys.executable, "-m", "atlas.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def sites_csv(tmp_path):
    path = tmp_path / "site-eco.csv"
    path.write_text(f"site_id;site_nom;site_geomsurf\n{SITE};Parc;\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("ingest", "no-such-layer", "{csv}"), "collection 'no-such-layer' not found"),
        (("ingest", "activity-sites", "{missing}"), "input 'missing.csv' does not exist"),
        (
            ("ingest", "activity-sites", "{csv}", "--crs", "EPSG:999999"),
            "unknown CRS 'EPSG:999999'",
        ),
        (("versions", "no-such-layer"), "collection 'no-such-layer' not found"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(tmp_path, sites_csv, args, reason):
    paths = {"csv": sites_csv, "missing": tmp_path / "missing.csv"}
    result = run_atlas(*(a.format(**paths) for a in args), data_dir=tmp_path / "data")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("atlas: error: ") and reason in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    # Nothing was written: a failed ingest leaves no version behind.
    assert not (tmp_path / "data" / "vector" / "activity-sites").exists()


@pytest.mark.parametrize(
    ("env", "args", "reason"),
    [
        ({"ATLAS_PORT": "eighty"}, ("serve",), "configuration: ATLAS_PORT: "),
        (
            {"ATLAS_INGEST_READ_MEMORY_MB": "1"},
            ("ingest", "parcels", "{tmp}"),
            "configuration: ATLAS_INGEST_READ_MEMORY_MB: Input should be greater than or equal to 256",
        ),
        ({}, ("ingest", "parcels", "{blob}"), "'blob.geojson' is binary"),
        ({}, ("ingest", "elevation", "{vrt}"), "'dem.tif' is XML (a VRT?)"),
    ],
)
def test_configuration_and_hostile_files_fail_in_one_line(tmp_path, env, args, reason):
    (tmp_path / "blob.geojson").write_bytes(b"{\x00\x01\x02")
    (tmp_path / "dem.tif").write_text('<VRTDataset rasterXSize="1" rasterYSize="1"/>')
    paths = {"tmp": tmp_path, "blob": tmp_path / "blob.geojson", "vrt": tmp_path / "dem.tif"}
    result = run_atlas(*(a.format(**paths) for a in args), data_dir=tmp_path / "data", **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("atlas: error: ") and reason in lines[0], lines[0]
    assert "Traceback" not in result.stderr
