"""Settings of the links and the proxies (ATLAS_PUBLIC_URL, ATLAS_TRUSTED_PROXIES) from the environment."""

from __future__ import annotations

import ipaddress

import pytest
from pydantic import ValidationError

from atlas.settings import ApiSettings


def test_public_url_and_trusted_proxies_read_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("ATLAS_PUBLIC_URL", "https://atlas.example.org/geo/")
    monkeypatch.setenv("ATLAS_TRUSTED_PROXIES", " 10.0.0.5, 192.168.0.0/16,fd00::/8 ,")
    settings = ApiSettings()
    assert settings.public_url == "https://atlas.example.org/geo"  # no trailing slash in links
    assert settings.trusted_proxies == (
        ipaddress.ip_network("10.0.0.5/32"),
        ipaddress.ip_network("192.168.0.0/16"),
        ipaddress.ip_network("fd00::/8"),
    )


def test_unset_means_no_public_url_and_no_trusted_proxy(monkeypatch) -> None:
    monkeypatch.delenv("ATLAS_PUBLIC_URL", raising=False)
    monkeypatch.setenv("ATLAS_TRUSTED_PROXIES", "")
    settings = ApiSettings()
    assert settings.public_url is None and settings.trusted_proxies == ()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ATLAS_PUBLIC_URL", "atlas.example.org"),
        ("ATLAS_PUBLIC_URL", "ftp://atlas.example.org"),
        ("ATLAS_PUBLIC_URL", "https://atlas.example.org/?next=1"),
        ("ATLAS_PUBLIC_URL", "https:///geo"),
        ("ATLAS_TRUSTED_PROXIES", "proxy.example.org"),
        ("ATLAS_TRUSTED_PROXIES", "10.0.0.0/33"),
        ("ATLAS_TRUSTED_PROXIES", "*"),
    ],
)
def test_malformed_values_are_refused(monkeypatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        ApiSettings()
