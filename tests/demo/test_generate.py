"""The generated files: deterministic, consistent between layers, in the national formats."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely

from atlas.demo import parks
from atlas.demo.build import generate
from atlas.demo.formats import luhn_valid
from tests.demo.conftest import SMALL

PARCEL_ID = re.compile(r"^\d{8}[0-9A-Z]{2}\d{4}$")


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)


def test_same_seed_same_bytes(small_demo: dict[str, Path], tmp_path: Path) -> None:
    again = generate(tmp_path, scale=SMALL)
    assert again.keys() == small_demo.keys()
    for key, path in small_demo.items():
        assert again[key].read_bytes() == path.read_bytes(), key


def test_other_seed_other_territory(small_demo: dict[str, Path], tmp_path: Path) -> None:
    other = generate(tmp_path, seed=7, scale=SMALL)
    assert other["parcels"].read_bytes() != small_demo["parcels"].read_bytes()


def test_parcel_ids_are_pci_references(small_demo: dict[str, Path]) -> None:
    data = json.loads(small_demo["parcels"].read_text(encoding="utf-8"))
    ids = [f["id"] for f in data["features"]]
    assert len(ids) == len(set(ids))
    assert all(PARCEL_ID.match(i) for i in ids)
    first = data["features"][0]["properties"]
    # The Etalab fields, plus the owner the atlas joins from the fichiers fonciers (MAJIC).
    assert set(first) == {
        "id", "commune", "prefixe", "section", "numero", "contenance", "arpente", "created", "updated",
        "proprietaire",
    }  # fmt: skip
    assert first["id"] == (
        first["commune"] + first["prefixe"] + first["section"].rjust(2, "0")
        + first["numero"].rjust(4, "0")
    )  # fmt: skip


def test_contenance_is_the_drawn_area(small_demo: dict[str, Path]) -> None:
    frame = gpd.read_file(small_demo["parcels"]).to_crs(2154)
    ratio = frame["contenance"] / frame.geometry.area
    assert ratio.between(0.97, 1.03).all()


def test_plots_are_whole_parcels(small_demo: dict[str, Path]) -> None:
    parcels = gpd.read_file(small_demo["parcels"]).to_crs(2154).set_index("id")
    plots = _csv(small_demo["activity-plots"])
    for refcad, text in zip(plots["terr_refcad"], plots["terr_geomsurf"], strict=True):
        ids = refcad.split("|")
        assert set(ids) <= set(parcels.index)
        union = shapely.union_all(parcels.loc[ids].geometry.values)
        plot = shapely.from_geojson(text)
        assert abs(union.area - plot.area) / plot.area < 0.01


def test_establishments_stand_in_their_plots(small_demo: dict[str, Path]) -> None:
    plots = _csv(small_demo["activity-plots"]).set_index("terr_id")
    etabs = _csv(small_demo["establishments"])
    assert len(etabs) > 0
    for row in etabs.itertuples():
        point = shapely.from_geojson(row.etab_geompoint)
        plot = shapely.from_geojson(plots.loc[row.terr_id, "terr_geomsurf"])
        assert point.geom_type == "MultiPoint"
        assert plot.buffer(0.01).contains(point)
    assert all(luhn_valid(s) and len(s) == 9 for s in etabs["SIREN"])
    assert all(luhn_valid(s) and len(s) == 14 for s in etabs["SIRET"])
    assert (etabs["SIRET"].str[:9] == etabs["SIREN"]).all()
    assert etabs["SIRET"].is_unique


def test_cnig_values_are_in_the_code_lists(small_demo: dict[str, Path]) -> None:
    from atlas.layers import cnig

    sites = _csv(small_demo["activity-sites"])
    plots = _csv(small_demo["activity-plots"])
    etabs = _csv(small_demo["establishments"])
    checks = [
        (sites, "site_type", cnig.SITE_TYPE), (sites, "site_vocadomi", cnig.SITE_VOCADOMI),
        (sites, "site_etat", cnig.SITE_ETAT), (sites, "site_moa_type", cnig.SITE_MOA_TYPE),
        (plots, "terr_etat_occup", cnig.TERR_ETAT_OCCUP),
        (plots, "terr_stade_comm", cnig.TERR_STADE_COMM),
        (plots, "terr_stade_amngt", cnig.TERR_STADE_AMNGT),
        (plots, "terr_maitrise_fonc", cnig.TERR_MAITRISE_FONC),
        (plots, "terr_usage", cnig.TERR_USAGE),
        (etabs, "geocodage_qualite", cnig.GEOCODAGE_QUALITE),
    ]  # fmt: skip
    for frame, column, allowed in checks:
        assert set(frame[column]) <= set(allowed), column
    assert list(sites.columns) == [f.name for f in cnig.SITE_ECO.fields]
    assert list(plots.columns) == [f.name for f in cnig.TERRAIN_ECO.fields]
    # The CNIG fields in order, then the SIRENE diffusion status the tier policy reads.
    assert list(etabs.columns) == cnig.ETABLISSEMENT.field_names
    assert list(etabs.columns)[-1] == "statutDiffusionEtablissement"


def test_only_the_stale_sites_disagree(small_demo: dict[str, Path]) -> None:
    from atlas.layers.activity_sites import compare_vacancy

    sites = _csv(small_demo["activity-sites"])
    plots = _csv(small_demo["activity-plots"])
    differ = compare_vacancy(sites, plots)
    names = set(sites.set_index("site_id").loc[differ["site_id"], "site_nom"])
    assert names <= set(parks.STALE_SITES)


def test_water_gpkg_has_the_star_eau_tables(small_demo: dict[str, Path]) -> None:
    names = {name for name, _ in pyogrio.list_layers(small_demo["water-pipes"])}
    assert {"aep_canalisation", "aep_reservoir", "aep_vanne", "aep_pompage"} <= names
    pipes = pyogrio.read_dataframe(small_demo["water-pipes"], layer="aep_canalisation")
    assert pipes.crs.to_epsg() == 2154
    assert pipes["diametre_equivalent"].between(60, 600).all()
    assert set(pipes["materiau"]) <= {"fd", "fg", "pvc", "pehd", "acier", "amci"}
    assert set(pipes["precision_xy"]) <= {"A", "B", "C"}
    grey = pipes[pipes["materiau"] == "fg"]
    assert (grey["an_pose_sup"] < 1970).all()
    assert (pipes.loc[pipes["materiau"] == "pehd", "an_pose_sup"] >= 1995).all()


def test_dem_is_plausible(small_demo: dict[str, Path]) -> None:
    with rasterio.open(small_demo["elevation"]) as dem:
        assert dem.crs.to_epsg() == 2154
        assert dem.res == (25.0, 25.0)
        assert dem.nodata == -9999
        values = dem.read(1, masked=True).compressed()
    assert 28 < values.min() < 40  # the Seine's floor
    assert 80 < np.percentile(values, 90) < 100  # the plateaux


def test_bpe_and_merimee_formats(small_demo: dict[str, Path]) -> None:
    bpe = _csv(small_demo["services"])
    assert list(bpe.columns) == [
        "DEPCOM",
        "DCIRIS",
        "AN",
        "TYPEQU",
        "LAMBERT_X",
        "LAMBERT_Y",
        "QUALITE_XY",
    ]
    assert bpe["TYPEQU"].str.match(r"^[A-G]\d{3}$").all()
    monuments = json.loads(small_demo["heritage-monuments"].read_text(encoding="utf-8"))
    references = [f["properties"]["Reference"] for f in monuments["features"]]
    assert all(re.match(r"^PA\d{8}$", r) for r in references)
    assert len(set(references)) == len(references)


@pytest.mark.slow
def test_full_scale_counts(full_demo: tuple[dict[str, Path], float]) -> None:
    files, seconds = full_demo
    assert seconds < 40, f"generation took {seconds:.0f} s"
    parcels = json.loads(files["parcels"].read_text(encoding="utf-8"))["features"]
    assert 36_000 <= len(parcels) <= 46_000
    sites, plots = _csv(files["activity-sites"]), _csv(files["activity-plots"])
    assert len(sites) == len(parks.SITES)
    assert 400 <= len(plots) <= 900
    rates = sites["site_taux_vacance"].astype(float)
    assert rates.min() == 0 and 25 <= rates.max() <= 35
    assert 400 <= len(_csv(files["establishments"])) <= 1200
    pipes = pyogrio.read_dataframe(files["water-pipes"], layer="aep_canalisation")
    assert 900_000 <= pipes.geometry.length.sum() <= 1_100_000
    structures = sum(
        pyogrio.read_info(files["water-pipes"], layer=name)["features"]
        for name, _ in pyogrio.list_layers(files["water-pipes"]) if name != "aep_canalisation"
    )  # fmt: skip
    assert 200 <= structures <= 500
    assert 70 <= len(json.loads(files["heritage-monuments"].read_text())["features"]) <= 90
    assert 2_700 <= len(_csv(files["services"])) <= 3_300


@pytest.mark.slow
def test_full_scale_stale_sites_are_found(full_demo: tuple[dict[str, Path], float]) -> None:
    from atlas.layers.activity_sites import compare_vacancy

    files, _ = full_demo
    sites = _csv(files["activity-sites"])
    differ = compare_vacancy(sites, _csv(files["activity-plots"]))
    names = set(sites.set_index("site_id").loc[differ["site_id"], "site_nom"])
    assert names == set(parks.STALE_SITES)


def test_small_scales_generate_valid_parcels(tmp_path: Path) -> None:
    """At scale 0.05 a parcel folded when reprojected to lon/lat and GEOS refused to snap it."""
    files = generate(tmp_path, scale=0.05)
    frame = gpd.read_file(files["parcels"])
    assert len(frame) > 1000 and frame.geometry.is_valid.all()


def test_communes_are_an_admin_express_4_geopackage(small_demo: dict[str, Path]) -> None:
    """The territory's 23 communes under ADMIN EXPRESS 4's names; a partition of the territory."""
    from atlas.demo.territory import COMMUNES, EPCI_SIREN, build_territory

    path = small_demo["communes"]
    assert [name for name, _ in pyogrio.list_layers(path)] == ["commune"]
    frame = pyogrio.read_dataframe(path)
    assert pyogrio.read_info(path)["geometry_name"] == "geometrie" and frame.crs.to_epsg() == 2154
    facts = {code: (name, population) for code, name, population, *_ in COMMUNES}
    assert {
        row.code_insee: (row.nom_officiel, row.population) for row in frame.itertuples()
    } == facts
    assert set(frame["codes_siren_des_epci"]) == {EPCI_SIREN}
    assert set(frame["code_insee_du_departement"]) == {"77", "91"}
    territory = build_territory()
    union = shapely.union_all(frame.geometry.to_numpy())
    assert abs(union.area - sum(c.geometry.area for c in territory.communes)) < 1.0
    assert not shapely.overlaps(frame.geometry.to_numpy()[:, None], frame.geometry.to_numpy()).any()
