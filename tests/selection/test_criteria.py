"""Each site-selection criterion against the oracle, on both stores and as each tier."""

from __future__ import annotations

import pytest

from atlas.policy.tiers import Tier
from tests.selection.oracle import (
    BAND_UPPER,
    CLASS_LOWER,
    ON_THE_MARKET,
    Oracle,
    features_by_id,
    verdict,
)

URL = "/site-selection"


def search(served, tier: Tier, body: dict) -> dict:
    """POST a search as ``tier``; the 200 response document."""
    response = served.client.post(URL, json=body, headers=served.headers[tier])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    return response.json()


def test_every_visible_plot_is_evaluated(served, oracle: Oracle) -> None:
    """Internal and b2b rank every plot; the public only ever gets the plots on the market."""
    everything = search(served, Tier.INTERNAL, {"limit": 1000})
    assert set(features_by_id(everything)) == set(oracle.plots.index)
    public = search(served, Tier.PUBLIC, {"limit": 1000, "on_market": False})
    on_market = set(oracle.plots.index[oracle.plots["terr_stade_comm"].isin(ON_THE_MARKET)])
    assert set(features_by_id(public)) == on_market
    assert public["numberEvaluated"] == len(on_market) and public["numberPassing"] == 0
    for feature in public["features"]:
        assert not verdict(feature, "on_market")["ok"]  # none is off the market


def test_area(served, oracle: Oracle) -> None:
    """Gross area (terr_surf_brute, ha) between the bounds."""
    document = search(served, Tier.B2B, {"min_area_ha": 5, "max_area_ha": 20, "limit": 1000})
    for terr_id, feature in features_by_id(document).items():
        area = oracle.plots.loc[terr_id, "terr_surf_brute"]
        found = verdict(feature, "area")
        assert found["value"] == pytest.approx(area)
        assert found["ok"] is bool(5 <= area <= 20), (terr_id, area, found)
        if area < 5:
            assert "below the 5 ha minimum" in found["reason_en"]
            assert found["reason_fr"].startswith("exclu : surface")


def test_vocation_and_use(served, oracle: Oracle) -> None:
    """A site vocation (dominant or flagged) among those asked; the plot's use among those asked."""
    body = {"vocations": ["Industrielle", "tertiaire"], "usages": ["bâti productif"], "limit": 1000}
    document = search(served, Tier.INTERNAL, body)
    assert document["criteria"]["vocations"] == ["industrielle", "tertiaire"]
    for terr_id, feature in features_by_id(document).items():
        expected = bool(oracle.vocations(terr_id) & {"industrielle", "tertiaire"})
        assert verdict(feature, "vocation")["ok"] is expected, terr_id
        use = oracle.plots.loc[terr_id, "terr_usage"]
        assert verdict(feature, "usage")["ok"] is (use == "bâti productif")
        assert verdict(feature, "usage")["value"] == use


def test_on_market(served, oracle: Oracle) -> None:
    """terr_stade_comm in the CNIG 'en vente' stages."""
    document = search(served, Tier.INTERNAL, {"on_market": True, "limit": 1000})
    for terr_id, feature in features_by_id(document).items():
        stage = oracle.plots.loc[terr_id, "terr_stade_comm"]
        assert verdict(feature, "on_market")["ok"] is (stage in ON_THE_MARKET)
    assert document["numberPassing"] == int(
        oracle.plots["terr_stade_comm"].isin(ON_THE_MARKET).sum()
    )


def test_water_internal_exact(served) -> None:
    """Staff: the exact DN and metres of the nearest main, as the internal items carry them."""
    items = served.get(
        Tier.INTERNAL, "/collections/activity-plots/items", params={"limit": 1000}
    ).json()
    exact = {f["id"]: f["properties"] for f in items["features"]}
    body = {"water_min_dn": 150, "water_max_distance_m": 100, "limit": 1000}
    document = search(served, Tier.INTERNAL, body)
    passing = 0
    for terr_id, feature in features_by_id(document).items():
        dn, metres = exact[terr_id]["eau_dn"], exact[terr_id]["eau_distance_m"]
        found = verdict(feature, "water")
        assert found["value"] == {"eau_dn": dn, "eau_distance_m": metres}
        ok = dn is not None and dn >= 150 and metres <= 100
        assert found["ok"] is ok, (terr_id, dn, metres)
        passing += ok
        if dn is not None:
            assert found["reason_en"].endswith(f"water main DN {dn} at {metres:.0f} m") or (
                f"water main DN {dn} at {metres:.0f} m," in found["reason_en"]
            )
            assert f"réseau DN {dn} à {metres:.0f} m" in found["reason_fr"]
    assert 0 < passing < len(exact), "the demo must have plots on both sides"


def test_water_b2b_bands(served) -> None:
    """Partners: the class and band the plot carries, judged on the class's lower edge and the
    band's upper edge; never an exact value."""
    items = served.get(Tier.B2B, "/collections/activity-plots/items", params={"limit": 1000}).json()
    banded = {f["id"]: f["properties"] for f in items["features"]}
    document = search(served, Tier.B2B, {"water_min_dn": 200, "water_max_distance_m": 150})
    for terr_id, feature in features_by_id(document).items():
        dn_class = banded[terr_id]["eau_dn_classe"]
        band = banded[terr_id]["eau_distance_bande"]
        found = verdict(feature, "water")
        assert found["value"] == {"eau_dn_classe": dn_class, "eau_distance_bande": band}
        ok = dn_class is not None and CLASS_LOWER[dn_class] >= 200 and BAND_UPPER[band] <= 150
        assert found["ok"] is ok, (terr_id, dn_class, band)
        if dn_class is not None:
            assert f"water main {dn_class} at {band}" in found["reason_en"]
            assert f"réseau {dn_class} à {band}" in found["reason_fr"]
        assert (
            "eau_dn" not in feature["properties"] and "eau_distance_m" not in feature["properties"]
        )
    assert '"eau_dn"' not in str(document) and "eau_distance_m" not in str(document)


def test_water_refused_to_the_public_like_an_unknown_field(served) -> None:
    """The public has no water indicators: the criterion answers exactly like a made-up name."""
    for name in ("water_min_dn", "water_max_distance_m"):
        stand_in = "z" * len(name)
        refused = served.client.post(URL, json={name: 100})
        unknown = served.client.post(URL, json={stand_in: 100})
        assert refused.status_code == unknown.status_code == 400
        assert refused.text == unknown.text.replace(stand_in, name)
        assert refused.json()["description"] == f"unknown field '{name}'"
        by_url = served.get(Tier.PUBLIC, URL, params={name: "-3"})
        assert by_url.status_code == 400 and by_url.text == refused.text


def test_heritage_names_the_monuments(served, oracle: Oracle) -> None:
    """Outside every abords circle; an exclusion names each monument's Mérimée reference."""
    document = search(served, Tier.PUBLIC, {"outside_heritage": True, "limit": 1000})
    internal = search(served, Tier.INTERNAL, {"outside_heritage": True, "limit": 1000})
    excluded = 0
    for terr_id, feature in features_by_id(internal).items():
        references = oracle.monuments_over(terr_id)
        found = verdict(feature, "heritage")
        assert found["ok"] is (not references), (terr_id, references)
        assert {item["reference"] for item in found["value"]} == references
        for reference in references:
            assert f"monument {reference}" in found["reason_en"]
            assert f"monument {reference}" in found["reason_fr"]
        if references:
            excluded += 1
            assert found["reason_en"].startswith("excluded: inside the abords of monument PA")
            assert found["reason_fr"].startswith("exclu : dans les abords du monument PA")
    assert excluded > 0, "the demo must have plots in abords"
    public = features_by_id(document)
    for terr_id, feature in public.items():
        assert verdict(feature, "heritage") == verdict(
            features_by_id(internal)[terr_id], "heritage"
        )


def test_flood_classes(served, oracle: Oracle) -> None:
    """No overlap with a hazard zone of the excluded classes (others allowed)."""
    document = search(served, Tier.B2B, {"exclude_flood_classes": [3, 4], "limit": 1000})
    seen = {True: 0, False: 0}
    for terr_id, feature in features_by_id(document).items():
        classes = oracle.hazard_classes(terr_id)
        found = verdict(feature, "flood")
        assert found["ok"] is (not classes & {3, 4}), (terr_id, classes)
        assert {item["classe_alea"] for item in found["value"]} == classes
        seen[found["ok"]] += 1
        if not found["ok"]:
            assert "(class 3)" in found["reason_en"] or "(class 4)" in found["reason_en"]
    assert seen[False] > 0 and seen[True] > 0


def test_slope(served, oracle: Oracle) -> None:
    """Mean of the slope in percent over the plot's pixels, from the slope COG."""
    document = search(served, Tier.PUBLIC, {"max_slope_pct": 1.5, "limit": 1000})
    outcomes = set()
    for terr_id, feature in features_by_id(document).items():
        expected = oracle.mean_slope_pct(terr_id)
        found = verdict(feature, "slope")
        assert found["value"] == pytest.approx(expected, abs=0.006), terr_id
        assert found["ok"] is (expected <= 1.5)
        outcomes.add(found["ok"])
    assert outcomes == {True, False}


def test_motorway_and_station(served, oracle: Oracle) -> None:
    """The plot's site's autoroute_echang_dist and gare_dist (km)."""
    body = {"max_motorway_km": 3, "max_station_km": 2, "limit": 1000}
    document = search(served, Tier.INTERNAL, body)
    for terr_id, feature in features_by_id(document).items():
        site = oracle.site_of(terr_id)
        motorway, station = verdict(feature, "motorway"), verdict(feature, "station")
        assert motorway["value"] == pytest.approx(site["autoroute_echang_dist"])
        assert motorway["ok"] is bool(site["autoroute_echang_dist"] <= 3)
        assert station["ok"] is bool(site["gare_dist"] <= 2)
        assert site["gare_nom"] in station["reason_en"]
        assert f"({site['autoroute_nom']})" in motorway["reason_fr"]
