"""CNIG readers: the real example CSVs, row rejections, CRS of GeoJSON text, GeoJSON and GPKG."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPoint, Polygon, box, mapping

from atlas.errors import CRSMismatch, InvalidInput, ValidationFailed
from atlas.layers import activity_plots, activity_sites, establishments
from atlas.layers.base import ReadOptions
from atlas.layers.cnig import TERRAIN_ECO
from atlas.layers.conform import conform
from tests.helpers import require_real_data

REAL = "cnig-sites-economiques"
TO_L93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
TO_LONLAT = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)

# One valid TERRAIN-ECO row, Évry-Courcouronnes (91228), as the CSV exchange format writes it.
PLOT = {
    "terr_id": "91228_TERRAIN-ECO_00001",
    "site_id": "91228_SITE-ECO_00001",
    "terr_refcad": "91228000AB0012|91228000AB0013",
    "terr_surf_brute": "1.2",
    "terr_utile": "oui",
    "terr_identif_date": "2024-01-15",
    "terr_actu_date": "2025-03-01",
    "terr_maitrise_fonc": "structure intercommunale",
    "terr_stade_amngt": "viabilisé et aménagé",
    "terr_stade_comm": "en vente",
    "terr_etat_occup": "inoccupé",
    "terr_usage": "autre",
    "terr_url_cartofriches": "",
    "terr_geomsurf": "",
    "terr_cle_en_main": "oui",
    "terr_acquereur": "",
    "terr_cession_date": "",
    "terr_vente_montant": "",
    "terr_m2_prix": "85",
}
L93_SQUARE = box(657000, 6838000, 657100, 6838100)


def _plot(index: int, geometry: Polygon | None = None, **changes: str) -> dict[str, str]:
    """Plot number ``index``: its own square 200 m east of the previous one, unless given."""
    if geometry is None:
        geometry = shapely.affinity.translate(L93_SQUARE, xoff=200 * index)
    row = dict(PLOT, terr_id=f"91228_TERRAIN-ECO_{index:05d}")
    row["terr_geomsurf"] = json.dumps(mapping(geometry))
    row.update(changes)
    return row


def _write_csv(path, rows: list[dict[str, str]], header: list[str] | None = None):
    header = header or list(PLOT)
    lines = [";".join(header)]
    for row in rows:
        lines.append(";".join(_quoted(row.get(name, "")) for name in header))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ';"\n') else value


# --- the CNIG's own examples -------------------------------------------------------------------


@pytest.mark.realdata
def test_example_site_reads_in_lambert93_with_notes():
    path = require_real_data(REAL, "exemple-valide-site-eco.csv")
    result = activity_sites.read_activity_sites(path, ReadOptions())
    frame, report = conform(result, activity_sites.LAYER, source=path.name)
    assert report.kept == 1 and not report.rejected
    assert frame.crs.to_epsg() == 2154
    geom = frame.geometry.iloc[0]
    assert geom.geom_type == "MultiPolygon"  # CNIG's Polygon promoted by conform
    coords = list(geom.geoms[0].exterior.coords)
    assert coords[0] == (656589.70, 6425785.32)  # the text's numbers, not reprojected
    assert (656589.707, 6425785.32) in coords
    notes = " | ".join(report.notes)
    assert "Lambert-93 envelope" in notes and "inferred" in notes
    assert "site_etat" in notes and "'logistique'" in notes  # outside the list, kept
    row = frame.iloc[0]
    assert row["site_moa_type"] == "epci"  # 'EPCI' folded onto the published code
    assert row["site_taux_vacance"] == 13
    assert row["site_creation_date"] == dt.date(2015, 1, 1)
    assert "site_geompoint" not in frame.columns


@pytest.mark.realdata
def test_example_plot_ring_is_closed_and_reported():
    path = require_real_data(REAL, "exemple-valide-terrain-eco.csv")
    result = activity_plots.read_activity_plots(path, ReadOptions())
    frame, report = conform(result, activity_plots.LAYER, source=path.name)
    assert report.kept == 1 and not report.rejected and not report.repaired
    # The last position (656589.707) is 7 mm from the first (656589.70): the reader closes the
    # ring by repeating the first position and says so; the polygon is then valid as is.
    assert any("not closed" in n and "rows 1" in n for n in report.notes)
    ring = list(frame.geometry.iloc[0].exterior.coords)
    assert ring[0] == ring[-1] == (656589.70, 6425785.32)
    assert ring[-2] == (656589.707, 6425785.32)
    assert frame.geometry.iloc[0].is_valid
    row = frame.iloc[0]
    assert row["terr_refcad"] == "80024000ZO0030|80024000ZO0034|80024000ZO0035"
    assert row["terr_vente_montant"] == 530000
    assert row["terr_cession_date"] == dt.date(2021, 4, 22)


@pytest.mark.realdata
def test_example_establishment_multipoint_lonlat_is_reprojected():
    path = require_real_data(REAL, "exemple-valide-etablissement.csv")
    result = establishments.read_establishments(path, ReadOptions())
    assert result.frame.crs.to_epsg() == 4326
    frame, report = conform(result, establishments.LAYER, source=path.name)
    assert report.kept == 1 and not report.rejected
    geom = frame.geometry.iloc[0]
    assert geom.geom_type == "MultiPoint" and len(geom.geoms) == 2
    x, y = TO_L93.transform(2.3626, 51.0934)
    assert geom.geoms[0].x == pytest.approx(x, abs=0.01)
    assert geom.geoms[0].y == pytest.approx(y, abs=0.01)
    row = frame.iloc[0]
    assert row["SIRET"] == "34749951900010"
    assert row["geocodage_qualite"] == "localisation au bâtiment"  # case folded
    assert row["etab_adresse"] == "Route de Villers-Bocage; 80470 Saint-Sauveur"


# --- rejections ---------------------------------------------------------------------------------


def test_bad_values_are_rejected_with_row_and_field(tmp_path):
    rows = [
        _plot(1),
        _plot(2, terr_utile="peut-être"),
        _plot(3, terr_identif_date="2024-02-30"),
        _plot(4, terr_refcad="91228000AB0012|AB12"),
        _plot(5, terr_surf_brute=""),
        _plot(6, terr_url_cartofriches="cartofriches"),
        _plot(7, terr_id="91228_TERRAIN-ECO_00001"),  # the id again
        _plot(8, terr_geomsurf='{"type": "Polygon"}'),
        _plot(9, terr_utile="Oui", terr_etat_occup="Vacant"),  # spelling only: kept
    ]
    path = _write_csv(tmp_path / "terrains.csv", rows)
    result = activity_plots.read_activity_plots(path, ReadOptions())
    reasons = {r.row: r.reason for r in result.rejected}
    assert (
        reasons["2 (91228_TERRAIN-ECO_00002)"] == "terr_utile: 'peut-être' is not one of oui, non"
    )
    assert "terr_identif_date: '2024-02-30' is not a date" in reasons["3 (91228_TERRAIN-ECO_00003)"]
    assert (
        "terr_refcad: '91228000AB0012|AB12' is not 14-character parcel ids"
        in reasons["4 (91228_TERRAIN-ECO_00004)"]
    )
    assert reasons["5 (91228_TERRAIN-ECO_00005)"] == "terr_surf_brute is required but empty"
    assert "terr_url_cartofriches" in reasons["6 (91228_TERRAIN-ECO_00006)"]
    assert "terr_id appears more than once" in reasons["7 (91228_TERRAIN-ECO_00001)"]
    assert (
        reasons["8 (91228_TERRAIN-ECO_00008)"]
        == "terr_geomsurf: GeoJSON Polygon without coordinates"
    )
    assert len(result.rejected) == 7
    frame, report = conform(result, activity_plots.LAYER, source=path.name)
    assert report.rows_read == 9 and report.kept == 2
    kept = frame.set_index("terr_id")
    assert kept.loc["91228_TERRAIN-ECO_00009", "terr_utile"] == "oui"
    assert kept.loc["91228_TERRAIN-ECO_00009", "terr_etat_occup"] == "vacant"


def test_row_with_a_stray_separator_is_rejected(tmp_path):
    path = _write_csv(tmp_path / "terrains.csv", [_plot(1), _plot(2)])
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(";autre;", ";autre;extra;")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = activity_plots.read_activity_plots(path, ReadOptions())
    assert len(result.frame) == 1
    assert "the row has 20 values, the header 19" in result.rejected[0].reason


def test_missing_required_column_fails_the_file(tmp_path):
    header = [h for h in PLOT if h != "terr_stade_comm"]
    path = _write_csv(tmp_path / "terrains.csv", [_plot(1)], header=header)
    with pytest.raises(
        ValidationFailed, match="required fields missing from the header: terr_stade_comm"
    ):
        activity_plots.read_activity_plots(path, ReadOptions())


def test_missing_geometry_column_fails_the_file(tmp_path):
    header = [h for h in PLOT if h != "terr_geomsurf"]
    path = _write_csv(tmp_path / "terrains.csv", [_plot(1)], header=header)
    with pytest.raises(ValidationFailed, match="terr_geomsurf"):
        activity_plots.read_activity_plots(path, ReadOptions())


def test_unknown_columns_are_dropped_with_a_note(tmp_path):
    header = [*PLOT, "commentaire_interne"]
    rows = [dict(_plot(1), commentaire_interne="à revoir")]
    path = _write_csv(tmp_path / "terrains.csv", rows, header=header)
    result = activity_plots.read_activity_plots(path, ReadOptions())
    assert "commentaire_interne" not in result.frame.columns
    assert any("commentaire_interne" in n for n in result.notes)


def test_optional_columns_may_be_absent(tmp_path):
    header = [f.name for f in TERRAIN_ECO.fields if f.required]
    path = _write_csv(tmp_path / "terrains.csv", [_plot(1)], header=header)
    frame, report = conform(
        activity_plots.read_activity_plots(path, ReadOptions()), activity_plots.LAYER, source="x"
    )
    assert report.kept == 1
    assert frame["terr_m2_prix"].isna().all()


# --- the CRS of GeoJSON text --------------------------------------------------------------------


def _lonlat(geom):
    def to_lonlat(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(TO_LONLAT.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(geom, to_lonlat)


def test_lonlat_text_is_epsg4326_without_note(tmp_path):
    squares = [shapely.affinity.translate(L93_SQUARE, xoff=200 * i) for i in (1, 2)]
    rows = [_plot(i, geometry=_lonlat(sq)) for i, sq in zip((1, 2), squares, strict=True)]
    path = _write_csv(tmp_path / "terrains.csv", rows)
    result = activity_plots.read_activity_plots(path, ReadOptions())
    assert result.frame.crs.to_epsg() == 4326
    assert not any("Lambert-93" in n for n in result.notes)
    frame, _ = conform(result, activity_plots.LAYER, source="x")
    for got, want in zip(frame.geometry, squares, strict=True):
        assert got.equals_exact(want, tolerance=0.01)


def test_given_crs_wins_and_adds_no_note(tmp_path):
    path = _write_csv(tmp_path / "terrains.csv", [_plot(1)])
    result = activity_plots.read_activity_plots(path, ReadOptions(crs="EPSG:2154"))
    assert result.frame.crs.to_epsg() == 2154
    assert not any("inferred" in n for n in result.notes)


def test_mixed_or_foreign_coordinates_ask_for_crs(tmp_path):
    mixed = [_plot(1), _plot(2, geometry=_lonlat(L93_SQUARE))]
    path = _write_csv(tmp_path / "mixed.csv", mixed)
    with pytest.raises(InvalidInput, match="--crs"):
        activity_plots.read_activity_plots(path, ReadOptions())
    far = [_plot(1, geometry=box(5e6, 1e6, 5.1e6, 1.1e6))]
    path = _write_csv(tmp_path / "far.csv", far)
    with pytest.raises(InvalidInput, match="neither lon/lat nor Lambert-93"):
        activity_plots.read_activity_plots(path, ReadOptions())


# --- GeoJSON and GeoPackage ---------------------------------------------------------------------


def _plots_frame(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    rows = [_plot(i) for i in (1, 2, 3)]
    geometries = [shapely.affinity.translate(L93_SQUARE, xoff=200 * i) for i in (1, 2, 3)]
    attributes = [{k: v for k, v in r.items() if k != "terr_geomsurf"} for r in rows]
    frame = gpd.GeoDataFrame(attributes, geometry=geometries, crs="EPSG:2154")
    frame["terr_surf_brute"] = [1.2, 0.8, 2.5]
    frame["terr_m2_prix"] = [85.0, None, 60.0]
    return frame.to_crs(crs)


def test_geojson_lonlat_round_trip(tmp_path):
    source = _plots_frame("EPSG:4326")
    path = tmp_path / "terrains.geojson"
    source.to_file(path, driver="GeoJSON")
    result = activity_plots.read_activity_plots(path, ReadOptions())
    frame, report = conform(result, activity_plots.LAYER, source=path.name)
    assert report.kept == 3 and not report.rejected
    expected = source.to_crs("EPSG:2154")
    for got, want in zip(frame.geometry, expected.geometry, strict=True):
        assert got.equals_exact(want, tolerance=1e-3)
    assert list(frame["terr_surf_brute"]) == [1.2, 0.8, 2.5]
    assert frame["terr_identif_date"].iloc[0] == dt.date(2024, 1, 15)
    assert frame["terr_refcad"].iloc[0] == "91228000AB0012|91228000AB0013"


def test_geojson_in_lambert93_without_crs_member_asks_for_crs(tmp_path):
    # GeoJSON without a crs member means lon/lat (RFC 7946 §4): never read as Lambert-93 on a
    # guess; refused whole with the hint, then read as the --crs the caller gives.
    source = _plots_frame("EPSG:2154")
    collection = json.loads(source.to_json())
    collection.pop("crs", None)
    path = tmp_path / "terrains.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    result = activity_plots.read_activity_plots(path, ReadOptions())
    with pytest.raises(CRSMismatch, match="look like Lambert-93: give --crs EPSG:2154"):
        conform(result, activity_plots.LAYER, source=path.name)
    result = activity_plots.read_activity_plots(path, ReadOptions(crs="EPSG:2154"))
    assert result.frame.crs.to_epsg() == 2154
    assert not any("inferred" in n for n in result.notes)
    frame, _ = conform(result, activity_plots.LAYER, source=path.name)
    assert frame.geometry.iloc[0].equals_exact(source.geometry.iloc[0], tolerance=1e-6)


def test_geopackage_layers_are_found_by_name(tmp_path):
    plots = _plots_frame("EPSG:2154")
    plots["terr_utile"] = [True, False, True]  # a GeoPackage boolean for a oui/non field
    plots["terr_identif_date"] = [dt.date(2024, 1, 15)] * 3
    path = tmp_path / "sites_economiques.gpkg"
    plots.to_file(path, layer="terrain_eco", driver="GPKG")
    other = gpd.GeoDataFrame({"pole_id": ["p"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:2154")
    other.to_file(path, layer="pole_eco", driver="GPKG")
    result = activity_plots.read_activity_plots(path, ReadOptions())
    frame, report = conform(result, activity_plots.LAYER, source=path.name)
    assert report.kept == 3
    assert list(frame["terr_utile"]) == ["oui", "non", "oui"]
    assert frame["terr_identif_date"].iloc[0] == dt.date(2024, 1, 15)
    for got, want in zip(frame.geometry, plots.geometry, strict=True):
        assert got.equals_exact(want, tolerance=1e-6)
    with pytest.raises(ValidationFailed, match="required fields missing"):
        activity_plots.read_activity_plots(path, ReadOptions(layer="pole_eco"))


def test_geopackage_with_unnamed_layers_needs_layer_option(tmp_path):
    plots = _plots_frame("EPSG:2154")
    path = tmp_path / "export.gpkg"
    plots.to_file(path, layer="couche_a", driver="GPKG")
    plots.to_file(path, layer="couche_b", driver="GPKG")
    with pytest.raises(InvalidInput, match="--layer"):
        activity_plots.read_activity_plots(path, ReadOptions())
    result = activity_plots.read_activity_plots(path, ReadOptions(layer="couche_b"))
    assert len(result.frame) == 3


def test_establishment_multipoint_from_geopackage(tmp_path):
    row = {
        "SIRET": "34749951900010",
        "SIREN": "347499519",
        "terr_id": "91228_TERRAIN-ECO_00001",
        "etab_raison_sociale": "Exemple SAS",
        "etab_nat_juridique": "5710",
        "etab_nom": "EXEMPLE",
        "epci_nom": "CA Grand Paris Sud Seine Essonne Sénart",
        "epci_siren": "200059228",
        "comm_nom": "Évry-Courcouronnes",
        "comm_insee": "91228",
        "etab_creation_date": "2015-06-04",
        "etab_identif_date": "2016-03-26",
        "etab_actu_date": "2023-04-30",
        "etab_activite_code": "4520B",
        "etab_activite_libelle": "Entretien et réparation d'autres véhicules automobiles",
        "etab_effectif_code": "03",
        "etab_effectif_libelle": "6 à 9 salariés",
        "etab_effectif_annee": "2022",
        "etab_source_info": "SIRENE",
        "geocodage_qualite": "localisation au bâtiment",
        "etab_contact_mail": "pas-une-adresse",
    }
    points = MultiPoint([(657010, 6838010), (657050, 6838050)])
    frame = gpd.GeoDataFrame(
        [row, dict(row, SIRET="34749951900028", etab_contact_mail="")],
        geometry=[points, points],
        crs="EPSG:2154",
    )
    path = tmp_path / "etablissements.gpkg"
    frame.to_file(path, layer="etablissement", driver="GPKG")
    result = establishments.read_establishments(path, ReadOptions())
    assert [r.reason for r in result.rejected] == [
        "etab_contact_mail: 'pas-une-adresse' is not an e-mail address"
    ]
    kept, report = conform(result, establishments.LAYER, source=path.name)
    assert report.kept == 1
    assert kept.geometry.iloc[0].equals(points)
    assert kept["etab_effectif_code"].iloc[0] == "03"
