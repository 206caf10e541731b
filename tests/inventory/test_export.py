"""The CNIG export on the demo, both modes, both stores: valid, faithful, anonymised, audited."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import shapely
from frictionless import Package

from atlas.demo.parks import STALE_SITES
from atlas.inventory import export_inventory
from atlas.inventory.tables import RESOURCES, VACANCY_FIELDS, whole_percent
from atlas.layers.activity_sites import compare_vacancy, vacancy_rate
from atlas.layers.base import Classification, ReadOptions
from atlas.layers.cnig_read import parse_geojson, read_cnig
from tests.inventory.helpers import (
    CLASS_FILES,
    assert_valid,
    every_text,
    published_schema,
    read_csv,
    validate_against_published,
)

MODES = ("publication", "internal")
SOURCES = {"site-eco": "activity-sites", "terrain-eco": "activity-plots"}
SOURCES["etablissement"] = "establishments"
STARTED = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def exports(served, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both modes exported once per store kind, each read with a request id of its own."""
    out = {}
    for mode in MODES:
        target = tmp_path_factory.mktemp(f"export-{served.kind}") / mode
        gate = served.gate(request_id=f"export-{mode}-{served.kind}")
        export_inventory(gate, target, publish=mode == "publication")
        out[mode] = target
    return out


@pytest.mark.realdata
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", CLASS_FILES)
def test_each_csv_validates_against_the_published_cnig_schema(exports, mode, name):
    report = validate_against_published(exports[mode] / f"{name}.csv", name)
    assert_valid(report, f"{mode}/{name}.csv")
    assert report.tasks[0].stats["rows"] > 0


@pytest.mark.realdata
@pytest.mark.parametrize("mode", MODES)
def test_columns_are_the_published_fields_in_order(exports, mode):
    for name in CLASS_FILES:
        path = exports[mode] / f"{name}.csv"
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf"), "UTF-8 without BOM"
        header = raw.decode("utf-8").split("\r\n", 1)[0].split(";")
        assert header == [f["name"] for f in published_schema(name)["fields"]]


@pytest.mark.parametrize("mode", MODES)
def test_the_datapackage_and_its_validation_report(exports, mode):
    package = Package(str(exports[mode] / "datapackage.json"))
    report = package.validate()
    assert_valid(report, f"{mode}/datapackage.json")
    assert [r.name for r in package.resources] == list(RESOURCES)
    validation = json.loads((exports[mode] / "validation-report.json").read_text())
    assert validation["valid"] is True
    assert {r["name"]: r["valid"] for r in validation["resources"]} == dict.fromkeys(
        RESOURCES, True
    )


def _number(text: str) -> float | None:
    return float(text) if text != "" else None


def _same(field_type: str, ours: str, theirs: str) -> bool:
    if field_type == "number":
        return (
            _number(ours) == pytest.approx(_number(theirs)) if ours and theirs else ours == theirs
        )
    return ours.strip() == theirs.strip()


def _compared_fields(cnig_class, mode: str) -> list[str]:
    """Every stored CNIG field (internal), the public ones (publication); never the vacancy."""
    return [
        f.name
        for f in cnig_class.stored_fields
        if f not in cnig_class.extensions
        and f.name not in (*VACANCY_FIELDS, cnig_class.primary_key)
        and (mode == "internal" or f.classification == Classification.PUBLIC)
    ]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fmt", ["csv", "gpkg"])
def test_round_trip_through_the_cnig_readers(served, exports, mode, fmt):
    """The atlas readers accept the export; ids, values and geometries are the sources'."""
    for name, cnig_class in RESOURCES.items():
        path = exports[mode] / (f"{name}.csv" if fmt == "csv" else "sites_economiques.gpkg")
        result = read_cnig(path, ReadOptions(), cnig_class)
        assert result.rejected == [], result.rejected[:3]
        read = result.frame.to_crs(2154).set_index(cnig_class.primary_key)
        source = read_csv(served.sources[SOURCES[name]]).set_index(cnig_class.primary_key)
        if mode == "publication" and name == "etablissement":
            source = source[source["statutDiffusionEtablissement"] == "O"]
        assert sorted(read.index) == sorted(source.index)
        for field_name in _compared_fields(cnig_class, mode):
            spec = cnig_class.field(field_name)
            for key in source.index:
                ours, theirs = str(read.at[key, field_name]), source.at[key, field_name]
                assert _same(spec.type, ours, theirs), (name, key, field_name, ours, theirs)
        for key in source.index:
            expected, problem, _ = parse_geojson(source.at[key, cnig_class.geometry_field])
            assert problem is None
            assert shapely.hausdorff_distance(read.geometry[key], expected) < 0.05, (name, key)


def test_published_files_hold_no_personal_value(served, exports):
    """Natural persons' names, contacts and undiffusible businesses: internal only."""
    personal = served.personal
    published = every_text(exports["publication"])
    internal = "\n".join(every_text(exports["internal"]).values())
    for value in personal.forbidden():
        assert value in internal, f"the test data lost {value!r}"
        for file_name, text in published.items():
            assert value not in text, f"{value!r} published in {file_name}"
    plots = read_csv(exports["publication"] / "terrain-eco.csv").set_index("terr_id")
    assert (plots["terr_acquereur"].isin(personal.legal_buyers)).sum() == len(
        personal.legal_buyers
    ), "a company's name is not personal data: it stays"
    person_sale = plots.loc[personal.person_sale_plot]
    for name in ("terr_cession_date", "terr_vente_montant", "terr_m2_prix"):
        assert person_sale[name] == "", f"a natural person's sale keeps {name}"
    sites = read_csv(exports["publication"] / "site-eco.csv")
    assert (sites["site_moa_comm"] == "").all()
    establishments = read_csv(exports["publication"] / "etablissement.csv")
    assert (establishments[["etab_contact_mail", "etab_contact_tel"]] == "").all().all()
    report = json.loads((exports["publication"] / "inventory-report.json").read_text())
    assert any("removed" in line for line in report["anonymisation"])


def test_vacancy_is_recomputed_from_the_plots_and_disagreements_listed(served, exports):
    plots = read_csv(served.sources["activity-plots"])
    sites = read_csv(served.sources["activity-sites"])
    rates = vacancy_rate(plots).set_index("site_id")
    for mode in MODES:
        exported = read_csv(exports[mode] / "site-eco.csv").set_index("site_id")
        for site_id, row in rates.iterrows():
            assert int(exported.at[site_id, "site_uf_nbre"]) == row["site_uf_nbre"]
            assert int(exported.at[site_id, "site_uf_vacant_nbre"]) == row["site_uf_vacant_nbre"]
            assert int(exported.at[site_id, "site_taux_vacance"]) == whole_percent(
                row["site_taux_vacance"]
            )
        report = json.loads((exports[mode] / "inventory-report.json").read_text())
        listed = {d["site_id"] for d in report["vacancy"]["disagreements"]}
        assert listed == set(compare_vacancy(sites, plots)["site_id"])
        stale = set(sites.loc[sites["site_nom"].isin(STALE_SITES), "site_id"])
        assert stale and stale <= listed, "the demo's stale rates are found"
        table = pd.read_csv(exports[mode] / "vacancy.csv", sep=";", dtype=str)
        assert sorted(table["site_id"]) == sorted(sites["site_id"])
        assert set(table.loc[table["disagrees"] == "oui", "site_id"]) == listed


def test_every_collection_read_is_audited(served, exports):
    audit = served.client.app.state.audit  # type: ignore[attr-defined]
    for mode in MODES:
        request_id = f"export-{mode}-{served.kind}"
        records = [r for r in audit.since(STARTED) if r.request_id == request_id]
        assert sorted(r.collection_id for r in records) == sorted(SOURCES.values())
        assert {r.action for r in records} == {"inventory"}
        assert {r.tier for r in records} == {"internal"}
        assert {r.who for r in records} == {"inventory tests"}
        counts = {r.collection_id: r.feature_count for r in records}
        assert counts["activity-sites"] == len(read_csv(served.sources["activity-sites"]))
