"""Hostile input files, made here: each is refused in one line and changes nothing, on both stores.

The corpus is what an attacker or a careless data officer would hand to ``atlas ingest``: GDAL
programs (VRT, GDALG) and other XML disguised under every accepted extension, one of them
reaching a local SQLite file and one a loopback URL served by the test (which must see no
request), GeoPackages with views, triggers or virtual tables, zip and gzip bombs, zip-slip,
truncated shapefiles. The sandbox itself is probed too: a crash, a memory bomb and a loop in
the child are one-line refusals, and the child cannot reach the loopback server.
"""

from __future__ import annotations

import gzip
import http.server
import json
import os
import sqlite3
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from atlas.errors import HostileInput, InvalidInput
from atlas.layers.sandbox import Limits, run_isolated
from atlas.query.features import FeatureQuery
from atlas.settings import IngestSettings, Settings, StoreSettings
from tests.conftest import STORE_KINDS, _open_store

PROBES = "tests.layers.sandbox_probes"


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).requests.append(self.path)
        body = b'{"type": "FeatureCollection", "features": []}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def loopback() -> Iterator[tuple[int, list[str]]]:
    """A loopback HTTP server that records every request it gets."""
    _Recorder.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], _Recorder.requests
    server.shutdown()


# --- the corpus --------------------------------------------------------------------------------


def _vrt(source: str, sql: str = "SELECT * FROM secrets") -> str:
    return (
        f'<OGRVRTDataSource><OGRVRTLayer name="parcels"><SrcDataSource>{source}</SrcDataSource>'
        f"<SrcSQL>{sql}</SrcSQL></OGRVRTLayer></OGRVRTDataSource>"
    )


def _secret_db(directory: Path) -> Path:
    path = directory / "keys.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS secrets (name TEXT, digest TEXT)")
        db.execute("INSERT INTO secrets VALUES ('staff key', 'deadbeef')")
    return path


def _shapefile_named(directory: Path, content: bytes) -> Path:
    shp = directory / "parcels.shp"
    for ext in (".shp", ".shx", ".dbf"):
        shp.with_suffix(ext).write_bytes(content)
    return shp


def _disguised(directory: Path, content: bytes, suffix: str) -> Path:
    if suffix == ".shp":
        return _shapefile_named(directory, content)
    if suffix == ".json.gz":
        path = directory / "parcels.json.gz"
        path.write_bytes(gzip.compress(content))
        return path
    path = directory / f"parcels{suffix}"
    path.write_bytes(content)
    return path


DISGUISES = [
    ".geojson", ".json", ".gpkg", ".shp", ".csv", ".fgb", ".thf", ".json.gz", ".osm", ".osm.pbf"
]  # fmt: skip


def _osm_doctype(directory: Path, entity: str) -> Path:
    """OSM XML whose DOCTYPE names another file or a URL as an entity used in a tag."""
    path = directory / "parcels.osm"
    path.write_text(
        f"<?xml version='1.0'?><!DOCTYPE osm [<!ENTITY x SYSTEM '{entity}'>]>"
        "<osm version='0.6'><node id='1' lat='48.6' lon='2.4'><tag k='name' v='&x;'/></node></osm>",
        encoding="utf-8",
    )
    return path


def _gpkg(directory: Path, extra_sql: str) -> Path:
    path = directory / "parcels.gpkg"
    gpd.GeoDataFrame(
        {"id": ["91228000AB0001"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=2154
    ).to_file(path, driver="GPKG")
    with sqlite3.connect(path) as db:
        db.executescript(extra_sql)
    return path


def _zip(directory: Path, members: dict[str, bytes], name: str = "parcels.zip") -> Path:
    path = directory / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def _truncated_shapefile(directory: Path) -> Path:
    frame = gpd.GeoDataFrame(
        {"id": [f"91228000AB{i:04d}" for i in range(50)]},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(50)],
        crs=2154,
    )
    path = directory / "parcels.shp"
    frame.to_file(path, driver="ESRI Shapefile")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _corpus(port: int) -> dict[str, Callable[[Path], Path]]:
    """name -> a function writing that hostile file into a directory."""
    vrt_local = lambda d: _vrt(str(_secret_db(d)))  # noqa: E731
    vrt_url = _vrt(f"/vsicurl/http://127.0.0.1:{port}/parcels.geojson", "SELECT * FROM parcels")
    gdalg = json.dumps(
        {
            "type": "gdal_streamed_alg",
            "command_line": f"gdal vector read /vsicurl/http://127.0.0.1:{port}/x.geojson",
        }
    ).encode()
    corpus: dict[str, Callable[[Path], Path]] = {}
    for suffix in DISGUISES:
        corpus[f"vrt-local-file{suffix}"] = lambda d, s=suffix: _disguised(
            d, vrt_local(d).encode(), s
        )
        corpus[f"vrt-loopback-url{suffix}"] = lambda d, s=suffix: _disguised(d, vrt_url.encode(), s)
        corpus[f"gml{suffix}"] = lambda d, s=suffix: _disguised(
            d, b'<?xml version="1.0"?><gml:FeatureCollection/>', s
        )
    corpus["gdalg.geojson"] = lambda d: _disguised(d, gdalg, ".geojson")
    corpus["osm-doctype-local-file"] = lambda d: _osm_doctype(d, _secret_db(d).as_uri())
    corpus["osm-doctype-loopback-url"] = lambda d: _osm_doctype(
        d, f"http://127.0.0.1:{port}/parcels.geojson"
    )
    corpus["gpkg-view"] = lambda d: _gpkg(d, "CREATE VIEW leak AS SELECT * FROM sqlite_master;")
    corpus["gpkg-trigger"] = lambda d: _gpkg(
        d, "CREATE TRIGGER steal AFTER INSERT ON parcels BEGIN SELECT 1; END;"
    )
    corpus["gpkg-virtual-table"] = lambda d: _gpkg(d, "CREATE VIRTUAL TABLE v USING fts5(a);")
    corpus["zip-bomb"] = lambda d: _zip(d, {"parcels.geojson": b"{" + b" " * (64 << 20)})
    corpus["gzip-bomb"] = lambda d: _disguised(d, b"{" + b" " * (64 << 20), ".json.gz")
    corpus["zip-slip"] = lambda d: _zip(d, {"../../parcels.geojson": b"{}"})
    corpus["zip-absolute"] = lambda d: _zip(d, {"/tmp/parcels.geojson": b"{}"})
    corpus["truncated-shapefile"] = _truncated_shapefile
    corpus["shapefile-without-dbf"] = lambda d: _without_dbf(_truncated_shapefile(d))
    return corpus


def _without_dbf(shp: Path) -> Path:
    shp.with_suffix(".dbf").unlink()
    return shp


CORPUS_NAMES = sorted(_corpus(0))


# --- the ingest refuses each file, in one line, and keeps what it served --------------------


def _valid_parcels(directory: Path) -> Path:
    lon, lat = 2.44, 48.63  # Évry
    frame = gpd.GeoDataFrame(
        {
            "id": [f"91228000AB{i:04d}" for i in range(1, 4)],
            "commune": ["91228"] * 3,
            "contenance": [1200, 800, 950],
        },
        geometry=[
            shapely.box(lon + i * 1e-3, lat, lon + (i + 0.8) * 1e-3, lat + 8e-4) for i in range(3)
        ],
        crs=4326,
    )
    path = directory / "valid-parcels.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


@pytest.fixture(scope="module", params=STORE_KINDS)
def served(request, tmp_path_factory) -> Iterator[tuple[object, Settings]]:
    """A store of each kind serving three parcels, shared by the module's refusals."""
    from atlas.ingest import ingest_path

    tmp = tmp_path_factory.mktemp(f"served-{request.param}")
    settings = Settings(store=StoreSettings(data_dir=tmp / "data", database_url=None))
    for store in _open_store(request.param, tmp, None):
        ingest_path(store, "parcels", _valid_parcels(tmp), settings=settings, progress=False)
        yield store, settings


def _served_state(store) -> tuple[object, list[str]]:
    page = store.query("parcels", FeatureQuery(limit=100))
    return store.collection("parcels").version, sorted(f.id for f in page.features)


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_hostile_file_is_refused_in_one_line_and_changes_nothing(name, served, loopback, tmp_path):
    from atlas.ingest import ingest_path

    store, settings = served
    port, requests = loopback
    before = _served_state(store)
    path = _corpus(port)[name](tmp_path)
    with pytest.raises(InvalidInput) as caught:
        ingest_path(store, "parcels", path, settings=settings, progress=False)
    message = str(caught.value)
    assert "\n" not in message and message.strip()
    assert str(tmp_path) not in message  # names the file, not our directories
    assert _served_state(store) == before
    assert requests == []


@pytest.mark.parametrize(
    ("name", "kind", "words"),
    [
        ("vrt-local-file.geojson", HostileInput, "XML"),
        ("vrt-loopback-url.json.gz", HostileInput, "XML"),
        ("gdalg.geojson", HostileInput, "GDALG"),
        ("vrt-local-file.osm", HostileInput, "not OpenStreetMap XML"),
        ("gml.osm.pbf", HostileInput, "not an OpenStreetMap PBF"),
        ("osm-doctype-local-file", HostileInput, "DOCTYPE"),
        ("vrt-local-file.gpkg", HostileInput, "not a GeoPackage"),
        ("vrt-local-file.fgb", HostileInput, "FlatGeobuf"),
        ("gpkg-view", HostileInput, "view"),
        ("gpkg-trigger", HostileInput, "trigger"),
        ("gpkg-virtual-table", HostileInput, "virtual table"),
        ("zip-bomb", HostileInput, "zip bomb"),
        ("gzip-bomb", HostileInput, "gzip bomb"),
        ("zip-slip", HostileInput, "outside the archive"),
        ("truncated-shapefile", InvalidInput, "truncated"),
        ("shapefile-without-dbf", InvalidInput, "missing .dbf"),
    ],
)
def test_refusals_say_what_was_wrong(name, kind, words, tmp_path, loopback):
    from atlas.ingest import ingest_path
    from atlas.stores.embedded import EmbeddedStore

    settings = Settings(store=StoreSettings(data_dir=tmp_path / "data", database_url=None))
    store = EmbeddedStore(tmp_path / "data")
    try:
        with pytest.raises(kind, match=words):
            path = _corpus(loopback[0])[name](tmp_path)
            ingest_path(store, "parcels", path, settings=settings, progress=False)
    finally:
        store.close()


def test_cli_refusal_is_one_line_without_traceback(tmp_path, loopback):
    path = _corpus(loopback[0])["vrt-local-file.geojson"](tmp_path)
    env = {**os.environ, "ATLAS_DATA_DIR": str(tmp_path / "data")}
    env.pop("ATLAS_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "atlas.cli", "ingest", "parcels", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "XML" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


# --- the sandbox: what the child cannot do -----------------------------------------------------

_SMALL = Limits(memory_bytes=1024 * 1024**2, cpu_seconds=3, wall_seconds=20, file_bytes=1 << 30)


def test_child_has_only_the_accepted_drivers():
    from atlas.layers.formats import ALLOWED_VECTOR_DRIVERS

    registered = run_isolated(f"{PROBES}:drivers", limits=_SMALL, label="probe")
    assert set(registered) <= ALLOWED_VECTOR_DRIVERS
    assert {"GeoJSON", "GPKG", "ESRI Shapefile"} <= set(registered)


def test_child_cannot_reach_the_network(loopback):
    port, requests = loopback
    before = len(requests)
    outcome = run_isolated(f"{PROBES}:reach", port, limits=_SMALL, label="probe")
    assert outcome["tcp"].startswith("refused") and outcome["gdal"].startswith("refused")
    assert len(requests) == before


def test_a_parser_crash_is_a_one_line_refusal():
    with pytest.raises(HostileInput, match=r"crashed the file parser \(SIGSEGV\)"):
        run_isolated(f"{PROBES}:crash", limits=_SMALL, label="evil.geojson")


def test_a_memory_bomb_stops_at_the_limit():
    with pytest.raises(HostileInput, match="more than 1024 MB"):
        run_isolated(f"{PROBES}:allocate", 4096, limits=_SMALL, label="evil.geojson")


def test_a_runaway_parser_stops_at_the_cpu_limit():
    with pytest.raises(HostileInput, match="evil.geojson.*more than 3 s of CPU"):
        run_isolated(f"{PROBES}:spin", limits=_SMALL, label="evil.geojson")


def test_a_stuck_parser_stops_at_the_wall_clock_limit():
    limits = Limits(memory_bytes=1 << 30, cpu_seconds=60, wall_seconds=3, file_bytes=1 << 30)
    with pytest.raises(HostileInput, match="took more than 3 s"):
        run_isolated("time:sleep", 30, limits=limits, label="evil.geojson")


def test_limits_come_from_the_settings():
    limits = Limits.from_settings(IngestSettings(read_timeout_s=42, read_memory_mb=512))
    assert (limits.cpu_seconds, limits.wall_seconds) == (42, 42.0)
    assert limits.memory_bytes == 512 * 1024**2


def test_gzip_of_real_size_is_read(tmp_path):
    from atlas.layers import get_layer
    from atlas.layers.base import ReadOptions
    from atlas.layers.sandbox import isolated_vector_read

    raw = _valid_parcels(tmp_path).read_bytes()
    path = tmp_path / "parcels.json.gz"
    path.write_bytes(gzip.compress(raw))
    result = isolated_vector_read(get_layer("parcels"), path, ReadOptions(), IngestSettings())
    assert sorted(result.frame["id"]) == [f"91228000AB{i:04d}" for i in range(1, 4)]
