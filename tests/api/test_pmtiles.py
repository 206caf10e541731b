"""``GET /pmtiles/{archive}``: archives of ATLAS_PMTILES_DIR served with HTTP range requests, and
read back over HTTP by the pmtiles reader; nothing outside that directory is ever served."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pmtiles.reader import Reader

from atlas.api.app import create_app
from atlas.policy.tiers import Principal, Tier
from atlas.tiles.pmtiles_export import export_pmtiles


@pytest.fixture(scope="module")
def served_archive(demo_embedded, tmp_path_factory) -> Iterator[tuple[TestClient, Path, dict]]:
    """An app over the demo whose ATLAS_PMTILES_DIR holds the public archive (z0-9)."""
    directory = tmp_path_factory.mktemp("pmtiles")
    settings = demo_embedded.app_settings()
    settings.pmtiles.dir = directory
    (directory.parent / "secret.pmtiles").write_bytes(b"outside the directory")
    (directory / "link.pmtiles").symlink_to(directory.parent / "secret.pmtiles")
    with TestClient(create_app(settings)) as client:
        policy = client.app.state.policy
        gate = policy.gate(Principal(tier=Tier.PUBLIC), uuid.uuid4().hex)
        path = export_pmtiles(gate, directory, max_zoom=9).path
        yield client, path, demo_embedded.headers


def test_whole_archive(served_archive) -> None:
    client, path, _ = served_archive
    response = client.get(f"/pmtiles/{path.name}")
    assert response.status_code == 200 and response.content == path.read_bytes()
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"] == "application/vnd.pmtiles"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-126", 0, 126), ("bytes=100-", 100, None), ("bytes=-50", -50, None),
     ("bytes=10-999999999", 10, None)],
)  # fmt: skip
def test_a_range_is_206(served_archive, header, start, end) -> None:
    client, path, _ = served_archive
    data = path.read_bytes()
    response = client.get(f"/pmtiles/{path.name}", headers={"Range": header})
    expected = data[start : None if end is None else end + 1]
    assert response.status_code == 206 and response.content == expected
    first = start if start >= 0 else len(data) + start
    assert response.headers["content-range"] == (
        f"bytes {first}-{first + len(expected) - 1}/{len(data)}"
    )
    assert int(response.headers["content-length"]) == len(expected)


@pytest.mark.parametrize(
    "header", ["bytes=999999999-", "bytes=50-10", "bytes=0-1,5-9", "items=0-5", "bytes=-0"]
)
def test_a_bad_range_is_416(served_archive, header) -> None:
    client, path, _ = served_archive
    response = client.get(f"/pmtiles/{path.name}", headers={"Range": header})
    assert response.status_code == 416, response.text
    assert response.headers["content-range"] == f"bytes */{path.stat().st_size}"
    body = response.json()
    assert body["code"] == "RangeNotSatisfiable" and body["description"]


@pytest.mark.parametrize(
    "name",
    ["atlas-public-19990101-000000000000.pmtiles", "..%2Fsecret.pmtiles", "secret.pmtiles",
     "%2E%2E%2Fsecret.pmtiles", ".hidden.pmtiles", "x.mbtiles", "link.pmtiles"],
)  # fmt: skip
def test_unknown_or_outside_is_404(served_archive, name) -> None:
    client, _, _ = served_archive
    response = client.get(f"/pmtiles/{name}")
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound" and "outside" not in response.text


def test_without_a_directory_every_archive_is_404(served_archive, demo_embedded) -> None:
    _, path, _ = served_archive
    settings = demo_embedded.app_settings()
    assert settings.pmtiles.dir is None
    with TestClient(create_app(settings)) as client:
        response = client.get(f"/pmtiles/{path.name}")
    assert response.status_code == 404 and response.json()["code"] == "NotFound"


def test_the_pmtiles_reader_reads_it_over_http(served_archive) -> None:
    """What a PMTiles client does: header, directories and tiles, each a range request."""
    client, path, _ = served_archive
    requested: list[str] = []

    def get_bytes(offset: int, length: int) -> bytes:
        header = f"bytes={offset}-{offset + length - 1}"
        requested.append(header)
        response = client.get(f"/pmtiles/{path.name}", headers={"Range": header})
        assert response.status_code == 206
        return response.content

    reader = Reader(get_bytes)
    metadata = reader.metadata()
    assert {"communes", "waterways"} <= {layer["id"] for layer in metadata["vector_layers"]}
    tile = reader.get(9, 259, 176)  # Évry at z9
    assert tile and len(requested) >= 3
    assert max(int(r.split("-")[-1]) - int(r[6:].split("-")[0]) for r in requested) < 1 << 20


def test_a_key_gets_it_privately(served_archive) -> None:
    client, path, headers = served_archive
    response = client.get(f"/pmtiles/{path.name}", headers=headers[Tier.B2B])
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
