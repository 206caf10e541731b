"""The tier's multi-layer tileset, its TileJSON and styles, the Lambert-93 grid over HTTP, ETags
and the cache between tiers, and GDAL reading our tiles (served demo, both stores).

Oracles: each collection's own tile and items as the same tier gets them, the tier's
queryables, morecantile's grids, GDAL's MVT driver.
"""

from __future__ import annotations

import re
import subprocess

import mapbox_vector_tile
import morecantile
import pytest
import shapely
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.api.routers.tiles import DROPPED_HEADER, FEATURES_HEADER, IMMUTABLE
from atlas.layers import vector_layers
from atlas.policy.tiers import Tier
from atlas.query.grids import LAMBERT_93, grids
from atlas.settings import TileSettings
from tests.api.conftest import Served

TMS = morecantile.tms.get("WebMercatorQuad")
TIERS = [Tier.PUBLIC, Tier.B2B, Tier.INTERNAL]
L93 = "http://www.opengis.net/def/crs/EPSG/0/2154"


def _seen(served: Served, tier: Tier) -> dict[str, dict]:
    listed = served.get(tier, "/collections").json()["collections"]
    return {c["id"]: c for c in listed if c["id"] in vector_layers()}


def _queryables(served: Served, tier: Tier, cid: str) -> set[str]:
    return set(served.get(tier, f"/collections/{cid}/queryables").json()["properties"])


def _get_with(served: Served, tier: Tier, url: str, headers: dict[str, str]):
    """GET ``url`` as ``tier`` with more headers."""
    return served.client.get(url, headers={**served.headers[tier], **headers})


def _decode(response) -> dict[str, dict]:
    if response.status_code == 204:
        return {}
    assert response.status_code == 200, response.text[:200]
    return mapbox_vector_tile.decode(response.content)


def _ids(layer: dict) -> set:
    return {f["properties"]["id"] for f in layer["features"]}


def _sites_tile(served: Served, z: int) -> morecantile.Tile:
    """The tile at ``z`` over the middle of the activity sites (every tier sees them)."""
    bbox = _seen(served, Tier.PUBLIC)["activity-sites"]["extent"]["spatial"]["bbox"][0]
    return TMS.tile((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2, z)


@pytest.mark.parametrize("tier", TIERS)
def test_a_multi_layer_tile_holds_what_the_tier_sees_each_from_its_minzoom(served, tier):
    seen = _seen(served, tier)
    t = _sites_tile(served, 14)
    response = served.get(tier, f"/tiles/WebMercatorQuad/14/{t.x}/{t.y}")
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    layers = _decode(response)
    assert set(layers) <= set(seen) and "activity-sites" in layers
    assert int(response.headers[DROPPED_HEADER]) == 0  # small demo: nothing capped
    for cid in seen:
        own = _decode(served.get(tier, f"/collections/{cid}/tiles/WebMercatorQuad/14/{t.x}/{t.y}"))
        if cid not in layers:
            assert not own, cid  # a collection with features here is in the tile
            continue
        assert _ids(layers[cid]) == _ids(own[cid]), cid
        names = {n for f in layers[cid]["features"] for n in f["properties"]}
        assert names - {"id"} <= _queryables(served, tier, cid), cid
    if tier == Tier.PUBLIC:
        assert not {"parcels", "water-pipes", "water-structures"} & set(layers)
    if tier == Tier.INTERNAL:
        assert {"parcels", "water-pipes"} <= set(layers)
        # Below the parcels' minzoom (13) the same place has no parcel layer, sites still.
        low = _sites_tile(served, 12)
        below = _decode(served.get(tier, f"/tiles/WebMercatorQuad/12/{low.x}/{low.y}"))
        assert "parcels" not in below and "activity-sites" in below


@pytest.mark.parametrize("tier", TIERS)
def test_tileset_tilejson_lists_the_tier_s_layers_and_fields(served, tier):
    seen = _seen(served, tier)
    tilejson = served.get(tier, "/tiles/WebMercatorQuad").json()
    assert tilejson["tilejson"] == "3.0.0"
    assert re.search(r"/tiles/WebMercatorQuad/\{z\}/\{x\}/\{y\}\?v=\w+$", tilejson["tiles"][0])
    ids = [layer["id"] for layer in tilejson["vector_layers"]]
    assert set(ids) <= set(seen) and "activity-sites" in ids
    assert ("parcels" in ids) == (tier != Tier.PUBLIC)  # b2b: id, area, site; never owners
    for layer in tilejson["vector_layers"]:
        assert set(layer["fields"]) - {"id"} <= _queryables(served, tier, layer["id"])
        assert layer["minzoom"] == vector_layers()[layer["id"]].min_zoom
    assert tilejson["minzoom"] == min(layer["minzoom"] for layer in tilejson["vector_layers"])
    lambert = served.get(tier, f"/tiles/{LAMBERT_93}").json()
    assert f"/tiles/{LAMBERT_93}/" in lambert["tiles"][0] and lambert["maxzoom"] == 20


def test_a_collection_s_tilejson_names_its_version(served):
    tilejson = served.get(Tier.PUBLIC, "/collections/activity-sites/tiles/WebMercatorQuad").json()
    version = served.get(Tier.PUBLIC, "/collections/activity-sites/versions")
    url = tilejson["tiles"][0]
    assert re.search(r"\?v=\d+$", url), url
    if version.status_code == 200:  # the version list, where the API has one
        assert url.endswith(f"?v={version.json()['versions'][0]['version']}")
    assert tilejson["vector_layers"][0]["id"] == "activity-sites"


@pytest.mark.parametrize("tier", TIERS)
def test_the_style_draws_the_tier_s_layers_from_our_tilejson(served, tier):
    listed = served.get(tier, "/styles").json()["styles"]
    assert [s["id"] for s in listed] == ["atlas"]
    style = served.get(tier, "/styles/atlas").json()
    assert style["version"] == 8 and "glyphs" not in style and "sprite" not in style
    source = style["sources"]["atlas"]
    assert source["type"] == "vector" and source["url"].endswith("/tiles/WebMercatorQuad")
    tilejson = served.get(tier, source["url"].split("testserver", 1)[-1]).json()
    layer_ids = {layer["id"] for layer in tilejson["vector_layers"]}
    drawn = [layer for layer in style["layers"] if layer["type"] != "background"]
    assert {layer["source-layer"] for layer in drawn} == layer_ids
    assert all(layer["type"] in ("fill", "line", "circle") for layer in drawn)  # no labels
    assert all(
        layer["minzoom"] == vector_layers()[layer["source-layer"]].min_zoom for layer in drawn
    )
    colours = {
        layer["paint"].get("fill-color") or layer["paint"].get("line-color") for layer in drawn
    }
    assert len(colours - {None}) > 3  # our palette, a colour per kind of data
    missing = served.get(tier, "/styles/nope")
    assert missing.status_code == 404 and "style 'nope' not found" in missing.json()["description"]


def _plots(served: Served, tier: Tier) -> dict[str, shapely.Point]:
    items = served.get(tier, "/collections/activity-plots/items", params={"limit": 1000}).json()
    return {f["id"]: shapely.geometry.shape(f["geometry"]).centroid for f in items["features"]}


def _mixed_tile(served: Served) -> morecantile.Tile:
    """A z13 tile where the public sees some plots and staff more (from the items' centroids)."""
    public, staff = _plots(served, Tier.PUBLIC), _plots(served, Tier.INTERNAL)
    counts: dict[morecantile.Tile, list[int]] = {}
    for points, slot in ((public, 0), (staff, 1)):
        for point in points.values():
            counts.setdefault(TMS.tile(point.x, point.y, 13), [0, 0])[slot] += 1
    mixed = [t for t, (p, s) in counts.items() if 0 < p < s]
    assert mixed, counts
    return max(mixed, key=lambda t: counts[t][0])


def test_the_cache_never_serves_one_tier_s_tile_to_another(served):
    t = _mixed_tile(served)
    for url in (
        f"/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}",
        f"/collections/activity-plots/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}",
    ):
        internal = served.get(Tier.INTERNAL, url)  # first: it fills the cache
        public = served.get(Tier.PUBLIC, url)
        again = served.get(Tier.PUBLIC, url)  # a cache hit now
        staff, anyone = _decode(internal), _decode(public)
        assert public.content == again.content and public.headers["ETag"] == again.headers["ETag"]
        assert internal.headers["ETag"] != public.headers["ETag"]
        # Public: only plots on the market, as its own items say; staff: every plot.
        assert _ids(anyone["activity-plots"]) <= set(_plots(served, Tier.PUBLIC))
        assert _ids(anyone["activity-plots"]) < _ids(staff["activity-plots"])
        assert "parcels" not in anyone and (url.startswith("/collections") or "parcels" in staff)


def test_etags_answer_304_and_public_versioned_urls_are_immutable(served):
    tilejson = served.get(Tier.PUBLIC, "/collections/activity-sites/tiles/WebMercatorQuad").json()
    t = _sites_tile(served, 14)
    url = tilejson["tiles"][0].split("testserver", 1)[-1].format(z=14, x=t.x, y=t.y)
    first = served.get(Tier.PUBLIC, url)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and first.headers["Cache-Control"] == IMMUTABLE
    for header in (etag, f"W/{etag}", f'"other", {etag}'):
        cached = _get_with(served, Tier.PUBLIC, url, {"If-None-Match": header})
        assert cached.status_code == 304 and cached.content == b""
        assert cached.headers["ETag"] == etag and cached.headers["Cache-Control"] == IMMUTABLE
    unversioned = served.get(Tier.PUBLIC, url.split("?")[0])
    assert unversioned.headers["ETag"] == etag and unversioned.headers["Cache-Control"] != IMMUTABLE
    # Credentialed: private, and another tier's ETag is not theirs.
    staff = _get_with(served, Tier.INTERNAL, url, {"If-None-Match": etag})
    assert staff.status_code == 200 and staff.headers["Cache-Control"].startswith("private")
    assert staff.headers["ETag"] != etag
    assert (
        _get_with(served, Tier.INTERNAL, url, {"If-None-Match": staff.headers["ETag"]}).status_code
        == 304
    )


def test_tile_matrix_sets_list_both_grids(served):
    listed = served.get(Tier.PUBLIC, "/tileMatrixSets").json()["tileMatrixSets"]
    assert [g["id"] for g in listed] == ["WebMercatorQuad", LAMBERT_93]
    document = served.get(Tier.PUBLIC, f"/tileMatrixSets/{LAMBERT_93}").json()
    parsed = morecantile.TileMatrixSet.model_validate(document)
    assert parsed.id == LAMBERT_93 and parsed.crs.to_epsg() == 2154
    assert parsed.xy_bounds(3, 2, 4) == grids()[LAMBERT_93].tms.xy_bounds(3, 2, 4)


def test_lambert_93_tiles_put_features_where_the_items_are(served):
    lambert = grids()[LAMBERT_93]
    cid = "heritage-monuments"
    items = served.get(
        Tier.PUBLIC, f"/collections/{cid}/items", params={"crs": L93, "limit": 1000}
    ).json()["features"]
    points = {f["id"]: shapely.geometry.shape(f["geometry"]) for f in items}
    bbox = served.get(Tier.PUBLIC, f"/collections/{cid}").json()["extent"]["spatial"]["bbox"][0]
    compared = 0
    for tile in lambert.covering(tuple(bbox), 10):
        response = served.get(
            Tier.PUBLIC, f"/collections/{cid}/tiles/{LAMBERT_93}/10/{tile.x}/{tile.y}"
        )
        if response.status_code == 204:
            continue
        left, bottom, right, top = lambert.bounds(tile)
        scale = 4096 / (right - left)
        for feature in _decode(response)[cid]["features"]:
            got = shapely.geometry.shape(feature["geometry"])
            want = points[feature["properties"]["id"]]
            expected = ((want.x - left) * scale, (want.y - bottom) * scale)
            assert got.distance(shapely.Point(expected)) <= 0.75  # half a unit per axis
            compared += 1
    assert compared == len(points) > 5  # every monument, in exactly one tile


@pytest.mark.gdal_cli
def test_gdal_s_mvt_driver_reads_our_multi_layer_tile(served, tmp_path):
    t = _sites_tile(served, 14)
    response = served.get(Tier.INTERNAL, f"/tiles/WebMercatorQuad/14/{t.x}/{t.y}")
    layers = _decode(response)
    path = tmp_path / "14" / str(t.x) / f"{t.y}.pbf"  # the driver reads z/x/y from the path
    path.parent.mkdir(parents=True)
    path.write_bytes(response.content)
    run = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    counts = dict(re.findall(r"Layer name: (\S+)\n(?:.*\n)*?Feature Count: (\d+)", run.stdout))
    assert {k: int(v) for k, v in counts.items()} == {
        cid: len(layer["features"]) for cid, layer in layers.items()
    }
    assert 'EPSG",3857' in run.stdout.replace(" ", "") or "Pseudo-Mercator" in run.stdout


def test_a_multi_layer_tile_stays_within_one_tile_budget(served):
    # Each layer gets its share: the whole tile keeps the budget of one tile.
    budget = TileSettings(max_features=60, max_bytes=10_000)
    app = create_app(served.settings.model_copy(update={"tiles": budget}))
    t = _sites_tile(served, 14)
    url = f"/tiles/WebMercatorQuad/14/{t.x}/{t.y}"
    roomy = _decode(served.get(Tier.INTERNAL, url))
    with TestClient(app) as client:
        _, key = app.state.keys.create(tier=Tier.INTERNAL, name="tight tileset")
        response = client.get(url, headers={"Authorization": f"Bearer {key}"})
    layers = _decode(response)
    assert len(response.content) <= budget.max_bytes
    kept = sum(len(layer["features"]) for layer in layers.values())
    assert kept == int(response.headers[FEATURES_HEADER]) <= budget.max_features
    assert int(response.headers[DROPPED_HEADER]) > 0  # the roomy tile held more
    assert kept + int(response.headers[DROPPED_HEADER]) == sum(
        len(layer["features"]) for layer in roomy.values()
    )
