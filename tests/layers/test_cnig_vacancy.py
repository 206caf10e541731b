"""Vacancy rate of a ZAE (art. L.318-8-2 CU) recomputed from the plots, and its comparison."""

from __future__ import annotations

import pandas as pd
import pytest

from atlas.layers.activity_plots import read_activity_plots
from atlas.layers.activity_sites import compare_vacancy, read_activity_sites, vacancy_rate
from atlas.layers.base import ReadOptions
from tests.helpers import require_real_data


@pytest.fixture
def plots() -> pd.DataFrame:
    rows = [
        # S1: four land units, two vacant (vacant, friche); the road (terr_utile non) is no unit
        ("S1", "oui", "vacant"),
        ("S1", "oui", "friche"),
        ("S1", "oui", "occupé"),
        ("S1", "oui", "inoccupé"),  # never occupied: on sale, not vacancy
        ("S1", "non", "vacant"),
        # S2: three units, none vacant, one of unknown state; terr_utile empty still counts
        ("S2", "oui", "occupation transitoire"),
        ("S2", None, "Occupé"),
        ("S2", "oui", "inconnu"),
        # S3: only non-useful plots: no land unit, no rate
        ("S3", "non", "vacant"),
        # S4: spelling variants are folded; 1 of 2 vacant
        ("S4", "OUI", " Vacant "),
        ("S4", "oui", "occupé"),
    ]
    return pd.DataFrame(rows, columns=["site_id", "terr_utile", "terr_etat_occup"])


def test_vacancy_matches_hand_counts(plots):
    rates = vacancy_rate(plots).set_index("site_id")
    assert list(rates.index) == ["S1", "S2", "S4"]
    assert rates.loc["S1", "site_uf_nbre"] == 4
    assert rates.loc["S1", "site_uf_vacant_nbre"] == 2
    assert rates.loc["S1", "site_taux_vacance"] == pytest.approx(50.0)
    assert rates.loc["S2", "site_uf_nbre"] == 3
    assert rates.loc["S2", "site_uf_vacant_nbre"] == 0
    assert rates.loc["S2", "uf_unknown_nbre"] == 1
    assert rates.loc["S2", "site_taux_vacance"] == 0.0
    assert rates.loc["S4", "site_taux_vacance"] == pytest.approx(50.0)


def test_empty_plots_give_an_empty_table():
    empty = pd.DataFrame(columns=["site_id", "terr_utile", "terr_etat_occup"])
    assert vacancy_rate(empty).empty


def test_comparison_flags_a_wrong_declared_rate(plots):
    sites = pd.DataFrame(
        {
            "site_id": ["S1", "S2", "S3", "S4", "S5"],
            # S1 right, S2 wrong, S3 has no plot, S4 rounded within tolerance, S5 undeclared
            "site_taux_vacance": [50, 10, 5, "50,4", None],
        }
    )
    flagged = compare_vacancy(sites, plots, tolerance=1.0)
    assert flagged.to_dict("records") == [{"site_id": "S2", "declared": 10.0, "computed": 0.0}]
    strict = compare_vacancy(sites, plots, tolerance=0.1)
    assert list(strict["site_id"]) == ["S2", "S4"]


@pytest.mark.realdata
def test_cnig_example_declares_a_rate_its_single_plot_cannot_give():
    # The example site declares 13 % (2 vacant units out of 15) but its one example plot is
    # occupied: the recomputed rate is 0 and the comparison says so.
    site = require_real_data("cnig-sites-economiques", "exemple-valide-site-eco.csv")
    plot = require_real_data("cnig-sites-economiques", "exemple-valide-terrain-eco.csv")
    sites = read_activity_sites(site, ReadOptions()).frame
    plots = read_activity_plots(plot, ReadOptions()).frame
    flagged = compare_vacancy(sites, plots)
    assert flagged.to_dict("records") == [
        {"site_id": "80024_SITE-ECO_00001", "declared": 13.0, "computed": 0.0}
    ]
