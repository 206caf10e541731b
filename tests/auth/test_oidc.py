"""OIDC bearer tokens: RS256 JWTs checked against a JWKS made in the test (file and URL)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from pydantic import ValidationError

from atlas.auth.oidc import OidcVerifier, looks_like_jwt
from atlas.errors import InvalidInput, StoreUnavailable, Unauthorized
from atlas.policy.tiers import Tier
from atlas.settings import AuthSettings, Settings, StoreSettings

ISSUER = "https://sso.agglo.example/realms/atlas"
AUDIENCE = "atlas-api"


@pytest.fixture(scope="module")
def signer() -> rsa.RSAPrivateKey:
    """The provider's signing key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def stranger() -> rsa.RSAPrivateKey:
    """A key the provider does not publish."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks(*keys: tuple[str, rsa.RSAPrivateKey]) -> dict[str, Any]:
    """The public JWKS of ``(kid, private key)`` pairs."""
    out = []
    for kid, key in keys:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        out.append(jwk | {"kid": kid, "use": "sig", "alg": "RS256"})
    return {"keys": out}


def token(key: Any, *, kid: str | None = "k1", algorithm: str = "RS256", **claims: Any) -> str:
    """A signed token with sensible claims, overridden by ``claims`` (None removes one)."""
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "f81d4fae-7dec",
        "preferred_username": "c.martin",
        "iat": now,
        "exp": now + 300,
        "roles": ["atlas-b2b"],
    }
    body = {k: v for k, v in (body | claims).items() if v is not None}
    headers = {"kid": kid} if kid else None
    return jwt.encode(body, key, algorithm=algorithm, headers=headers)


def settings_for(jwks_source: str, **extra: Any) -> AuthSettings:
    """OIDC settings on a JWKS source."""
    values = {"oidc_jwks": jwks_source, "oidc_issuer": ISSUER, "oidc_audience": AUDIENCE}
    return AuthSettings(**(values | extra))


@pytest.fixture
def jwks_file(tmp_path: Path, signer: rsa.RSAPrivateKey) -> Path:
    """The provider's JWKS as a file."""
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks(("k1", signer))))
    return path


@pytest.fixture
def verifier(jwks_file: Path) -> OidcVerifier:
    """A verifier reading the JWKS file."""
    return OidcVerifier(settings_for(str(jwks_file)))


def test_a_valid_token_is_its_role_tier(verifier: OidcVerifier, signer) -> None:
    principal = verifier.authenticate(token(signer))
    assert (principal.tier, principal.key_id, principal.name) == (
        Tier.B2B,
        "oidc:f81d4fae-7dec",
        "c.martin",
    )


@pytest.mark.parametrize(
    ("roles", "tier"),
    [
        (["atlas-b2b", "atlas-internal"], Tier.INTERNAL),  # the most trusted applies
        ("atlas-internal", Tier.INTERNAL),
        (["offline_access", "atlas-b2b"], Tier.B2B),
    ],
)
def test_roles_map_to_tiers(verifier: OidcVerifier, signer, roles: Any, tier: Tier) -> None:
    assert verifier.authenticate(token(signer, roles=roles)).tier is tier


def test_a_nested_role_claim(jwks_file: Path, signer) -> None:
    verifier = OidcVerifier(
        settings_for(
            str(jwks_file), oidc_role_claim="realm_access.roles", oidc_roles={"gis": "internal"}
        )
    )
    signed = token(signer, roles=None, realm_access={"roles": ["gis"]})
    assert verifier.authenticate(signed).tier is Tier.INTERNAL


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"aud": "another-app"}, "Audience"),
        ({"iss": "https://evil.example"}, "issuer"),
        ({"sub": None}, "sub"),
        ({"exp": None}, "exp"),
        ({"roles": ["offline_access"]}, "no Atlas role"),
        ({"roles": None}, "no Atlas role"),
        ({"roles": {"atlas-internal": True}}, "no Atlas role"),
    ],
)
def test_invalid_claims_are_401(verifier: OidcVerifier, signer, claims: dict, reason: str) -> None:
    with pytest.raises(Unauthorized, match=reason):
        verifier.authenticate(token(signer, **claims))


def test_a_token_signed_by_another_key_is_401(verifier: OidcVerifier, stranger) -> None:
    with pytest.raises(Unauthorized, match="invalid token"):
        verifier.authenticate(token(stranger))
    with pytest.raises(Unauthorized, match="kid"):
        verifier.authenticate(token(stranger, kid="k2"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_algorithm_confusion_and_none_are_refused(verifier: OidcVerifier, signer) -> None:
    # HS256 keyed with the public key's PEM: a classic forgery where a token's alg is trusted.
    pem = signer.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    genuine = jwt.decode(token(signer), options={"verify_signature": False})
    signing_input = ".".join(
        [
            _b64(json.dumps({"alg": "HS256", "kid": "k1"}).encode()),
            _b64(json.dumps(genuine).encode()),
        ]
    )
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{_b64(mac)}"
    unsigned = token(None, algorithm="none")
    for candidate in (forged, unsigned):
        with pytest.raises(Unauthorized, match="invalid token"):
            verifier.authenticate(candidate)


@pytest.mark.parametrize("garbage", ["a.b.c", "..", "eyJhbGciOiJSUzI1NiJ9.e30.sig"])
def test_garbage_tokens_are_401(verifier: OidcVerifier, garbage: str) -> None:
    with pytest.raises(Unauthorized):
        verifier.authenticate(garbage)


def test_settings_need_issuer_and_audience(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="ISSUER and _AUDIENCE"):
        AuthSettings(oidc_jwks=str(tmp_path / "jwks.json"), oidc_issuer=ISSUER)
    with pytest.raises(ValidationError):
        settings_for("x", oidc_roles={"gis": "admin"})


def test_an_unreadable_jwks_file_fails_at_startup(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    for source in (tmp_path / "absent.json", tmp_path / "bad.json"):
        with pytest.raises(InvalidInput, match="ATLAS_AUTH_OIDC_JWKS"):
            OidcVerifier(settings_for(str(source)))


@pytest.fixture
def jwks_url(signer) -> Iterator[str]:
    """The provider's JWKS served over HTTP on a loopback port."""
    body = json.dumps(jwks(("k1", signer))).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/certs"
    finally:
        server.shutdown()
        server.server_close()


def test_a_jwks_url_is_fetched(jwks_url: str, signer, stranger) -> None:
    verifier = OidcVerifier(settings_for(jwks_url))
    assert verifier.authenticate(token(signer, roles=["atlas-internal"])).tier is Tier.INTERNAL
    with pytest.raises(Unauthorized):
        verifier.authenticate(token(stranger, kid="k9"))


def test_an_unreachable_jwks_url_is_503_not_public(signer) -> None:
    verifier = OidcVerifier(settings_for("http://127.0.0.1:1/certs"))
    with pytest.raises(StoreUnavailable):
        verifier.authenticate(token(signer))


def test_looks_like_jwt() -> None:
    assert looks_like_jwt("a.b.c") and not looks_like_jwt("atlas_0123456789ab_" + "a" * 43)


def test_tokens_and_keys_side_by_side_over_http(tmp_path: Path, jwks_file: Path, signer) -> None:
    from tests.api.test_auth import bearer, build_app

    settings = Settings(
        store=StoreSettings(data_dir=tmp_path / "data", database_url=None),
        auth=settings_for(str(jwks_file)),
    )
    with TestClient(build_app(settings)) as client:
        _, key = client.app.state.keys.create(tier="b2b", name="partner")  # type: ignore[attr-defined]
        internal = token(signer, roles=["atlas-internal"])
        assert client.get("/test/whoami", headers=bearer(internal)).json()["tier"] == "internal"
        assert client.get("/test/whoami", headers=bearer(key)).json()["tier"] == "b2b"
        expired = client.get(
            "/test/whoami", headers=bearer(token(signer, exp=int(time.time()) - 3600))
        )
        assert expired.status_code == 401
        assert expired.headers["WWW-Authenticate"].startswith("Bearer")
        assert expired.headers["Cache-Control"] == "private, no-store"
