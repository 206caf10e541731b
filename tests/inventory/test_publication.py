"""The publication rules on small frames: who counts as a legal person, what is blanked."""

from __future__ import annotations

import pandas as pd
import pytest

from atlas.inventory.publication import ANONYMISED_FIELDS, is_legal_person, publish
from atlas.layers.base import Classification
from atlas.layers.cnig import CLASSES, ETABLISSEMENT, SITE_ECO, TERRAIN_ECO


@pytest.mark.parametrize(
    ("name", "control", "legal"),
    [
        ("VEGA PLOMBERIE SARL", "établissement industriel et commercial", True),
        ("SCI Les Tilleuls", None, True),
        ("Commune de Lisses", "commune", True),
        ("Établissement public foncier d'Île-de-France", None, True),
        ("SA Lactalys", "investisseur professionnel", True),
        ("VEGA PLOMBERIE SARL", "personne physique", False),  # the land control says a person
        ("Jean Martin", "investisseur professionnel", False),  # no sign of a legal person
        ("Mme Sophie Girard", None, False),
        ("M. Paul Durand SAS", None, False),  # a civility wins over a legal form
        ("Martin Jean EI", None, False),  # entrepreneur individuel: a natural person
        ("Indivision Lefebvre", None, False),
        ("", None, False),
        (None, None, False),
    ],
)
def test_who_is_a_legal_person(name, control, legal):
    assert is_legal_person(name, control) is legal


def test_no_personal_cnig_field_is_required():
    for cnig_class in CLASSES.values():
        personal = [f for f in cnig_class.fields if f.classification == Classification.PERSONAL]
        assert not [f.name for f in personal if f.required]
        assert {f.name for f in personal} <= set(ANONYMISED_FIELDS[cnig_class.name])


def test_publish_blanks_and_removes():
    sites = pd.DataFrame({"site_id": ["S1", "S2"], "site_moa_comm": ["Claire Dubreuil", None]})
    plots = pd.DataFrame(
        {
            "terr_id": ["T1", "T2", "T3"],
            "terr_maitrise_fonc": ["investisseur professionnel", "personne physique", None],
            "terr_acquereur": ["ALPHA FRET SAS", None, "Paul Durand"],
            "terr_cession_date": ["2020-01-01", "2021-01-01", "2022-01-01"],
            "terr_vente_montant": [1000.0, 2000.0, 3000.0],
            "terr_m2_prix": [10.0, 20.0, 30.0],
        }
    )
    establishments = pd.DataFrame(
        {
            "SIRET": ["1", "2", "3"],
            "statutDiffusionEtablissement": ["O", "P", None],
            "etab_contact_mail": ["a@b.fr", "c@d.fr", None],
            "etab_contact_tel": ["01", None, None],
        }
    )
    frames = {SITE_ECO.name: sites, TERRAIN_ECO.name: plots, ETABLISSEMENT.name: establishments}
    out, done = publish(frames)
    assert out[SITE_ECO.name]["site_moa_comm"].isna().all()
    published = out[TERRAIN_ECO.name].set_index("terr_id")
    assert published.loc["T1"].tolist() == plots.set_index("terr_id").loc["T1"].tolist()
    for plot in ("T2", "T3"):
        assert published.loc[plot, list(ANONYMISED_FIELDS[TERRAIN_ECO.name])].isna().all()
    assert out[ETABLISSEMENT.name]["SIRET"].tolist() == ["1"]
    assert out[ETABLISSEMENT.name][["etab_contact_mail", "etab_contact_tel"]].isna().all().all()
    assert plots["terr_acquereur"].tolist()[0] == "ALPHA FRET SAS", "the input is not changed"
    lines = "\n".join(done.lines())
    assert "removed (SIRENE status not 'O'): 2" in lines
    assert "Paul Durand" not in lines and "Claire" not in lines
