"""The communes layer on the real Essonne files: france-geojson, ADMIN EXPRESS and Etalab shapes
written here from the real geometries, the découpage administratif merge, on both stores."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from atlas.errors import InvalidInput, ValidationFailed
from atlas.ingest import ingest_path
from atlas.layers.base import ReadOptions
from atlas.layers.communes import read_communes
from atlas.settings import Settings, StoreSettings
from tests.helpers import require_real_data

pytestmark = pytest.mark.realdata

GPS = "200059228"  # CA Grand Paris Sud Seine Essonne Sénart


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(store=StoreSettings(data_dir=tmp_path / "data", database_url=None))


@pytest.fixture(scope="module")
def real() -> gpd.GeoDataFrame:
    """The 196 france-geojson polygons of Essonne (2018 geography), in Lambert-93."""
    path = require_real_data("communes-91", "communes-91-essonne.geojson")
    return gpd.read_file(path).to_crs(2154)


@pytest.fixture(scope="module")
def cog() -> tuple[dict[str, dict], dict[str, str]]:
    """The COG 2026 communes by code (current ones) and each member's EPCI, read here."""
    folder = require_real_data("decoupage-administratif-91")
    communes = json.loads((folder / "communes-91.json").read_text(encoding="utf-8"))
    epci = json.loads((folder / "epci-91.json").read_text(encoding="utf-8"))
    current = {c["code"]: c for c in communes if c["type"] == "commune-actuelle"}
    members = {m["code"]: e["code"] for e in epci for m in e["membres"]}
    return current, members


def _stored(store, settings, path: Path) -> gpd.GeoDataFrame:
    report = ingest_path(store, "communes", path, settings=settings, progress=False)
    assert report.rejected == [] and report.repaired == [], report.summary()
    frame = store.frame("communes")
    assert len(frame) == report.kept and frame.crs.to_epsg() == 2154
    assert set(frame.geometry.geom_type) == {"MultiPolygon"}
    return frame.set_index("code_insee")


def _same_area(stored: shapely.Geometry, source: shapely.Geometry) -> bool:
    return stored.symmetric_difference(source).area < 1e-6 * source.area


def test_france_geojson_as_published(catalog_store, settings, real) -> None:
    path = require_real_data("communes-91", "communes-91-essonne.geojson")
    frame = _stored(catalog_store, settings, path)
    assert sorted(frame.index) == sorted(real["code"]) and len(frame) == 196
    source = real.set_index("code")
    for code in ("91228", "91182", "91001"):
        assert frame.loc[code, "nom_officiel"] == source.loc[code, "nom"]
        assert _same_area(frame.loc[code, "geometry"], source.loc[code, "geometry"])
    assert set(frame["code_insee_du_departement"]) == {"91"}  # from the code: no such column
    assert frame["population"].isna().all() and frame["merged_codes"].isna().all()


def test_admin_express_shapefile_in_a_delivery(catalog_store, settings, real, cog, tmp_path):
    """ADMIN EXPRESS 3 (upper-case names, Lambert-93): COMMUNE.shp picked among its neighbours."""
    current, members = cog
    folder = tmp_path / "ADMIN-EXPRESS_3-2__SHP_LAMB93_FXX" / "ADMIN-EXPRESS"
    folder.mkdir(parents=True)
    known = real[real["code"].isin(current)].reset_index(drop=True)
    commune = gpd.GeoDataFrame(
        {
            "ID": [f"COMMUNE_{i:016d}" for i in range(len(known))],
            "NOM": known["nom"],
            "NOM_M": known["nom"].str.upper(),
            "INSEE_COM": known["code"],
            "STATUT": "Commune simple",
            "POPULATION": [current[c]["population"] for c in known["code"]],
            "INSEE_CAN": "9999",
            "INSEE_ARR": "912",
            "INSEE_DEP": "91",
            "INSEE_REG": "11",
            "SIREN_EPCI": [members.get(c, "NR") for c in known["code"]],
        },
        geometry=known.geometry,
        crs=2154,
    )
    commune.to_file(folder / "COMMUNE.shp", engine="pyogrio")
    # The delivery's other layers must not be taken for the communes.
    commune.head(3).to_file(folder / "COMMUNE_ASSOCIEE_OU_DELEGUEE.shp", engine="pyogrio")
    points = commune.head(3).set_geometry(commune.head(3).representative_point())
    points.to_file(folder / "CHFLIEU_COMMUNE.shp", engine="pyogrio")
    commune.dissolve("SIREN_EPCI").reset_index()[["SIREN_EPCI", "geometry"]].to_file(
        folder / "EPCI.shp", engine="pyogrio"
    )
    frame = _stored(catalog_store, settings, tmp_path)
    # Courcouronnes (91182) and Estouches (91222) are no current communes: left out here.
    assert len(frame) == len(known) == 194
    for row in commune.itertuples():
        stored = frame.loc[row.INSEE_COM]
        assert (stored["nom_officiel"], stored["population"]) == (row.NOM, row.POPULATION)
        assert stored["codes_siren_des_epci"] == (
            None if row.SIREN_EPCI == "NR" else row.SIREN_EPCI
        )
        assert _same_area(stored["geometry"], row.geometry)
    assert frame.loc["91228", "codes_siren_des_epci"] == GPS


def test_admin_express_4_geopackage(catalog_store, settings, real, tmp_path) -> None:
    """ADMIN EXPRESS 4: lower-case BD TOPO names, the ``commune`` layer among several."""
    path = tmp_path / "ADMIN-EXPRESS-COG_4-0.gpkg"
    commune = gpd.GeoDataFrame(
        {
            "cleabs": [f"COMMUNE_{i:016d}" for i in range(len(real))],
            "code_insee": real["code"],
            "nom_officiel": real["nom"],
            "code_insee_du_departement": "91",
            "code_insee_de_la_region": "11",
            "codes_siren_des_epci": [
                f"{GPS}/200054781" if c == "91228" else "NR" for c in real["code"]
            ],
            "code_siren": "219100000",
            "population": range(len(real)),
        },
        geometry=real.geometry,
        crs=2154,
    )
    commune.to_file(path, layer="commune", engine="pyogrio")
    commune.dissolve("code_insee_du_departement")[["geometry"]].to_file(
        path, layer="departement", engine="pyogrio"
    )
    frame = _stored(catalog_store, settings, path)
    assert len(frame) == 196
    assert frame.loc["91228", "codes_siren_des_epci"] == f"{GPS}/200054781"
    assert pd.isna(frame.loc["91001", "codes_siren_des_epci"])  # NR: non renseigné
    expected = dict(zip(commune["code_insee"], commune["population"], strict=True))
    assert frame["population"].to_dict() == expected
    assert set(frame["code_insee_de_la_region"]) == {"11"}


def test_etalab_contours_with_the_decoupage_tables_in_an_archive(
    catalog_store, settings, real, cog, tmp_path
) -> None:
    """Etalab contours (lon/lat GeoJSON) zipped with the COG: former codes merged, COG names."""
    current, members = cog
    contours = gpd.GeoDataFrame(
        {
            "code": real["code"],
            "nom": real["nom"],
            "departement": "91",
            "region": "11",
            "epci": [members.get(c) for c in real["code"]],
        },
        geometry=real.geometry,
        crs=2154,
    ).to_crs(4326)
    contours.to_file(tmp_path / "communes-100m.geojson", driver="GeoJSON", engine="pyogrio")
    archive = tmp_path / "contours.zip"
    tables = require_real_data("decoupage-administratif-91")
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(tmp_path / "communes-100m.geojson", "contours/communes-100m.geojson")
        for table in sorted(tables.iterdir()):
            zf.write(table, f"decoupage/{table.name}")
    frame = _stored(catalog_store, settings, archive)
    _check_merged(frame, real, current, members)


def test_france_geojson_beside_the_decoupage_tables(catalog_store, settings, real, cog, tmp_path):
    """The real files as published, side by side in one directory."""
    for folder in ("communes-91", "decoupage-administratif-91"):
        for path in require_real_data(folder).iterdir():
            shutil.copy(path, tmp_path / path.name)
    report = ingest_path(catalog_store, "communes", tmp_path, settings=settings, progress=False)
    assert any("91182 → 91228" in note and "91222 → 91390" in note for note in report.notes)
    frame = catalog_store.frame("communes").set_index("code_insee")
    _check_merged(frame, real, *cog)


def _check_merged(frame, real, current, members) -> None:
    """194 communes named as the COG names them; Évry-Courcouronnes is both 2018 polygons."""
    assert sorted(frame.index) == sorted(current) and len(frame) == 194
    for code, entry in current.items():
        stored = frame.loc[code]
        assert stored["nom_officiel"] == entry["nom"]
        assert stored["population"] == entry["population"]
        assert stored["code_siren"] == entry["siren"]
        assert stored["codes_siren_des_epci"] == members.get(code)
    source = real.set_index("code").geometry
    for code, parts in (("91228", ["91228", "91182"]), ("91390", ["91390", "91222"])):
        assert frame.loc[code, "merged_codes"] == parts[1]
        union = shapely.union_all(source.loc[parts].to_numpy())
        assert _same_area(frame.loc[code, "geometry"], union)
        assert frame.loc[code, "geometry"].area > 1.01 * source.loc[code].area
    assert frame.loc["91228", "nom_officiel"] == "Évry-Courcouronnes"
    assert frame.loc["91228", "codes_siren_des_epci"] == GPS


def test_a_code_2026_column_merges_without_the_tables(catalog_store, settings) -> None:
    """The Grand Paris Sud file maps Courcouronnes to 91228 itself; no COG: no population."""
    path = require_real_data("epci-grand-paris-sud", "communes-grand-paris-sud-2018geom.geojson")
    source = gpd.read_file(path).to_crs(2154)
    frame = _stored(catalog_store, settings, path)
    assert sorted(frame.index) == sorted(set(source["code_2026"])) and len(frame) == 23
    assert set(frame["codes_siren_des_epci"]) == {GPS}
    evry = frame.loc["91228"]
    assert evry["merged_codes"] == "91182" and pd.isna(evry["population"])
    assert evry["nom_officiel"] == "Évry"  # the part that kept the code; the COG would rename it
    parts = source[source["code_2026"] == "91228"].geometry.to_numpy()
    assert _same_area(evry["geometry"], shapely.union_all(parts))


def test_bad_codes_are_rejected_and_files_chosen_with_a_reason(tmp_path, real) -> None:
    frame = real.head(3).copy()
    frame.loc[frame.index[1], "code"] = "Essonne"
    frame.to_file(tmp_path / "communes.geojson", driver="GeoJSON", engine="pyogrio")
    result = read_communes(tmp_path / "communes.geojson", ReadOptions())
    assert len(result.frame) == 2 and result.rows_read == 3
    assert [(r.row, r.reason) for r in result.rejected] == [
        ("2", "'Essonne' is not an INSEE commune code")
    ]
    frame.rename(columns={"code": "numero"}).to_file(tmp_path / "communes-b.geojson")
    with pytest.raises(InvalidInput, match="several commune files"):
        read_communes(tmp_path, ReadOptions())
    with pytest.raises(InvalidInput, match="no INSEE code column"):
        read_communes(tmp_path / "communes-b.geojson", ReadOptions())


def test_the_communes_outline_is_the_territory_of_other_ingests(
    catalog_store, settings, real, tmp_path
) -> None:
    """Once communes are stored, a parcel 20 km away from them is refused; communes never are."""
    grand_paris_sud = require_real_data("epci-grand-paris-sud")
    ingest_path(catalog_store, "communes", grand_paris_sud, settings=settings, progress=False)
    far = real.set_index("code").loc["91200"].geometry  # Dourdan, in Essonne's south-west
    near = real.set_index("code").loc["91228"].geometry
    parcels = gpd.GeoDataFrame(
        {"id": ["91228000AB0001", "91200000AB0001"], "contenance": [100, 100]},
        geometry=[near.representative_point().buffer(5), far.representative_point().buffer(5)],
        crs=2154,
    ).to_crs(4326)
    parcels.to_file(tmp_path / "parcelles.geojson", driver="GeoJSON", engine="pyogrio")
    with pytest.raises(ValidationFailed) as refused:  # half the rows rejected: over the ratio
        ingest_path(
            catalog_store,
            "parcels",
            tmp_path / "parcelles.geojson",
            settings=settings,
            progress=False,
        )
    assert "outside the territory (the communes collection's outline and 1 km around it)" in str(
        refused.value.errors
    )
    # The communes themselves are checked against the box alone: the territory may grow.
    whole = require_real_data("communes-91", "communes-91-essonne.geojson")
    report = ingest_path(catalog_store, "communes", whole, settings=settings, progress=False)
    assert report.kept == 196 and report.rejected == []
