"""Drinking-water network: StaR-Eau GeoPackage and RAEPA 1.2 shapefiles into one schema."""

from __future__ import annotations

import csv
import shutil
import zipfile

import geopandas as gpd
import pyogrio
import pytest
import shapely

from atlas.errors import ValidationFailed
from atlas.layers import star_eau as se
from atlas.layers.base import Classification, ReadOptions
from atlas.layers.conform import conform
from atlas.layers.io import unpacked
from atlas.layers.water_pipes import LAYER as PIPES
from atlas.layers.water_pipes import read_water_pipes
from atlas.layers.water_structures import LAYER as STRUCTURES
from atlas.layers.water_structures import read_water_structures
from tests.helpers import require_real_data

STAR_EAU = "star-eau-aep"
TEMPLATE = "eau_potable_no_style.gpkg"
X, Y = 650_000.0, 6_860_000.0  # Lambert-93, Évry


def _line(i):
    return shapely.LineString([(X + 100 * i, Y), (X + 100 * i + 80, Y + 30)])


@pytest.fixture
def star_eau_gpkg(tmp_path):
    """A copy of the real StaR-Eau template with three pipes, a reservoir and a valve."""
    template = require_real_data(STAR_EAU, TEMPLATE)
    path = tmp_path / "reseau.gpkg"
    shutil.copyfile(template, path)
    pipes = gpd.GeoDataFrame(
        {
            "id_canalisation": [1, 2, 3],
            "id_aep_canalisation": ["C-001", "C-002", "C-003"],
            "materiau": ["fd", "pehd", "pvc"],
            "diametre_equivalent": [150, 63, 110],
            "an_pose_inf": [1975, 2001, 1990],
            "an_pose_sup": [1980, 2001, 1995],
            "precision_xy": ["A", "B", "c"],
            "mode_circulation": ["refoulement", "gravitaire", None],
            "fonction_canalisation": ["transport", "distribution", "distribution"],
            "contenu_canalisation": ["eau_potable", "eau_potable", "eau_potable"],
            "etat_service": ["en_service", "en_service", "abandon"],
            "insee_commune": ["91228", "91228", "91174"],
            "maitre_ouvrage": ["GPS", "GPS", "GPS"],
            "exploitant": ["Régie", "Régie", "Régie"],
        },
        geometry=[_line(i) for i in range(3)],
        crs="EPSG:2154",
    )
    pyogrio.write_dataframe(pipes, path, layer="aep_canalisation", append=True)
    reservoir = gpd.GeoDataFrame(
        {
            "id_noeud_reseau": [10],
            "id_aep_reservoir": ["R-1"],
            "nom_usuel": ["Château d'eau"],
            "type_reservoir": ["tour"],
        },
        geometry=[shapely.Point(X, Y + 500)],
        crs="EPSG:2154",
    )
    pyogrio.write_dataframe(reservoir, path, layer="aep_reservoir", append=True)
    valve = gpd.GeoDataFrame(
        {"id_noeud_reseau": [11], "type_vanne": ["papillon"], "diametre": [150.0]},
        geometry=[shapely.Point(X + 50, Y + 10)],
        crs="EPSG:2154",
    )
    pyogrio.write_dataframe(valve, path, layer="aep_vanne", append=True)
    return path


def _raepa_zip(tmp_path, pipes, structures=None):
    folder = tmp_path / "raepa"
    folder.mkdir()
    pipes.to_file(folder / "RAEPA_CANALAEP_L.shp")
    if structures is not None:
        structures.to_file(folder / "RAEPA_APPARAEP_P.shp")
    archive = tmp_path / "raepa.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for file in folder.iterdir():
            out.write(file, file.name)
    return archive


def _raepa_pipes(materials=("11", "18", "27"), branchement=("N", "N", "N")):
    n = len(materials)
    return gpd.GeoDataFrame(
        {
            "IDCANA": [f"R{i}" for i in range(n)],
            "MOUVRAGE": ["GPS"] * n,
            "GEXPLOIT": ["Régie"] * n,
            "ENSERVICE": ["O"] * (n - 1) + ["N"],
            "BRANCHEMNT": list(branchement),
            "MATERIAU": list(materials),
            "DIAMETRE": [150, 63, 110][:n],
            "ANFINPOSE": ["1980", "2001", "1995"][:n],
            "ANDEBPOSE": ["1975", "2001", "1990"][:n],
            "MODECIRC": ["02", "01", "00"][:n],
            "CONTCANAEP": ["02", "02-00", "01"][:n],
            "FONCCANAEP": ["01", "02", "02"][:n],
            "QUALGLOCXY": ["01", "02", "03"][:n],
        },
        geometry=[_line(i) for i in range(n)],
        crs="EPSG:2154",
    )


# --- the code lists are the standard's ---------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(se.STAR_EAU_LISTS))
def test_code_lists_match_the_star_eau_csv(name):
    path = require_real_data(STAR_EAU, "listes_valeurs", f"{name}.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        rows = {row[0]: row[1] for row in csv.reader(fh) if row}
    assert se.STAR_EAU_LISTS[name] == rows


@pytest.mark.realdata
def test_raepa_mappings_land_in_star_eau_lists():
    assert set(se.RAEPA_MATERIAU) == {f"{i:02d}" for i in range(29)} | {"99"}
    assert set(se.RAEPA_MATERIAU.values()) <= set(se.COM_MATERIAU)
    assert set(se.RAEPA_CONTCANAEP.values()) <= set(se.AEP_CONTENU_CANALISATION)
    assert set(se.RAEPA_FONCCANAEP.values()) <= set(se.AEP_FONCTION_CANALISATION)
    assert set(se.RAEPA_MODECIRC.values()) <= set(se.COM_MODE_CIRCULATION)
    assert set(se.RAEPA_ENSERVICE.values()) <= set(se.COM_ETAT_SERVICE)
    for table in (se.RAEPA_FNOUVAEP, se.RAEPA_FNAPPAEP):
        for kind, subtype, _ in table.values():
            assert kind in se.STRUCTURE_TYPES
            if subtype is not None and kind in se.STRUCTURE_LAYERS:
                assert subtype in se.STRUCTURE_LAYERS[kind][2]
    for extended, table in (
        (se.EXTENDED_CONTCANAEP, se.RAEPA_CONTCANAEP),
        (se.EXTENDED_FNOUVAEP, se.RAEPA_FNOUVAEP),
        (se.EXTENDED_FNAPPAEP, se.RAEPA_FNAPPAEP),
    ):
        assert set(extended.values()) <= set(table)


def test_every_water_field_and_geometry_is_sensitive():
    for layer in (PIPES, STRUCTURES):
        assert layer.geometry_classification is Classification.SENSITIVE
        assert all(f.classification is Classification.SENSITIVE for f in layer.fields)


# --- StaR-Eau GeoPackage -----------------------------------------------------------------------


@pytest.mark.realdata
def test_real_template_layers_are_recognised_and_empty_is_refused():
    template = require_real_data(STAR_EAU, TEMPLATE)
    layers = se.gpkg_layers(template)
    assert "aep_canalisation" in layers
    assert all(layer in layers for layer, _, _ in se.STRUCTURE_LAYERS.values())
    fields = pyogrio.read_info(template, layer="aep_canalisation")["fields"]
    assert "diametre_equivalent" in fields and "diametre" not in fields
    assert se.model_of(list(fields)) == se.STAR_EAU
    with pytest.raises(ValidationFailed, match="aep_canalisation.*no features"):
        read_water_pipes(template, ReadOptions())
    with pytest.raises(ValidationFailed, match="no features"):
        read_water_structures(template, ReadOptions())


@pytest.mark.realdata
def test_star_eau_pipes(star_eau_gpkg):
    frame, report = conform(read_water_pipes(star_eau_gpkg, ReadOptions()), PIPES, source="x")
    assert report.kept == 3 and not report.rejected
    row = frame.set_index("id_canalisation").loc["1"]
    assert row["materiau"] == "fd" and row["materiau_libelle"] == "Fonte Ductile"
    assert row["diametre_equivalent"] == 150
    assert (row["an_pose_inf"], row["an_pose_sup"]) == (1975, 1980)
    assert list(frame["precision_xy"]) == ["A", "B", "C"]
    assert set(frame["source_modele"]) == {"StaR-Eau"}
    assert set(frame.geom_type) == {"MultiLineString"} and frame.crs.to_epsg() == 2154


@pytest.mark.realdata
def test_star_eau_bad_material_is_rejected_with_its_row(star_eau_gpkg):
    bad = gpd.GeoDataFrame(
        {"id_canalisation": [4], "materiau": ["unobtainium"]},
        geometry=[_line(4)],
        crs="EPSG:2154",
    )
    pyogrio.write_dataframe(bad, star_eau_gpkg, layer="aep_canalisation", append=True)
    frame, report = conform(read_water_pipes(star_eau_gpkg, ReadOptions()), PIPES, source="x")
    assert report.kept == 3
    [rejection] = report.rejected
    assert rejection.row == "4 (4)"
    assert "materiau" in rejection.reason and "code list" in rejection.reason


@pytest.mark.realdata
def test_star_eau_structures_from_every_class(star_eau_gpkg):
    frame, report = conform(
        read_water_structures(star_eau_gpkg, ReadOptions()), STRUCTURES, source="x"
    )
    assert report.kept == 2 and not report.rejected
    by_id = frame.set_index("id_ouvrage")
    assert by_id.loc["R-1", "type_ouvrage"] == "reservoir"
    assert by_id.loc["R-1", "type_libelle"] == "sur tour"
    assert by_id.loc["aep_vanne-11", "sous_type"] == "papillon"
    assert by_id.loc["aep_vanne-11", "diametre"] == 150.0
    only = read_water_structures(star_eau_gpkg, ReadOptions(layer="aep_vanne"))
    assert list(only.frame["type_ouvrage"]) == ["vanne"]


@pytest.mark.realdata
def test_star_eau_structure_with_unknown_subtype_is_rejected(star_eau_gpkg):
    bad = gpd.GeoDataFrame(
        {"id_noeud_reseau": [12], "type_vanne": ["teleporteur"]},
        geometry=[shapely.Point(X, Y)],
        crs="EPSG:2154",
    )
    pyogrio.write_dataframe(bad, star_eau_gpkg, layer="aep_vanne", append=True)
    result = read_water_structures(star_eau_gpkg, ReadOptions())
    [rejection] = result.rejected
    assert rejection.row == "aep_vanne:2 (aep_vanne-12)"
    assert "type_vanne" in rejection.reason


# --- RAEPA 1.2 shapefiles ----------------------------------------------------------------------


def test_raepa_zip_maps_to_the_same_schema_values(tmp_path):
    archive = _raepa_zip(tmp_path, _raepa_pipes())
    with unpacked(archive) as directory:
        frame, report = conform(read_water_pipes(directory, ReadOptions()), PIPES, source="z")
    assert report.kept == 3 and not report.rejected
    by_id = frame.set_index("id_canalisation")
    assert list(by_id["materiau"]) == ["fd", "pehd", "pvc"]
    assert by_id.loc["R0", "materiau_libelle"] == "Fonte Ductile"
    assert list(by_id["precision_xy"]) == ["A", "B", "C"]
    assert list(by_id["mode_circulation"]) == ["refoulement", "gravitaire", "non_determine"]
    assert list(by_id["contenu_canalisation"]) == ["eau_potable", "eau_potable", "eau_brute"]
    assert list(by_id["fonction_canalisation"]) == ["transport", "distribution", "distribution"]
    assert list(by_id["etat_service"]) == ["en_service", "en_service", "abandon"]
    assert list(by_id["diametre_equivalent"]) == [150, 63, 110]
    assert (by_id.loc["R0", "an_pose_inf"], by_id.loc["R0", "an_pose_sup"]) == (1975, 1980)
    assert set(by_id["source_modele"]) == {"RAEPA"} and frame.crs.to_epsg() == 2154


def test_raepa_bad_material_code_is_rejected_with_its_row(tmp_path):
    archive = _raepa_zip(tmp_path, _raepa_pipes(materials=("11", "42", "27")))
    with unpacked(archive) as directory:
        result = read_water_pipes(directory, ReadOptions())
    frame, report = conform(result, PIPES, source="z")
    assert report.kept == 2
    [rejection] = report.rejected
    assert rejection.row == "2 (R1)"
    assert "MATERIAU" in rejection.reason and "'42'" in rejection.reason


def test_raepa_service_pipes_are_skipped_with_a_note(tmp_path):
    archive = _raepa_zip(tmp_path, _raepa_pipes(branchement=("N", "O", "N")))
    with unpacked(archive) as directory:
        result = read_water_pipes(directory, ReadOptions())
    assert list(result.frame["id_canalisation"]) == ["R0", "R2"]
    assert result.rows_read == 3 and "BRANCHEMNT" in result.notes[0]


def test_raepa_fittings(tmp_path):
    fittings = gpd.GeoDataFrame(
        {
            "IDAPPAREIL": ["A1", "A2", "A3", "A4"],
            "FNAPPAEP": ["03", "06", "07-02", "77"],
            "DIAMETRE": [100, 80, 40, 60],
            "QUALGLOCXY": ["01", "03", "02", "02"],
        },
        geometry=[shapely.Point(X + i, Y) for i in range(4)],
        crs="EPSG:2154",
    )
    archive = _raepa_zip(tmp_path, _raepa_pipes(), fittings)
    with unpacked(archive) as directory:
        frame, report = conform(
            read_water_structures(directory, ReadOptions()), STRUCTURES, source="z"
        )
    by_id = frame.set_index("id_ouvrage")
    assert by_id.loc["A1", "type_ouvrage"] == "vanne"
    assert (by_id.loc["A2", "type_ouvrage"], by_id.loc["A2", "type_libelle"]) == (
        "appareillage",
        "Hydrant",
    )
    assert (by_id.loc["A3", "type_ouvrage"], by_id.loc["A3", "sous_type"]) == (
        "point_mesure",
        "debit",
    )
    [rejection] = report.rejected
    assert rejection.row.endswith("4 (A4)") and "FNAPPAEP" in rejection.reason
