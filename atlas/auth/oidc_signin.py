"""Browser sign-in with OpenID Connect: the authorization code flow with PKCE, state and nonce.

1. :meth:`OidcSignIn.start` makes a random ``state`` (ties the provider's answer to this browser:
   no login CSRF), ``nonce`` (ties the ID token to this sign-in: no replay) and PKCE
   ``code_verifier`` (RFC 7636; only its S256 challenge goes to the provider, so a stolen code is
   useless without it), and the authorization URL. The three travel back with the browser in a
   short-lived HttpOnly cookie (``atlas.api.signin``): any worker can finish the sign-in.
2. :meth:`OidcSignIn.finish` checks ``state``, posts the code and verifier to the token endpoint
   (with the client secret when one is set), and verifies the ID token with the same
   :class:`~atlas.auth.oidc.OidcVerifier` as bearer tokens (RS256 against the JWKS, issuer,
   audience = the client id, expiry, nonce); the tier comes from its role claim.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass

from atlas.auth.oidc import OidcVerifier
from atlas.errors import StoreUnavailable, Unauthorized
from atlas.policy.tiers import Principal
from atlas.settings import AuthSettings

log = logging.getLogger(__name__)

TOKEN_TIMEOUT_S = 10
_MAX_TOKEN_RESPONSE = 256 * 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a verifier (RFC 7636, 4.2)."""
    return _b64(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass(frozen=True, slots=True)
class Pending:
    """A sign-in under way: what the callback must find again, and where to go afterwards."""

    state: str
    nonce: str
    verifier: str
    next: str

    def encode(self) -> str:
        """The cookie value (base64url JSON; it holds no credential, only one-time values)."""
        return _b64(json.dumps(asdict(self), separators=(",", ":")).encode())

    @classmethod
    def decode(cls, value: str) -> Pending | None:
        """The pending sign-in of a cookie value, or None when it is not one."""
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            data = json.loads(raw)
            fields = (data["state"], data["nonce"], data["verifier"], data["next"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        if not all(isinstance(f, str) for f in fields) or not all(fields[:3]):
            return None
        return cls(*fields)


class OidcSignIn:
    """The client side of the authorization code flow for one provider."""

    def __init__(self, settings: AuthSettings, verifier: OidcVerifier) -> None:
        assert settings.browser_oidc, "browser sign-in needs a client id and both endpoints"
        self.client_id = str(settings.oidc_client_id)
        self.secret = settings.oidc_client_secret
        self.authorize_url = str(settings.oidc_authorize_url)
        self.token_url = str(settings.oidc_token_url)
        self.provider = settings.oidc_provider_name
        self.verifier = verifier

    def start(self, *, redirect_uri: str, next_url: str) -> tuple[str, Pending]:
        """The provider's authorization URL and the pending sign-in to keep until the callback."""
        pending = Pending(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(64),  # 86 characters: within RFC 7636's 43..128
            next=next_url,
        )
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid profile",
                "state": pending.state,
                "nonce": pending.nonce,
                "code_challenge": pkce_challenge(pending.verifier),
                "code_challenge_method": "S256",
            }
        )
        separator = "&" if "?" in self.authorize_url else "?"
        return f"{self.authorize_url}{separator}{query}", pending

    def finish(self, pending: Pending, *, state: str, code: str, redirect_uri: str) -> Principal:
        """The caller the provider vouched for; Unauthorized when anything does not match."""
        if not hmac.compare_digest(state.encode(), pending.state.encode()):
            raise Unauthorized("the sign-in state does not match: start again")
        if not code:
            raise Unauthorized("the provider sent no authorization code")
        id_token = self._exchange(code, pending.verifier, redirect_uri)
        return self.verifier.authenticate(id_token, audience=self.client_id, nonce=pending.nonce)

    def _exchange(self, code: str, verifier: str, redirect_uri: str) -> str:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.client_id,
            "code_verifier": verifier,
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        if self.secret is not None:  # client_secret_basic (RFC 6749, 2.3.1)
            pair = f"{_quote(self.client_id)}:{_quote(self.secret.get_secret_value())}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - the configured https endpoint
            self.token_url, data=urllib.parse.urlencode(form).encode(), headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=TOKEN_TIMEOUT_S) as answer:  # noqa: S310
                body = json.loads(answer.read(_MAX_TOKEN_RESPONSE))
        except urllib.error.HTTPError as exc:
            # 400 invalid_grant: a wrong verifier, a used or expired code: the caller's problem.
            log.warning("token endpoint refused the code: HTTP %s", exc.code)
            raise Unauthorized("the identity provider refused the sign-in") from None
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            log.error("token endpoint unreachable: %s", exc)
            raise StoreUnavailable("the identity provider is unreachable, retry later") from None
        id_token = body.get("id_token") if isinstance(body, dict) else None
        if not isinstance(id_token, str):
            raise Unauthorized("the identity provider returned no ID token")
        return id_token


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")
