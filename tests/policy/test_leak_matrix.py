"""The leak matrix: every tier against every GET endpoint and every collection, on both stores.

Endpoints are read from the app's own OpenAPI document, so a route added later joins the matrix
by itself — and fails it until this file knows how to fill its parameters. Parameters are drawn
by hypothesis, hidden field names and hidden rows' ids included. Every response, whatever its
status, is searched for what ``oracle.py`` says the tier must never receive: hidden collections,
field names, values (owners, buyers, contacts, pipe ids, off-market plots, undiffusible
businesses), inside JSON, decoded vector tiles and error bodies alike. A hidden collection must
answer exactly like an unknown one, and a hidden field exactly like a nonexistent one. The
extent and tile bounds of a generalised view are those of the generalised positions, and no link
of any answer follows a Host or X-Forwarded-Host header the client forged.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import mapbox_vector_tile
import morecantile
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from atlas.api.app import create_app
from atlas.layers import catalog, vector_layers
from atlas.policy.tiers import Tier, holds
from atlas.portal import words
from tests.maps import embedded
from tests.policy import html_text, pdf_text
from tests.policy.oracle import (
    FORGED_HOSTS,
    GENERALISED,
    HIDDEN_COLLECTIONS,
    HIDDEN_FIELDS,
    ON_THE_MARKET,
    Secrets,
)

# The demo territory's extent (CRS84), to draw boxes and tiles where the data is.
LON = (2.25, 2.62)
LAT = (48.50, 48.72)
UNKNOWN_COLLECTION = "no-such-collection"
ALL_FIELDS = sorted({f.name for layer in vector_layers().values() for f in layer.fields})
CRS_URIS = [
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/4326",
    "http://www.opengis.net/def/crs/EPSG/0/2154",
    "http://www.opengis.net/def/crs/EPSG/0/3949",
    "http://www.opengis.net/def/crs/EPSG/0/3857",
    "EPSG:9999",
]
KNOWN_PATH_PARAMETERS = {
    "collectionId", "featureId", "tileMatrixSetId", "z", "x", "y", "jobId", "archive", "styleId",
    "tier",
}  # fmt: skip
# A PMTiles archive name (/pmtiles/{archive}); the served demo exports none, so a 404.
ARCHIVE = "atlas-public-20261206-000000000000.pmtiles"
# The site-selection criteria (/site-selection): valid, out-of-range and unknown values.
SELECTION_VALUES: dict[str, list[str]] = {
    "min_area_ha": ["0", "1", "5.5", "-1", "x"],
    "max_area_ha": ["2", "50", "0"],
    "vocations": ["industrielle", "mixte", "Aéroportuaire, aéronautique", "nonexistent"],
    "usages": ["bâti productif", "espace vert", "x"],
    "on_market": ["true", "false", "maybe"],
    "water_min_dn": ["100", "300", "-5"],
    "water_max_distance_m": ["50", "500", "1e9"],
    "outside_heritage": ["true", "false"],
    "exclude_flood_classes": ["3", "4", "9"],
    "max_slope_pct": ["2", "10", "400"],
    "max_motorway_km": ["1", "5", "-1"],
    "max_station_km": ["1", "5"],
    "only_passing": ["true", "false"],
}
# Every query parameter the matrix knows how to draw; an endpoint declaring another one fails.
KNOWN_QUERY_PARAMETERS = {
    *SELECTION_VALUES,
    "bbox",
    "bbox-crs",
    "crs",
    "limit",
    "offset",
    "properties",
    "sortby",
    "filter",
    "filter-lang",
    "filter-crs",
    "f",
    "lang",  # HTML pages
    "datetime",
    "mode",  # /inventory/export (staff only)
    "style",  # map tiles and legends
    "coords",  # /position (OGC API – EDR)
    "v",  # versioned tile URLs
}


@cache
def _secrets(sources_key: tuple) -> Secrets:
    return Secrets(dict(sources_key))


def all_operations(served) -> str:
    """The staff's OpenAPI document, which lists every route: every tier requests them all."""
    return json.dumps(served.get(Tier.INTERNAL, "/api").json())


@cache
def get_endpoints(openapi_json: str) -> list[tuple[str, tuple[str, ...]]]:
    """(path template, query parameter names) of every GET operation."""
    document = json.loads(openapi_json)
    out = []
    for path, operations in document["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        params = operation.get("parameters", [])
        path_names = {p["name"] for p in params if p["in"] == "path"}
        unknown = path_names - KNOWN_PATH_PARAMETERS
        assert not unknown, f"{path}: the leak matrix cannot fill {unknown}; teach it"
        query = tuple(p["name"] for p in params if p["in"] == "query")
        unknown_query = set(query) - KNOWN_QUERY_PARAMETERS
        assert not unknown_query, f"{path}: the leak matrix cannot draw {unknown_query}; teach it"
        out.append((path, query))
    return out


def _field_names() -> st.SearchStrategy[str]:
    return st.sampled_from([*ALL_FIELDS, "nonexistent_field", "geometry"])


def _boxes() -> st.SearchStrategy[str]:
    lon = st.floats(*LON)
    lat = st.floats(*LAT)
    return st.one_of(
        st.tuples(lon, lat, st.floats(0.001, 0.2), st.floats(0.001, 0.2)).map(
            lambda t: f"{t[0]},{t[1]},{t[0] + t[2]},{t[1] + t[3]}"
        ),
        st.sampled_from(["nan,1,2,3", "3,3,1,1", "1,2,3", "0,0,200,100", "a,b,c,d"]),
    )


def _filters() -> st.SearchStrategy[str]:
    name = _field_names()
    return st.one_of(
        name.map(lambda n: f"{n} IS NOT NULL"),
        name.map(lambda n: f"{n} = 'x' OR {n} IS NULL"),
        name.map(lambda n: f"{n} LIKE '%a%'"),
        st.just("S_INTERSECTS(geometry, POLYGON((2.3 48.5, 2.6 48.5, 2.6 48.7, 2.3 48.5)))"),
        st.just("terr_id = '1'; DROP TABLE x; --"),
        st.text(max_size=30),
    )


def _query_value(name: str) -> st.SearchStrategy[str]:
    fields = st.lists(_field_names(), min_size=1, max_size=4).map(",".join)
    strategies: dict[str, st.SearchStrategy[str]] = {
        **{key: st.sampled_from(values) for key, values in SELECTION_VALUES.items()},
        "bbox": _boxes(),
        "bbox-crs": st.sampled_from(CRS_URIS[:1] * 3 + CRS_URIS),
        "crs": st.sampled_from(CRS_URIS),
        "limit": st.sampled_from(["1", "5", "100", "0", "100000", "x"]),
        "offset": st.sampled_from(["0", "3", "50"]),
        "properties": fields,
        "sortby": fields.map(lambda s: "-" + s),
        "filter": _filters(),
        "filter-lang": st.sampled_from(["cql2-text", "cql2-text", "cql2-json", "sql"]),
        "filter-crs": st.sampled_from(CRS_URIS[:3]),
        "f": st.sampled_from(["json", "html", "geojson"]),
        "lang": st.sampled_from(["fr", "en", "de"]),
        "datetime": st.sampled_from(["2024-01-01", "../.."]),
        "mode": st.sampled_from(["publication", "internal", "x"]),
        "style": st.sampled_from(["hillshade", "hypsometric", "classes", "nope"]),
        "coords": st.sampled_from(
            ["POINT(2.43 48.63)", "POINT(2.2 48.5)", "POINT(-60 10)", "POINT(1", "POINT EMPTY"]
        ),
        "v": st.sampled_from(["1", "2", "999", "x"]),
    }
    return strategies[name]


@st.composite
def requests(draw, endpoints, ids_by_collection, job_ids=("0" * 32,)) -> tuple[str, dict[str, str]]:
    """One GET request: a path with its parameters filled, and query parameters."""
    path, query_names = draw(st.sampled_from(endpoints))
    collection_id = draw(st.sampled_from([*catalog(), UNKNOWN_COLLECTION]))
    feature_ids = ids_by_collection.get(collection_id, []) + ["x' OR '1'='1", "0"]
    zoom = draw(st.integers(10, 16))
    tile = morecantile.tms.get("WebMercatorQuad").tile(
        draw(st.floats(*LON)), draw(st.floats(*LAT)), zoom
    )
    values = {
        "collectionId": collection_id,
        "featureId": draw(st.sampled_from(feature_ids)),
        "tileMatrixSetId": draw(st.sampled_from(["WebMercatorQuad"] * 4 + ["WorldCRS84Quad"])),
        "z": str(tile.z),
        "x": str(tile.x),
        "y": str(tile.y),
        "jobId": draw(st.sampled_from(list(job_ids))),
        "archive": draw(st.sampled_from([ARCHIVE, "..%2Fkeys.sqlite", "x.pmtiles"])),
        "styleId": draw(st.sampled_from(["atlas", "atlas", "nope"])),
        "tier": draw(st.sampled_from([t.value for t in Tier] + ["nope"])),  # /maps/{tier}
    }
    url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
    params = {}
    for name in query_names:
        if draw(st.booleans()):
            params[name] = draw(_query_value(name))
    if "{collectionId}/items" in path and not path.endswith("}") and draw(st.booleans()):
        params[draw(_field_names())] = draw(st.sampled_from(["x", "1", "oui"]))
    return url, params


def _text_of(response) -> str:
    """The body as text: JSON as it is, HTML as its text nodes and documents, tiles decoded."""
    kind = response.headers.get("content-type", "")
    if "vnd.mapbox-vector-tile" in kind:
        return json.dumps(mapbox_vector_tile.decode(response.content), default=str)
    if "text/html" in kind:
        return html_text.searchable(response.text)
    if "application/pdf" in kind and response.status_code == 200:
        return pdf_text.searchable(response.content)
    return response.content.decode("utf-8", errors="replace")


def _json_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        keys = set(value)
        for item in value.values():
            keys |= _json_keys(item)
        return keys
    if isinstance(value, list):
        return set().union(*(_json_keys(v) for v in value)) if value else set()
    return set()


def check_response(
    response, tier: Tier, url: str, secrets: Secrets, params: dict | None = None
) -> None:
    """No hidden collection, field or value in anything sent back to ``tier``."""
    assert response.status_code < 500, f"{url}: {response.status_code} {response.text[:200]}"
    text = _text_of(response)
    asked = url + json.dumps(params or {})
    for value in secrets.forbidden_strings(tier):
        # A value the caller sent may come back in an error message: that tells nothing.
        # Whole values only (JSON strings are quoted, messages quote with '): a buyer "X SAS"
        # must not be found inside a listed business "X SASU".
        if value not in asked:
            for quoted in (json.dumps(value, ensure_ascii=False), f"'{value}'"):
                assert quoted not in text, f"{tier} received {value!r} from {url}"
    hidden_fields = HIDDEN_FIELDS[tier]
    if "vnd.mapbox-vector-tile" in response.headers.get("content-type", ""):
        layers = mapbox_vector_tile.decode(response.content)
        assert not set(layers) & HIDDEN_COLLECTIONS[tier], f"{url}: hidden layer in a tile"
        for layer in layers.values():
            for feature in layer["features"]:
                leaked = set(feature["properties"]) & hidden_fields
                assert not leaked, f"{tier} got {leaked} in a tile from {url}"
        return
    if "json" in response.headers.get("content-type", "") and response.status_code == 200:
        body = response.json()
        leaked = _json_keys(body) & hidden_fields
        assert not leaked, f"{tier} got fields {leaked} from {url}"
        for collection in body.get("collections", []) if isinstance(body, dict) else []:
            assert collection["id"] not in HIDDEN_COLLECTIONS[tier], f"{tier} listed {collection}"
    if "text/html" in response.headers.get("content-type", "") and response.status_code == 200:
        leaked = html_text.field_names(response.text) & hidden_fields
        assert not leaked, f"{tier} got fields {leaked} in the page {url}"
        hrefs = html_text.attributes(response.text)
        for hidden in HIDDEN_COLLECTIONS[tier]:
            assert not [h for h in hrefs if f"/collections/{hidden}" in h], f"{url} links {hidden}"


def check_hidden_collection(served, tier: Tier, url: str, params: dict, response) -> None:
    """A hidden collection answers exactly like an unknown one."""
    for hidden in HIDDEN_COLLECTIONS[tier]:
        marker = f"/collections/{hidden}"
        if marker not in url:
            continue
        other = served.get(
            tier, url.replace(marker, f"/collections/{UNKNOWN_COLLECTION}"), params=params
        )
        assert response.status_code == other.status_code, url
        assert response.text == other.text.replace(UNKNOWN_COLLECTION, hidden), url


def check_hidden_row(
    served, tier: Tier, url: str, secrets: Secrets, response, params: dict | None = None
) -> None:
    """A feature the tier may not see answers exactly like a feature that does not exist."""
    match = re.fullmatch(r"/collections/([^/]+)/items/([^/?]+)", url)
    if match is None or tier == Tier.INTERNAL:
        return
    hidden = set(secrets.undiffusible) | (
        set(secrets.off_market_plots) if tier == Tier.PUBLIC else set()
    )
    feature_id = match.group(2)
    if feature_id not in hidden:
        return
    stand_in = "Z" * len(feature_id)
    other = served.get(tier, f"/collections/{match.group(1)}/items/{stand_in}", params=params)
    assert response.status_code == other.status_code, url
    assert params or response.status_code == 404, url  # a bad parameter may answer first
    assert response.text == other.text.replace(stand_in, feature_id), url


def check_hidden_fields(served, tier: Tier, url: str, params: dict, response) -> None:
    """Naming a hidden field answers exactly like naming a field that does not exist."""
    named = [f for f in HIDDEN_FIELDS[tier] if any(f in f"{k}={v}" for k, v in params.items())]
    for field in named:
        stand_in = "q" * len(field)
        swapped = {
            k.replace(field, stand_in): v.replace(field, stand_in) for k, v in params.items()
        }
        other = served.get(tier, url, params=swapped)
        assert response.status_code == other.status_code, (url, params, field)
        if response.status_code >= 400:
            assert response.text == other.text.replace(stand_in, field), (url, params, field)


def _ids(served) -> dict[str, list[str]]:
    secrets = _secrets(tuple(sorted(served.sources.items())))
    return {
        "activity-plots": secrets.off_market_plots[:5] + ["91228_TERRAIN-ECO_00001"],
        "establishments": secrets.undiffusible[:5],
        "water-pipes": ["1", "2"],
        "parcels": [],
        "communes": ["91228", "77445"],
    }


# One extract job per tier, made once per served store: the matrix fills {jobId} with the tier's
# own job, the other tiers' jobs (which must answer like unknown ids) and unknown ids.
_JOBS: dict[str, dict[Tier, str]] = {}
JOB_BODIES = {
    Tier.PUBLIC: {"collections": ["services"], "format": "csv"},
    Tier.B2B: {"collections": ["activity-plots"], "format": "geojson"},
    Tier.INTERNAL: {"collections": ["water-pipes", "parcels"], "format": "geojson"},
}


def _jobs(served) -> dict[Tier, str]:
    key = str(served.settings.store.data_dir)
    if key not in _JOBS:
        made = {}
        for tier, body in JOB_BODIES.items():
            response = served.client.post("/extracts", json=body, headers=served.headers[tier])
            assert response.status_code == 201, response.text
            made[tier] = response.json()["jobID"]
            served.client.app.state.extracts.wait(made[tier], timeout=300)
        _JOBS[key] = made
    return _JOBS[key]


def _job_ids(served, tier: Tier) -> list[str]:
    jobs = _jobs(served)
    return [jobs[tier], *(j for t, j in jobs.items() if t != tier), "0" * 32, "x"]


def check_foreign_job(served, tier: Tier, url: str, params: dict, response) -> None:
    """Another caller's extract job answers exactly like a job id that does not exist."""
    match = re.fullmatch(r"/extracts/([^/]+)(/download)?", url)
    jobs = _jobs(served)
    if match is None or match.group(1) not in jobs.values() or jobs[tier] == match.group(1):
        return
    job_id = match.group(1)
    stand_in = "Z" * len(job_id)
    other = served.get(tier, url.replace(job_id, stand_in), params=params)
    assert response.status_code == other.status_code == 404, url
    assert response.text == other.text.replace(stand_in, job_id), url


@pytest.mark.slow
@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
def test_no_tier_receives_what_it_may_not_see(served, tier: Tier) -> None:
    """Random requests on every endpoint: nothing forbidden comes back, in any form."""
    endpoints = get_endpoints(all_operations(served))
    secrets = _secrets(tuple(sorted(served.sources.items())))

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        derandomize=True,
    )
    @given(request=requests(endpoints, _ids(served), _job_ids(served, tier)))
    def run(request: tuple[str, dict[str, str]]) -> None:
        url, params = request
        response = served.get(tier, url, params=params)
        check_response(response, tier, url, secrets, params)
        check_hidden_collection(served, tier, url, params, response)
        check_hidden_row(served, tier, url, secrets, response, params)
        check_hidden_fields(served, tier, url, params, response)
        check_foreign_job(served, tier, url, params, response)

    run()


@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
def test_every_endpoint_and_collection(served, tier: Tier) -> None:
    """The systematic half: each endpoint x each collection, default parameters."""
    endpoints = get_endpoints(all_operations(served))
    secrets = _secrets(tuple(sorted(served.sources.items())))
    tile = morecantile.tms.get("WebMercatorQuad").tile(2.44, 48.63, 12)
    values = {"tileMatrixSetId": "WebMercatorQuad", "z": "12", "x": str(tile.x), "y": str(tile.y)}
    values["jobId"] = _job_ids(served, tier)[1]  # another tier's extract job: a 404
    values["archive"] = ARCHIVE
    values["tier"] = tier.value  # the caller's own map (the others: test_maps_hold_nothing…)
    values["styleId"] = "atlas"
    seen_ok = 0
    for path, query_names in endpoints:
        # The same again as HTML pages where the endpoint has them.
        encodings: list[dict[str, str]] = [{}, {"f": "html"}] if "f" in query_names else [{}]
        # A path that names no collection is the same request for every collection: once.
        collections = [*catalog(), UNKNOWN_COLLECTION] if "{collectionId}" in path else ["-"]
        for collection_id in collections:
            ids = (_ids(served).get(collection_id, []) or ["0"]) if "{featureId}" in path else ["0"]
            for feature_id, params in itertools.product(ids[:2], encodings):
                filled = {**values, "collectionId": collection_id, "featureId": feature_id}
                url = re.sub(r"\{(\w+)\}", lambda m, f=filled: f[m.group(1)], path)
                response = served.get(tier, url, params=params)
                check_response(response, tier, url, secrets, params)
                check_hidden_collection(served, tier, url, params, response)
                check_hidden_row(served, tier, url, secrets, response, params)
                check_foreign_job(served, tier, url, params, response)
                seen_ok += response.status_code == 200
    assert seen_ok > len(endpoints), "the matrix must reach real data, not only errors"


def _pages(served, tier: Tier, collection_id: str) -> dict[str, Any]:
    """Every feature the tier gets, Lambert-93 geometry by id (all pages)."""
    out, offset = {}, 0
    while True:
        response = served.get(
            tier,
            f"/collections/{collection_id}/items",
            params={
                "crs": "http://www.opengis.net/def/crs/EPSG/0/2154",
                "limit": 1000,
                "offset": offset,
            },
        )
        assert response.status_code == 200, response.text
        features = response.json()["features"]
        out.update({f["id"]: shapely.geometry.shape(f["geometry"]) for f in features})
        if len(features) < 1000:
            return out
        offset += 1000


def _crs84_box(points: np.ndarray) -> list[float]:
    """The CRS84 box of Lambert-93 points' box, reprojected with densified edges."""
    to_crs84 = Transformer.from_crs("EPSG:2154", "OGC:CRS84", always_xy=True)
    return list(to_crs84.transform_bounds(*points.min(axis=0), *points.max(axis=0), densify_pts=21))


@pytest.mark.parametrize(
    ("tier", "collection_id", "grid"),
    [(t, c, g) for t, views in GENERALISED.items() for c, g in views.items()],
    ids=lambda v: str(v),
)
def test_generalised_views_have_the_extent_of_what_they_show(
    served, tier: Tier, collection_id: str, grid: float
) -> None:
    """Extent and TileJSON bounds of a generalised view come from the generalised positions: the
    exact ones would give away the outermost features' positions to the metre."""
    seen = _pages(served, tier, collection_id)
    exact = {i: g for i, g in _pages(served, Tier.INTERNAL, collection_id).items() if i in seen}
    assert seen and set(exact) == set(seen)
    exact_xy = np.vstack([shapely.get_coordinates(g) for g in exact.values()])
    snapped = np.round(exact_xy / grid) * grid
    seen_xy = np.vstack([shapely.get_coordinates(seen[i]) for i in exact])
    assert np.allclose(seen_xy, snapped, atol=1e-6), "the tier sees the positions on the grid"
    expected, exact_box = _crs84_box(snapped), _crs84_box(exact_xy)
    moved = [i for i in range(4) if abs(expected[i] - exact_box[i]) > 1e-6]
    assert moved, "the demo's outermost positions must not all lie on the grid"
    listing = served.get(tier, "/collections").json()["collections"]
    answers = {
        "collection": served.get(tier, f"/collections/{collection_id}").json()["extent"],
        "collections": next(c for c in listing if c["id"] == collection_id)["extent"],
        "tilejson": {
            "spatial": {
                "bbox": [
                    served.get(tier, f"/collections/{collection_id}/tiles/WebMercatorQuad").json()[
                        "bounds"
                    ]
                ]
            }
        },
    }
    for name, extent in answers.items():
        box = extent["spatial"]["bbox"][0]
        assert box == pytest.approx(expected, abs=1e-6), name
        assert all(abs(box[i] - exact_box[i]) > 1e-6 for i in moved), f"{name}: exact extent"
    count = served.get(tier, f"/collections/{collection_id}").json()["numberOfFeatures"]
    assert count == len(seen)


PUBLIC_URL = "https://atlas.example.org/geo"
FORGED = {
    "Host": FORGED_HOSTS[0],
    "X-Forwarded-Host": FORGED_HOSTS[1],
    "X-Forwarded-Proto": "https",
    "X-Forwarded-For": "203.0.113.9",
}


@pytest.fixture(scope="module")
def public_url_client(served) -> Iterator[TestClient]:
    """The same data and keys served by an app with ATLAS_PUBLIC_URL set."""
    api = served.settings.api.model_copy(update={"public_url": PUBLIC_URL})
    with TestClient(create_app(served.settings.model_copy(update={"api": api}))) as client:
        yield client


def _forged_requests(served, tier: Tier) -> Iterator[tuple[str, dict[str, str]]]:
    """Every GET endpoint once, for a collection the tier sees and an unknown one, JSON and HTML."""
    endpoints = get_endpoints(all_operations(served))
    site = served.get(tier, "/collections/activity-sites/items", params={"limit": 1}).json()
    tile = morecantile.tms.get("WebMercatorQuad").tile(2.44, 48.63, 12)
    values = {
        "tileMatrixSetId": "WebMercatorQuad",
        "z": "12",
        "x": str(tile.x),
        "y": str(tile.y),
        "featureId": site["features"][0]["id"],
        "jobId": _job_ids(served, tier)[0],  # the tier's own job: its links too
        "styleId": "atlas",
        "archive": ARCHIVE,
        "tier": tier.value,  # the caller's own map: its links too
    }
    for path, query_names in endpoints:
        collections = ["activity-sites", UNKNOWN_COLLECTION] if "{collectionId}" in path else ["-"]
        for collection_id in collections:
            filled = {**values, "collectionId": collection_id}
            url = re.sub(r"\{(\w+)\}", lambda m, f=filled: f[m.group(1)], path)
            yield url, {}
            if "f" in query_names:
                yield url, {"f": "html"}
    # The portal's pages (not in /api): the directory, a site's and a plot's sheet, a search.
    plot = served.get(tier, "/collections/activity-plots/items", params={"limit": 1}).json()
    yield "/sites", {}
    yield f"/sites/{values['featureId']}", {}
    yield f"/plots/{plot['features'][0]['id']}", {}
    yield "/search", {"q": "a"}


@pytest.mark.parametrize("public_url", [None, PUBLIC_URL], ids=["no-public-url", "public-url"])
@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
def test_links_never_follow_a_forged_host(
    served, public_url_client, tier: Tier, public_url: str | None
) -> None:
    """Host and X-Forwarded-* from a client that is no trusted proxy never reach a link: with
    ATLAS_PUBLIC_URL every link uses it, without it the address the server was reached on."""
    client = served.client if public_url is None else public_url_client
    expected = public_url or "http://testserver"
    answered = 0
    for url, params in _forged_requests(served, tier):
        response = client.get(url, params=params, headers={**served.headers[tier], **FORGED})
        assert response.status_code < 500, (url, response.text[:200])
        text = response.content.decode("utf-8", errors="replace")
        headers = json.dumps(dict(response.headers))
        for host in FORGED_HOSTS:
            assert host not in text and host not in headers, (url, params, host)
        if public_url is not None:
            assert "testserver" not in text and "testserver" not in headers, (url, params)
        answered += expected in text
    landing = client.get("/", headers=FORGED).json()
    assert {link["href"].startswith(expected + "/") for link in landing["links"]} == {True}
    assert answered > 10, "the requests must reach answers that carry links"


# The extract's clip by commune (an INSEE code the caller sends) shares its name with the
# cadastre's hidden ``commune`` field: that schema, and only it, may say the word.
_CLIP_SCHEMA = ("components", "schemas", "Clip")


def _strings(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """(where, text) of every key and string of a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key), key
            yield from _strings(value, (*path, key))
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value, path)
    elif isinstance(node, str):
        yield path, node


@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
def test_the_openapi_document_names_nothing_hidden(served, tier: Tier) -> None:
    """A tier's /api names no collection, field or route it may not see or call."""
    response = served.get(tier, "/api")
    assert response.status_code == 200
    document = response.json()
    hidden = sorted(HIDDEN_COLLECTIONS[tier] | HIDDEN_FIELDS[tier])
    if tier != Tier.INTERNAL:
        hidden.append("inventory")
        assert not [p for p in document["paths"] if "inventory" in p.lower()]
        # The search below finds what is there: the staff's document does name the inventory.
        staff = served.get(Tier.INTERNAL, "/api").json()
        assert [w for w, text in _strings(staff) if "inventory" in text.lower()]
    found = [
        (".".join(where), name)
        for where, text in _strings(document)
        for name in hidden
        if name.lower() in text.lower()
        and not (name == "commune" and where[: len(_CLIP_SCHEMA)] == _CLIP_SCHEMA)
    ]
    assert not found, f"{tier} document names {found[:10]}"
    # Everything the document lists, this tier may call: no operation answers it 404 outright.
    for path, _ in get_endpoints(json.dumps(document)):
        if "{" not in path:
            assert served.get(tier, path).status_code != 404, path


# The map pages (/maps/{tier}) write their data into folium's inline scripts, which the generic
# checks above read as one string: they are parsed here instead (tests/maps/embedded.py).
MAP_GEOMETRIES = {"Point", "MultiPoint", "Polygon", "MultiPolygon"}  # no line: pipes are lines


@pytest.mark.parametrize("caller", list(Tier), ids=lambda t: t.value)
def test_maps_hold_nothing_the_tier_may_not_see(served, caller: Tier) -> None:
    """Each map a caller may open: no hidden field or value, no pipe, no hidden collection's URL."""
    secrets = _secrets(tuple(sorted(served.sources.items())))
    opened = 0
    for tier in Tier:
        for lang in ("fr", "en"):
            response = served.get(caller, f"/maps/{tier.value}", params={"lang": lang})
            if response.status_code == 404:
                assert list(Tier).index(tier) > list(Tier).index(caller)
                continue
            opened += 1
            _check_map(response.text, tier, secrets)
    assert opened == 2 * (list(Tier).index(caller) + 1)


def _check_map(page: str, tier: Tier, secrets: Secrets) -> None:
    documents = embedded.geojson_documents(page)
    assert documents, "the map embeds its small layers"
    assert not embedded.property_keys(page) & HIDDEN_FIELDS[tier]
    values = json.dumps([documents, embedded.marker_rows(page)], ensure_ascii=False)
    for value in secrets.forbidden_strings(tier):
        assert json.dumps(value, ensure_ascii=False) not in values, f"{tier} map has {value!r}"
        assert value not in page, f"{tier} map has {value!r}"
    for document in documents:
        kinds = {f["geometry"]["type"] for f in document["features"]}
        assert kinds <= MAP_GEOMETRIES, kinds
    for hidden in HIDDEN_COLLECTIONS[tier]:
        assert f"/collections/{hidden}/" not in page, f"{tier} map reads {hidden}"
    for field in HIDDEN_FIELDS[tier]:  # as a key or a property access in the map's scripts
        for quoted in (f'"{field}"', f"'{field}'", f"p.{field}", f"properties.{field}"):
            assert quoted not in page, f"{tier} map names {field}"


def test_the_map_check_sees_a_leak(served) -> None:
    """The staff's map checked as if the public had it: the check must fail (it can)."""
    secrets = _secrets(tuple(sorted(served.sources.items())))
    page = served.get(Tier.INTERNAL, "/maps/internal").text
    with pytest.raises(AssertionError):
        _check_map(page, Tier.PUBLIC, secrets)
    with pytest.raises(AssertionError):
        _check_map(page, Tier.B2B, secrets)


# The portal's site-selection and extract pages (atlas/api/routers/selection_pages.py): people's
# pages, not API operations, so not in the OpenAPI document the matrix above reads.
PAGE_SEARCHES: list[list[tuple[str, str]]] = [
    [],
    [("min_area_ha", "1"), ("vocations", "industrielle"), ("exclude_flood_classes", "4")],
    [("water_min_dn", "100"), ("water_max_distance_m", "500"), ("only_passing", "true")],
    [("on_market", "false"), ("outside_heritage", "true"), ("lang", "en")],
    [("terr_acquereur", "x")],  # a hidden field named as a criterion: refused like any name
]


def _check_page(response, tier: Tier, url: str, secrets: Secrets, params) -> None:
    check_response(response, tier, url, secrets, {k: v for k, v in params})
    # Not even as a word of the page (a column, an attribute); names with an underscore only,
    # since a plain word ("section", "commune") is also English, French or HTML.
    for field in HIDDEN_FIELDS[tier]:
        if "_" in field and field not in json.dumps(params):
            assert not re.search(rf"\b{field}\b", response.text), f"{tier}: {field} in {url}"


@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
def test_selection_and_extract_pages_hold_nothing_the_tier_may_not_see(served, tier: Tier) -> None:
    """The selection page and its map for every search, the extracts pages and other tiers'
    jobs: nothing hidden; the public gets no result; a job of another answers like none."""
    secrets = _secrets(tuple(sorted(served.sources.items())))
    shown = 0
    for params in PAGE_SEARCHES:
        response = served.get(tier, "/selection", params=params)
        _check_page(response, tier, "/selection", secrets, params)
        shown += 'data-terr-id="' in response.text
        if tier is Tier.PUBLIC:
            assert "data-terr-id" not in response.text and "atlas-selection" not in response.text
        for map_tier in (Tier.B2B, Tier.INTERNAL):  # the tier's map with the result layer
            path = f"/maps/{map_tier.value}/selection"
            response = served.get(tier, path, params=params)
            _check_page(response, tier, path, secrets, params)
            if not holds(tier, map_tier):
                assert response.status_code == 404
            elif response.status_code == 200:
                _check_map(response.text, map_tier, secrets)
    assert shown == (0 if tier is Tier.PUBLIC else 4)  # every valid search, and only those
    exports = served.get(tier, "/exports")
    assert exports.status_code == (200 if tier is Tier.INTERNAL else 404)
    _check_page(exports, tier, "/exports", secrets, [])
    unknown = served.get(tier, "/exports/" + "Z" * 32)
    for job_id in _job_ids(served, tier)[1:3]:  # the other tiers' jobs
        other = served.get(tier, f"/exports/{job_id}")
        assert other.status_code == unknown.status_code == 404
        assert other.text == unknown.text.replace("Z" * 32, job_id)
    own = served.get(tier, f"/exports/{_job_ids(served, tier)[0]}")
    assert own.status_code == 200
    _check_page(own, tier, "/exports/{jobId}", secrets, [])


def test_the_selection_page_check_sees_a_leak(served) -> None:
    """The staff's result page checked as if the public had it: the check must fail (it can)."""
    secrets = _secrets(tuple(sorted(served.sources.items())))
    page = served.get(Tier.INTERNAL, "/selection", params=PAGE_SEARCHES[1])
    assert page.status_code == 200
    with pytest.raises(AssertionError):
        _check_page(page, Tier.PUBLIC, "/selection", secrets, PAGE_SEARCHES[1])


# The portal's pages (atlas.api.routers.portal) are pages for people, not in /api: listed here,
# every site, plots on and off the market, and searches for what a tier may not find.
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def _portal_urls(served) -> list[str]:
    secrets = _secrets(tuple(sorted(served.sources.items())))
    staff = {"limit": 1000}
    sites = served.get(Tier.INTERNAL, "/collections/activity-sites/items", params=staff).json()
    plots = served.get(Tier.INTERNAL, "/collections/activity-plots/items", params=staff).json()
    urls = ["/", "/?lang=en", "/sites", "/sites?sort=plots&order=desc", "/sites?lang=en"]
    urls += [f"/sites/{f['id']}" for f in sites["features"]]
    urls += [f"/plots/{f['id']}" for f in plots["features"][:30]]
    urls += [f"/plots/{i}?lang=en" for i in secrets.off_market_plots[:5]]
    probes = [*secrets.off_market_plots[:3], *secrets.owners[:2], *secrets.buyers[:2], "terrain"]
    return urls + [f"/search?q={q}" for q in probes]


@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
def test_portal_pages_hold_nothing_the_tier_may_not_see(served, tier: Tier) -> None:
    """Home, directory, every site sheet, plot sheets and searches, as each tier gets them; a
    plot the tier may not see answers exactly like one that does not exist."""
    secrets = _secrets(tuple(sorted(served.sources.items())))
    hidden = set(secrets.off_market_plots) if tier is Tier.PUBLIC else set()
    sheets = 0
    for url in _portal_urls(served):
        response = served.client.get(url, headers={**served.headers[tier], **BROWSER})
        check_response(response, tier, url, secrets)
        check_portal_page(response.text, tier, url)
        plot_id = url.removeprefix("/plots/").split("?")[0] if url.startswith("/plots/") else None
        if plot_id in hidden:
            stand_in = "Z" * len(plot_id)
            other = served.client.get(
                url.replace(plot_id, stand_in), headers={**served.headers[tier], **BROWSER}
            )
            assert response.status_code == other.status_code == 404, url
            assert response.text == other.text.replace(stand_in, plot_id), url
        else:
            sheets += response.status_code == 200
    assert sheets > 30, "the portal's pages must be reached, not only their 404s"


# A sheet row says which field it shows (data-key); the price's derived figures are the price's.
DERIVED_FROM = {"price_total": "terr_m2_prix", "priceSpecification": "terr_m2_prix"}


def check_portal_page(text: str, tier: Tier, url: str) -> None:
    """No sheet row, attribute or JSON-LD key of a field (or of a figure derived from one) the
    tier may not see."""
    hidden = HIDDEN_FIELDS[tier]
    shown = set(html_text.attributes(text)) | html_text.field_names(text)
    leaked = {name for name in shown if DERIVED_FROM.get(name, name) in hidden}
    assert not leaked, f"{tier} got {leaked} in the portal page {url}"


def test_the_portal_check_sees_a_leak(served) -> None:
    """A partner's priced plot sheet checked as if the public had it: the check must fail."""
    plots = served.get(Tier.B2B, "/collections/activity-plots/items", params={"limit": 1000})
    priced = next(
        f["id"]
        for f in plots.json()["features"]
        if f["properties"].get("terr_m2_prix")
        and f["properties"]["terr_stade_comm"] in ON_THE_MARKET
    )
    partner = served.client.get(f"/plots/{priced}", headers={**served.headers[Tier.B2B], **BROWSER})
    check_portal_page(partner.text, Tier.B2B, "/plots")
    with pytest.raises(AssertionError):
        check_portal_page(partner.text, Tier.PUBLIC, "/plots")


# A sheet's PDF (the caller's tier) and share image (the public's, whoever asks), served by
# atlas.api.routers.portal_files: files for people, not in /api either. The PDF's text is read
# back (pdf_text) and searched like a page; a field shows in it as its label, not its name.
SHEET_COLLECTIONS = ("activity-plots", "activity-sites")


def _labels(names: set[str], lang: str) -> set[str]:
    """The sheets' labels of ``names`` (fields, or figures derived from them)."""
    out = set()
    for name in names | {d for d, source in DERIVED_FROM.items() if source in names}:
        for collection_id in SHEET_COLLECTIONS:
            try:
                out.add(words.label(name, lang, collection_id))
            except KeyError:
                continue  # no sheet shows that field
    return out


def check_pdf(data: bytes, tier: Tier, url: str, secrets: Secrets, lang: str = "fr") -> None:
    """No forbidden value anywhere in the PDF's text (wrapped or not), no label of a hidden field
    or of a figure derived from one."""
    text = pdf_text.flat(data)
    squeezed = "".join(text.split())
    for value in secrets.forbidden_strings(tier):
        assert " ".join(value.split()) not in text, f"{tier} received {value!r} in {url}"
    for label in _labels(set(HIDDEN_FIELDS[tier]), lang):
        assert "".join(label.split()) not in squeezed, f"{tier} got {label!r} in {url}"


def _sheet_ids(served) -> tuple[list[str], list[str], list[str]]:
    """Sites, plots on the market and plots off it, a few of each (a PDF costs ~0.5 s)."""
    secrets = _secrets(tuple(sorted(served.sources.items())))
    staff = {"limit": 1000}
    sites = served.get(Tier.INTERNAL, "/collections/activity-sites/items", params=staff).json()
    public = served.get(Tier.PUBLIC, "/collections/activity-plots/items", params=staff).json()
    return (
        [f["id"] for f in sites["features"]][:6],
        [f["id"] for f in public["features"]][:6],
        secrets.off_market_plots[:3],
    )


@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
def test_sheet_files_hold_nothing_the_tier_may_not_see(served, tier: Tier) -> None:
    """Each tier's PDFs of sites and plots (on and off the market, FR and EN): nothing hidden,
    and an off-market plot answers the public like an unknown id; share images are the public's
    bytes whoever asks, and none exists of a plot off the market."""
    secrets = _secrets(tuple(sorted(served.sources.items())))
    sites, on_market, off_market = _sheet_ids(served)
    urls = [f"/sites/{i}.pdf" for i in sites] + [f"/plots/{i}.pdf" for i in on_market + off_market]
    urls += [f"/sites/{sites[0]}.pdf?lang=en", f"/plots/{on_market[0]}.pdf?lang=en"]
    pdfs = 0
    for url in urls:
        response = served.get(tier, url)
        check_response(response, tier, url, secrets)
        ident = url.split("/")[-1].split(".pdf")[0]
        if response.status_code == 200:
            assert response.headers["content-type"] == "application/pdf"
            check_pdf(response.content, tier, url, secrets, "en" if "lang=en" in url else "fr")
            pdfs += 1
            continue
        assert tier is Tier.PUBLIC and ident in off_market, url
        stand_in = "Z" * len(ident)
        other = served.get(tier, url.replace(ident, stand_in))
        assert response.status_code == other.status_code == 404, url
        assert response.text == other.text.replace(stand_in, ident), url
    assert pdfs == len(urls) - (len(off_market) if tier is Tier.PUBLIC else 0)
    for kind, ids in (("sites", sites[:2]), ("plots", on_market[:2] + off_market[:1])):
        for ident in ids:
            url = f"/share/{kind}/{ident}.png"
            response, public = served.get(tier, url), served.get(Tier.PUBLIC, url)
            assert response.status_code == public.status_code, url
            assert response.content == public.content, f"{tier} got another image than the public"
            assert response.status_code == (404 if ident in off_market else 200), url


def test_the_pdf_check_sees_a_leak(served) -> None:
    """A partner's PDF of a priced plot checked as if the public had it: the check must fail."""
    secrets = _secrets(tuple(sorted(served.sources.items())))
    plots = served.get(Tier.B2B, "/collections/activity-plots/items", params={"limit": 1000})
    priced = next(
        f["id"]
        for f in plots.json()["features"]
        if f["properties"].get("terr_m2_prix")
        and f["properties"]["terr_stade_comm"] in ON_THE_MARKET
    )
    partner = served.get(Tier.B2B, f"/plots/{priced}.pdf")
    assert partner.status_code == 200
    check_pdf(partner.content, Tier.B2B, "/plots", secrets)
    with pytest.raises(AssertionError):
        check_pdf(partner.content, Tier.PUBLIC, "/plots", secrets)
    # The staff's PDF of an off-market plot names a plot the public may not see: it fails too.
    staff = served.get(Tier.INTERNAL, f"/plots/{secrets.off_market_plots[0]}.pdf")
    assert staff.status_code == 200
    with pytest.raises(AssertionError):
        check_pdf(staff.content, Tier.PUBLIC, "/plots", secrets)
