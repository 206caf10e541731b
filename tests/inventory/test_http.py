"""``GET /inventory/export``: a zip for the staff, an unknown path for everyone else."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

from atlas.policy.tiers import Tier
from tests.inventory.helpers import CLASS_FILES, assert_valid, validate_against_published

URL = "/inventory/export"
STARTED = dt.datetime.now(dt.UTC)


def _unzip(content: bytes, target: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        (top,) = {name.split("/", 1)[0] for name in names}
        archive.extractall(target)
    return target / top


@pytest.mark.realdata
@pytest.mark.parametrize("mode", ["publication", "internal"])
def test_the_staff_get_the_inventory_as_a_zip(served, tmp_path, mode):
    response = served.client.get(URL, params={"mode": mode}, headers=served.headers[Tier.INTERNAL])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert f"-{mode}.zip" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "private, no-store"
    folder = _unzip(response.content, tmp_path)
    assert {p.name for p in folder.iterdir()} >= {
        "site-eco.csv",
        "terrain-eco.csv",
        "etablissement.csv",
        "sites_economiques.gpkg",
        "datapackage.json",
        "validation-report.json",
        "inventory-report.json",
        "vacancy.csv",
    }
    for name in CLASS_FILES:
        assert_valid(validate_against_published(folder / f"{name}.csv", name), f"{mode}/{name}")
    text = "\n".join(p.read_text(errors="replace") for p in folder.glob("*.csv"))
    for value in served.personal.forbidden():
        assert (value in text) is (mode == "internal"), value


def test_the_http_export_is_audited_under_the_callers_key(served):
    response = served.client.get(URL, headers=served.headers[Tier.INTERNAL])
    assert response.status_code == 200
    audit = served.client.app.state.audit  # type: ignore[attr-defined]
    request_id = response.headers["x-request-id"]
    records = [r for r in audit.since(STARTED) if r.request_id == request_id]
    assert sorted(r.collection_id for r in records) == [
        "activity-plots",
        "activity-sites",
        "establishments",
    ]
    assert {r.action for r in records} == {"inventory"}
    assert all(r.who.startswith("key:") and "inventory tests internal" in r.who for r in records)


BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"
SAME_HEADERS = ("content-type", "cache-control", "vary", "allow", "content-security-policy")


@pytest.mark.parametrize("tier", [Tier.PUBLIC, Tier.B2B], ids=lambda t: t.value)
@pytest.mark.parametrize("params", [{}, {"mode": "internal"}, {"mode": "x"}])
def test_others_get_exactly_what_an_unknown_path_gets(served, tier, params):
    response = served.client.get(URL, params=params, headers=served.headers[tier])
    unknown = served.client.get("/no-such-path", params=params, headers=served.headers[tier])
    assert response.status_code == unknown.status_code == 404
    assert response.json() == {"code": "NotFound", "description": "no resource at this path"}
    assert response.content == unknown.content
    for header in SAME_HEADERS:
        assert response.headers.get(header) == unknown.headers.get(header), header


@pytest.mark.parametrize("tier", [Tier.PUBLIC, Tier.B2B], ids=lambda t: t.value)
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("accept", ["application/json", BROWSER])
def test_others_get_an_unknown_path_whatever_the_method_and_encoding(served, tier, method, accept):
    # A path one letter off is an unknown path answered with the same crumbs and links.
    headers = {**served.headers[tier], "Accept": accept}
    response = served.client.request(method, URL, headers=headers)
    unknown = served.client.request(method, URL[:-1] + "z", headers=headers)
    assert response.status_code == unknown.status_code == 404, method
    assert response.text == unknown.text.replace("exporz", "export"), method
    for header in SAME_HEADERS:
        assert response.headers.get(header) == unknown.headers.get(header), (method, header)


def test_the_staff_get_a_405_for_another_method(served):
    response = served.client.post(URL, headers=served.headers[Tier.INTERNAL])
    assert response.status_code == 405 and response.headers["allow"] == "GET"
    assert response.json()["code"] == "MethodNotAllowed"


def test_nothing_is_audited_for_a_refused_caller(served):
    response = served.client.get(URL, headers=served.headers[Tier.B2B])
    audit = served.client.app.state.audit  # type: ignore[attr-defined]
    request_id = response.headers["x-request-id"]
    assert not [r for r in audit.since(STARTED) if r.request_id == request_id]


def test_an_unknown_mode_is_a_400_for_the_staff(served):
    response = served.client.get(URL, params={"mode": "x"}, headers=served.headers[Tier.INTERNAL])
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidParameterValue"
