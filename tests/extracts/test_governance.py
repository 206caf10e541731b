"""Clipping against a shapely oracle, tier filtering, the cap, job ownership and the audit log,
over HTTP on both stores."""

from __future__ import annotations

import datetime as dt
import json

import pyogrio
import pytest
import shapely
from pyproj import Transformer

from atlas.policy.tiers import Tier
from tests.extracts.helpers import estimate, run, start
from tests.policy.oracle import HIDDEN_FIELDS, Secrets

L93 = "http://www.opengis.net/def/crs/EPSG/0/2154"
CLIPPED = ["activity-plots", "parcels", "water-pipes", "establishments", "heritage-perimeters"]
UNKNOWN = "no-such-collection"


def _served_features(served, tier: Tier, collection_id: str) -> dict[str, shapely.Geometry]:
    """Every feature the tier gets from the items endpoint, in Lambert-93 (independent of extracts)."""
    out, offset = {}, 0
    while True:
        response = served.get(
            tier,
            f"/collections/{collection_id}/items",
            params={"crs": L93, "limit": 1000, "offset": offset},
        )
        assert response.status_code == 200, response.text
        features = response.json()["features"]
        out.update({f["id"]: shapely.geometry.shape(f["geometry"]) for f in features})
        if len(features) < 1000:
            return out
        offset += 1000


def _oracle(features: dict[str, shapely.Geometry], area) -> dict[str, shapely.Geometry]:
    """Features intersecting ``area``; lines and polygons cut, their slivers left out.

    The sliver rule (README, Extracts): a cut keeps its parts of at least 1 m² (1 m for a line)
    and 0.1 % of the feature's area (length); a feature with none left is left out.
    """
    out = {}
    for fid, geometry in features.items():
        if not geometry.intersects(area):
            continue
        if geometry.geom_type in ("Point", "MultiPoint") or area.covers(geometry):
            out[fid] = geometry
            continue
        size = (lambda g: g.area) if geometry.area > 0 else (lambda g: g.length)
        smallest = max(1.0, 0.001 * size(geometry))
        parts = [p for p in shapely.get_parts(geometry.intersection(area)) if size(p) >= smallest]
        if parts:
            out[fid] = shapely.union_all(parts)
    return out


def _commune(served, code: str) -> shapely.Geometry:
    """The commune as the communes collection serves it (Lambert-93)."""
    response = served.get(Tier.PUBLIC, f"/collections/communes/items/{code}", params={"crs": L93})
    assert response.status_code == 200, response.text
    return shapely.geometry.shape(response.json()["geometry"])


def _extracted(job, collection_id: str) -> dict[str, shapely.Geometry]:
    layer = collection_id.replace("-", "_")
    frame = pyogrio.read_dataframe(job.path("geojson", layer))
    id_field = next(
        x["id_field"] for x in job.metadata["layers"] if x["collection"] == collection_id
    )
    return dict(zip(frame[id_field], frame.geometry.values, strict=True))


def _assert_clip(served, job, area, tier: Tier = Tier.INTERNAL) -> None:
    for collection_id in job.status["query"]["collections"]:
        expected = _oracle(_served_features(served, tier, collection_id), area)
        got = _extracted(job, collection_id)
        assert set(got) == set(expected), collection_id
        assert expected, f"the clip must hold some {collection_id}"
        for fid, geometry in got.items():
            difference = shapely.symmetric_difference(geometry, expected[fid])
            assert (
                difference.area < 1e-3
                and difference.length < 1e-3
                or geometry.equals(expected[fid])
            ), (collection_id, fid)


def _centre_box(served, half: float) -> list[float]:
    info = served.get(Tier.INTERNAL, "/collections/parcels").json()
    west, south, east, north = info["extent"]["spatial"]["bbox"][0]
    to_l93 = Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
    x, y = to_l93.transform((west + east) / 2, (south + north) / 2)
    return [x - half, y - half, x + half, y + half]


def test_bbox_clip_matches_shapely(served, tmp_path) -> None:
    box = _centre_box(served, 1500)
    clip = {"bbox": box, "bbox-crs": L93}
    job = run(
        served, Tier.INTERNAL, {"collections": CLIPPED, "format": "geojson", "clip": clip}, tmp_path
    )
    _assert_clip(served, job, shapely.box(*box))
    assert job.metadata["clip"]["kind"] == "bbox"


def _lonlat_area(*boxes: tuple[float, float, float, float]) -> shapely.Geometry:
    """CRS84 boxes as one Lambert-93 area, their edges densified every 0.01°."""
    to_l93 = Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
    parts = [
        shapely.transform(
            shapely.segmentize(shapely.box(*b), 0.01), to_l93.transform, interleaved=False
        )
        for b in boxes
    ]
    return shapely.union_all(parts)


def test_whole_world_bbox_clip_holds_every_feature(served, tmp_path) -> None:
    """-180,-90,180,90 is cut to where Lambert-93 is defined, not reprojected into nonsense."""
    body = {"collections": CLIPPED, "format": "geojson", "clip": {"bbox": [-180, -90, 180, 90]}}
    job = run(served, Tier.INTERNAL, body, tmp_path)
    for collection_id in CLIPPED:
        served_ids = set(_served_features(served, Tier.INTERNAL, collection_id))
        assert set(_extracted(job, collection_id)) == served_ids, collection_id
    assert job.metadata["clip"]["bbox"] == [-180, -90, 180, 90]


def test_bbox_clip_across_the_antimeridian_is_its_two_halves(served, tmp_path) -> None:
    """West edge 2.46°E, east edge 2.40°E: both halves, the strip between them left out."""
    clip = {"bbox": [2.46, 48.3, 2.40, 48.9]}
    collections = ["activity-plots", "parcels", "establishments"]
    job = run(
        served,
        Tier.INTERNAL,
        {"collections": collections, "format": "geojson", "clip": clip},
        tmp_path,
    )
    # The halves within France (Lambert-93's area of use), far enough from the data
    # that the densification of their curved edges plays no part.
    area = _lonlat_area((2.46, 48.3, 10.0, 48.9), (-9.0, 48.3, 2.40, 48.9))
    for collection_id in collections:
        expected = _oracle(_served_features(served, Tier.INTERNAL, collection_id), area)
        got = _extracted(job, collection_id)
        assert expected and set(got) == set(expected), collection_id
        # Meridians are straight in Lambert-93: cuts along them agree to the millimetre.
        for fid, geometry in got.items():
            assert shapely.hausdorff_distance(geometry, expected[fid]) < 1e-3, fid
    strip = _lonlat_area((2.41, 48.3, 2.45, 48.9))
    every = _served_features(served, Tier.INTERNAL, "parcels")
    assert [f for f, g in every.items() if g.within(strip)], "parcels lie in the strip"


def test_commune_clip_matches_shapely(served, tmp_path) -> None:
    """The polygon is the communes collection's; the parcels are the commune's own, no sliver."""
    body = {"collections": CLIPPED, "format": "geojson", "clip": {"commune": "91228"}}
    job = run(served, Tier.INTERNAL, body, tmp_path)
    _assert_clip(served, job, _commune(served, "91228"))
    clip = job.metadata["clip"]
    assert clip["boundaries"].startswith("collection communes, version ")
    assert clip["name"] == "Évry-Courcouronnes"
    # The demo cadastre tessellates each commune: the clip holds exactly its parcels, whole.
    parcels = json.loads(served.sources["parcels"].read_text(encoding="utf-8"))["features"]
    own = {f["id"] for f in parcels if f["properties"]["commune"] == "91228"}
    assert set(_extracted(job, "parcels")) == own


def test_commune_clip_is_tier_aware(served, tmp_path) -> None:
    """A partner's commune clip holds what the partner sees there, and the commune alone."""
    body = {
        "collections": ["activity-plots", "parcels", "communes"],
        "format": "geojson",
        "clip": {"commune": "91174"},
    }
    job = run(served, Tier.B2B, body, tmp_path)
    area = _commune(served, "91174")
    for collection_id in ("activity-plots", "parcels"):
        expected = _oracle(_served_features(served, Tier.B2B, collection_id), area)
        assert expected and set(_extracted(job, collection_id)) == set(expected), collection_id
    assert set(_extracted(job, "communes")) == {"91174"}  # the neighbours only touch it
    frame = pyogrio.read_dataframe(job.path("geojson", "parcels"))
    assert not set(frame.columns) & HIDDEN_FIELDS[Tier.B2B]


def test_site_clip_matches_shapely(served, tmp_path) -> None:
    sites = _served_features(served, Tier.INTERNAL, "activity-sites")
    site_id = max(sites, key=lambda s: sites[s].area)
    collections = ["activity-plots", "parcels", "establishments"]
    body = {"collections": collections, "format": "geojson", "clip": {"site": site_id}}
    job = run(served, Tier.INTERNAL, body, tmp_path)
    _assert_clip(served, job, sites[site_id])


def test_polygon_clip_in_crs84_matches_shapely(served, tmp_path) -> None:
    x0, y0, x1, y1 = _centre_box(served, 2500)
    to_lonlat = Transformer.from_crs("EPSG:2154", "OGC:CRS84", always_xy=True)
    ring = [to_lonlat.transform(x, y) for x, y in ((x0, y0), (x1, y0), (x0, y1), (x0, y0))]
    polygon = {"type": "Polygon", "coordinates": [ring]}
    body = {"collections": CLIPPED, "format": "geojson", "clip": {"polygon": polygon}}
    job = run(served, Tier.INTERNAL, body, tmp_path)
    to_l93 = Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
    _assert_clip(served, job, shapely.Polygon([to_l93.transform(*p) for p in ring]))


def test_public_clip_decides_on_generalised_positions(served, tmp_path) -> None:
    """A public extract places establishments at their 50 m positions, inside or out alike."""
    box = _centre_box(served, 4000)
    body = {
        "collections": ["establishments"],
        "format": "geojson",
        "clip": {"bbox": box, "bbox-crs": L93},
    }
    job = run(served, Tier.PUBLIC, body, tmp_path)
    _assert_clip(served, job, shapely.box(*box), Tier.PUBLIC)
    assert estimate(served, Tier.PUBLIC, body) == job.status["result"]["counts"]
    assert job.metadata["layers"][0]["geometry"] == "generalised (50 m)"


@pytest.mark.parametrize(
    ("tier", "hidden"),
    [(Tier.PUBLIC, "parcels"), (Tier.PUBLIC, "water-pipes"), (Tier.B2B, "water-structures")],
)
@pytest.mark.parametrize("dry_run", [False, True])
def test_hidden_collections_answer_like_unknown_ones(served, tier, hidden, dry_run) -> None:
    url = "/extracts?dry_run=true" if dry_run else "/extracts"
    responses = [
        served.client.post(
            url, json={"collections": ["services", name]}, headers=served.headers[tier]
        )
        for name in (hidden, UNKNOWN)
    ]
    assert responses[0].status_code == responses[1].status_code == 404
    assert responses[0].text == responses[1].text.replace(UNKNOWN, hidden)


def test_public_extract_holds_only_what_public_may_see(served, tmp_path) -> None:
    collections = ["activity-sites", "activity-plots", "establishments", "services"]
    job = run(served, Tier.PUBLIC, {"collections": collections, "format": "geojson"}, tmp_path)
    secrets = Secrets(served.sources)
    for collection_id in collections:
        path = job.path("geojson", collection_id.replace("-", "_"))
        text = path.read_text(encoding="utf-8")
        for value in secrets.forbidden_strings(Tier.PUBLIC):
            assert json.dumps(value, ensure_ascii=False) not in text, (collection_id, value)
        fields = set(pyogrio.read_info(path)["fields"])
        assert not fields & HIDDEN_FIELDS[Tier.PUBLIC], collection_id
        matched = served.get(
            Tier.PUBLIC, f"/collections/{collection_id}/items", params={"limit": 1}
        )
        count = job.status["result"]["counts"][collection_id]
        assert count == matched.json()["numberMatched"]
    establishments = pyogrio.read_info(job.path("geojson", "establishments"))["fields"]
    assert not {"etab_contact_mail", "etab_contact_tel"} & set(establishments)
    assert {x["licence"]["id"] for x in job.metadata["layers"]} == {"etalab-2.0"}
    assert "Etalab" in (tmp_path / "LICENCE.txt").read_text(encoding="utf-8")


def test_internal_parcels_are_for_internal_use_only(served, tmp_path) -> None:
    job = run(served, Tier.INTERNAL, {"collections": ["parcels"], "format": "gpkg"}, tmp_path)
    licence = job.metadata["layers"][0]["licence"]
    assert licence["id"] == "internal"
    text = (tmp_path / "LICENCE.txt").read_text(encoding="utf-8")
    assert "USAGE INTERNE, DIFFUSION INTERDITE" in text and "RGPD" in text
    readme = (tmp_path / "LISEZMOI-README.txt").read_text(encoding="utf-8")
    assert "Couches" in readme and "Layers" in readme


def test_over_the_cap_is_refused_before_running(served) -> None:
    caps = served.settings.caps
    saved = caps.extract_b2b
    jobs_dir = served.client.app.state.extracts.root
    before = set(jobs_dir.iterdir())
    body = {"collections": ["activity-plots", "parcels"], "format": "csv"}
    counts = estimate(served, Tier.B2B, body)
    caps.extract_b2b = sum(counts.values()) - 1
    try:
        response = start(served, Tier.B2B, body)
        dry = served.client.post(
            "/extracts?dry_run=true", json=body, headers=served.headers[Tier.B2B]
        )
    finally:
        caps.extract_b2b = saved
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "ExtractTooLarge"
    assert f"{sum(counts.values()):,} features" in error["description"]
    assert f"parcels {counts['parcels']:,}" in error["description"]
    assert set(jobs_dir.iterdir()) == before  # no job, nothing read
    assert dry.status_code == 200 and dry.json()["estimate"]["withinCap"] is False
    assert not _audit_records(served, {response.headers["x-request-id"]})


def test_another_caller_cannot_see_or_download_a_job(served, tmp_path) -> None:
    job = run(served, Tier.B2B, {"collections": ["activity-plots"], "format": "gpkg"}, tmp_path)
    _, other_key = served.client.app.state.keys.create(tier=Tier.B2B, name="another partner")
    others = [
        served.headers[Tier.PUBLIC],
        served.headers[Tier.INTERNAL],
        {"Authorization": f"Bearer {other_key}"},
    ]
    stand_in = "Z" * len(job.job_id)
    for headers in others:
        for suffix in ("", "/download"):
            mine = served.client.get(f"/extracts/{job.job_id}{suffix}", headers=headers)
            unknown = served.client.get(f"/extracts/{stand_in}{suffix}", headers=headers)
            assert mine.status_code == unknown.status_code == 404
            assert mine.text == unknown.text.replace(stand_in, job.job_id)
    owner = served.client.get(f"/extracts/{job.job_id}", headers=served.headers[Tier.B2B])
    assert owner.status_code == 200 and owner.json()["progress"] == 100
    assert owner.headers["cache-control"] == "private, no-store"
    for malformed in ("..%2fstatus.json", "x" * 200, "%2e%2e%2fstatus.json"):
        response = served.client.get(f"/extracts/{malformed}", headers=served.headers[Tier.B2B])
        assert response.status_code == 404


def _audit_records(served, request_ids: set[str]) -> list:
    log = served.client.app.state.audit
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    return [r for r in log.since(start) if r.request_id in request_ids]


def test_one_audit_record_per_collection_and_none_for_estimates(served, tmp_path) -> None:
    clip = {"commune": "91174"}
    body = {
        "collections": ["parcels", "water-pipes", "activity-sites"],
        "format": "flatgeobuf",
        "clip": clip,
    }
    dry = served.client.post(
        "/extracts?dry_run=true", json=body, headers=served.headers[Tier.INTERNAL]
    )
    job = run(served, Tier.INTERNAL, body, tmp_path)
    records = _audit_records(served, {job.request_id, dry.headers["x-request-id"]})
    assert sorted(r.collection_id for r in records) == sorted(body["collections"])
    read = {x["collection"]: x["features_read"] for x in job.metadata["layers"]}
    area = _commune(served, "91174")
    for record in records:
        assert (record.action, record.tier, record.request_id) == (
            "extract",
            "internal",
            job.request_id,
        )
        assert record.feature_count == read[record.collection_id]
        # WKT to the centimetre: the outline within rounding.
        assert shapely.from_wkt(record.area).symmetric_difference(area).area < 1e-4 * area.area
    assert "geometry" in next(r.detail for r in records if r.collection_id == "water-pipes")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"collections": ["services"], "clip": {"commune": "91228", "site": "x"}}, "exactly one"),
        (
            {"collections": ["services"], "clip": {"commune": "99999"}},
            "no commune '99999' in the communes collection",
        ),
        ({"collections": ["services"], "clip": {"site": "nope"}}, "no activity site 'nope'"),
        ({"collections": ["services"], "crs": "EPSG:9999"}, "unsupported CRS"),
        ({"collections": ["services"], "format": "kml"}, "format"),
        ({"collections": ["elevation"]}, "is a raster"),
        ({"collections": ["services", "services"]}, "named twice"),
        ({"collections": []}, "collections"),
        (
            {
                "collections": ["services"],
                "clip": {
                    "polygon": {
                        "type": "Polygon",
                        "coordinates": [
                            [[2.4, 48.6], [2.5, 48.7], [2.5, 48.6], [2.4, 48.7], [2.4, 48.6]]
                        ],
                    }
                },
            },
            "not valid",
        ),
        # Latitudes inverted (west > east alone is a box across the antimeridian).
        ({"collections": ["services"], "clip": {"bbox": [2, 49, 3, 48]}}, "lower corner"),
        ({"collections": ["services"], "clip": {"bbox": [2, 48, 2, 49]}}, "area is empty"),
        ({"collections": ["services"], "clip": {"bbox": [100, 10, 110, 20]}}, "outside the area"),
        ({"collections": ["services"], "clip": {"bbox": [2, -91, 3, 49]}}, "out of range"),
    ],
)
def test_invalid_requests_say_what_is_wrong(served, body, words) -> None:
    response = start(served, Tier.B2B, body)
    assert response.status_code == 400, response.text
    assert words in response.json()["description"]


def test_cql2_filter_selects_rows_and_hides_what_the_tier_may_not_name(served, tmp_path) -> None:
    """A filter (text or JSON) narrows every collection of the extract as items would."""
    text = "terr_surf_brute > 2"
    items = served.get(
        Tier.B2B, "/collections/activity-plots/items", params={"filter": text, "limit": 1000}
    ).json()
    expected = {f["id"] for f in items["features"]}
    assert 0 < len(expected) < items["numberMatched"] + 1
    body = {"collections": ["activity-plots"], "format": "geojson", "filter": text}
    assert estimate(served, Tier.B2B, body) == {"activity-plots": len(expected)}
    json_body = body | {"filter": {"op": ">", "args": [{"property": "terr_surf_brute"}, 2]}}
    job = run(served, Tier.B2B, json_body, tmp_path / "json")
    assert set(_extracted(job, "activity-plots")) == expected
    # A field the tier may not see answers exactly like one that does not exist.
    hidden = start(served, Tier.B2B, body | {"filter": "terr_acquereur IS NULL"})
    made_up = start(served, Tier.B2B, body | {"filter": "terr_acquerexx IS NULL"})
    assert hidden.status_code == made_up.status_code == 400
    assert hidden.json()["description"] == made_up.json()["description"].replace(
        "terr_acquerexx", "terr_acquereur"
    )
