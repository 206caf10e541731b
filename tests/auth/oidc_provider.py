"""A small OpenID Connect provider on a loopback port: authorization and token endpoints, JWKS.

It does what the browser sign-in relies on a real provider to do, and refuses what a real one
refuses: ``/authorize`` needs ``response_type=code``, the registered client and redirect URI and an
S256 code challenge, and answers with a redirect carrying a one-time code and the state; ``/token``
exchanges the code once, only with the right client, redirect URI and a ``code_verifier`` whose
S256 hash is the challenge (RFC 7636, 4.6), and returns an ID token signed RS256 with the nonce.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "atlas-portal"


def _s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


@dataclass
class Provider:
    """What the provider was configured with and what it saw."""

    signer: rsa.RSAPrivateKey
    redirect_uri: str
    roles: list[str] = field(default_factory=lambda: ["atlas-b2b"])
    issuer: str = ""
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def id_token(self, grant: dict[str, str]) -> str:
        """An ID token for the grant's sign-in."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "agent-0042",
            "preferred_username": "c.martin",
            "nonce": grant["nonce"],
            "iat": now,
            "exp": now + 300,
            "roles": self.roles,
        }
        return jwt.encode(claims, self.signer, algorithm="RS256", headers={"kid": "k1"})

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        """The authorization endpoint: a redirect with a code, or a 400."""
        problems = [
            query.get("response_type") != "code" and "response_type",
            query.get("client_id") != CLIENT_ID and "client_id",
            query.get("redirect_uri") != self.redirect_uri and "redirect_uri",
            query.get("code_challenge_method") != "S256" and "code_challenge_method",
            not query.get("code_challenge") and "code_challenge",
            not query.get("state") and "state",
            not query.get("nonce") and "nonce",
        ]
        if any(problems):
            return 400, {}, {"error": "invalid_request", "fields": [p for p in problems if p]}
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "challenge": query["code_challenge"],
            "nonce": query["nonce"],
            "redirect_uri": query["redirect_uri"],
        }
        location = f"{self.redirect_uri}?{urlencode({'code': code, 'state': query['state']})}"
        return 302, {"Location": location}, {}

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The token endpoint: an ID token for a good code and verifier, else invalid_grant."""
        self.token_requests.append(form)
        grant = self.codes.pop(form.get("code", ""), None)  # a code is good once
        reason = (
            "unknown or used code"
            if grant is None
            else "client"
            if form.get("client_id") != CLIENT_ID
            else "redirect_uri"
            if form.get("redirect_uri") != grant["redirect_uri"]
            else "code_verifier"
            if _s256(form.get("code_verifier", "")) != grant["challenge"]
            else None
        )
        if form.get("grant_type") != "authorization_code":
            reason = "grant_type"
        if reason is not None or grant is None:
            self.refused.append(str(reason))
            return 400, {"error": "invalid_grant", "error_description": reason}
        return 200, {"id_token": self.id_token(grant), "token_type": "Bearer", "expires_in": 300}

    def jwks(self) -> dict[str, Any]:
        """The public keys."""
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.signer.public_key(), as_dict=True)
        return {"keys": [jwk | {"kid": "k1", "use": "sig", "alg": "RS256"}]}


@contextmanager
def serve(provider: Provider) -> Iterator[str]:
    """Run the provider on a loopback port; its base URL (also its issuer)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            if url.path == "/authorize":
                status, headers, body = provider.authorize(dict(parse_qsl(url.query)))
                self._answer(status, body, headers)
            elif url.path == "/certs":
                self._answer(200, provider.jwks(), {})
            else:
                self._answer(404, {"error": "not_found"}, {})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            status, body = provider.token(form) if self.path == "/token" else (404, {})
            self._answer(status, body, {"Cache-Control": "no-store"})

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    provider.issuer = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
