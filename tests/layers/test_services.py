"""Services (INSEE BPE): CSV reading, rejections with reasons, stable ids, TYPEQU code list."""

from __future__ import annotations

import csv
import unicodedata

import pandas as pd
import pytest

from atlas.errors import InvalidInput
from atlas.layers import bpe_codes
from atlas.layers.base import Classification, ReadOptions
from atlas.layers.conform import conform
from atlas.layers.services import LAYER, read_services
from tests.helpers import require_real_data

HEADER = "DEPCOM;DCIRIS;AN;TYPEQU;LAMBERT_X;LAMBERT_Y;QUALITE_XY"
ROWS = [
    "91228;912280101;2020;D201;657105.12;6838532.40;Bonne",  # doctor, Évry
    "91228;912280101;2020;D201;657105.12;6838532.40;Bonne",  # a second doctor, same building
    "91228;912280102;2020;C201;656800.00;6837900.00;Acceptable",  # collège
    "91216;91216;2020;F307;648640.5;6839800.2;1",  # library, quality given as its code
    "91216;91216;2020;A999;648700;6839900;Mauvaise",  # well-formed code not in the list
    "91216;91216;2020;D301;;;Non géolocalisé",  # no position
    "91216;91216;2020;XYZ;648640;6839800;Bonne",  # malformed TYPEQU
    "91216;91216;2020;B203;;;Bonne",  # coordinates missing
    "97101;97101;2020;D301;650000;1780000;Bonne",  # overseas (UTM 20N)
]


@pytest.fixture
def bpe_csv(tmp_path):
    path = tmp_path / "bpe20_extrait.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


def test_good_rows_are_kept_with_domain_and_label(bpe_csv):
    result = read_services(bpe_csv, ReadOptions())
    frame, report = conform(result, LAYER, source=bpe_csv.name)
    assert report.rows_read == len(ROWS)
    assert report.kept == 5
    by_type = frame.set_index("TYPEQU", drop=False)
    assert by_type.loc["C201", "domaine"] == "C"
    assert by_type.loc["C201", "libelle_domaine"] == "Enseignement"
    assert by_type.loc["C201", "libelle_typequ"] == "Collège"
    assert by_type.loc["F307", "QUALITE_XY"] == "Bonne"  # code 1 -> label
    assert pd.isna(by_type.loc["A999", "libelle_typequ"])  # unknown code kept, empty label
    assert by_type.loc["A999", "domaine"] == "A"


def test_rows_without_position_or_with_bad_typequ_are_rejected_with_reason(bpe_csv):
    result = read_services(bpe_csv, ReadOptions())
    reasons = {r.row.split()[0]: r.reason for r in result.rejected}
    assert "Non géolocalisé" in reasons["6"]
    assert "TYPEQU 'XYZ'" in reasons["7"]
    assert "LAMBERT_X/LAMBERT_Y empty" in reasons["8"]
    assert "overseas" in reasons["9"]
    assert len(result.rejected) == 4


def test_positions_are_the_lambert93_coordinates(bpe_csv):
    frame, _ = conform(read_services(bpe_csv, ReadOptions()), LAYER, source="x")
    assert frame.crs.to_epsg() == 2154
    for _, row in frame.iterrows():
        assert row.geometry.x == pytest.approx(row["LAMBERT_X"])
        assert row.geometry.y == pytest.approx(row["LAMBERT_Y"])


def test_ids_are_unique_and_stable_across_row_order_and_editions(bpe_csv, tmp_path):
    first = read_services(bpe_csv, ReadOptions()).frame
    assert first["id"].is_unique  # the two doctors in one building get distinct ids
    reordered = tmp_path / "bpe21.csv"
    later = [row.replace(";2020;", ";2021;") for row in reversed(ROWS)]
    reordered.write_text("\n".join([HEADER, *later]) + "\n", encoding="utf-8")
    second = read_services(reordered, ReadOptions()).frame
    assert set(first["id"]) == set(second["id"])
    assert all(i.startswith(("91228-", "91216-")) for i in first["id"])


def test_windows_1252_and_comma_separator_are_read(tmp_path):
    path = tmp_path / "bpe.csv"
    text = "depcom,typequ,lambert_x,lambert_y,qualite_xy\n91228,D301,657000,6838000,Non géolocalisé\n91228,D301,657000,6838000,Bonne\n"
    path.write_bytes(text.encode("cp1252"))
    result = read_services(path, ReadOptions())
    assert len(result.frame) == 1 and len(result.rejected) == 1


def test_swapped_coordinates_are_rejected(tmp_path):
    path = tmp_path / "bpe.csv"
    path.write_text(f"{HEADER}\n91228;;2020;D301;6838532;657105;Bonne\n", encoding="utf-8")
    result = read_services(path, ReadOptions())
    assert "outside metropolitan Lambert-93" in result.rejected[0].reason


def test_missing_bpe_variables_is_a_clear_error(tmp_path):
    path = tmp_path / "bpe.csv"
    path.write_text("DEPCOM;TYPEQU\n91228;D301\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="LAMBERT_X, LAMBERT_Y"):
        read_services(path, ReadOptions())


def test_name_is_personal_and_the_rest_public():
    assert LAYER.field("NOMRS").classification is Classification.PERSONAL
    others = [f for f in LAYER.fields if f.name != "NOMRS"]
    assert all(f.classification is Classification.PUBLIC for f in others)


def test_code_list_covers_every_domain_with_60_codes_or_more():
    assert len(bpe_codes.TYPEQU_LABELS) >= 60
    assert {code[0] for code in bpe_codes.TYPEQU_LABELS} == set(bpe_codes.DOMAINS)
    assert all(bpe_codes.is_typequ(code) for code in bpe_codes.TYPEQU_LABELS)
    assert all(label for label in bpe_codes.TYPEQU_LABELS.values())


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@pytest.mark.realdata
def test_sport_leisure_culture_labels_match_insee_dictionary():
    """Oracle: INSEE's 2020 BPE dictionary (F1xx-F3xx), compared without case and accents."""
    path = require_real_data(
        "bpe-dictionnaire-extrait", "bpe20-sport-loisir-culture-variables-extrait.csv"
    )
    with open(path, encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["COD_VAR"] == "TYPEQU"]
    assert len(rows) == 30
    for row in rows:
        assert _fold(bpe_codes.label_of(row["COD_MOD"])) == _fold(row["LIB_MOD"]), row["COD_MOD"]
    qualities = {
        r["COD_MOD"]: r["LIB_MOD"]
        for r in csv.DictReader(open(path, encoding="utf-8"))
        if r["COD_VAR"] == "QUALITE_XY"
    }
    from atlas.layers.services import _QUALITE_CODES

    assert qualities == _QUALITE_CODES
