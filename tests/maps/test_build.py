"""Each tier's map on the served demo (both stores): its layers, labels, assets and size."""

from __future__ import annotations

import re

import pytest

from atlas.layers import vector_layers
from atlas.maps.build import build_map
from atlas.maps.labels import FIELDS, TEXT, Lang, text
from atlas.maps.layers import SHEET
from atlas.maps.page import SIZE_BUDGET
from atlas.policy.rules import vector_view
from atlas.policy.tiers import Tier
from tests.maps.conftest import context
from tests.maps.embedded import (
    geojson_documents,
    layer_names,
    loaded_urls,
    marker_rows,
    popups,
    property_keys,
)
from tests.maps.test_assets import FOLIUM_DEFAULTS

# Vendored libraries, and our own scripts (atlas/api/static/atlas: permalink.js): never a CDN.
OURS = ("/static/vendor/", "/static/atlas/")

EVERY_TIER = ("sites", "monuments", "perimeters", "flood", "communes", "roads", "water", "relief")
STAFF_ONLY = ("pipes", "vacancy")


def _names(built, tier: Tier, lang: Lang = Lang.FR) -> list[str]:
    return layer_names(built[tier, lang][0])


@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
def test_every_tier_has_the_public_layers(built, tier: Tier) -> None:
    names = _names(built, tier)
    for key in EVERY_TIER:
        assert text(key, Lang.FR) in names, (key, names)
    services = [n for n in names if n.startswith(text("services", Lang.FR))]
    assert len(services) >= 3, names  # one clustered layer per BPE domain of the demo


def test_public_map_has_plots_on_the_market_and_nothing_of_the_staff(built) -> None:
    names = _names(built, Tier.PUBLIC)
    assert text("plots", Lang.FR) in names
    for key in (*STAFF_ONLY, "parcels"):
        assert text(key, Lang.FR) not in names
    page = built[Tier.PUBLIC, Lang.FR][1].html
    assert "water-pipes" not in page and "/collections/parcels/" not in page
    plots = next(d for d in geojson_documents(page) if "terr_stade_comm" in _keys(d))
    stages = {f["properties"]["terr_stade_comm"] for f in plots["features"]}
    assert stages and stages <= {"en vente", "en vente avec contraintes"}


def _keys(document: dict) -> set[str]:
    return {k for f in document["features"] for k in f["properties"]}


def test_b2b_map_adds_prices_servicing_and_parcels_but_no_network(built) -> None:
    public = property_keys(built[Tier.PUBLIC, Lang.FR][1].html)
    b2b = property_keys(built[Tier.B2B, Lang.FR][1].html)
    for field in ("terr_m2_prix", "eau_dn_classe", "eau_distance_bande"):
        assert field in b2b and field not in public
    names = _names(built, Tier.B2B)
    assert text("parcels", Lang.FR) in names and text("plots_all", Lang.FR) in names
    for key in STAFF_ONLY:
        assert text(key, Lang.FR) not in names
    page = built[Tier.B2B, Lang.FR][1].html
    assert "water-pipes" not in page and "proprietaire" not in page


def test_internal_map_has_the_network_owners_and_vacancy(built) -> None:
    names = _names(built, Tier.INTERNAL)
    for key in (*STAFF_ONLY, "parcels"):
        assert text(key, Lang.FR) in names
    page = built[Tier.INTERNAL, Lang.FR][1].html
    assert "/collections/water-pipes/tiles/WebMercatorQuad/{z}/{x}/{y}" in page
    assert "diametre_equivalent" in page and "materiau" in page  # the pipes' style reads them
    assert "proprietaire" in page  # the parcels' tiles carry the owner, their popup names it
    assert "terr_acquereur" in property_keys(page)


@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
def test_embedded_fields_are_visible_to_the_tier_and_labelled(built, tier: Tier) -> None:
    page = built[tier, Lang.FR][1].html
    visible = {f for c in vector_layers() if (v := vector_view(c, tier)) for f in v.field_names}
    labelled = {f for fields in FIELDS.values() for f in fields}
    assert property_keys(page) - {SHEET} <= visible & labelled  # the sheet's link: not data


@pytest.mark.parametrize("lang", list(Lang), ids=lambda lang: lang.value)
def test_site_and_plot_popups_link_to_their_sheets(served, built, lang: Lang) -> None:
    """Each site and plot the map draws links to its portal sheet, in the map's language."""
    page = built[Tier.PUBLIC, lang][1].html
    plots = served.get(Tier.PUBLIC, "/collections/activity-plots/items", params={"limit": 1000})
    sites = served.get(Tier.PUBLIC, "/collections/activity-sites/items", params={"limit": 1000})
    suffix = "?lang=en" if lang is Lang.EN else ""
    links = {
        f["properties"][SHEET]
        for document in geojson_documents(page)
        for f in document["features"]
        if SHEET in f["properties"]
    }
    expected = {f"/plots/{f['id']}{suffix}" for f in plots.json()["features"]}
    expected |= {f"/sites/{f['id']}{suffix}" for f in sites.json()["features"]}
    hrefs = {re.search(r'href="([^"]+)"', link).group(1) for link in links}
    assert hrefs == expected
    word = text("open_sheet", lang)
    assert all(link.endswith(f'target="_top">{word}</a>') for link in links)


@pytest.mark.parametrize("lang", list(Lang), ids=lambda lang: lang.value)
def test_popups_show_human_labels(built, lang: Lang) -> None:
    found = popups(built[Tier.INTERNAL, lang][0])
    assert len(found) >= 5
    raw = {f for fields in FIELDS.values() for f in fields}
    for popup in found:
        assert popup.fields and len(popup.aliases) == len(popup.fields)
        for field, alias in zip(popup.fields, popup.aliases, strict=True):
            assert alias not in raw and alias != field and alias[0].isupper(), (field, alias)


def test_english_map_speaks_english(built) -> None:
    names = _names(built, Tier.PUBLIC, Lang.EN)
    assert "Business parks" in names and "Parcs d’activités" not in names
    page = built[Tier.PUBLIC, Lang.EN][1].html
    assert '<html lang="en">' in page and "Find a municipality" in page
    assert '<html lang="fr">' in built[Tier.PUBLIC, Lang.FR][1].html


@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
def test_nothing_is_loaded_from_a_cdn(built, tier: Tier) -> None:
    page = built[tier, Lang.FR][1].html
    urls = loaded_urls(page)
    assert urls and all(u.startswith(OURS) for u in urls), urls
    for url in FOLIUM_DEFAULTS:
        assert url not in page
    assert "http://" not in page and "https://" not in page


@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
def test_each_map_is_within_its_size_budget(built, tier: Tier) -> None:
    for lang in Lang:
        page = built[tier, lang][1]
        assert 50_000 < page.size <= SIZE_BUDGET, (tier, lang, page.size)


def test_services_are_clustered_by_domain_with_their_label(built) -> None:
    rows = marker_rows(built[Tier.PUBLIC, Lang.FR][1].html)
    assert len(rows) > 50
    assert all(isinstance(r[2], str) and r[2] for r in rows)
    assert len({r[3] for r in rows}) >= 3  # a colour per domain


def test_an_operator_basemap_is_added_only_when_set(served) -> None:
    url = "https://tiles.example.fr/plan/{z}/{x}/{y}.png"
    m = build_map(context(served, Tier.PUBLIC, basemap_url=url, basemap_attribution="IGN"))
    assert text("basemap", Lang.FR) in layer_names(m)
    assert url in m.get_root().render()


def test_every_text_has_both_languages() -> None:
    for key, pair in TEXT.items():
        assert len(pair) == 2 and all(pair), key
        assert not any("'" in t or "\\" in t for t in pair), key  # some go into '…' in JS
    for fields in FIELDS.values():
        assert all(len(pair) == 2 and all(pair) for pair in fields.values())


def test_vacancy_classes_follow_their_breaks() -> None:
    from atlas.maps.layers import VACANCY_COLOURS, vacancy_class

    assert [vacancy_class(r) for r in (0.0, 4.9, 5.0, 12.0, 25.0, 30.0, 95.0)] == [
        VACANCY_COLOURS[0], VACANCY_COLOURS[0], VACANCY_COLOURS[1], VACANCY_COLOURS[2],
        VACANCY_COLOURS[3], VACANCY_COLOURS[4], VACANCY_COLOURS[4],
    ]  # fmt: skip
    assert vacancy_class(None) == "#cccccc"


def test_the_staff_vacancy_layer_colours_each_site_by_its_rate(built) -> None:
    from atlas.maps.layers import vacancy_class

    page = built[Tier.INTERNAL, Lang.FR][1].html
    rates = [
        f["properties"].get("site_taux_vacance")
        for d in geojson_documents(page)
        if "site_taux_vacance" in _keys(d)
        for f in d["features"]
    ]
    assert rates and any(r is not None for r in rates)
    for rate in {r for r in rates if r is not None}:
        assert vacancy_class(rate).lower() in page.lower()
