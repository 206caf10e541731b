"""Running extracts over HTTP and reading their files back, with GDAL where it can."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from atlas.policy.tiers import Tier
from tests.helpers import in_ci
from tests.policy.conftest import Served

FORMAT_FILES = {
    "gpkg": lambda name: "extract.gpkg",
    "shapefile": lambda name: f"{name}.shp",
    "geojson": lambda name: f"{name}.geojson",
    "csv": lambda name: f"{name}.vrt",
    "flatgeobuf": lambda name: f"{name}.fgb",
    "geoparquet": lambda name: f"{name}.parquet",
}


@dataclass
class Job:
    """A finished extract job: its status document, request id and unpacked files."""

    job_id: str
    status: dict[str, Any]
    request_id: str
    archive: bytes
    files: Path

    @property
    def metadata(self) -> dict[str, Any]:
        """metadata.json."""
        return json.loads((self.files / "metadata.json").read_text(encoding="utf-8"))

    def path(self, fmt: str, layer: str) -> Path:
        """The file GDAL opens for ``layer``."""
        return self.files / FORMAT_FILES[fmt](layer)


def start(served: Served, tier: Tier, body: dict[str, Any], headers: dict | None = None):
    """POST /extracts as ``tier`` (or with ``headers``)."""
    return served.client.post("/extracts", json=body, headers=headers or served.headers[tier])


def run(
    served: Served, tier: Tier, body: dict[str, Any], out: Path, headers: dict | None = None
) -> Job:
    """Start a job, wait for it, download and unpack its archive into ``out``."""
    headers = headers or served.headers[tier]
    response = start(served, tier, body, headers)
    assert response.status_code == 201, response.text
    job_id = response.json()["jobID"]
    assert response.headers["location"].endswith(f"/extracts/{job_id}")
    served.client.app.state.extracts.wait(job_id, timeout=300)
    status = served.client.get(f"/extracts/{job_id}", headers=headers).json()
    assert status["status"] == "successful", status
    download = served.client.get(f"/extracts/{job_id}/download", headers=headers)
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/zip"
    out.mkdir(parents=True, exist_ok=True)
    zipfile.ZipFile(io.BytesIO(download.content)).extractall(out)
    return Job(job_id, status, response.headers["x-request-id"], download.content, out)


def estimate(served: Served, tier: Tier, body: dict[str, Any]) -> dict[str, int]:
    """The dry run's feature counts per collection (the gate's counts)."""
    response = served.client.post("/extracts?dry_run=true", json=body, headers=served.headers[tier])
    assert response.status_code == 200, response.text
    return response.json()["estimate"]["collections"]


def ogrinfo() -> str:
    """The ogrinfo of Debian's gdal-bin; skip locally when absent, fail under CI."""
    path = shutil.which("ogrinfo")
    if path is None:
        if in_ci():
            pytest.fail("ogrinfo (Debian gdal-bin) is required under CI")
        pytest.skip("ogrinfo is not installed")
    return path


@dataclass
class OgrLayer:
    """What ``ogrinfo -so -al`` says of one layer."""

    name: str
    count: int
    epsg: int | None
    geometry: str
    fields: list[str]


def ogr_layers(path: Path) -> dict[str, OgrLayer]:
    """Every layer of a file, read by the GDAL command-line tool."""
    text = subprocess.run(
        [ogrinfo(), "-so", "-al", "-ro", str(path)], check=True, capture_output=True, text=True
    ).stdout
    layers = {}
    for block in text.split("Layer name: ")[1:]:
        name = block.splitlines()[0].strip()
        count = int(re.search(r"Feature Count: (-?\d+)", block).group(1))
        geometry = re.search(r"Geometry: (.+)", block).group(1).strip()
        ids = re.findall(r'^    ID\["EPSG",(\d+)\]\]', block, flags=re.M)
        fields = re.findall(
            r"^(\S[^:\n]*): (?:String|Integer|Integer64|Real|Date|DateTime)", block, flags=re.M
        )
        layers[name] = OgrLayer(name, count, int(ids[-1]) if ids else None, geometry, fields)
    return layers
