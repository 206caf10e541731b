"""One error shape everywhere (``atlas.api.error_responses``): unknown paths, wrong methods, bad
bodies and a route that really fails answer ``{code, description}`` (``requestId`` on 5xx), or
the HTML error page when HTML was asked, with the headers every other answer carries."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.policy.tiers import Tier
from atlas.settings import Settings, StoreSettings
from tests.api.bodies import internals_in
from tests.conftest import STORE_KINDS, settings_for
from tests.policy import html_text

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SECRET = "/srv/atlas/data/keys.duckdb: SELECT digest FROM api_keys"


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Iterator[TestClient]:
    """An app over an empty embedded store: nothing here depends on data."""
    data_dir = tmp_path_factory.mktemp("errors") / "data"
    with TestClient(create_app(Settings(store=StoreSettings(data_dir=data_dir)))) as client:
        yield client


def _assert_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "description"} and body["code"] == code, body
    assert body["description"], body
    vary = {v.strip() for v in response.headers["vary"].split(",")}
    assert {"Accept", "Accept-Language", "Authorization"} <= vary
    assert response.headers["x-content-type-options"] == "nosniff"
    return body


@pytest.mark.parametrize("path", ["/no-such-path", "/collections/x/y/z/w", "/static/nope.js"])
def test_an_unknown_path_is_a_404_in_the_error_shape(client, path):
    body = _assert_shape(client.get(path), 404, "NotFound")
    assert path not in body["description"]  # the same body for every unknown path
    assert client.get("/other-path").content == client.get(path).content


def test_a_wrong_method_is_a_405_naming_the_allowed_ones(client):
    response = client.post("/conformance")
    body = _assert_shape(response, 405, "MethodNotAllowed")
    assert response.headers["allow"] == "GET"
    assert "POST" in body["description"] and "GET" in body["description"]
    assert response.headers["cache-control"] == "no-store"
    _assert_shape(client.delete("/collections"), 405, "MethodNotAllowed")


def test_a_body_that_is_not_json_is_a_400_in_the_error_shape(client):
    response = client.post(
        "/extracts", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    _assert_shape(response, 400, "InvalidParameterValue")


@pytest.mark.parametrize(
    ("params", "headers"),
    [({}, {"Accept": BROWSER}), ({"f": "html"}, {}), ({"f": "html", "lang": "en"}, {})],
)
def test_errors_asked_as_html_are_the_error_page(client, params, headers):
    response = client.get("/no-such-path", params=params, headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    json_body = client.get("/no-such-path").json()
    text = html_text.searchable(response.text)
    assert json_body["description"] in text and json_body["code"] in text
    assert f'lang="{params.get("lang", "fr")}"' in response.text
    wrong = client.post("/conformance", headers={"Accept": BROWSER})
    assert wrong.status_code == 405 and wrong.headers["content-type"].startswith("text/html")
    assert wrong.headers["allow"] == "GET"


def test_json_wins_when_asked_even_from_a_browser(client):
    _assert_shape(
        client.get("/no-such-path", params={"f": "json"}, headers={"Accept": BROWSER}),
        404,
        "NotFound",
    )
    # An f that is not ours does not make an error a 500 or a page: the Accept header decides.
    _assert_shape(client.get("/no-such-path", params={"f": "xml"}), 404, "NotFound")


@pytest.fixture(params=STORE_KINDS, scope="module")
def failing(request, tmp_path_factory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """An app on each store whose store fails with an unexpected error, and a b2b key."""
    lifecycle = settings_for(request.param, tmp_path_factory.mktemp("failing") / "data")
    settings = next(lifecycle)
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            _, key = app.state.keys.create(tier=Tier.B2B, name="errors tests")

            def broken(*args, **kwargs):
                raise RuntimeError(SECRET)  # what a driver bug or a corrupt file would raise

            app.state.store.collections = broken
            yield client, {"Authorization": f"Bearer {key}"}
    finally:
        next(lifecycle, None)


def _assert_internal_error(response) -> dict:
    assert response.status_code == 500
    assert response.headers["x-request-id"]
    vary = {v.strip() for v in response.headers["vary"].split(",")}
    assert {"Accept", "Accept-Language", "Authorization"} <= vary
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert SECRET not in response.text and "RuntimeError" not in response.text
    assert not internals_in(response.text), internals_in(response.text)
    return response.headers


def test_a_route_that_really_fails_is_a_500_with_every_header(failing, caplog):
    client, key = failing
    with caplog.at_level(logging.ERROR, logger="atlas.api"):
        public = client.get("/collections")
    _assert_internal_error(public)
    assert public.json() == {
        "code": "ServerError",
        "description": "internal error",
        "requestId": public.headers["x-request-id"],
    }
    assert public.headers["cache-control"] == "no-store"  # a 500 never sticks in a cache
    # The log has what the client does not: the id, the exception and its text.
    logged = [r for r in caplog.records if public.headers["x-request-id"] in r.getMessage()]
    assert logged and logged[0].exc_info and SECRET in str(logged[0].exc_info[1])
    partner = client.get("/collections", headers=key)
    _assert_internal_error(partner)
    assert partner.headers["cache-control"] == "private, no-store"


def test_a_failing_page_is_the_error_page_with_the_request_id(failing):
    client, _ = failing
    page = client.get("/collections", headers={"Accept": BROWSER})
    _assert_internal_error(page)
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-request-id"] in page.text
