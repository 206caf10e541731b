"""Parcels: Etalab cadastre GeoJSON (plain and gzipped), EDIGÉO sheets, ids, areas, classification."""

from __future__ import annotations

import gzip
import shutil

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from atlas.errors import HostileInput, InvalidInput
from atlas.layers import parcels
from atlas.layers.base import Classification, ReadOptions
from atlas.layers.conform import conform
from atlas.layers.io import unpacked
from atlas.layers.parcels import LAYER, read_parcels
from tests.helpers import require_real_data

ETALAB = ("cadastre-91216", "cadastre-91216-parcelles.json")
EDIGEO = ("edigeo-74024", "edigeo-740240000A01.tar.bz2")


def _square(x: float, y: float, side: float = 0.001) -> shapely.Polygon:
    return shapely.box(x, y, x + side, y + side)


@pytest.fixture
def etalab_like(tmp_path):
    frame = gpd.GeoDataFrame(
        {
            "id": ["91228000AB0001", "91228000AB0002", "not-a-parcel"],
            "commune": ["91228", "91228", "91228"],
            "prefixe": ["000"] * 3,
            "section": ["AB"] * 3,
            "numero": ["1", "2", "3"],
            "contenance": [1200, None, 50],
        },
        geometry=[_square(2.44, 48.62), _square(2.45, 48.62), _square(2.46, 48.62)],
        crs=4326,
    )
    path = tmp_path / "cadastre-91228-parcelles.json"
    frame.to_file(path, driver="GeoJSON")
    return path


@pytest.mark.realdata
def test_all_real_etalab_parcels_are_ingested():
    path = require_real_data(*ETALAB)
    frame, report = conform(read_parcels(path, ReadOptions()), LAYER, source=path.name)
    assert (report.rows_read, report.kept, len(report.rejected)) == (4241, 4241, 0)
    assert frame.crs.to_epsg() == 2154
    assert frame["id"].str.match(parcels.PARCEL_ID).all()
    assert frame["contenance"].isna().sum() == 1  # the one parcel without contenance is kept
    assert frame["proprietaire"].isna().all()  # the open data has no owners
    assert set(frame.geometry.geom_type) == {"MultiPolygon"}


@pytest.mark.realdata
def test_real_etalab_areas_agree_with_contenance():
    """Areas computed in EPSG:2154 against the legal ``contenance``.

    ``contenance`` is the fiscal area of the land register, measured when the parcel was
    surveyed; the geometry is the digitised PCI plan, published by Etalab in lon/lat with 7
    decimals (~1 cm). The differences are therefore the plan's graphic accuracy, not rounding:
    measured on the 4,240 parcels of Épinay-sur-Orge with a contenance, the relative difference
    has median 1.2 %, 90th percentile 5.5 %, 95th 8.6 %, 99th 33 % (small parcels: a 3 m² strip
    drawn as 7 m²; 17 parcels differ by more than 50 %, mostly under 30 m²; one, AO 1, by 346 m²).
    Absolute: median 3.7 m², 95th percentile 27 m². The tolerance |diff| <= max(10 m², 10 %)
    holds for 98.7 % of parcels; we require 98 %. The signed median is +0.14 %: no bias, so a
    wrong CRS or scale (which would shift every parcel the same way) is caught by |median| < 0.5 %.
    """
    path = require_real_data(*ETALAB)
    frame, _ = conform(read_parcels(path, ReadOptions()), LAYER, source=path.name)
    with_area = frame[frame["contenance"].notna()]
    legal = with_area["contenance"].astype(float).to_numpy()
    diff = with_area.geometry.area.to_numpy() - legal
    within = np.abs(diff) <= np.maximum(10.0, 0.10 * legal)
    assert within.mean() >= 0.98
    assert np.median(np.abs(diff) / legal) < 0.02
    assert abs(np.median(diff / legal)) < 0.005


@pytest.mark.realdata
def test_gzipped_etalab_file_is_read(tmp_path):
    source = require_real_data(*ETALAB)
    gz = tmp_path / "cadastre-91216-parcelles.json.gz"
    with open(source, "rb") as src, gzip.open(gz, "wb") as out:
        shutil.copyfileobj(src, out)
    assert len(read_parcels(gz, ReadOptions()).frame) == 4241
    directory = tmp_path / "dir"
    directory.mkdir()
    shutil.move(gz, directory / gz.name)
    assert len(read_parcels(directory, ReadOptions()).frame) == 4241


def test_gzip_bomb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_INGEST_MAX_ARCHIVE_BYTES", "1000")
    bomb = tmp_path / "cadastre-parcelles.json.gz"
    with gzip.open(bomb, "wb") as out:
        out.write(b" " * 100_000)
    with pytest.raises(HostileInput, match="gzip bomb"):
        read_parcels(bomb, ReadOptions())


def test_malformed_ids_are_rejected_and_missing_contenance_kept(etalab_like):
    result = read_parcels(etalab_like, ReadOptions())
    assert [r.reason for r in result.rejected] == ["id is not a 14-character parcel reference"]
    frame, report = conform(result, LAYER, source="x")
    assert report.rows_read == 3 and report.kept == 2
    assert frame["contenance"].isna().sum() == 1


def test_parts_are_derived_from_the_id_when_absent(tmp_path):
    frame = gpd.GeoDataFrame({"id": ["2A0040000A0012"]}, geometry=[_square(8.7, 41.9)], crs=4326)
    path = tmp_path / "p.geojson"
    frame.to_file(path, driver="GeoJSON")
    row = read_parcels(path, ReadOptions()).frame.iloc[0]
    assert (row["commune"], row["prefixe"], row["section"], row["numero"]) == (
        "2A004",
        "000",
        "A",
        "12",
    )


def test_owner_is_kept_when_the_input_has_it(tmp_path):
    frame = gpd.GeoDataFrame(
        {"id": ["91228000AB0001"], "ddenom": ["SCI DES TILLEULS"]},
        geometry=[_square(2.44, 48.62)],
        crs=4326,
    )
    path = tmp_path / "internal.gpkg"
    frame.to_file(path, driver="GPKG")
    out, _ = conform(read_parcels(path, ReadOptions()), LAYER, source="x")
    assert out.loc[0, "proprietaire"] == "SCI DES TILLEULS"


def test_classification_follows_the_tier_table():
    classes = {f.name: f.classification for f in LAYER.fields}
    assert classes["proprietaire"] is Classification.PERSONAL
    assert (
        classes["id"] is Classification.BUSINESS
        and classes["contenance"] is Classification.BUSINESS
    )
    assert Classification.PUBLIC not in classes.values()  # parcels are not public at all
    assert LAYER.geometry_classification is not Classification.PUBLIC


@pytest.mark.realdata
def test_real_edigeo_sheet_gives_404_parcels():
    archive = require_real_data(*EDIGEO)
    if "EDIGEO" not in pyogrio.list_drivers():
        pytest.skip("this GDAL build has no EDIGEO driver")
    frame, report = conform(read_parcels(archive, ReadOptions()), LAYER, source=archive.name)
    assert (report.kept, len(report.rejected)) == (404, 0)
    assert frame["id"].str.match(parcels.PARCEL_ID).all()
    assert frame["id"].str.startswith("740240000A").all()
    assert set(frame["commune"]) == {"74024"} and set(frame["section"]) == {"A"}
    assert frame["contenance"].notna().all()
    # SUPF against the drawn area: same kind of agreement as Etalab's contenance.
    ratio = np.abs(frame.geometry.area - frame["contenance"]) / frame["contenance"]
    assert ratio.median() < 0.03


@pytest.mark.realdata
def test_edigeo_through_ingest_unpacking_keeps_the_departement():
    archive = require_real_data(*EDIGEO)
    if "EDIGEO" not in pyogrio.list_drivers():
        pytest.skip("this GDAL build has no EDIGEO driver")
    with unpacked(archive) as directory:  # what ingest does before calling the reader
        result = read_parcels(directory, ReadOptions())
    assert len(result.frame) == 404 and result.frame["id"].str.startswith("74024").all()


@pytest.mark.realdata
def test_edigeo_without_a_published_name_is_a_clear_error(tmp_path):
    archive = require_real_data(*EDIGEO)
    if "EDIGEO" not in pyogrio.list_drivers():
        pytest.skip("this GDAL build has no EDIGEO driver")
    import tarfile

    target = tmp_path / "sheet"
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    with pytest.raises(InvalidInput, match="does not name the département"):
        read_parcels(target, ReadOptions())


def test_edigeo_without_gdal_driver_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(parcels.pyogrio, "list_drivers", lambda: {"GeoJSON": "rw"})
    sheet = tmp_path / "E0000A01.THF"
    sheet.write_text("BOMT 12:E0000A01.THF\n")
    with pytest.raises(InvalidInput, match="no EDIGEO driver"):
        read_parcels(tmp_path, ReadOptions())
