"""Geometry sanity at the door (issue 8, item 2), on both stores.

Non-finite and absurd coordinates, a Lambert-93 GeoJSON without ``crs``, swapped lat/lon, Null
Island and rows outside the territory each get a row rejection or a one-line refusal; a refusal
leaves the version served before it served whole.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import mapping

from atlas.errors import AtlasError, InvalidInput, ValidationFailed
from atlas.ingest import ingest_path
from atlas.layers.base import ReadResult
from atlas.layers.conform import IngestReport, conform
from atlas.layers.geojson_crs import declares_crs
from atlas.layers.io import read_vector
from atlas.layers.parcels import LAYER as PARCELS
from atlas.layers.sanity import Territory
from atlas.query.features import FeatureQuery
from atlas.query.filters import IsNull
from atlas.settings import Settings, StoreSettings, TerritorySettings
from tests.conftest import STORE_KINDS, settings_for
from tests.stores.fixtures import CONTRACT_LAYER, contract_frame

EVRY = (655_000.0, 6_835_000.0)  # Lambert-93, Évry-Courcouronnes (Essonne)
LYON = (842_000.0, 6_519_000.0)
TO_LONLAT = Transformer.from_crs("EPSG:2154", "OGC:CRS84", always_xy=True)
ESSONNE = (2.0, 48.2, 2.8, 48.8)
CRS84_MEMBER = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}


def _square(index: int, origin: tuple[float, float] = EVRY) -> shapely.Polygon:
    """A 100 m Lambert-93 square, 200 m east of the previous one."""
    x, y = origin[0] + 200 * index, origin[1]
    return shapely.box(x, y, x + 100, y + 100)


def _lonlat(geometry: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geometry, lambda xy: np.column_stack(TO_LONLAT.transform(*xy.T)))


def _swap(geometry: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geometry, lambda xy: xy[:, ::-1])


def _parcel_id(index: int) -> str:
    return f"91228000AB{index + 1:04d}"


def _write_parcels(path: Path, geometries: list, *, crs: dict | None = None) -> Path:
    """Etalab-style parcels; Python's json writes NaN and Infinity, which GDAL reads."""
    features = [
        {"type": "Feature", "properties": {"id": _parcel_id(i)}, "geometry": mapping(g)}
        for i, g in enumerate(geometries)
    ]
    document = {"type": "FeatureCollection", **({"crs": crs} if crs else {}), "features": features}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _good_lonlat(n: int = 10) -> list:
    return [_lonlat(_square(i)) for i in range(n)]


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(store=StoreSettings(data_dir=tmp_path / "data", database_url=None))


def _ingest(store, settings, path, **kw) -> IngestReport:
    return ingest_path(store, "parcels", path, settings=settings, progress=False, **kw)


def _served(store) -> tuple[int, list[tuple[str, bytes]]]:
    """The served version of parcels and its rows, to compare before and after a refusal."""
    page = store.query("parcels", FeatureQuery(limit=1000))
    rows = sorted((f.id, shapely.to_wkb(f.geometry)) for f in page.features)
    return store.collection("parcels").version, rows


@pytest.fixture
def served(catalog_store, settings, tmp_path):
    """Version 1 of parcels, ingested from a clean lon/lat file."""
    _ingest(catalog_store, settings, _write_parcels(tmp_path / "v1.geojson", _good_lonlat(3)))
    before = _served(catalog_store)
    assert before[0] == 1 and len(before[1]) == 3
    return before


def _refused(store, settings, path, match: str, **kw) -> str:
    """Ingest ``path``, which must be refused with one line matching ``match``; nothing changes."""
    before = _served(store)
    with pytest.raises(AtlasError) as caught:
        _ingest(store, settings, path, **kw)
    message = caught.value.description
    assert "\n" not in message and match in message, message
    assert _served(store) == before
    return message


# --- a missing CRS is never guessed ------------------------------------------------------------


@pytest.mark.parametrize("member", [None, CRS84_MEMBER], ids=["no-crs-member", "crs84-member"])
def test_lambert93_geojson_is_refused_then_read_with_crs(
    catalog_store, settings, served, tmp_path, member
):
    squares = [_square(i) for i in range(5)]
    path = _write_parcels(tmp_path / "l93.geojson", squares, crs=member)
    message = _refused(catalog_store, settings, path, "give --crs EPSG:2154")
    assert "look like Lambert-93" in message and message.startswith("'l93.geojson'")

    report = _ingest(catalog_store, settings, path, crs="EPSG:2154")
    assert report.kept == 5 and not report.rejected and report.version == 2
    page = catalog_store.query("parcels", FeatureQuery(limit=10))
    stored = {f.id: f.geometry for f in page.features}
    for index, square in enumerate(squares):
        assert stored[_parcel_id(index)].equals(square)  # the numbers of the file, as metres


def test_declared_crs_that_can_hold_the_data_still_wins_over_crs(tmp_path):
    path = tmp_path / "parcels.gpkg"
    gpd.GeoDataFrame({"id": ["a"]}, geometry=[_square(0)], crs=2154).to_file(path)
    with pytest.raises(InvalidInput, match="declares EPSG:2154 but --crs says EPSG:4326"):
        read_vector(path, crs="EPSG:4326")
    assert read_vector(path, crs="EPSG:2154").crs.to_epsg() == 2154


def test_swapped_lat_lon_file_is_refused(catalog_store, settings, served, tmp_path):
    path = _write_parcels(tmp_path / "swapped.geojson", [_swap(g) for g in _good_lonlat(5)])
    _refused(catalog_store, settings, path, "latitude and longitude look swapped")


def test_one_swapped_row_is_rejected(catalog_store, settings, served, tmp_path):
    geometries = _good_lonlat(10)
    geometries[6] = _swap(geometries[6])
    report = _ingest(catalog_store, settings, _write_parcels(tmp_path / "p.geojson", geometries))
    assert [r.row for r in report.rejected] == [f"7 ({_parcel_id(6)})"]
    assert "look swapped" in report.rejected[0].reason
    assert report.kept == 9 and _served(catalog_store)[0] == 2


# --- non-finite and absurd coordinates ---------------------------------------------------------


def test_absurd_coordinate_row_is_rejected_with_row_and_reason(
    catalog_store, settings, served, tmp_path
):
    geometries = _good_lonlat(10)
    geometries[4] = shapely.Polygon([(2.4, 48.6), (1e300, 48.6), (2.4, 48.7), (2.4, 48.6)])
    report = _ingest(catalog_store, settings, _write_parcels(tmp_path / "p.geojson", geometries))
    assert [(r.row, r.reason) for r in report.rejected] == [
        (f"5 ({_parcel_id(4)})", "coordinates (1e+300, 48.6) are out of range for EPSG:4326")
    ]
    assert report.kept == 9
    info = catalog_store.collection("parcels")
    assert info.version == 2 and info.count == 9
    assert all(math.isfinite(v) for v in info.bbox)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_coordinate_rows_are_rejected(catalog_store, settings, served, tmp_path, bad):
    geometries = _good_lonlat(10)
    geometries[2] = shapely.Polygon([(2.4, 48.6), (bad, 48.6), (2.4, 48.7), (2.4, 48.6)])
    report = _ingest(catalog_store, settings, _write_parcels(tmp_path / "p.geojson", geometries))
    assert [(r.row, r.reason) for r in report.rejected] == [
        (f"3 ({_parcel_id(2)})", "coordinates are not finite numbers (NaN or infinity)")
    ]
    info = catalog_store.collection("parcels")
    assert info.count == 9 and all(math.isfinite(v) for v in info.bbox)


def test_mostly_bad_file_is_refused_whole(catalog_store, settings, served, tmp_path):
    geometries = _good_lonlat(5)
    for index in (0, 2, 3):
        geometries[index] = shapely.Polygon([(2.4, 48.6), (1e300, 48.6), (2.4, 48.7)])
    path = _write_parcels(tmp_path / "p.geojson", geometries)
    _refused(catalog_store, settings, path, "3 of 5 rows rejected")


# --- Null Island and the territory -------------------------------------------------------------


def _monuments(path: Path, points: list[shapely.Point]) -> Path:
    frame = gpd.GeoDataFrame(
        {
            "Reference": [f"PA9100{i:04d}" for i in range(len(points))],
            "Titre_editorial_de_la_notice": [f"Monument {i}" for i in range(len(points))],
            "Typologie_de_la_protection": ["inscrit MH"] * len(points),
        },
        geometry=points,
        crs=4326,
    )
    frame.to_file(path, driver="GeoJSON")
    return path


def test_null_island_rows_are_rejected_and_a_null_island_file_refused(
    catalog_store, settings, tmp_path
):
    points = [_lonlat(shapely.Point(EVRY[0] + 500 * i, EVRY[1])) for i in range(6)]
    points[3] = shapely.Point(0, 0)
    report = ingest_path(
        catalog_store,
        "heritage-monuments",
        _monuments(tmp_path / "m.geojson", points),
        settings=settings,
        progress=False,
    )
    assert [(r.row, r.reason) for r in report.rejected] == [
        ("4 (PA91000003)", "at Null Island (0, 0): a position written as zeros")
    ]
    before = catalog_store.collection("heritage-monuments").version
    with pytest.raises(ValidationFailed, match="no feature could be kept") as caught:
        ingest_path(
            catalog_store,
            "heritage-monuments",
            _monuments(tmp_path / "zeros.geojson", [shapely.Point(0, 0)] * 3),
            settings=settings,
            progress=False,
        )
    assert "Null Island" in caught.value.description and "\n" not in caught.value.description
    assert catalog_store.collection("heritage-monuments").version == before


def test_rows_outside_the_territory_are_rejected(catalog_store, settings, served, tmp_path):
    geometries = [_square(i) for i in range(9)] + [_square(0, origin=LYON)]
    path = _write_parcels(tmp_path / "p.geojson", [_lonlat(g) for g in geometries])
    essonne = settings.model_copy(update={"territory": TerritorySettings(bbox=ESSONNE)})
    report = _ingest(catalog_store, essonne, path)
    assert [r.row for r in report.rejected] == [f"10 ({_parcel_id(9)})"]
    reason = report.rejected[0].reason
    assert reason.startswith("outside the territory (ATLAS_TERRITORY_BBOX 2,48.2,2.8,48.8)")
    assert "lon 4.8" in reason and "lat 45.7" in reason  # Lyon, where the row lies
    # The default territory (metropolitan France) keeps Lyon: the rejection came from the box.
    assert not _ingest(catalog_store, settings, path).rejected


def test_a_file_wholly_outside_the_territory_is_refused(catalog_store, settings, served, tmp_path):
    path = _write_parcels(tmp_path / "lyon.geojson", [_lonlat(_square(i, LYON)) for i in range(4)])
    essonne = settings.model_copy(update={"territory": TerritorySettings(bbox=ESSONNE)})
    _refused(
        catalog_store,
        essonne,
        path,
        "no feature could be kept (row 1 (91228000AB0001): outside the territory",
    )


def test_territory_outline_narrows_the_box():
    """The seam for the communes layer (issue 9): an outline inside the box rejects the rest."""
    frame = gpd.GeoDataFrame(
        {"id": [_parcel_id(i) for i in range(4)]},
        geometry=[_square(i * 20) for i in range(4)],  # 4 km apart, west to east
        crs=2154,
    )
    west_half = _lonlat(shapely.box(EVRY[0] - 1000, EVRY[1] - 1000, EVRY[0] + 6000, EVRY[1] + 1000))
    territory = Territory(bbox=ESSONNE, outline=west_half)
    frame = frame.assign(commune="91228", prefixe="000", section="AB", numero="0001")
    kept, report = conform(ReadResult(frame=frame), PARCELS, source="x", territory=territory)
    assert list(kept["id"]) == [_parcel_id(0), _parcel_id(1)]
    assert [r.row for r in report.rejected] == [f"3 ({_parcel_id(2)})", f"4 ({_parcel_id(3)})"]


# --- non-finite numbers never reach a store ----------------------------------------------------


def test_non_finite_numbers_are_nulled_or_rejected(store):
    frame = contract_frame(6).astype({"terr_surf_brute": object, "nb_lots": object})
    frame.loc[1, "terr_surf_brute"] = math.nan  # a missing value: null
    frame.loc[2, "terr_surf_brute"] = "inf"
    frame.loc[3, "terr_m2_prix"] = -math.inf
    frame.loc[4, "nb_lots"] = "Infinity"
    kept, report = conform(ReadResult(frame=frame), CONTRACT_LAYER, source="x")
    assert [(r.row.split()[0], r.reason) for r in report.rejected] == [
        ("3", "terr_surf_brute: 'inf' is not a valid number"),
        ("4", "terr_m2_prix: '-inf' is not a valid number"),
        ("5", "nb_lots: 'Infinity' is not a valid integer"),
    ]
    store.write_version(CONTRACT_LAYER, kept, report=report)
    nulls = store.count("contract-plots", FeatureQuery(filter=IsNull("terr_surf_brute")))
    assert nulls == 1
    stored = store.frame("contract-plots")
    numbers = stored[["terr_surf_brute", "terr_m2_prix"]].to_numpy(dtype=float, na_value=0.0)
    assert len(stored) == 3 and np.isfinite(numbers).all()


def test_a_store_refuses_non_finite_values(store):
    good = contract_frame(4)
    store.write_version(CONTRACT_LAYER, good, report=IngestReport("contract-plots", "x"))
    infinite_geometry = good.copy()
    infinite_geometry.loc[1, "geometry"] = shapely.box(EVRY[0], EVRY[1], math.inf, EVRY[1] + 1)
    infinite_number = good.copy()
    infinite_number.loc[2, "terr_m2_prix"] = math.inf
    for frame, match in ((infinite_geometry, "coordinates"), (infinite_number, "terr_m2_prix")):
        with pytest.raises(ValidationFailed, match=match):
            store.write_version(CONTRACT_LAYER, frame, report=IngestReport("contract-plots", "x"))
    assert [v.version for v in store.versions("contract-plots")] == [1]


# --- the CLI: one line, non-zero; then --crs works ---------------------------------------------


@pytest.fixture(params=STORE_KINDS)
def cli_env(request, tmp_path):
    """The environment of ``atlas`` on each store kind."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATLAS_")}
    for settings in settings_for(request.param, tmp_path / "data"):
        env["ATLAS_DATA_DIR"] = str(settings.store.data_dir)
        if settings.store.database_url is not None:
            env["ATLAS_DATABASE_URL"] = settings.store.database_url.get_secret_value()
            env["ATLAS_DATABASE_SCHEMA"] = settings.store.database_schema
        yield env


def _atlas(env, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "atlas.cli", *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_cli_refuses_lambert93_geojson_with_one_line_then_takes_crs(cli_env, tmp_path):
    path = _write_parcels(tmp_path / "l93.geojson", [_square(i) for i in range(3)])
    refused = _atlas(cli_env, "ingest", "parcels", str(path), "--quiet")
    assert refused.returncode != 0 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [
        "atlas: error: 'l93.geojson': coordinates cannot be in WGS 84 (EPSG:4326): "
        "they look like Lambert-93: give --crs EPSG:2154"
    ]
    assert _atlas(cli_env, "versions", "parcels").stdout.strip() == ""  # nothing was written
    accepted = _atlas(cli_env, "ingest", "parcels", str(path), "--crs", "EPSG:2154", "--quiet")
    assert accepted.returncode == 0, accepted.stderr
    assert "kept 3" in accepted.stdout and "-> version 1" in accepted.stdout


# --- does a GeoJSON declare its CRS? ------------------------------------------------------------


def test_declares_crs_reads_top_level_members_only(tmp_path):
    feature = {"type": "Feature", "properties": {"crs": {"x": 1}}, "geometry": None}

    def write(name: str, document: dict) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(document), encoding="utf-8")
        return path

    plain = {"type": "FeatureCollection", "features": [feature]}
    assert not declares_crs(write("plain.geojson", plain))
    assert declares_crs(write("head.geojson", {"crs": CRS84_MEMBER, **plain}))
    assert declares_crs(write("end.geojson", {**plain, "crs": CRS84_MEMBER}))
    assert not declares_crs(write("null.geojson", {"crs": None, **plain}))
    # Past the first MiB, a crs member after the features is found in the last MiB.
    point = {"type": "Feature", "properties": {"name": "x"}, "geometry": None}
    big = {"type": "FeatureCollection", "features": [point] * 60_000}
    assert len(json.dumps(big)) > 2 << 20
    assert not declares_crs(write("big.geojson", big))
    assert declares_crs(write("big-crs.geojson", {**big, "crs": CRS84_MEMBER}))


def test_cli_refusals_exit_non_zero_and_change_nothing(cli_env, tmp_path):
    swapped = [_swap(g) for g in _good_lonlat(3)]
    lyon = [_lonlat(_square(i, LYON)) for i in range(3)]
    first = _atlas(
        cli_env, "ingest", "parcels", str(_write_parcels(tmp_path / "ok.geojson", _good_lonlat(2)))
    )
    assert first.returncode == 0, first.stderr
    swapped_run = _atlas(
        cli_env, "ingest", "parcels", str(_write_parcels(tmp_path / "s.geojson", swapped))
    )
    assert swapped_run.returncode == 2
    assert swapped_run.stderr.strip().splitlines() == [
        "atlas: error: 's.geojson': coordinates cannot be in WGS 84 (EPSG:4326): latitude and "
        "longitude look swapped: write longitude first (x), then latitude (y)"
    ]
    # The territory from the environment, as a deployment sets it.
    essonne = {**cli_env, "ATLAS_TERRITORY_BBOX": ",".join(str(v) for v in ESSONNE)}
    outside = _atlas(
        essonne, "ingest", "parcels", str(_write_parcels(tmp_path / "l.geojson", lyon))
    )
    assert outside.returncode == 2 and outside.stdout == ""
    reason, *details = outside.stderr.strip().splitlines()
    assert reason.startswith("atlas: error: parcels: no feature could be kept (row 1 ")
    assert "outside the territory (ATLAS_TERRITORY_BBOX 2,48.2,2.8,48.8)" in reason
    assert all(line.startswith("  row ") for line in details)  # the CLI's per-row detail
    versions = _atlas(cli_env, "versions", "parcels").stdout.strip().splitlines()
    assert len(versions) == 1 and versions[0].startswith("v1\t")
