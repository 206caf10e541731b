"""Scheme, host and client address behind reverse proxies (atlas.api.forwarded).

Over the served demo on both stores: a trusted proxy's X-Forwarded-Host/-Proto/-For are used,
anyone else's are not, ATLAS_PUBLIC_URL beats every header, and the client address a rate limit
counts is the one the trusted proxy saw. Then through ``atlas serve``, whose uvicorn would
otherwise trust forwarding headers from loopback on its own.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.policy.tiers import Tier
from atlas.settings import LimitSettings

TRUSTED_PEER = ("10.0.0.7", 40000)
UNTRUSTED_PEER = ("192.0.2.9", 40000)
PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))
PUBLIC_URL = "https://pub.example.org/atlas"
FORWARDED = {"X-Forwarded-Host": "atlas.example.org", "X-Forwarded-Proto": "https"}


def _app(served, **api):
    """An app over the served data with other API (and limit) settings."""
    limits = api.pop("limits", served.settings.limits)
    settings = served.settings.model_copy(
        update={"api": served.settings.api.model_copy(update=api), "limits": limits}
    )
    return create_app(settings)


@pytest.fixture(scope="module")
def behind_proxy(served) -> Iterator[object]:
    """An app trusting 10.0.0.0/8 and fd00::/8 as its proxies, its lifespan started."""
    app = _app(served, trusted_proxies=PROXIES)
    with TestClient(app):
        yield app


def _links(client: TestClient, path: str = "/", **headers: str) -> list[str]:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return [link["href"] for link in response.json()["links"]]


def test_a_trusted_proxy_says_which_url_the_client_used(behind_proxy) -> None:
    client = TestClient(behind_proxy, client=TRUSTED_PEER)
    assert {h.split("/", 3)[2] for h in _links(client, **FORWARDED)} == {"atlas.example.org"}
    assert all(h.startswith("https://atlas.example.org/") for h in _links(client, **FORWARDED))
    # Without X-Forwarded-Host, the Host the proxy sent (nginx: proxy_set_header Host $host).
    links = _links(client, "/collections", Host="atlas.example.org:8443")
    assert all(h.startswith("http://atlas.example.org:8443/collections") for h in links), links
    ipv6 = TestClient(behind_proxy, client=("fd00::5", 40000))
    assert _links(ipv6, **FORWARDED)[0].startswith("https://atlas.example.org/")


@pytest.mark.parametrize("peer", [UNTRUSTED_PEER, ("testclient", 50000), ("fe80::1", 1)])
def test_anyone_else_s_forwarding_headers_are_ignored(behind_proxy, peer) -> None:
    client = TestClient(behind_proxy, client=peer)
    links = _links(client, **FORWARDED, Host="forged.example")
    assert all(h.startswith("http://testserver/") for h in links), links


@pytest.mark.parametrize(
    "host",
    ["evil.example/path", "user@evil.example", "evil.example:1234567", "a b", "évil.example"],
)
def test_a_malformed_forwarded_host_is_never_a_link(behind_proxy, host: str) -> None:
    client = TestClient(behind_proxy, client=TRUSTED_PEER)
    response = client.get("/", headers={"X-Forwarded-Host": host.encode()})
    assert response.status_code == 200
    links = [link["href"] for link in response.json()["links"]]
    assert all(h.startswith("http://testserver/") for h in links), links


def test_the_public_url_beats_every_header(served, tmp_path) -> None:
    app = _app(served, public_url=PUBLIC_URL, trusted_proxies=PROXIES)
    with TestClient(app, client=TRUSTED_PEER) as client:
        assert all(h.startswith(PUBLIC_URL + "/") for h in _links(client, **FORWARDED))
        page = client.get("/collections", params={"f": "html"}, headers=FORWARDED)
        assert "atlas.example.org" not in page.text and PUBLIC_URL + "/" in page.text
        # Starlette's own redirect (a trailing slash) takes the configured host too.
        redirect = client.get("/collections/", headers=FORWARDED, follow_redirects=False)
        assert redirect.headers["location"].startswith("https://pub.example.org/")
        job = client.post(
            "/extracts",
            json={"collections": ["services"], "format": "csv"},
            headers={**served.headers[Tier.B2B], **FORWARDED},
        )
        assert job.status_code == 201, job.text
        assert job.headers["location"].startswith(PUBLIC_URL + "/extracts/")
        assert {link["href"].startswith(PUBLIC_URL + "/") for link in job.json()["links"]} == {True}
        app.state.extracts.wait(job.json()["jobID"], timeout=300)


def test_a_redirect_never_follows_a_forged_host(served) -> None:
    response = served.client.get(
        "/collections/", headers={"Host": "forged.example"}, follow_redirects=False
    )
    assert response.status_code in (301, 307, 308)
    assert response.headers["location"] == "http://testserver/collections"


def test_rate_limits_count_the_client_a_trusted_proxy_saw(served) -> None:
    """X-Forwarded-For names the client only through a trusted proxy, read from the right."""
    limits = LimitSettings(enabled=True, public_per_minute=2)
    app = _app(served, trusted_proxies=PROXIES, limits=limits)
    with TestClient(app, client=TRUSTED_PEER) as proxy:

        def via_proxy(chain: str) -> int:
            return proxy.get("/collections", headers={"X-Forwarded-For": chain}).status_code

        assert [via_proxy("203.0.113.1") for _ in range(2)] == [200, 200]
        assert via_proxy("203.0.113.1") == 429
        assert via_proxy("203.0.113.2") == 200  # another client: its own bucket
        # A client writing its own X-Forwarded-For gets the address the proxy appended.
        assert via_proxy("198.51.100.7, 203.0.113.1") == 429
        assert via_proxy("203.0.113.1, 10.0.0.8") == 429  # two proxies of ours: skipped
        direct = TestClient(app, client=UNTRUSTED_PEER)
        codes = [
            direct.get("/collections", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
            for i in range(3)
        ]
        assert codes == [200, 200, 429], "a forged X-Forwarded-For must not escape the limit"


# -- atlas serve -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _serve(tmp_path, **env_vars: str) -> Iterator[str]:
    """``atlas serve`` on a free loopback port (embedded store, empty), until the test ends."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATLAS_")}
    env.update(ATLAS_DATA_DIR=str(tmp_path / "data"), ATLAS_PORT=str(port), **env_vars)
    process = subprocess.Popen(
        [sys.executable, "-m", "atlas.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read().decode()[-500:]
            assert time.monotonic() < deadline, "atlas serve did not start"
            try:
                httpx.get(f"{url}/conformance", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


FORGED = {
    "Host": "forged.example",
    "X-Forwarded-Host": "forwarded.example",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-For": "203.0.113.9",
}


def test_atlas_serve_trusts_no_forwarding_header_unless_configured(tmp_path) -> None:
    """uvicorn alone would take X-Forwarded-Proto from loopback: ``atlas serve`` leaves the
    decision to ATLAS_TRUSTED_PROXIES (the store plays no part: embedded only)."""
    with _serve(tmp_path) as url:
        links = [link["href"] for link in httpx.get(url, headers=FORGED).json()["links"]]
        assert all(h.startswith(f"{url}/") for h in links), links
    with _serve(tmp_path, ATLAS_TRUSTED_PROXIES="127.0.0.1,::1") as url:
        links = [link["href"] for link in httpx.get(url, headers=FORGED).json()["links"]]
        assert all(h.startswith("https://forwarded.example/") for h in links), links
    with _serve(tmp_path, ATLAS_PUBLIC_URL=PUBLIC_URL + "/") as url:
        links = [link["href"] for link in httpx.get(url, headers=FORGED).json()["links"]]
        assert all(h.startswith(PUBLIC_URL + "/") for h in links), links
