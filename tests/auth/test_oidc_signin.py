"""The authorization code flow with PKCE against the test provider (tests/auth/oidc_provider.py)."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from atlas.auth.oidc import OidcVerifier
from atlas.auth.oidc_signin import OidcSignIn, Pending, pkce_challenge
from atlas.errors import StoreUnavailable, Unauthorized
from atlas.policy.tiers import Tier
from atlas.settings import AuthSettings
from tests.auth.oidc_provider import CLIENT_ID, Provider, serve

REDIRECT = "http://atlas.test/signin/callback"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


def follow_authorize(url: str) -> dict[str, str]:
    """What the provider's redirect back carries (code, state), as a browser would follow it."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(url, timeout=5)
    except urllib.error.HTTPError as exc:  # the 302, not followed
        assert exc.code == 302, exc.read()
        location = exc.headers["Location"]
    else:
        raise AssertionError("the provider did not redirect")
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def auth_settings(base: str, **extra) -> AuthSettings:
    """OIDC settings pointing at the provider at ``base``."""
    values = {
        "oidc_jwks": f"{base}/certs",
        "oidc_issuer": base,
        "oidc_audience": "atlas-api",
        "oidc_client_id": CLIENT_ID,
        "oidc_authorize_url": f"{base}/authorize",
        "oidc_token_url": f"{base}/token",
        "oidc_provider_name": "Test SSO",
    }
    return AuthSettings(**(values | extra))


@pytest.fixture(scope="module")
def signer() -> rsa.RSAPrivateKey:
    """The provider's signing key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def provider(signer) -> Iterator[tuple[Provider, OidcSignIn]]:
    """The provider running, and the sign-in client configured for it."""
    value = Provider(signer, redirect_uri=REDIRECT)
    with serve(value) as base:
        settings = auth_settings(base)
        yield value, OidcSignIn(settings, OidcVerifier(settings))


def test_pkce_challenge_is_rfc7636_s256() -> None:
    # RFC 7636, appendix B.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_round_trip_with_pkce(provider) -> None:
    idp, client = provider
    url, pending = client.start(redirect_uri=REDIRECT, next_url="/collections")
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"] == [pkce_challenge(pending.verifier)]
    assert pending.verifier not in url  # only the challenge travels
    assert 43 <= len(pending.verifier) <= 128
    back = follow_authorize(url)
    assert back["state"] == pending.state
    principal = client.finish(
        pending, state=back["state"], code=back["code"], redirect_uri=REDIRECT
    )
    assert (principal.tier, principal.key_id, principal.name) == (
        Tier.B2B,
        "oidc:agent-0042",
        "c.martin",
    )
    assert idp.token_requests[-1]["code_verifier"] == pending.verifier
    # A code is good once.
    with pytest.raises(Unauthorized, match="refused"):
        client.finish(pending, state=back["state"], code=back["code"], redirect_uri=REDIRECT)


def test_the_provider_checks_the_verifier(provider) -> None:
    idp, client = provider
    url, pending = client.start(redirect_uri=REDIRECT, next_url="/")
    back = follow_authorize(url)
    other = Pending(pending.state, pending.nonce, "x" * 64, pending.next)  # a thief's verifier
    with pytest.raises(Unauthorized, match="refused the sign-in"):
        client.finish(other, state=back["state"], code=back["code"], redirect_uri=REDIRECT)
    assert idp.refused == ["code_verifier"]


def test_state_and_nonce_must_match(provider) -> None:
    _, client = provider
    url, pending = client.start(redirect_uri=REDIRECT, next_url="/")
    back = follow_authorize(url)
    with pytest.raises(Unauthorized, match="state"):
        client.finish(pending, state="forged", code=back["code"], redirect_uri=REDIRECT)
    url, pending = client.start(redirect_uri=REDIRECT, next_url="/")
    back = follow_authorize(url)
    replay = Pending(pending.state, "another-nonce", pending.verifier, pending.next)
    with pytest.raises(Unauthorized, match="nonce"):
        client.finish(replay, state=back["state"], code=back["code"], redirect_uri=REDIRECT)


def test_an_id_token_without_an_atlas_role_is_refused(provider) -> None:
    idp, client = provider
    idp.roles = ["offline_access"]
    url, pending = client.start(redirect_uri=REDIRECT, next_url="/")
    back = follow_authorize(url)
    with pytest.raises(Unauthorized, match="no Atlas role"):
        client.finish(pending, state=back["state"], code=back["code"], redirect_uri=REDIRECT)


def test_an_unreachable_token_endpoint_is_503(signer) -> None:
    idp = Provider(signer, redirect_uri=REDIRECT)
    with serve(idp) as base:
        settings = auth_settings(base, oidc_token_url="http://127.0.0.1:1/token")
        client = OidcSignIn(settings, OidcVerifier(settings))
        url, pending = client.start(redirect_uri=REDIRECT, next_url="/")
        back = follow_authorize(url)
        with pytest.raises(StoreUnavailable):
            client.finish(pending, state=back["state"], code=back["code"], redirect_uri=REDIRECT)


@pytest.mark.parametrize("value", ["", "%%%", "e30", "eyJzdGF0ZSI6IDF9", "a" * 100])
def test_a_garbled_pending_cookie_is_none(value: str) -> None:
    assert Pending.decode(value) is None
    good = Pending("s", "n", "v", "/x")
    assert Pending.decode(good.encode()) == good
