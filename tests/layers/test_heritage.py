"""Heritage: Mérimée monuments (old codes and POP names) and their abords / PDA perimeters."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import pytest
import shapely

from atlas.errors import InvalidInput
from atlas.layers.base import ReadOptions, ReadResult
from atlas.layers.conform import conform
from atlas.layers.heritage_monuments import LAYER as MONUMENTS
from atlas.layers.heritage_monuments import first_protection_date, parse_protection, read_monuments
from atlas.layers.heritage_perimeters import ABORDS, apply_pda, derive_abords, read_pda
from atlas.layers.heritage_perimeters import LAYER as PERIMETERS
from tests.helpers import require_real_data

MERIMEE = ("merimee-toulouse-mh", "merimee-toulouse-protection-mh.geojson")
# Évry cathedral and a second point 2 km east, in WGS84.
EVRY = (2.4302, 48.6240)
EAST = (2.4573, 48.6240)


def _geojson(tmp_path, name, records):
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(xy)} if xy else None,
            "properties": props,
        }
        for xy, props in records
    ]
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


@pytest.fixture
def old_codes(tmp_path):
    return _geojson(
        tmp_path,
        "old.geojson",
        [
            (
                EVRY,
                {
                    "REF": "PA91000099",
                    "TICO": "Cathédrale de la Résurrection",
                    "DENO": "cathédrale",
                    "INSEE": "91228",
                    "COM": "Évry-Courcouronnes",
                    "PROT": "inscrit MH",
                    "DPRO": "2020/06/01 : inscrit MH",
                },
            ),
            (
                EAST,
                {
                    "chpref": "PA91000098",
                    "chptico": "château",
                    "chpinsee": "91228",
                    "chpprot": "classé MH partiellement ; inscrit MH",
                    "chpdpro": "1926/12/15 classé M.H. partiellement ; 1862 : inscrit MH",
                },
            ),
        ],
    )


@pytest.fixture
def pop_names(tmp_path):
    return _geojson(
        tmp_path,
        "pop.geojson",
        [
            (
                EVRY,
                {
                    "Reference": "PA91000099",
                    "Titre_editorial_de_la_notice": "Cathédrale de la Résurrection",
                    "Denomination_de_l_edifice": "cathédrale",
                    "COG_Insee_lors_de_la_protection": "91228",
                    "Commune_forme_editoriale": "Évry-Courcouronnes",
                    "Typologie_de_la_protection": "inscrit MH",
                    "Date_et_typologie_de_la_protection": "2020/06/01 : inscrit MH",
                },
            ),
        ],
    )


def test_old_codes_are_normalised_to_pop_names(old_codes):
    frame, report = conform(read_monuments(old_codes, ReadOptions()), MONUMENTS, source="x")
    assert report.kept == 2
    first, second = frame.iloc[0], frame.iloc[1]
    assert first["reference"] == "PA91000099"
    assert first["titre_editorial_de_la_notice"] == "Cathédrale de la Résurrection"
    assert first["commune_forme_index"] == "Évry-Courcouronnes"
    assert first["cog_insee_lors_de_la_protection"] == "91228"
    assert (first["protection"], first["protection_partielle"]) == ("inscrit MH", False)
    assert str(first["date_protection"]) == "2020-06-01"
    assert (second["protection"], second["protection_partielle"]) == ("classé MH", True)
    assert str(second["date_protection"]) == "1862-01-01"  # the first act, year only


def test_pop_names_give_the_same_record(old_codes, pop_names):
    old, _ = conform(read_monuments(old_codes, ReadOptions()), MONUMENTS, source="x")
    pop, _ = conform(read_monuments(pop_names, ReadOptions()), MONUMENTS, source="x")
    columns = ["reference", "titre_editorial_de_la_notice", "cog_insee_lors_de_la_protection"]
    columns += ["commune_forme_index", "protection", "date_protection"]
    assert pop.iloc[0][columns].to_dict() == old.iloc[0][columns].to_dict()
    assert pop.geometry.iloc[0].equals_exact(old.geometry.iloc[0], 1e-6)


def test_pop_csv_with_wgs84_text_positions(tmp_path):
    path = tmp_path / "liste-des-immeubles-proteges.csv"
    path.write_text(
        "Reference;Titre_editorial_de_la_notice;COG_Insee_lors_de_la_protection;"
        "Typologie_de_la_protection;Date_et_typologie_de_la_protection;coordonnees_au_format_WGS84\n"
        f"PA91000099;Cathédrale;91228;inscrit MH;2020/06/01 : inscrit MH;{EVRY[1]}, {EVRY[0]}\n"
        "PA91000097;Sans position;91228;classé MH;1900/01/01 : classé MH;\n",
        encoding="utf-8",
    )
    result = read_monuments(path, ReadOptions())
    assert [r.reason for r in result.rejected] == ["no position (geometry nor WGS84 coordinates)"]
    frame, _ = conform(result, MONUMENTS, source="x")
    lonlat = gpd.GeoSeries(frame.geometry, crs=2154).to_crs(4326).iloc[0]
    assert (lonlat.x, lonlat.y) == pytest.approx(EVRY, abs=1e-7)


def test_records_without_reference_get_a_stable_synthetic_id(tmp_path):
    props = {"chptico": "immeuble", "chpinsee": "31555", "chpprot": "inscrit MH"}
    path = _geojson(tmp_path, "noref.geojson", [(EVRY, props), (EAST, props)])
    first = read_monuments(path, ReadOptions())
    again = read_monuments(path, ReadOptions())
    assert list(first.frame["reference"]) == list(again.frame["reference"])
    assert first.frame["reference"].is_unique
    assert first.frame["reference"].str.match(r"^ATLAS-31555-[0-9a-f]{10}$").all()
    assert "no Mérimée reference" in first.notes[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("inscrit MH", "inscrit MH"),
        ("classé MH ; inscrit MH", "classé MH"),
        ("classé M.H. partiellement", "classé MH"),
        ("protection partielle", None),
        (None, None),
    ],
)
def test_protection_is_parsed(text, expected):
    assert parse_protection(text) == expected


def test_first_protection_date_handles_mérimée_forms():
    assert first_protection_date("1993/04/01 : inscrit MH ; 1840 classé MH") == "1840-01-01"
    assert first_protection_date("19250523") == "1925-05-23"
    assert first_protection_date("1925/16/07 : inscrit MH") == "1925-01-01"  # impossible month
    assert first_protection_date(None) is None


@pytest.mark.realdata
def test_real_merimee_records_are_read_and_protection_parsed():
    path = require_real_data(*MERIMEE)
    raw = json.loads(path.read_text("utf-8"))["features"]
    frame, report = conform(read_monuments(path, ReadOptions()), MONUMENTS, source=path.name)
    assert (report.rows_read, report.kept, len(report.rejected)) == (179, 179, 0)
    # Oracle: the source's own PROT text; any classement makes the monument 'classé MH'.
    classes = sum("class" in f["properties"]["chpprot"] for f in raw)
    assert (frame["protection"] == "classé MH").sum() == classes == 52
    assert (frame["protection"] == "inscrit MH").sum() == 179 - classes
    assert frame["date_protection"].notna().all()
    assert frame["cog_insee_lors_de_la_protection"].eq("31555").all()
    assert frame["reference"].is_unique  # synthetic ids: the extract has no REF
    # Positions: the file's points agree with its own chpcoorwgs84 text (lat, lon).
    lonlat = frame.geometry.to_crs(4326)
    for point, feature in zip(lonlat, raw, strict=True):
        lat, lon = (float(v) for v in feature["properties"]["chpcoorwgs84"].split(","))
        assert (point.x, point.y) == pytest.approx((lon, lat), abs=1e-6)


def _monuments_2154():
    points = gpd.GeoSeries([shapely.Point(EVRY), shapely.Point(EAST)], crs=4326).to_crs(2154)
    return gpd.GeoDataFrame(
        {
            "reference": ["PA91000099", "PA91000098"],
            "titre_editorial_de_la_notice": ["Cathédrale", "Château"],
            "protection": ["inscrit MH", "classé MH"],
        },
        geometry=points,
        crs=2154,
    )


def test_abords_are_500_m_circles():
    monuments = _monuments_2154()
    abords = derive_abords(monuments)
    assert len(abords) == 2
    assert abords["type_perimetre"].eq(ABORDS).all() and abords["indicatif"].all()
    for circle, point in zip(abords.geometry, monuments.geometry, strict=True):
        assert circle.area == pytest.approx(math.pi * 500**2, rel=1e-3)
        assert circle.exterior.hausdorff_distance(point.buffer(500, quad_segs=256).exterior) < 0.5
    frame, report = conform(ReadResult(frame=abords), PERIMETERS, source="derived")
    assert report.kept == 2 and set(frame.geometry.geom_type) == {"MultiPolygon"}
    assert frame["perimetre_id"].tolist() == ["abords-PA91000099", "abords-PA91000098"]


def test_unprotected_records_have_no_abords():
    monuments = _monuments_2154()
    monuments.loc[1, "protection"] = None
    assert derive_abords(monuments)["reference"].tolist() == ["PA91000099"]


@pytest.fixture
def pda_file(tmp_path):
    cathedral = gpd.GeoSeries([shapely.Point(EVRY)], crs=4326).to_crs(2154).iloc[0]
    polygon = shapely.box(
        cathedral.x - 300, cathedral.y - 200, cathedral.x + 250, cathedral.y + 400
    )
    frame = gpd.GeoDataFrame(
        {"REF_MERIMEE": ["PA91000099"], "nom": ["PDA de la cathédrale"]},
        geometry=[polygon],
        crs=2154,
    )
    path = tmp_path / "pda.gpkg"
    frame.to_file(path, driver="GPKG")
    return path, polygon


def test_pda_file_is_read_as_the_legal_perimeter(pda_file):
    path, polygon = pda_file
    frame, report = conform(read_pda(path, ReadOptions()), PERIMETERS, source=path.name)
    assert report.kept == 1
    row = frame.iloc[0]
    assert (row["perimetre_id"], row["reference"], row["type_perimetre"]) == (
        "PDA-PA91000099",
        "PA91000099",
        "PDA",
    )
    assert row["indicatif"] is False or row["indicatif"] == False  # noqa: E712 (pandas boolean)
    assert row.geometry.equals(shapely.MultiPolygon([polygon]))


def test_pda_replaces_the_circle_of_its_monument_only(pda_file):
    path, polygon = pda_file
    pda = read_pda(path, ReadOptions()).frame
    perimeters = derive_abords(_monuments_2154(), pda)
    by_ref = perimeters.set_index("reference")
    assert sorted(perimeters["type_perimetre"]) == ["PDA", ABORDS]
    assert by_ref.loc["PA91000099", "type_perimetre"] == "PDA"
    assert by_ref.loc["PA91000099", "geometry"].equals(polygon)
    assert by_ref.loc["PA91000098", "type_perimetre"] == ABORDS
    assert apply_pda(derive_abords(_monuments_2154()), pda).equals(perimeters)


def test_pda_naming_several_monuments(tmp_path):
    frame = gpd.GeoDataFrame(
        {"reference": ["PA91000099 ; PA91000098", ""]},
        geometry=[shapely.box(0, 0, 1, 1).buffer(2000), shapely.box(5, 5, 6, 6)],
        crs=2154,
    )
    path = tmp_path / "pda.geojson"
    frame.to_file(path, driver="GeoJSON")
    result = read_pda(path, ReadOptions())
    assert len(result.frame) == 1 and "names no monument" in result.rejected[0].reason
    assert result.frame["perimetre_id"].iloc[0].startswith("PDA-PA91000099-")
    perimeters = derive_abords(_monuments_2154(), result.frame)
    assert perimeters["type_perimetre"].tolist() == ["PDA"]


def test_pda_without_reference_field_is_a_clear_error(tmp_path):
    frame = gpd.GeoDataFrame({"nom": ["x"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=2154)
    path = tmp_path / "pda.geojson"
    frame.to_file(path, driver="GeoJSON")
    with pytest.raises(InvalidInput, match="no monument reference field"):
        read_pda(path, ReadOptions())


@pytest.mark.realdata
def test_real_monuments_give_one_abords_circle_each():
    path = require_real_data(*MERIMEE)
    monuments, _ = conform(read_monuments(path, ReadOptions()), MONUMENTS, source=path.name)
    frame, report = conform(ReadResult(frame=derive_abords(monuments)), PERIMETERS, source="d")
    assert report.kept == 179
    assert frame.area.to_numpy() == pytest.approx(math.pi * 500**2, rel=1e-3)
