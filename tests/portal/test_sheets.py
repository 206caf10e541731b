"""Site and plot sheets (``atlas.portal.sheets``) over the served demo, on both stores.

Every figure is checked against what the gate answers for the same feature (``gate.feature``,
``gate.frame``), and every spatial part against shapely on the gate's own geometries: the sheet
must say what the data says, to the tier it is built for, and nothing the tier may not see.
"""

from __future__ import annotations

import datetime as dt

import pytest
import shapely

from atlas.errors import NotFound
from atlas.layers.activity_plots import ON_THE_MARKET
from atlas.policy.gate import Gate
from atlas.policy.tiers import Principal, Tier
from atlas.portal.reading import crs84
from atlas.portal.sheet import Contact, Role, Sheet
from atlas.portal.sheets import DEFAULT_CONTACT, plot_sheet, site_sheet
from atlas.portal.surroundings import SERVICE_RADIUS_M
from atlas.query.features import FeatureQuery
from atlas.query.requests import FeatureRequest
from atlas.settings import ContactSettings

PRICE = "terr_m2_prix"
BUSINESS_ONLY = ("terr_m2_prix", "price_total", "terr_maitrise_fonc", "terr_stade_amngt",
                 "eau_dn_classe", "eau_distance_bande")  # fmt: skip
STAFF_ONLY = ("eau_dn", "eau_distance_m")


def gate_of(served, tier: Tier) -> Gate:
    """A gate of ``tier`` over the served demo."""
    return served.client.app.state.policy.gate(Principal(tier=tier, name="sheet tests"), "sheets")


def number(text: str) -> float:
    """A number as a sheet writes it, French or English, back to a float."""
    cleaned = text.replace("\u202f", "").replace("\xa0", "")
    if "," in cleaned and "." not in cleaned and len(cleaned.split(",")[-1]) != 3:
        cleaned = cleaned.replace(",", ".")  # a French decimal comma
    return float(cleaned.replace(",", ""))


def figure_value(sheet: Sheet, key: str) -> str:
    found = sheet.figure(key)
    assert found is not None, (key, [f.key for s in sheet.sections for f in s.figures])
    return found.value


def _plots(gate: Gate, **query) -> list:
    return gate.query("activity-plots", FeatureQuery(limit=10_000, **query)).features


@pytest.fixture(scope="module")
def market_site(served) -> str:
    """A site with at least two plots on the market, priced (chosen from the staff's answers)."""
    plots = _plots(gate_of(served, Tier.INTERNAL))
    counts: dict[str, int] = {}
    for p in plots:
        if p.properties["terr_stade_comm"] in ON_THE_MARKET and p.properties.get(PRICE):
            counts[p.properties["site_id"]] = counts.get(p.properties["site_id"], 0) + 1
    return max(sorted(counts), key=lambda s: counts[s])


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_site_sheet_has_the_sites_figures(served, market_site: str, lang: str) -> None:
    gate = gate_of(served, Tier.PUBLIC)
    site = gate.feature("activity-sites", FeatureRequest(market_site)).properties
    sheet = site_sheet(gate, market_site, lang)
    assert sheet.kind == "site" and sheet.id == market_site and sheet.lang == lang
    assert sheet.title == site["site_nom"] and sheet.subtitle == site["site_comm_nom"]
    assert sheet.path == f"/sites/{market_site}"
    assert sheet.verified_on == dt.date.fromisoformat(str(site["site_actu_date"])[:10])
    for key in ("site_surf_brute", "site_surf_comm_dispo", "site_taux_vacance", "site_uf_nbre"):
        assert number(figure_value(sheet, key)) == pytest.approx(float(site[key]), abs=0.01), key
    on_market = [p for p in _plots(gate) if p.properties["site_id"] == market_site]
    assert int(figure_value(sheet, "plots_on_market")) == len(on_market) >= 2
    listed = next(s for s in sheet.sections if s.key == "plots")
    assert {f.href for f in listed.figures} == {f"/plots/{p.id}" for p in on_market}
    assert sheet.contact == DEFAULT_CONTACT
    assert sheet.contact.name == ContactSettings.model_fields["name"].default


def test_a_sheet_speaks_its_language(served, market_site: str) -> None:
    gate = gate_of(served, Tier.PUBLIC)
    fr, en = site_sheet(gate, market_site, "fr"), site_sheet(gate, market_site, "en")
    assert [s.key for s in fr.sections] == [s.key for s in en.sections]
    assert fr.sections[0].title == "Chiffres clés" and en.sections[0].title == "Key figures"
    labels_fr = {f.label for s in fr.sections for f in s.figures}
    labels_en = {f.label for s in en.sections for f in s.figures}
    assert "Surface disponible (ha)" in labels_fr and "Available area (ha)" in labels_en
    raw = {f.key for s in fr.sections for f in s.figures}
    assert not (labels_fr | labels_en) & raw, "a label is never a raw CNIG name"
    assert figure_value(en, "reseau_eau_potable") in ("yes", "no")
    assert figure_value(fr, "reseau_eau_potable") in ("oui", "non")


@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
def test_prices_and_water_only_where_the_tier_sees_them(served, market_site: str, tier) -> None:
    gate = gate_of(served, tier)
    sheet = site_sheet(gate, market_site, "fr")
    plot_id = next(
        p.id for p in _plots(gate_of(served, Tier.PUBLIC)) if p.properties["site_id"] == market_site
    )
    plot = plot_sheet(gate, plot_id, "fr")
    shown = {f.key for s in (*sheet.sections, *plot.sections) for f in s.figures}
    if tier is Tier.PUBLIC:
        assert not shown & {*BUSINESS_ONLY, *STAFF_ONLY}
        return
    prices = [p.properties[PRICE] for p in _plots(gate) if p.properties["site_id"] == market_site
              and p.properties["terr_stade_comm"] in ON_THE_MARKET and p.properties.get(PRICE)]  # fmt: skip
    low, *high = (number(v) for v in figure_value(sheet, PRICE).split(" – "))
    assert low == pytest.approx(min(prices), abs=0.5)
    assert (high or [low])[0] == pytest.approx(max(prices), abs=0.5)
    answer = gate.feature("activity-plots", FeatureRequest(plot_id)).properties
    assert number(figure_value(plot, PRICE)) == pytest.approx(answer[PRICE], abs=0.005)
    total = answer[PRICE] * answer["terr_surf_brute"] * 10_000
    assert number(figure_value(plot, "price_total")) == pytest.approx(total, abs=1)
    assert (tier is Tier.INTERNAL) == bool(shown & set(STAFF_ONLY))


def test_a_plot_sheet_has_the_plots_figures_and_its_site(served, market_site: str) -> None:
    gate = gate_of(served, Tier.PUBLIC)
    plot = next(p for p in _plots(gate) if p.properties["site_id"] == market_site)
    site = gate.feature("activity-sites", FeatureRequest(market_site)).properties
    sheet = plot_sheet(gate, plot.id, "en")
    assert sheet.title == f"Plot {plot.id}" and sheet.path == f"/plots/{plot.id}"
    assert sheet.subtitle == f"{site['site_nom']}, {site['site_comm_nom']}"
    area = plot.properties["terr_surf_brute"]
    assert number(figure_value(sheet, "terr_surf_brute")) == pytest.approx(area, abs=0.005)
    assert figure_value(sheet, "terr_stade_comm") in ("for sale", "for sale with constraints")
    assert figure_value(sheet, "terr_refcad") == ", ".join(
        plot.properties["terr_refcad"].split("|")
    )
    assert sheet.verified_on == dt.date.fromisoformat(str(plot.properties["terr_actu_date"])[:10])
    roles = {s.role for s in sheet.shapes}
    assert {Role.SUBJECT, Role.SITE} <= roles
    subject = next(s.geometry for s in sheet.shapes if s.role is Role.SUBJECT)
    assert subject.equals_exact(crs84(plot.geometry), 1e-5)
    for shape in sheet.shapes:  # every shape in CRS84, on the demo territory
        west, south, east, north = shape.geometry.bounds
        assert 2.0 < west <= east < 3.0 and 48.3 < south <= north < 48.9, shape


def test_unknown_and_hidden_ids_are_not_found(served) -> None:
    public, partner = gate_of(served, Tier.PUBLIC), gate_of(served, Tier.B2B)
    off_market = next(
        p.id for p in _plots(partner) if p.properties["terr_stade_comm"] not in ON_THE_MARKET
    )
    assert plot_sheet(partner, off_market, "fr").id == off_market
    for gate, build, ident in [
        (public, plot_sheet, off_market),  # the public has the plots on the market only
        (public, plot_sheet, "no-such-plot"),
        (partner, site_sheet, "no-such-site"),
        (partner, site_sheet, "x' OR '1'='1"),
    ]:
        with pytest.raises(NotFound):
            build(gate, ident, "fr")


def test_services_nearby_are_counted_by_the_gates_geometry(served, market_site: str) -> None:
    gate = gate_of(served, Tier.PUBLIC)
    site = gate.feature("activity-sites", FeatureRequest(market_site))
    services = gate.frame("services", FeatureQuery(properties=("id", "domaine")), action="read")
    near = services[services.geometry.distance(site.geometry) <= SERVICE_RADIUS_M]
    sheet = site_sheet(gate, market_site, "fr")
    assert int(figure_value(sheet, "services")) == len(near) > 0
    for letter, count in near["domaine"].value_counts().items():
        assert figure_value(sheet, f"services-{letter}").split(" — ")[0] == str(count)
    drawn = [s for s in sheet.shapes if s.role is Role.SERVICE]
    assert len(drawn) == len(near)


def _sheet_with(served, collection_id: str) -> tuple[str, list]:
    """A site crossed by features of ``collection_id`` (found with shapely), and those features."""
    gate = gate_of(served, Tier.PUBLIC)
    sites = gate.frame("activity-sites", FeatureQuery(properties=("site_id",)), action="read")
    layer = gate.frame(collection_id, FeatureQuery(), action="read")
    for site_id, geometry in zip(sites["site_id"], sites.geometry, strict=True):
        crossing = layer[layer.geometry.intersection(geometry).area >= 1.0]
        if len(crossing):
            return site_id, crossing.to_dict("records")
    pytest.fail(f"the demo has no site crossed by {collection_id}")


def test_heritage_perimeters_over_a_site_are_named(served) -> None:
    site_id, perimeters = _sheet_with(served, "heritage-perimeters")
    sheet = site_sheet(gate_of(served, Tier.PUBLIC), site_id, "fr")
    named = figure_value(sheet, "heritage")
    for perimeter in perimeters:
        assert perimeter["titre_editorial_de_la_notice"] in named
    assert any(s.role is Role.HERITAGE for s in sheet.shapes)


def test_hazard_zones_over_a_site_are_named(served) -> None:
    site_id, zones = _sheet_with(served, "flood-hazard")
    sheet = site_sheet(gate_of(served, Tier.PUBLIC), site_id, "en")
    worst = max(int(z["classe_alea"]) for z in zones if z["classe_alea"] is not None)
    names = {0: "nil", 1: "low", 2: "moderate", 3: "high", 4: "very high"}
    assert figure_value(sheet, "flood-hazard").startswith(f"{names[worst]} hazard")
    flood = [s.geometry for s in sheet.shapes if s.role is Role.FLOOD]
    subject = next(s.geometry for s in sheet.shapes if s.role is Role.SUBJECT)
    assert flood and shapely.union_all(flood).intersects(subject)


def test_the_contact_is_the_one_given(served, market_site: str) -> None:
    office = Contact("Pôle implantation", "Accueil des entreprises", "pole@agglo.example", "")
    sheet = site_sheet(gate_of(served, Tier.PUBLIC), market_site, "fr", contact=office)
    assert sheet.contact == office
