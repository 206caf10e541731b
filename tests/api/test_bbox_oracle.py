"""A bbox selects what intersects that box, in its own CRS (OGC API Features Part 1, 7.15.3),
on both stores.

The oracle is shapely: every feature the tier gets, in the box's CRS (the API asked for that
``crs``), intersected with the box as the client wrote it. A box given in CRS84 is not a
rectangle in Lambert-93 (its parallels are arcs, its meridians converge): the Lambert-93
envelope of its corners holds features outside it, which this test shows for each box, so that
it fails if the box is ever read as that envelope again.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from atlas.policy.tiers import Tier

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# Boxes over the demo territory (Grand Paris Sud): a small one, a wide one, a tall one.
BOXES = [(2.43, 48.60, 2.47, 48.63), (2.35, 48.55, 2.55, 48.65), (2.40, 48.50, 2.44, 48.70)]
# (tier, collection): polygons with every row, plots with restricted rows, generalised points.
CASES = [(Tier.INTERNAL, "parcels"), (Tier.PUBLIC, "activity-plots"), (Tier.PUBLIC, "services")]


def _features(served, tier: Tier, collection_id: str, **params) -> dict[str, shapely.Geometry]:
    """Every feature of every page, geometry by id, in the ``crs`` asked."""
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


def _in_lambert93(every: dict[str, shapely.Geometry], crs: str) -> dict[str, shapely.Geometry]:
    to_l93 = Transformer.from_crs(crs, "EPSG:2154", always_xy=False)

    def move(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_l93.transform(xy[:, 0], xy[:, 1]))

    return {i: shapely.transform(g, move) for i, g in every.items()}


@pytest.mark.parametrize("box", BOXES, ids=lambda b: f"{b[0]}-{b[1]}")
@pytest.mark.parametrize(("tier", "collection_id"), CASES, ids=str)
def test_a_crs84_box_selects_what_intersects_it(served, tier, collection_id, box) -> None:
    every = _features(served, tier, collection_id)
    got = _features(served, tier, collection_id, bbox=",".join(map(str, box)))
    area = shapely.box(*box)
    expected = {i for i, g in every.items() if g.intersects(area)}
    assert expected, f"the demo must have {collection_id} in {box}"
    assert set(got) == expected
    # What the envelope of the box's corners in Lambert-93 would have selected: more.
    to_l93 = Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
    corners = shapely.box(*to_l93.transform_bounds(*box, densify_pts=21))
    l93 = _in_lambert93(every, "OGC:CRS84")
    envelope = {i for i, g in l93.items() if g.intersects(corners)}
    if collection_id == "parcels":
        assert envelope > expected, "this box must tell the box from its envelope"


@pytest.mark.parametrize(
    ("crs", "box"),
    [
        (f"{EPSG}4326", (48.60, 2.43, 48.63, 2.47)),  # latitude first, as EPSG:4326 defines it
        (f"{EPSG}3857", (270_500.0, 6_207_000.0, 275_000.0, 6_212_000.0)),
        (f"{EPSG}3949", (1_658_000.0, 8_155_500.0, 1_661_000.0, 8_159_000.0)),
    ],
    ids=lambda v: str(v).rsplit("/", 1)[-1][:10],
)
def test_a_box_in_another_crs_selects_what_intersects_it_there(served, crs, box) -> None:
    params = {"bbox-crs": crs, "crs": crs}  # features in the box's CRS and axis order
    every = _features(served, Tier.INTERNAL, "parcels", crs=crs)
    got = _features(served, Tier.INTERNAL, "parcels", bbox=",".join(map(str, box)), **params)
    area = shapely.box(*box)
    expected = {i for i, g in every.items() if g.intersects(area)}
    assert expected and len(expected) < len(every)
    assert set(got) == expected


def test_a_lambert93_box_is_the_box_itself(served) -> None:
    crs = f"{EPSG}2154"
    box = (658_000.0, 6_833_500.0, 661_000.0, 6_836_800.0)
    every = _features(served, Tier.INTERNAL, "parcels", crs=crs)
    got = _features(
        served, Tier.INTERNAL, "parcels", bbox=",".join(map(str, box)), **{"bbox-crs": crs}
    )
    expected = {i for i, g in every.items() if g.intersects(shapely.box(*box))}
    assert expected and set(got) == expected
