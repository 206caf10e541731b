"""Whole-world, antimeridian and partly outside boxes on the items endpoint, on both stores.

OGC API Features Part 1, 7.15.3: a GIS client zoomed out sends the whole world, and a box whose
west edge lies east of its east edge crosses the antimeridian. The oracle is shapely in CRS84
over every feature the tier gets without a bbox: a Lambert-93 box containing the asked one may
hold a little more near its edges (its meridians are straight, its parallels arcs), so features
inside the asked box must come back, and features well away from it must not.
"""

from __future__ import annotations

import pytest
import shapely

from atlas.policy.tiers import Tier

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
# (tier, collection): exact geometry, restricted rows, generalised positions, many polygons.
CASES = [
    (Tier.PUBLIC, "activity-plots"),
    (Tier.PUBLIC, "establishments"),
    (Tier.INTERNAL, "parcels"),
]
WORLD = [
    (CRS84, "-180,-90,180,90"),
    (f"{EPSG}4326", "-90,-180,90,180"),
    (f"{EPSG}3857", "-20037508.34,-20048966.1,20037508.34,20048966.1"),
    (f"{EPSG}3949", "-1e7,-1e7,1e8,1e8"),
]


def _features(served, tier: Tier, collection_id: str, **params) -> dict[str, shapely.Geometry]:
    """Every feature of every page, CRS84 geometry by id."""
    out: dict[str, shapely.Geometry] = {}
    offset = 0
    while True:
        response = served.get(
            tier,
            f"/collections/{collection_id}/items",
            params={**params, "limit": 1000, "offset": offset},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        out.update({f["id"]: shapely.geometry.shape(f["geometry"]) for f in body["features"]})
        if len(body["features"]) < 1000:
            assert len(out) == body["numberMatched"]
            return out
        offset += 1000


@pytest.mark.parametrize(("bbox_crs", "bbox"), WORLD, ids=lambda v: v.rsplit("/", 1)[-1][:12])
@pytest.mark.parametrize(("tier", "collection_id"), CASES, ids=lambda v: str(v))
def test_the_whole_world_holds_every_feature(served, tier, collection_id, bbox_crs, bbox) -> None:
    every = _features(served, tier, collection_id)
    assert every, f"the demo must have {collection_id} for {tier}"
    in_world = _features(served, tier, collection_id, bbox=bbox, **{"bbox-crs": bbox_crs})
    assert set(in_world) == set(every)


def _halves_check(
    every: dict[str, shapely.Geometry], got: set[str], inside: list, away: shapely.Geometry
) -> None:
    must = {i for i, g in every.items() if any(g.intersects(box) for box in inside)}
    must_not = {i for i, g in every.items() if g.within(away)}
    assert must and must_not, "the demo must have features on both sides"
    assert must <= got
    assert not got & must_not


@pytest.mark.parametrize(("tier", "collection_id"), CASES, ids=lambda v: str(v))
def test_a_box_across_the_antimeridian_means_its_two_halves(served, tier, collection_id) -> None:
    every = _features(served, tier, collection_id)
    # West edge 2.46°E, east edge 2.40°E: everything but the 4 km strip between them.
    got = _features(served, tier, collection_id, bbox="2.46,48.3,2.40,48.9")
    halves = [shapely.box(2.46, 48.3, 180, 48.9), shapely.box(-180, 48.3, 2.40, 48.9)]
    # Lambert-93 boxes of the halves may reach ~200 m (0.003°) into the strip at this latitude.
    _halves_check(every, set(got), halves, shapely.box(2.41, 48.3, 2.45, 48.9))
    # The same box in EPSG:4326, latitude first.
    latlon = _features(
        served, tier, collection_id, bbox="48.3,2.46,48.9,2.40", **{"bbox-crs": f"{EPSG}4326"}
    )
    assert set(latlon) == set(got)


def test_a_box_partly_outside_lambert93_is_clipped_to_it(served) -> None:
    """A box from 80°S to 80°N reprojects as the part of it where Lambert-93 is defined."""
    every = _features(served, Tier.INTERNAL, "parcels")
    for bbox, crs in (("-30,-80,2.43,80", CRS84), ("-80,-30,80,2.43", f"{EPSG}4326")):
        got = _features(served, Tier.INTERNAL, "parcels", bbox=bbox, **{"bbox-crs": crs})
        # The meridian 2.43°E leans ~0.11° over France's 10° of latitude: a margin of 0.12°.
        west = [shapely.box(-180, -90, 2.43, 90)]
        _halves_check(every, set(got), west, shapely.box(2.55, -90, 180, 90))


@pytest.mark.parametrize(
    "bbox", ["100,10,110,20", "170,-10,-170,10", "-60,-60,-50,-50", "180,-90,-180,90"]
)
def test_a_box_where_lambert93_data_cannot_be_selects_nothing(served, bbox) -> None:
    response = served.get(Tier.PUBLIC, "/collections/activity-plots/items", params={"bbox": bbox})
    assert response.status_code == 200, response.text
    assert response.json()["numberMatched"] == 0
    assert response.json()["features"] == []


@pytest.mark.parametrize(
    ("bbox", "crs", "words"),
    [
        ("2.4,48.7,2.5,48.6", CRS84, "lower corner"),  # latitudes inverted: no antimeridian
        ("48.7,2.4,48.6,2.5", f"{EPSG}4326", "lower corner"),
        ("170,-91,-170,10", CRS84, "out of range"),
        ("650000,6860000,640000,6870000", f"{EPSG}2154", "lower corner"),  # projected: no wrap
        ("300000,6800000,200000,6900000", f"{EPSG}3949", "lower corner"),
    ],
)
def test_inverted_boxes_say_what_is_wrong(served, bbox, crs, words) -> None:
    response = served.get(
        Tier.PUBLIC, "/collections/activity-plots/items", params={"bbox": bbox, "bbox-crs": crs}
    )
    assert response.status_code == 400, response.text
    assert words in response.json()["description"]
    assert response.json()["description"].startswith("bbox:")
