"""The directory, the territory's totals and the search (``atlas.portal.territory``), both stores."""

from __future__ import annotations

import pytest

from atlas.layers.activity_plots import ON_THE_MARKET
from atlas.policy.tiers import Tier
from atlas.portal.territory import SORT_KEYS, directory, search, sort_rows, totals
from atlas.query.features import FeatureQuery
from tests.portal.test_sheets import gate_of


@pytest.mark.parametrize("tier", [Tier.PUBLIC, Tier.INTERNAL], ids=lambda t: t.value)
def test_the_directory_is_every_site_with_the_gates_figures(served, tier: Tier) -> None:
    gate = gate_of(served, tier)
    rows = directory(gate, "fr")
    sites = gate.frame("activity-sites", FeatureQuery(), action="read")
    assert {r.site_id for r in rows} == set(sites["site_id"]) and len(rows) == len(sites)
    plots = gate.frame("activity-plots", FeatureQuery(properties=("site_id", "terr_stade_comm")))
    market = plots[plots["terr_stade_comm"].isin(ON_THE_MARKET)]
    by_id = sites.set_index("site_id")
    for row in rows:
        site = by_id.loc[row.site_id]
        assert row.name == site["site_nom"] and row.commune == site["site_comm_nom"]
        assert row.area_ha == pytest.approx(site["site_surf_brute"])
        assert row.vacancy_pct == pytest.approx(site["site_taux_vacance"])
        assert row.plots_on_market == int((market["site_id"] == row.site_id).sum())
    figures = totals(gate, rows)
    assert figures.sites == gate.count("activity-sites") == len(rows)
    assert figures.plots_on_market == len(market) > 0
    assert figures.available_ha == pytest.approx(sites["site_surf_comm_dispo"].sum())
    vacant, units = sites["site_uf_vacant_nbre"].sum(), sites["site_uf_nbre"].sum()
    assert figures.vacancy_pct == pytest.approx(100 * vacant / units)


def test_the_directory_sorts_by_each_column(served) -> None:
    rows = directory(gate_of(served, Tier.PUBLIC), "fr")
    for key in SORT_KEYS:
        for descending in (False, True):
            ordered = sort_rows(rows, key, descending)
            assert sorted(r.site_id for r in ordered) == sorted(r.site_id for r in rows)
    by_vacancy = [r.vacancy_pct for r in sort_rows(rows, "vacancy", True)]
    known = [v for v in by_vacancy if v is not None]
    assert known == sorted(known, reverse=True) and by_vacancy[: len(known)] == known
    assert [r.plots_on_market for r in sort_rows(rows, "plots")] == sorted(
        r.plots_on_market for r in rows
    )


def test_search_finds_sites_and_goes_straight_to_an_id(served) -> None:
    gate = gate_of(served, Tier.PUBLIC)
    rows = directory(gate, "fr")
    site = rows[0]
    by_commune = search(gate, site.commune.upper(), "fr")
    assert site.site_id in {r.site_id for r in by_commune.sites}
    assert all(site.commune.lower() in r.commune.lower() or site.commune.lower() in r.name.lower()
               for r in by_commune.sites)  # fmt: skip
    assert search(gate, site.site_id.lower(), "fr").redirect == f"/sites/{site.site_id}"
    plot = gate.query("activity-plots", FeatureQuery(limit=1)).features[0]
    assert search(gate, plot.id, "fr").redirect == f"/plots/{plot.id}"
    parcel = plot.properties["terr_refcad"].split("|")[0]
    assert plot.id in {terr_id for terr_id, _ in search(gate, parcel, "fr").plots}
    assert search(gate, "   ", "fr") == search(gate, "", "fr")
    assert not search(gate, "zzzz-nothing", "fr").sites


def test_search_never_finds_what_the_tier_may_not_see(served) -> None:
    public, staff = gate_of(served, Tier.PUBLIC), gate_of(served, Tier.INTERNAL)
    off_market = [
        p
        for p in staff.query("activity-plots", FeatureQuery(limit=10_000)).features
        if p.properties["terr_stade_comm"] not in ON_THE_MARKET
    ]
    assert off_market
    for plot in off_market[:5]:
        assert search(staff, plot.id, "fr").redirect == f"/plots/{plot.id}"
        found = search(public, plot.id, "fr")
        assert found.redirect is None and plot.id not in {t for t, _ in found.plots}
