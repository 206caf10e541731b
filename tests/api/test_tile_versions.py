"""Fresh tiles after an ingest, with no restart and no purge, and the seeded disk cache.

On a small store of its own per kind (half the demo's monuments, then all of them): the app
serves a tile, its ETag 304s; another process's ingest makes the very next request serve the new
features under a new ETag, the old ETag no longer 304s, and TileJSON hands out the new version's
URL (immutable for the public tier, the old URL no longer). ``atlas tiles seed`` then fills the
disk cache, in another process, with tiles a new app serves byte for byte.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import morecantile
import pytest
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.api.routers.tiles import IMMUTABLE
from atlas.ingest import ingest_path
from atlas.settings import Settings
from atlas.stores import open_store
from tests.conftest import STORE_KINDS, settings_for

CID = "heritage-monuments"
TMS = morecantile.tms.get("WebMercatorQuad")


@pytest.fixture(params=STORE_KINDS)
def settings(request, tmp_path) -> Iterator[Settings]:
    for settings in settings_for(request.param, tmp_path / "data"):
        settings.limits.enabled = False
        settings.tiles.cache_dir = tmp_path / "tile-cache"  # memory and disk both in play
        yield settings


def _halves(demo_sources: dict[str, Path], tmp_path: Path) -> tuple[Path, Path]:
    source = demo_sources[CID]
    document = json.loads(source.read_text(encoding="utf-8"))
    half = dict(document, features=document["features"][: len(document["features"]) // 2])
    first = tmp_path / "monuments-half.geojson"
    first.write_text(json.dumps(half), encoding="utf-8")
    return first, source


def _ingest(settings: Settings, path: Path) -> None:
    store = open_store(settings.store)  # another store instance: as the CLI in another process
    try:
        ingest_path(store, CID, path, settings=settings, progress=False)
    finally:
        store.close()


def _switches_seen(client):
    """The switches the app's store has seen (PostGIS: by NOTIFY); None when it reads at once."""
    store = client.app.state.store
    return store._generation() if store.kind == "postgis" else None


def _wait_until_seen(client, before) -> None:
    """PostGIS tells the app of a switch by NOTIFY, delivered a few milliseconds after the
    ingest's commit: the next request after that is the one that must serve the new version.
    (The embedded store reads its catalog file's stamp on every request: nothing to wait for.)"""
    if before is None:
        return
    deadline = time.monotonic() + 10
    while _switches_seen(client) == before:
        assert time.monotonic() < deadline, "the app never heard of the new version"
        time.sleep(0.01)


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.text[:200]
    return {
        f["properties"]["id"] for f in mapbox_vector_tile.decode(response.content)[CID]["features"]
    }


def _tile_of_everything(bbox: list[float]) -> morecantile.Tile:
    for z in range(14, 0, -1):
        low, high = TMS.tile(bbox[0], bbox[1], z), TMS.tile(bbox[2], bbox[3], z)
        if low == high:
            return low
    raise AssertionError("the monuments span the world")


def test_an_ingest_is_served_on_the_next_request(settings, demo_sources, tmp_path):
    half, full = _halves(demo_sources, tmp_path)
    _ingest(settings, half)
    with TestClient(create_app(settings)) as client:
        tilejson = client.get(f"/collections/{CID}/tiles/WebMercatorQuad").json()
        tile = _tile_of_everything(tilejson["bounds"])
        old_url = tilejson["tiles"][0].format(z=tile.z, x=tile.x, y=tile.y)
        first = client.get(old_url)
        old_ids, old_etag = _ids(first), first.headers["ETag"]
        assert first.headers["Cache-Control"] == IMMUTABLE
        assert client.get(old_url, headers={"If-None-Match": old_etag}).status_code == 304
        old_set = client.get("/tiles/WebMercatorQuad").json()["tiles"][0]

        seen = _switches_seen(client)
        _ingest(settings, full)  # while the app runs; nothing is purged or restarted
        _wait_until_seen(client, seen)

        second = client.get(old_url)  # the same URL: the current version, no longer immutable
        new_ids, new_etag = _ids(second), second.headers["ETag"]
        assert old_ids < new_ids and new_etag != old_etag
        assert second.headers["Cache-Control"] != IMMUTABLE
        stale = client.get(old_url, headers={"If-None-Match": old_etag})
        assert stale.status_code == 200 and _ids(stale) == new_ids
        new_url = client.get(f"/collections/{CID}/tiles/WebMercatorQuad").json()["tiles"][0]
        assert new_url != tilejson["tiles"][0]
        again = client.get(new_url.format(z=tile.z, x=tile.x, y=tile.y))
        assert again.headers["Cache-Control"] == IMMUTABLE and again.headers["ETag"] == new_etag
        # The multi-layer tileset moves to a new version too.
        assert client.get("/tiles/WebMercatorQuad").json()["tiles"][0] != old_set


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATLAS_")}
    env["ATLAS_DATA_DIR"] = str(settings.store.data_dir)
    env["ATLAS_TILE_CACHE_DIR"] = str(settings.tiles.cache_dir)
    if settings.store.database_url is not None:
        env["ATLAS_DATABASE_URL"] = settings.store.database_url.get_secret_value()
        env["ATLAS_DATABASE_SCHEMA"] = settings.store.database_schema
        for name in Settings.model_fields:
            concern = getattr(settings, name)
            if "db_schema" in type(concern).model_fields:
                prefix = type(concern).model_config.get("env_prefix", "ATLAS_")
                env[f"{prefix}DB_SCHEMA"] = concern.db_schema
    return env


def test_seeding_fills_the_disk_cache_that_the_api_serves(settings, demo_sources):
    _ingest(settings, demo_sources[CID])
    run = subprocess.run(
        [sys.executable, "-m", "atlas.cli", "tiles", "seed", "--tier", "public", "--zoom", "9-11"],
        capture_output=True,
        text=True,
        env=_env(settings),
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "for public" in run.stdout
    cache_dir = settings.tiles.cache_dir
    assert cache_dir is not None
    seeded = sorted((cache_dir / "public" / "WebMercatorQuad").rglob("*.mvt"))
    reported = int(run.stdout.split()[0])
    assert not (cache_dir / "b2b").exists() and not (cache_dir / "internal").exists()
    before = {p: p.stat().st_mtime_ns for p in seeded}
    with TestClient(create_app(settings)) as client:
        tilejson = client.get("/tiles/WebMercatorQuad").json()
        layers, bbox = len(tilejson["vector_layers"]), tilejson["bounds"]
        # A file per layer of each tile (the monuments, and the perimeters derived from them).
        assert layers >= 1 and reported >= 3 and reported <= len(seeded) <= reported * layers
        for t in TMS.tiles(*bbox, zooms=[9, 10, 11]):
            response = client.get(f"/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}")
            assert response.status_code in (200, 204)
    # Served from the seeded files: none was written again.
    assert {p: p.stat().st_mtime_ns for p in seeded} == before


def test_seeding_refuses_bad_options_in_one_line(settings):
    env = _env(settings)
    for args, reason in [
        (("--zoom", "15-10"), "--zoom: WebMercatorQuad has zooms 0 to 22, low to high"),
        (("--tier", "vip"), "--tier: 'vip' is not one of public, b2b, internal"),
        (("--grid", "Nope"), "tile matrix set 'Nope' not found"),
    ]:
        run = subprocess.run(
            [sys.executable, "-m", "atlas.cli", "tiles", "seed", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert run.returncode == 2 and reason in run.stderr, run.stderr
    env.pop("ATLAS_TILE_CACHE_DIR")
    run = subprocess.run(
        [sys.executable, "-m", "atlas.cli", "tiles", "seed"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 2 and "ATLAS_TILE_CACHE_DIR is not set" in run.stderr
