"""Point values and legends of the map collections on the served demo (both stores).

Values at points equal rasterio's ``sample`` of the COG (elevation in metres, slope in percent
from its degrees) and the highest class of the demo zones holding the point (shapely); every
class the data holds is in its legend.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely

from atlas.errors import InvalidInput, NotFound, UnknownCollection
from atlas.layers.flood_hazard import hazard_class
from atlas.policy.gate import Policy
from atlas.policy.tiers import Principal, Tier
from atlas.query.crs import parse_crs
from atlas.stores import open_store
from atlas.stores.rasters import RasterCatalog
from atlas.tiles.legend import legend
from atlas.tiles.position import parse_point, position
from tests.conftest import STORE_KINDS

FRANCE = (-9.86, 41.15, 10.38, 51.56)


@pytest.fixture(scope="module", params=STORE_KINDS)
def policy(request, demo_sources):
    """A policy over the session's demo on each store kind."""
    demo = request.getfixturevalue(f"demo_{request.param}")
    store = open_store(demo.settings.store)
    yield Policy(store, RasterCatalog(demo.settings.store.data_dir), audit=None)
    store.close()


def _gate(policy: Policy):
    return policy.gate(Principal(Tier.PUBLIC), "test")


def _points_in(path, count: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Pseudo-random Lambert-93 points over a COG's bounds (some off its valid pixels)."""
    with rasterio.open(path) as src:
        b = src.bounds
    rng = np.random.default_rng(10)
    return rng.uniform(b.left, b.right, count), rng.uniform(b.bottom, b.top, count)


@pytest.mark.parametrize("cid", ["elevation", "slope"])
def test_values_equal_rasterio_sample(policy, cid):
    path, meta = policy.rasters.current(cid)
    xs, ys = _points_in(path)
    with rasterio.open(path) as src:
        samples = [float(v[0]) for v in src.sample(zip(xs, ys, strict=True))]
        nodata = src.nodata
    answered = 0
    for x, y, sample in zip(xs, ys, samples, strict=True):
        point = shapely.Point(x, y)
        if sample == nodata:
            with pytest.raises(NotFound, match="nodata"):
                position(_gate(policy), cid, point)
            continue
        props = position(_gate(policy), cid, point)["properties"]
        answered += 1
        assert props["version"] == meta["version"]
        if cid == "elevation":
            assert props["value"] == sample and props["unit"] == "m"
        else:
            assert props["degrees"] == sample
            assert props["value"] == pytest.approx(np.tan(np.radians(sample)) * 100)
            bounds = [c["min"] for c in legend("slope")["classes"][1:]]
            assert props["class"] == int(np.digitize(props["value"], bounds))
            assert props["label"]["fr"] and props["label"]["en"]
    assert answered >= 20


def test_a_point_off_the_raster_is_not_found(policy):
    path, _ = policy.rasters.current("elevation")
    with rasterio.open(path) as src:
        west, north = src.bounds.left, src.bounds.top
    with pytest.raises(NotFound, match="off the raster"):
        position(_gate(policy), "elevation", shapely.Point(west - 500, north + 500))


def test_flood_values_are_the_highest_zone_class(policy, demo_sources):
    zones = gpd.read_file(demo_sources["flood-hazard"]).to_crs(2154)
    codes = [hazard_class(s, n) for s, n in zip(zones["nivalea_st"], zones["nivalea"], strict=True)]
    checked = set()
    for geometry, code in zip(zones.geometry, codes, strict=True):
        point = geometry.representative_point()
        holding = [c for g, c in zip(zones.geometry, codes, strict=True) if g.covers(point)]
        props = position(_gate(policy), "flood-hazard", point)["properties"]
        assert props["class"] == props["value"] == max(holding) >= code
        assert props["label"]["fr"].startswith("aléa")
        checked.add(props["class"])
    assert len(checked) >= 3
    outside = zones.union_all().envelope.centroid  # inside the extent, off every zone?
    if not zones.geometry.covers(outside).any():
        props = position(_gate(policy), "flood-hazard", outside)["properties"]
        assert props["class"] is None and "outside" in props["label"]["en"]


def test_legends_hold_every_class_present(policy, demo_sources):
    slope_path, _ = policy.rasters.current("slope")
    with rasterio.open(slope_path) as src:
        degrees = src.read(1, masked=True).compressed().astype("float64")
    slope_legend = legend("slope")
    bounds = [c["min"] for c in slope_legend["classes"][1:]]
    present = set(np.unique(np.digitize(np.tan(np.radians(degrees)) * 100, bounds)).tolist())
    assert len(present) >= 3
    assert present <= {c["code"] for c in slope_legend["classes"]}
    zones = _gate(policy).frame("flood-hazard", action="read")
    in_zones = {int(c) for c in zones["classe_alea"].dropna()}
    assert in_zones and in_zones <= {c["code"] for c in legend("flood-hazard")["classes"]}
    for entry in [*slope_legend["classes"], *legend("flood-hazard")["classes"]]:
        assert entry["color"].startswith("#") and len(entry["color"]) == 7
        assert entry["label"]["fr"] != entry["label"]["en"]


@pytest.mark.parametrize(
    ("coords", "crs", "words"),
    [
        ("POINT(2.4 48.6", None, "WKT"),
        ("POINT EMPTY", None, "2D"),
        ("POINT Z (2.4 48.6 10)", None, "2D"),
        ("MULTIPOINT((2.4 48.6))", None, "POINT"),
        ("POINT(inf 48.6)", None, "finite"),
        ("POINT(2.4 60)", None, "territory"),
        ("POINT(2.4 48.6)", "EPSG:2154", "territory"),  # metres read as if they were degrees
        ("POINT(" + "1" * 300 + " 1)", None, "at most"),
    ],
)
def test_bad_points_are_invalid_input(coords, crs, words):
    with pytest.raises(InvalidInput, match=words):
        parse_point(coords, parse_crs(crs), FRANCE)


def test_points_in_each_crs_land_in_the_same_place():
    lonlat = parse_point("POINT(2.43 48.63)", parse_crs(None), FRANCE)
    latlon = parse_point("POINT(48.63 2.43)", parse_crs("EPSG:4326"), FRANCE)  # EPSG axis order
    metres = parse_point(f"POINT({lonlat.x} {lonlat.y})", parse_crs("EPSG:2154"), FRANCE)
    assert lonlat.distance(latlon) < 1e-6 and lonlat.distance(metres) == 0
    assert 600_000 < lonlat.x < 700_000 and 6_800_000 < lonlat.y < 6_900_000


def test_only_the_map_collections_answer(policy):
    for cid in ("parcels", "water-pipes", "nope"):
        with pytest.raises(UnknownCollection):
            position(_gate(policy), cid, shapely.Point(650_000, 6_850_000))
