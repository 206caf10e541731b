"""OpenID Connect bearer tokens: a JWT signed RS256 by the agglomeration's identity provider.

Accepted beside API keys when ``ATLAS_AUTH_OIDC_JWKS`` is set. The signature is checked against
the provider's JWKS (fetched from its URL and cached, or read once from a file), then the issuer,
the audience and the expiry; the tier comes from a role claim through ``ATLAS_AUTH_OIDC_ROLES``.
Only RS256 is accepted: the algorithm is never taken from the token (no ``none``, no HS256 signed
with the public key).
"""

from __future__ import annotations

import hmac
import logging
from pathlib import Path
from typing import Any

import jwt

from atlas.errors import InvalidInput, StoreUnavailable, Unauthorized
from atlas.policy.tiers import Principal, Tier
from atlas.settings import AuthSettings

log = logging.getLogger(__name__)

ALGORITHMS = ["RS256"]
LEEWAY_S = 30  # clock skew tolerated between the provider and this server
_TRUST = [Tier.PUBLIC, Tier.B2B, Tier.INTERNAL]  # least to most trusted


def looks_like_jwt(token: str) -> bool:
    """Three base64url parts separated by dots (JWS compact serialisation, RFC 7515 section 7.1)."""
    return token.count(".") == 2


class OidcVerifier:
    """Turns a provider's JWT into a Principal, or refuses it (401)."""

    def __init__(self, settings: AuthSettings) -> None:
        source = settings.oidc_jwks or ""
        self.issuer = settings.oidc_issuer
        self.audience = settings.oidc_audience
        self.role_claim = settings.oidc_role_claim.split(".")
        self.roles = {role: Tier(tier) for role, tier in settings.oidc_roles.items()}
        self._client: jwt.PyJWKClient | None = None
        self._keys: jwt.PyJWKSet | None = None
        if source.startswith(("https://", "http://")):
            self._client = jwt.PyJWKClient(source, cache_keys=True, lifespan=300, timeout=5)
        else:
            try:
                self._keys = jwt.PyJWKSet.from_json(Path(source).read_text(encoding="utf-8"))
            except (OSError, ValueError, jwt.PyJWTError) as exc:
                raise InvalidInput(f"ATLAS_AUTH_OIDC_JWKS: cannot read a JWKS ({exc})") from None

    def authenticate(
        self, token: str, *, audience: str | None = None, nonce: str | None = None
    ) -> Principal:
        """The caller a token stands for; Unauthorized when invalid, 503 when the JWKS is down.

        An ID token (browser sign-in, ``oidc_signin``) names the client as ``audience`` and must
        carry the ``nonce`` the sign-in sent (OpenID Connect Core 1.0, 3.1.3.7).
        """
        try:
            claims = jwt.decode(
                token,
                self._signing_key(token),
                algorithms=ALGORITHMS,
                audience=audience or self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWKClientConnectionError as exc:
            log.error("JWKS unreachable: %s", exc)
            raise StoreUnavailable("the identity provider is unreachable, retry later") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {str(exc)[:120]}") from None
        if nonce is not None and not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
            raise Unauthorized("invalid token: the nonce does not match this sign-in")
        tier = self._tier(claims)
        subject = str(claims["sub"])[:120]
        name = str(claims.get("preferred_username") or subject)[:200]
        return Principal(tier=tier, key_id=f"oidc:{subject}", name=name)

    def _signing_key(self, token: str) -> Any:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        assert self._keys is not None
        kid = jwt.get_unverified_header(token).get("kid")
        if kid is None and len(self._keys.keys) == 1:
            return self._keys.keys[0].key
        for key in self._keys.keys:
            if key.key_id == kid:
                return key.key
        raise jwt.InvalidKeyError("no key of the JWKS matches the token's kid")

    def _tier(self, claims: dict[str, Any]) -> Tier:
        value: Any = claims
        for part in self.role_claim:
            value = value.get(part) if isinstance(value, dict) else None
        roles = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        tiers = [self.roles[r] for r in roles if isinstance(r, str) and r in self.roles]
        if not tiers:
            raise Unauthorized("the token carries no Atlas role")
        return max(tiers, key=_TRUST.index)


def open_oidc(settings: AuthSettings) -> OidcVerifier | None:
    """The verifier when a JWKS is configured, else None (API keys only)."""
    return OidcVerifier(settings) if settings.oidc_jwks else None
