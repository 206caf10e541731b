"""PPR hazard zones (COVADIS/CNIG PPR): real Isère PPRN from the zip and the GeoJSON."""

from __future__ import annotations

import json

import pytest

from atlas.errors import InvalidInput, ValidationFailed
from atlas.layers.base import Classification, ReadOptions
from atlas.layers.conform import conform
from atlas.layers.flood_hazard import LAYER, hazard_class, is_flood, read_flood_hazard
from atlas.layers.io import unpacked
from tests.helpers import require_real_data

PPR = "ppr-38ddt20200002"
GEOJSON = "n_zone_alea_pprn_20200002_s_038.geojson"


@pytest.mark.parametrize(
    ("nivalea_st", "nivalea", "expected"),
    [
        ("01", "Fai", 1),
        ("02", "M", 2),
        ("03", "M+", 2),
        ("04", "F", 3),
        ("05", "F+", 3),
        ("06", "TF", 4),
        ("07", None, 4),
        (4, None, 3),
        ("00", None, 0),
        (None, "Très fort", 4),
        (None, "faible", 1),
        (None, "Nul", 0),
        (None, "?", None),
        (None, None, None),
    ],
)
def test_hazard_class(nivalea_st, nivalea, expected):
    assert hazard_class(nivalea_st, nivalea) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("1100000", True),
        ("1120000", True),
        ("1130000", True),
        ("1150000", True),
        ("1170000", True),
        (1160000, True),
        ("1230000", False),
        ("1400000", False),
        ("9999999", None),
        (None, None),
        ("abc", None),
    ],
)
def test_flood_family(code, expected):
    assert is_flood(code) is expected


def test_hazard_zones_are_public():
    assert all(f.classification is Classification.PUBLIC for f in LAYER.fields)
    assert LAYER.geometry_classification is Classification.PUBLIC


@pytest.mark.realdata
def test_real_zones_from_geojson_and_zip_agree(tmp_path):
    geojson = require_real_data(PPR, GEOJSON)
    archive = require_real_data(PPR, "38DDT20200002.zip")
    from_geojson, report = conform(read_flood_hazard(geojson, ReadOptions()), LAYER, source=GEOJSON)
    with unpacked(archive) as directory:
        from_zip, zip_report = conform(
            read_flood_hazard(directory, ReadOptions()), LAYER, source=archive.name
        )
    for frame, rep in ((from_geojson, report), (from_zip, zip_report)):
        assert rep.rows_read == 646 and rep.kept == 646 and not rep.rejected
        assert frame.crs.to_epsg() == 2154
        assert set(frame.geom_type) == {"MultiPolygon"}
    # Classes derived from nivalea_st: Fai -> 1, M -> 2, F / F+ -> 3 in this PPR.
    counts = from_geojson["classe_alea"].value_counts().to_dict()
    assert counts == {3: 455, 1: 106, 2: 85}
    pairs = set(zip(from_geojson["nivalea"], from_geojson["classe_alea"], strict=True))
    assert pairs == {("Fai", 1), ("M", 2), ("F", 3), ("F+", 3)}
    flood = from_geojson.set_index("id_zone")["inondation"]
    codes = from_geojson.set_index("id_zone")["coderisque"]
    assert flood[codes.isin(["1130000", "1140000", "1150000", "1160000"])].all()
    assert not flood[codes.isin(["1230000", "1240000", "1400000"])].any()
    assert flood[codes == "9999999"].isna().all()
    # Same zones, same areas from the EPSG:2154 shapefiles and the EPSG:4326 GeoJSON.
    areas = from_geojson.set_index("id_zone").area
    zip_areas = from_zip.set_index("id_zone").area.reindex(areas.index)
    assert set(from_zip["id_zone"]) == set(from_geojson["id_zone"])
    assert ((areas - zip_areas).abs() <= 1e-6 * areas + 0.01).all()
    assert areas.sum() == pytest.approx(zip_areas.sum(), rel=1e-9)


@pytest.mark.realdata
def test_zip_reader_picks_the_zone_alea_table(tmp_path):
    archive = require_real_data(PPR, "38DDT20200002.zip")
    with unpacked(archive) as directory:
        result = read_flood_hazard(directory, ReadOptions())
    assert "descript" in result.frame and len(result.frame) == 646


def test_empty_and_foreign_files_are_refused(tmp_path):
    empty = tmp_path / "n_zone_alea_pprn_x.geojson"
    empty.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(ValidationFailed, match="no features"):
        read_flood_hazard(empty, ReadOptions(crs="EPSG:4326"))
    foreign = tmp_path / "zones.geojson"
    feature = {
        "type": "Feature",
        "properties": {"name": "x"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[2, 48], [2.1, 48], [2.1, 48.1], [2, 48]]],
        },
    }
    foreign.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(InvalidInput, match="id_zone"):
        read_flood_hazard(foreign, ReadOptions())
    other = tmp_path / "dir"
    other.mkdir()
    (other / "n_zone_reg_pprn.geojson").write_text(foreign.read_text())
    with pytest.raises(InvalidInput, match="n_zone_alea"):
        read_flood_hazard(other, ReadOptions())
