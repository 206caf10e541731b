"""What each tier gets, end to end over HTTP on both stores (the DESIGN.md tier table)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import mapbox_vector_tile
import morecantile
import numpy as np
import pandas as pd
import pytest
import shapely

from atlas.api.responses import wgs84_bbox
from atlas.audit import open_audit_log
from atlas.policy.tiers import Tier
from tests.policy.oracle import ON_THE_MARKET

L93 = "http://www.opengis.net/def/crs/EPSG/0/2154"


def _items(served, tier: Tier, collection_id: str, **params) -> dict:
    response = served.get(tier, f"/collections/{collection_id}/items", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _audit_records(served, request_ids: set[str]) -> list:
    log = open_audit_log(served.settings)
    try:
        start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        return [r for r in log.since(start) if r.request_id in request_ids]
    finally:
        log.close()


def test_collections_per_tier(served) -> None:
    listed = {
        tier: {c["id"] for c in served.get(tier, "/collections").json()["collections"]}
        for tier in Tier
    }
    assert "parcels" not in listed[Tier.PUBLIC] and "parcels" in listed[Tier.B2B]
    assert not {"water-pipes", "water-structures"} & (listed[Tier.PUBLIC] | listed[Tier.B2B])
    assert {"water-pipes", "water-structures", "parcels"} <= listed[Tier.INTERNAL]
    public = {"elevation", "slope", "heritage-monuments", "services", "communes"}
    public |= {"roads", "waterways", "water-bodies"}  # the base map (OpenStreetMap)
    assert public <= listed[Tier.PUBLIC]


def test_communes_are_the_same_for_every_tier(served) -> None:
    """A public reference layer: every tier gets every commune with every field, exact."""
    answers = {
        tier: _items(served, tier, "communes", limit=100, crs=L93)["features"] for tier in Tier
    }
    assert len(answers[Tier.PUBLIC]) == 23
    assert answers[Tier.PUBLIC] == answers[Tier.B2B] == answers[Tier.INTERNAL]
    fields = set(answers[Tier.PUBLIC][0]["properties"])
    assert {"nom_officiel", "codes_siren_des_epci", "population"} <= fields
    queryables = served.get(Tier.PUBLIC, "/collections/communes/queryables").json()
    described = queryables["properties"]
    assert all(described[name].get("description") for name in fields), described


def test_public_sees_plots_on_the_market_only_with_their_own_extent(served) -> None:
    source = pd.read_csv(served.sources["activity-plots"], sep=";", dtype=str)
    on_market = source[source["terr_stade_comm"].isin(ON_THE_MARKET)]
    body = _items(served, Tier.PUBLIC, "activity-plots", limit=1000, crs=L93)
    assert body["numberMatched"] == len(on_market) > 0
    assert {f["id"] for f in body["features"]} == set(on_market["terr_id"])
    assert "terr_m2_prix" not in body["features"][0]["properties"]
    # The collection's count and extent, and the TileJSON bounds, come from those rows only.
    info = served.get(Tier.PUBLIC, "/collections/activity-plots").json()
    assert info["numberOfFeatures"] == len(on_market)
    geometries = gpd.GeoSeries.from_wkt(
        [shapely.to_wkt(shapely.geometry.shape(f["geometry"])) for f in body["features"]],
        crs="EPSG:2154",
    )
    # Lambert-93 extent of the visible rows, as the API turns any extent into CRS84.
    expected = wgs84_bbox(tuple(float(v) for v in geometries.total_bounds))
    tilejson = served.get(Tier.PUBLIC, "/collections/activity-plots/tiles/WebMercatorQuad").json()
    assert tilejson["bounds"] == pytest.approx(expected, abs=1e-6)
    assert info["extent"]["spatial"]["bbox"][0] == pytest.approx(expected, abs=1e-6)
    all_bounds = served.get(Tier.INTERNAL, "/collections/activity-plots").json()
    assert all_bounds["numberOfFeatures"] == len(source)


def test_b2b_gets_water_indicators_not_exact_values(served) -> None:
    b2b = _items(served, Tier.B2B, "activity-plots", limit=1000)["features"]
    internal = {
        f["id"]: f for f in _items(served, Tier.INTERNAL, "activity-plots", limit=1000)["features"]
    }
    assert len(b2b) == len(internal)
    classes = {f["properties"]["eau_dn_classe"] for f in b2b}
    assert classes - {None}, "the demo plots must have a main near them"
    for feature in b2b:
        assert (
            "eau_dn" not in feature["properties"] and "eau_distance_m" not in feature["properties"]
        )
        exact = internal[feature["id"]]["properties"]
        assert exact["eau_dn_classe"] == feature["properties"]["eau_dn_classe"]
        assert exact["eau_dn"] is None or exact["eau_dn"] > 0


def test_public_establishments_diffusible_and_generalised(served) -> None:
    source = pd.read_csv(served.sources["establishments"], sep=";", dtype=str)
    diffusible = set(source.loc[source["statutDiffusionEtablissement"] == "O", "SIRET"])
    public = _items(served, Tier.PUBLIC, "establishments", limit=1000, crs=L93)["features"]
    b2b = _items(served, Tier.B2B, "establishments", limit=1000, crs=L93)["features"]
    assert {f["id"] for f in public} == diffusible == {f["id"] for f in b2b}
    coordinates = np.array(
        [c for f in public for c in shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))]
    )
    assert np.allclose(coordinates / 50.0, np.round(coordinates / 50.0))  # on the 50 m grid
    exact = np.array(
        [c for f in b2b for c in shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))]
    )
    assert not np.allclose(exact / 50.0, np.round(exact / 50.0))
    assert set(public[0]["properties"]) <= {
        "SIRET", "SIREN", "etab_raison_sociale", "etab_nom", "comm_nom", "comm_insee",
        "epci_nom", "epci_siren", "etab_activite_code", "etab_activite_libelle",
        "etab_effectif_code", "etab_effectif_libelle",
    }  # fmt: skip


def test_owners_only_internal_and_each_access_audited(served) -> None:
    b2b = _items(served, Tier.B2B, "parcels", limit=5)
    assert set(b2b["features"][0]["properties"]) == {"id", "contenance", "site_id"}
    refused = served.get(
        Tier.B2B, "/collections/parcels/items", params={"properties": "proprietaire"}
    )
    made_up = served.get(
        Tier.B2B, "/collections/parcels/items", params={"properties": "qqqqqqqqqqqq"}
    )
    assert refused.status_code == made_up.status_code == 400
    assert (
        refused.json()["description"].replace("proprietaire", "qqqqqqqqqqqq")
        == made_up.json()["description"]
    )

    responses = [
        served.get(Tier.INTERNAL, "/collections/parcels/items", params={"limit": 7}),
        served.get(
            Tier.INTERNAL,
            "/collections/parcels/items",
            params={"limit": 3, "properties": "id,proprietaire"},
        ),
    ]
    first_id = responses[0].json()["features"][0]["id"]
    responses.append(served.get(Tier.INTERNAL, f"/collections/parcels/items/{first_id}"))
    tile = morecantile.tms.get("WebMercatorQuad").tile(2.44, 48.63, 13)
    responses.append(
        served.get(
            Tier.INTERNAL,
            f"/collections/parcels/tiles/WebMercatorQuad/13/{tile.x}/{tile.y}",
            params={"properties": "proprietaire"},
        )
    )
    for response in responses[:3]:
        assert response.status_code == 200
    assert responses[0].json()["features"][0]["properties"]["proprietaire"]
    # Not audited: no personal field asked for.
    unaudited = served.get(
        Tier.INTERNAL, "/collections/parcels/items", params={"properties": "id,contenance"}
    )
    ids = {r.headers.get("x-request-id") for r in [*responses, unaudited]}
    assert None not in ids, "every response names its request id"
    records = _audit_records(served, ids)
    by_request = {r.request_id: r for r in records}
    assert len(records) == len(responses), records
    assert unaudited.headers["x-request-id"] not in by_request
    first = by_request[responses[0].headers["x-request-id"]]
    assert (first.tier, first.action, first.collection_id, first.feature_count) == (
        "internal",
        "read",
        "parcels",
        7,
    )
    assert "proprietaire" in first.detail and first.who.startswith("key:")
    assert by_request[responses[3].headers["x-request-id"]].action == "tile"
    decoded = mapbox_vector_tile.decode(responses[3].content)
    assert by_request[responses[3].headers["x-request-id"]].feature_count == len(
        decoded["parcels"]["features"]
    )


def test_water_network_internal_only_and_audited(served) -> None:
    for tier in (Tier.PUBLIC, Tier.B2B):
        hidden = served.get(tier, "/collections/water-pipes/items")
        unknown = served.get(tier, "/collections/nothing-here/items")
        assert hidden.status_code == unknown.status_code == 404
        assert hidden.json()["description"] == unknown.json()["description"].replace(
            "nothing-here", "water-pipes"
        )
    response = served.get(
        Tier.INTERNAL,
        "/collections/water-pipes/items",
        params={"limit": 4, "properties": "diametre_equivalent"},
    )
    assert response.status_code == 200 and len(response.json()["features"]) == 4
    records = _audit_records(served, {response.headers["x-request-id"]})
    assert len(records) == 1 and records[0].detail.startswith("fields: geometry")


def test_generalised_positions_are_searched_as_generalised(served) -> None:
    """A bbox around the exact position of a business finds nothing for the public tier: the
    bbox is decided on the 50 m position, or boxes could be moved to find the exact one."""
    exact = _items(served, Tier.B2B, "establishments", limit=1000, crs=L93)["features"]
    feature = next(
        f for f in exact if not np.allclose(np.array(f["geometry"]["coordinates"][0]) % 50.0, 0.0)
    )
    x, y = feature["geometry"]["coordinates"][0]
    gx, gy = round(x / 50.0) * 50.0, round(y / 50.0) * 50.0

    def public_ids(box: tuple[float, float, float, float]) -> set[str]:
        body = _items(
            served, Tier.PUBLIC, "establishments", bbox=",".join(map(str, box)), **{"bbox-crs": L93}
        )
        return {f["id"] for f in body["features"]}

    around_exact = (x - 0.5, y - 0.5, x + 0.5, y + 0.5)
    around_grid = (gx - 0.5, gy - 0.5, gx + 0.5, gy + 0.5)
    assert feature["id"] not in public_ids(around_exact)
    assert feature["id"] in public_ids(around_grid)
    assert feature["id"] in {
        f["id"]
        for f in _items(
            served,
            Tier.B2B,
            "establishments",
            bbox=",".join(map(str, around_exact)),
            **{"bbox-crs": L93},
        )["features"]
    }
    spatial = served.get(
        Tier.PUBLIC,
        "/collections/establishments/items",
        params={"filter": "S_INTERSECTS(geometry, POINT(2.44 48.63))"},
    )
    unknown = served.get(
        Tier.PUBLIC,
        "/collections/establishments/items",
        params={"filter": "S_INTERSECTS(geometri, POINT(2.44 48.63))"},
    )
    assert spatial.status_code == unknown.status_code == 400
    assert spatial.json()["description"] == unknown.json()["description"].replace(
        "geometri", "geometry"
    )


def test_partners_see_which_site_each_parcel_belongs_to(served) -> None:
    """DESIGN: b2b parcels are "id, area, site" — the site whose plots list the parcel."""
    plots = pd.read_csv(served.sources["activity-plots"], sep=";", dtype=str)
    expected: dict[str, str] = {}
    rows = zip(plots["terr_id"], plots["terr_refcad"].fillna(""), plots["site_id"], strict=True)
    for _, terr_refcad, site_id in sorted(rows):  # a parcel in two plots: the first plot's site
        for parcel_id in filter(None, (p.strip() for p in terr_refcad.split("|"))):
            expected.setdefault(parcel_id, site_id)
    assert expected
    body = _items(served, Tier.B2B, "parcels", filter="site_id IS NOT NULL", limit=5000)
    got = {f["id"]: f["properties"]["site_id"] for f in body["features"]}
    assert got == expected
