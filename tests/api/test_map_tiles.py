"""Map tiles, legends and position over HTTP on the served demo (both stores): formats, caching
headers, tier refusal and bad input. Tile contents against rasterio: tests/tiles/test_raster*.py."""

from __future__ import annotations

import dataclasses
import warnings

import morecantile
import numpy as np
import pytest
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile

from atlas.layers import catalog
from atlas.layers.base import Classification
from atlas.policy.tiers import Tier
from atlas.query.crs import transformer
from atlas.stores.rasters import RasterCatalog

TMS = morecantile.tms.get("WebMercatorQuad")
MAP = "/collections/{cid}/map/tiles/WebMercatorQuad"
RASTERS = ("elevation", "slope")
MAPS = (*RASTERS, "flood-hazard")


def _centre_tile(served, cid: str, z: int) -> morecantile.Tile:
    bounds = served.get(Tier.PUBLIC, MAP.format(cid=cid)).json()["bounds"]
    return TMS.tile((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, z)


def _tile_url(cid: str, tile: morecantile.Tile, query: str = "") -> str:
    return f"{MAP.format(cid=cid)}/{tile.z}/{tile.x}/{tile.y}{query}"


def _decoded(content: bytes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # an image, not a map
        with MemoryFile(content) as memory, memory.open() as image:
            pixels = image.read()
    if pixels.shape[0] == 3:  # libwebp leaves out an alpha channel that is opaque everywhere
        pixels = np.concatenate([pixels, np.full_like(pixels[:1], 255)])
    return image.driver, pixels


def _get(served, tier: Tier, url: str, headers: dict[str, str]):
    return served.client.get(url, headers={**served.headers[tier], **headers})


@pytest.mark.parametrize("cid", MAPS)
def test_tilejson_names_versioned_tiles_inside_the_data(served, cid):
    tilejson = served.get(Tier.PUBLIC, MAP.format(cid=cid)).json()
    (url,) = tilejson["tiles"]
    assert "?v=" in url and url.startswith("http")
    west, south, east, north = tilejson["bounds"]
    assert 1.5 < west < east < 3.5 and 48 < south < north < 49.5  # the demo's Essonne
    tile = _centre_tile(served, cid, 13)
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = served.get(Tier.PUBLIC, "/" + path.format(z=tile.z, x=tile.x, y=tile.y))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    driver, pixels = _decoded(response.content)
    assert driver == "PNG" and pixels.shape == (4, 256, 256)
    assert pixels[3].any()  # something is drawn


@pytest.mark.parametrize("cid", MAPS)
def test_png_and_webp_by_f_or_accept(served, cid):
    tile = _centre_tile(served, cid, 13)
    png = served.get(Tier.PUBLIC, _tile_url(cid, tile, "?f=png"))
    webp = served.get(Tier.PUBLIC, _tile_url(cid, tile, "?f=webp"))
    by_accept = _get(served, Tier.PUBLIC, _tile_url(cid, tile), {"Accept": "image/webp"})
    assert webp.headers["content-type"] == by_accept.headers["content-type"] == "image/webp"
    assert webp.content[:4] == b"RIFF" and webp.content[8:12] == b"WEBP"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.headers["etag"] != webp.headers["etag"]
    png_pixels, webp_pixels = _decoded(png.content)[1], _decoded(webp.content)[1]
    assert (png_pixels[3] > 0).sum() == (webp_pixels[3] > 0).sum()  # same transparency
    if cid != "elevation":  # classes are lossless in WebP
        assert (png_pixels == webp_pixels).all()


def test_tiles_off_the_data_are_204_and_transparent_at_the_edge(served):
    far = TMS.tile(-4.5, 48.4, 12)  # Brest: in the grid, off the demo's rasters and zones
    for cid in MAPS:
        response = served.get(Tier.PUBLIC, _tile_url(cid, far))
        assert response.status_code == 204, (cid, response.text)
        assert response.content == b""
    bounds = served.get(Tier.PUBLIC, MAP.format(cid="elevation")).json()["bounds"]
    edge = TMS.tile(bounds[0], (bounds[1] + bounds[3]) / 2, 12)  # straddles the west edge
    _, pixels = _decoded(served.get(Tier.PUBLIC, _tile_url("elevation", edge)).content)
    assert pixels[3].any() and not pixels[3].all()


def test_etag_and_304_follow_the_version(served):
    tile = _centre_tile(served, "slope", 13)
    first = served.get(Tier.PUBLIC, _tile_url("slope", tile))
    tag = first.headers["etag"]
    again = _get(served, Tier.PUBLIC, _tile_url("slope", tile), {"If-None-Match": tag})
    assert again.status_code == 304 and again.headers["etag"] == tag and again.content == b""
    other = served.get(Tier.PUBLIC, _tile_url("slope", TMS.tile(*TMS.ul(tile), 14)))
    assert other.headers["etag"] != tag
    b2b = served.get(Tier.B2B, _tile_url("slope", tile, "?v=1"))
    assert b2b.status_code == 200 and b2b.headers["cache-control"] == "private, no-store"
    assert b2b.headers["etag"] != tag  # tiers never share an entity
    stale = served.get(Tier.PUBLIC, _tile_url("slope", tile, "?v=999"))
    assert "immutable" not in stale.headers["cache-control"]


def test_a_new_version_changes_the_etag(served, tmp_path):
    """On a raster catalog of its own (the session's demo is shared): an ingest is served next."""
    from fastapi.testclient import TestClient

    from atlas.api.app import create_app

    source, meta = RasterCatalog(served.settings.store.data_dir).current("elevation")
    settings = served.settings.model_copy(deep=True)
    settings.store.data_dir = tmp_path / "data"
    rasters = RasterCatalog(settings.store.data_dir)
    rasters.write_version("elevation", source, {"bounds": meta["bounds"]})
    tile = _centre_tile(served, "elevation", 12)
    with TestClient(create_app(settings)) as client:
        before = client.get(_tile_url("elevation", tile))
        assert before.status_code == 200
        rasters.write_version("elevation", source, {"bounds": meta["bounds"]})
        headers = {"If-None-Match": before.headers["etag"]}
        after = client.get(_tile_url("elevation", tile), headers=headers)
        assert after.status_code == 200  # the old tag no longer answers 304
        assert after.headers["etag"] != before.headers["etag"]
        assert "v=2" in client.get(MAP.format(cid="elevation")).json()["tiles"][0]


@pytest.mark.parametrize("cid", MAPS)
def test_legends_are_bilingual_and_match_the_tile_colours(served, cid):
    legend = served.get(Tier.PUBLIC, f"/collections/{cid}/legend").json()
    assert legend["collection"] == cid
    assert legend["title"]["fr"] and legend["title"]["en"]
    if cid == "elevation":
        assert legend["type"] == "hillshade"
        ramp = served.get(Tier.PUBLIC, f"/collections/{cid}/legend?style=hypsometric").json()
        assert ramp["type"] == "ramp" and len(ramp["stops"]) >= 3
        return
    colours = {c["color"] for c in legend["classes"]}
    assert len(colours) == len(legend["classes"])
    assert all(c["label"]["fr"] and c["label"]["en"] for c in legend["classes"])
    _, pixels = _decoded(
        served.get(Tier.PUBLIC, _tile_url(cid, _centre_tile(served, cid, 13))).content
    )
    drawn = pixels[:, pixels[3] > 0]
    seen = {"#{:02x}{:02x}{:02x}".format(*drawn[:3, i]) for i in range(drawn.shape[1])}
    assert seen and seen <= colours  # every drawn pixel is a legend colour


def test_position_answers_the_raster_value(served):
    path, _ = RasterCatalog(served.settings.store.data_dir).current("elevation")
    with rasterio.open(path) as src:
        x, y = src.xy(src.height // 2, src.width // 2)
        (expected,) = next(src.sample([(x, y)]))
    lon, lat = transformer("EPSG:2154", "OGC:CRS84").transform(x, y)
    by_lonlat = served.get(
        Tier.PUBLIC, f"/collections/elevation/position?coords=POINT({lon} {lat})"
    )
    assert by_lonlat.status_code == 200, by_lonlat.text
    assert by_lonlat.headers["content-type"] == "application/geo+json"
    feature = by_lonlat.json()
    assert feature["type"] == "Feature" and feature["properties"]["unit"] == "m"
    assert feature["properties"]["value"] == pytest.approx(float(expected))
    by_l93 = served.get(
        Tier.PUBLIC, f"/collections/elevation/position?coords=POINT({x} {y})&crs=EPSG:2154"
    )
    assert by_l93.json()["properties"]["value"] == feature["properties"]["value"]


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("coords=POINT(2.4 48.6", 400, "WKT"),
        ("coords=LINESTRING(2.4 48.6, 2.5 48.7)", 400, "POINT"),
        ("coords=POINT(nan 48.6)", 400, "finite"),
        ("coords=POINT(-60 10)", 400, "territory"),
        ("coords=POINT(2.4 48.6)&crs=EPSG:9999", 400, "crs"),
        ("", 400, "coords"),
    ],
)
def test_bad_positions_are_refused_without_reading(tripped, query, status, words):
    _refused(*tripped, f"/collections/slope/position?{query}", status, words)


def test_a_point_off_the_raster_is_a_404(served):
    response = served.get(Tier.PUBLIC, "/collections/slope/position?coords=POINT(-1.5 47.2)")
    assert response.status_code == 404  # Nantes: in France, not in the demo's raster
    assert "off the raster" in response.json()["description"]


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/collections/slope/map/tiles/WebMercatorQuad/23/0/0", 400, "z"),
        ("/collections/slope/map/tiles/WebMercatorQuad/3/8/0", 400, "x, y"),
        ("/collections/slope/map/tiles/WebMercatorQuad/3/0/-1", 400, "x, y"),
        ("/collections/slope/map/tiles/WebMercatorQuad/a/0/0", 400, "z"),
        ("/collections/slope/map/tiles/NoSuchGrid/3/0/0", 404, "tile matrix set"),
        ("/collections/slope/map/tiles/WebMercatorQuad/3/0/0?style=hillshade", 400, "style"),
        ("/collections/slope/map/tiles/WebMercatorQuad/3/0/0?f=jpeg", 400, "png, webp"),
        ("/collections/nope/map/tiles/WebMercatorQuad/3/0/0", 404, "'nope' not found"),
        ("/collections/parcels/map/tiles/WebMercatorQuad/3/0/0", 404, "'parcels' not found"),
        ("/collections/elevation/legend?style=classes", 400, "style"),
        ("/collections/water-pipes/legend", 404, "not found"),
    ],
)
def test_bad_tile_requests_are_refused_without_reading(tripped, path, status, words):
    _refused(*tripped, path, status, words)


class Tripwire:
    """Stands for the store and the raster catalog: any use is recorded and fails."""

    def __init__(self) -> None:
        self.touched: list[str] = []

    def __getattr__(self, name: str):
        self.touched.append(name)
        raise RuntimeError(f"the data was read: {name}")


@pytest.fixture(scope="module")
def tripped(served):
    """An app of its own over the served demo whose store and rasters are tripwires once started."""
    from fastapi.testclient import TestClient

    from atlas.api.app import create_app

    app = create_app(served.settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        policy = app.state.policy
        real, tripwire = (policy.store, policy.rasters), Tripwire()
        policy.store = policy.rasters = tripwire
        try:
            yield client, served.headers[Tier.INTERNAL], tripwire
        finally:
            policy.store, policy.rasters = real  # the lifespan closes the real store


def _refused(client, headers, tripwire, path: str, status: int, words: str) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == status, response.text[:300]
    assert set(response.json()) >= {"code", "description"}
    assert words in response.json()["description"]
    assert tripwire.touched == []


def test_the_tripwire_trips_on_a_good_request(tripped):
    client, headers, tripwire = tripped
    response = client.get(f"{MAP.format(cid='slope')}/12/2075/1411", headers=headers)
    assert response.status_code == 500 and tripwire.touched  # the fixture is not vacuous
    tripwire.touched.clear()


@pytest.fixture
def elevation_for_staff_only(monkeypatch):
    """The elevation layer classified internal (a policy change, not a mock: the gate reads it)."""
    layers = catalog()
    restricted = dataclasses.replace(layers["elevation"], classification=Classification.INTERNAL)
    monkeypatch.setitem(layers, "elevation", restricted)


def test_a_raster_a_tier_may_not_see_is_an_unknown_collection(served, elevation_for_staff_only):
    tile = morecantile.Tile(4150, 2819, 13)
    paths = [
        MAP.format(cid="{cid}"),
        _tile_url("{cid}", tile),
        "/collections/{cid}/legend",
        "/collections/{cid}/position?coords=POINT(2.4 48.6)",
    ]
    for path in paths:
        hidden = served.get(Tier.PUBLIC, path.format(cid="elevation"))
        unknown = served.get(Tier.PUBLIC, path.format(cid="no-such-raster"))
        assert hidden.status_code == unknown.status_code == 404, path
        assert hidden.json()["description"] == unknown.json()["description"].replace(
            "no-such-raster", "elevation"
        )
        assert served.get(Tier.B2B, path.format(cid="elevation")).status_code == 404
    assert served.get(Tier.INTERNAL, MAP.format(cid="elevation")).status_code == 200


def test_map_tiles_are_cached_per_tier(served):
    cache = served.client.app.state.map_tiles.cache
    tile = TMS.tile(*TMS.ul(_centre_tile(served, "slope", 13)), 16)  # asked by no other test
    used = {tier: cache.memory_used(tier.value) for tier in Tier}
    first = served.get(Tier.PUBLIC, _tile_url("slope", tile))
    assert first.status_code == 200
    assert cache.memory_used("public") >= used[Tier.PUBLIC] + len(first.content)
    assert cache.memory_used("b2b") == used[Tier.B2B]  # one tier's tile is never another's
    again = served.get(Tier.PUBLIC, _tile_url("slope", tile))
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    staff = served.get(Tier.INTERNAL, _tile_url("slope", tile))
    assert staff.content == first.content and staff.headers["etag"] != first.headers["etag"]
    assert cache.memory_used("internal") > used[Tier.INTERNAL]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("image/png;q=0.5, image/webp", "image/webp"),
        ("image/webp;q=0.1, image/png", "image/png"),
        ("image/*", "image/png"),
        ("image/avif, */*;q=0.8", "image/png"),  # what a browser sends for an <img>
        ("image/jpeg", None),
        (None, None),
    ],
)
def test_accept_ranks_the_image_types(accept, expected):
    from atlas.api.negotiation import accept_media

    assert accept_media(accept, ("image/png", "image/webp")) == expected


@pytest.mark.parametrize("cid", MAPS)
def test_collections_link_their_map_tilesets_legend_and_position(served, cid):
    links = served.get(Tier.PUBLIC, f"/collections/{cid}").json()["links"]
    rel = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map"
    (tilesets,) = [link["href"] for link in links if link["rel"] == rel]
    assert any(link["href"].endswith(f"/{cid}/legend") for link in links)
    listing = served.get(Tier.PUBLIC, "/" + tilesets.split("/", 3)[3]).json()["tilesets"]
    assert {t["dataType"] for t in listing} == {"map"} and len(listing) == 2
    for tileset in listing:
        template = next(link["href"] for link in tileset["links"] if link["rel"] == "item")
        tile = _centre_tile(served, cid, 12) if "WebMercatorQuad" in template else None
        if tile is not None:
            path = "/" + template.split("/", 3)[3]
            path = path.replace("{tileMatrix}", str(tile.z)).replace("{tileCol}", str(tile.x))
            response = served.get(Tier.PUBLIC, path.replace("{tileRow}", str(tile.y)))
            assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    parcels = served.get(Tier.INTERNAL, "/collections/parcels")
    assert parcels.status_code == 200 and "/map/tiles" not in parcels.text
