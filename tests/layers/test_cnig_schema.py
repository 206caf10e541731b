"""CNIG Sites économiques: our declaration equals the published TableSchemas, field by field."""

from __future__ import annotations

import json

import pytest

from atlas.layers import activity_plots, activity_sites, establishments
from atlas.layers.base import Classification
from atlas.layers.cnig import (
    ETABLISSEMENT,
    SITE_ECO,
    TERRAIN_ECO,
    CnigClass,
    code_lists,
    field_specs,
    table_schema,
)
from atlas.layers.water_indicators import INDICATOR_NAMES
from tests.helpers import require_real_data

CLASSES = [("site-eco", SITE_ECO), ("terrain-eco", TERRAIN_ECO), ("etablissement", ETABLISSEMENT)]


def _normalised(field: dict) -> dict:
    """What a field says, wherever the CNIG wrote it (enum in or out of ``constraints``)."""
    constraints = field.get("constraints", {})
    return {
        "name": field["name"],
        "type": field["type"],
        "format": field.get("format"),
        "required": constraints.get("required", False),
        "pattern": constraints.get("pattern"),
        "enforced_enum": constraints.get("enum"),
        "listed_enum": field.get("enum"),
    }


@pytest.mark.realdata
@pytest.mark.parametrize(("published_name", "cnig_class"), CLASSES)
def test_table_schema_equals_the_published_one(published_name: str, cnig_class: CnigClass):
    path = require_real_data("cnig-sites-economiques", f"schema-{published_name}.json")
    published = json.loads(path.read_text(encoding="utf-8"))
    ours = table_schema(cnig_class)
    assert [f["name"] for f in ours["fields"]] == [f["name"] for f in published["fields"]]
    for mine, theirs in zip(ours["fields"], published["fields"], strict=True):
        assert _normalised(mine) == _normalised(theirs), mine["name"]
    assert ours["primaryKey"] == published["primaryKey"]
    assert ours["missingValues"] == published["missingValues"]
    assert cnig_class.schema_name == published["name"]
    assert published["version"] == "v1.0.1"


@pytest.mark.realdata
def test_code_lists_cover_the_data_model_sheets():
    # The .ods data model (2023) lists the codes without the v1.0.1 'inconnu/autre/sans objet'
    # tail and with a few older wordings; every code it lists must be one of ours once folded.
    pd = pytest.importorskip("pandas")
    pytest.importorskip("odf")
    from atlas.layers.cnig import LEGACY_VALUES
    from atlas.layers.cnig_read import fold

    path = require_real_data("cnig-sites-economiques", "241018_MCD_SITES-ECONOMIQUES.ods")
    sheets = pd.read_excel(path, engine="odf", sheet_name=None, header=None)
    lists = {**code_lists(SITE_ECO), **code_lists(TERRAIN_ECO), **code_lists(ETABLISSEMENT)}
    sheet_of = {
        "site_type": "site_type",
        "site_vocadomi": "site_vocadomi",
        "site_etat": "site_etat",
        "site_evol_urba": "site_evol_urba",
        "site_moa_type": "site_moa_type",
        "terr_maitrise_fonc": "terr_maitrise_fonc",
        "terr_stade_amngt": "terr_amngt",
        "terr_stade_comm": "terr_comm",
        "terr_etat_occup": "terr_occup",
        "terr_usage": "terr_usage",
        "geocodage_qualite": "geocodage_qualite",
    }
    for field_name, sheet in sheet_of.items():
        ours = {fold(v) for v in lists[field_name]}
        ours |= {fold(v) for v in LEGACY_VALUES.get(field_name, {})}
        theirs = {fold(str(v)) for v in sheets[sheet][0].dropna()}
        assert theirs <= ours, (field_name, theirs - ours)


def test_geometry_column_and_centroid_are_not_attributes():
    assert "site_geomsurf" not in activity_sites.LAYER.field_names
    assert "site_geompoint" not in activity_sites.LAYER.field_names
    assert "terr_geomsurf" not in activity_plots.LAYER.field_names
    assert "etab_geompoint" not in establishments.LAYER.field_names
    # The CNIG attributes, then the 4 derived water indicators (sites, plots) and the SIRENE
    # diffusion status (establishments).
    assert len(activity_sites.LAYER.fields) == 60 + 4
    assert len(activity_plots.LAYER.fields) == 18 + 4
    assert len(establishments.LAYER.fields) == 29 + 1
    assert activity_plots.LAYER.field_names[-4:] == list(INDICATOR_NAMES)
    assert establishments.LAYER.field_names[-1] == "statutDiffusionEtablissement"


def test_layers_declare_ids_and_geometry_types():
    assert (activity_sites.LAYER.id_field, activity_sites.LAYER.geometry_type) == (
        "site_id",
        "MultiPolygon",
    )
    assert (activity_plots.LAYER.id_field, activity_plots.LAYER.geometry_type) == (
        "terr_id",
        "Polygon",
    )
    assert (establishments.LAYER.id_field, establishments.LAYER.geometry_type) == (
        "SIRET",
        "MultiPoint",
    )


def test_only_enforced_code_lists_reach_conform():
    specs = {f.name: f for f in field_specs(TERRAIN_ECO)}
    assert specs["terr_utile"].enum == ("oui", "non")
    assert specs["terr_etat_occup"].enum is None  # listed by CNIG, not enforced
    assert specs["terr_identif_date"].type == "date"
    assert specs["terr_surf_brute"].unit == "ha"
    assert specs["terr_surf_brute"].required


@pytest.mark.parametrize(
    ("layer", "name", "expected"),
    [
        (activity_sites.LAYER, "site_nom", Classification.PUBLIC),
        (activity_sites.LAYER, "site_moa_nom", Classification.PUBLIC),
        (activity_sites.LAYER, "site_moa_comm", Classification.PERSONAL),
        (activity_sites.LAYER, "site_taux_vacance", Classification.PUBLIC),
        (activity_plots.LAYER, "terr_stade_comm", Classification.PUBLIC),
        (activity_plots.LAYER, "terr_maitrise_fonc", Classification.BUSINESS),
        (activity_plots.LAYER, "terr_stade_amngt", Classification.BUSINESS),
        (activity_plots.LAYER, "terr_m2_prix", Classification.BUSINESS),
        (activity_plots.LAYER, "terr_vente_montant", Classification.INTERNAL),
        (activity_plots.LAYER, "terr_cession_date", Classification.INTERNAL),
        (activity_plots.LAYER, "terr_acquereur", Classification.PERSONAL),
        (establishments.LAYER, "SIRET", Classification.PUBLIC),
        (establishments.LAYER, "etab_nom", Classification.PUBLIC),
        (establishments.LAYER, "etab_effectif_libelle", Classification.PUBLIC),
        (establishments.LAYER, "etab_contact_mail", Classification.BUSINESS),
        (establishments.LAYER, "etab_contact_tel", Classification.BUSINESS),
    ],
)
def test_classification(layer, name, expected):
    assert layer.field(name).classification is expected
