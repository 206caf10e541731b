"""Which URL a request was sent to and who sent it: proxy headers trusted only from proxies we know.

Every link of an answer (``self``, ``next``, ``items``, tile templates, page links) is built from
the request's scheme and host. A client can write any ``Host`` or ``X-Forwarded-Host``; behind a
shared cache, an answer built from a forged one would send every later reader of that cached
answer to the forger's server. So the scheme and host of every request are settled here, once,
before any route runs, and written back into the ASGI scope (Starlette's own redirects use them):

1. ``ATLAS_PUBLIC_URL`` set: its scheme and host, whatever the request says;
2. the peer is one of ``ATLAS_TRUSTED_PROXIES``: ``X-Forwarded-Proto``, then ``X-Forwarded-Host``
   or the ``Host`` the proxy sent;
3. anyone else: the address the server was reached on (the socket), never a header.

``X-Forwarded-For`` gives the client's address (rate limits) only from a trusted proxy, read from
the right: the first address that is not a trusted proxy is the client. Other peers' forwarding
headers are removed from the scope, so that nothing downstream can read them by mistake.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# host[:port]: a DNS name, an IPv4 address or a bracketed IPv6 one; nothing else becomes a link.
_AUTHORITY = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))(?::\d{1,5})?")
_FORWARDING = (b"forwarded", b"x-forwarded-for", b"x-forwarded-host", b"x-forwarded-proto")
_DEFAULT_PORT = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class ForwardedHeaders:
    """ASGI middleware: settle scheme, ``Host`` and client address as the module docstring says."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        public_url: str | None = None,
        trusted_proxies: Sequence[Network] = (),
        fallback_host: str = "localhost",
    ) -> None:
        self.app = app
        self.public = urlsplit(public_url) if public_url else None
        self.trusted = tuple(trusted_proxies)
        self.fallback_host = fallback_host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite the scope of HTTP and WebSocket requests, then call the app."""
        if scope["type"] in ("http", "websocket"):
            scope = self.settled(scope)
        await self.app(scope, receive, send)

    def settled(self, scope: Scope) -> Scope:
        """The scope with its scheme, host and client settled (a new dict; the state shared)."""
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers") or [])
        peer = _address((scope.get("client") or ("",))[0])
        via_proxy = peer is not None and self._is_trusted(peer)
        scope = dict(scope)
        if via_proxy:
            client = self._client(peer, _values(headers, b"x-forwarded-for"))  # type: ignore[arg-type]
            scope["client"] = (client, 0) if client != str(peer) else scope["client"]
            proto = (_values(headers, b"x-forwarded-proto") or [""])[-1].lower()
            if proto in ("http", "https"):
                scope["scheme"] = proto if scope["type"] == "http" else proto.replace("http", "ws")
        if self.public is not None:
            scope["scheme"] = self.public.scheme
            host = self.public.netloc
        else:
            host = (self._proxied_host(headers) if via_proxy else None) or self._server_host(scope)
        kept = [(k, v) for k, v in headers if k != b"host" and (via_proxy or k not in _FORWARDING)]
        scope["headers"] = [(b"host", host.encode("latin-1")), *kept]
        return scope

    def _is_trusted(self, address: Address) -> bool:
        return any(address in network for network in self.trusted)

    def _client(self, peer: Address, forwarded_for: list[str]) -> str:
        """The rightmost address of the chain that is not a trusted proxy (the peer if none)."""
        client = peer
        for entry in reversed(forwarded_for):
            address = _address(entry)
            if address is None:
                break  # a malformed hop: keep the last address a trusted proxy vouched for
            client = address
            if not self._is_trusted(address):
                break
        return str(client)

    @staticmethod
    def _proxied_host(headers: list[tuple[bytes, bytes]]) -> str | None:
        candidates = _values(headers, b"x-forwarded-host")[-1:] + _values(headers, b"host")[:1]
        return next((h for h in candidates if _AUTHORITY.fullmatch(h)), None)

    def _server_host(self, scope: Scope) -> str:
        """The address the connection was accepted on, as ``host[:port]``."""
        server = scope.get("server")
        if not server or server[1] is None:
            return self.fallback_host  # a Unix socket, or a server that does not say
        found = _server_authority(str(server[0]), int(server[1]), scope.get("scheme", "http"))
        return found or self.fallback_host


@functools.lru_cache(maxsize=256)
def _server_authority(host: str, port: int, scheme: str) -> str | None:
    """``host[:port]`` of a listening address (the port left out when the scheme's default);
    None when it is no authority. A server listens on few addresses: computed once each."""
    if ":" in host:
        host = f"[{host}]"
    if not _AUTHORITY.fullmatch(host):
        return None
    return host if _DEFAULT_PORT.get(scheme) == port else f"{host}:{port}"


def _values(headers: list[tuple[bytes, bytes]], name: bytes) -> list[str]:
    """Every comma-separated value of every ``name`` header, in order."""
    out: list[str] = []
    for key, value in headers:
        if key == name:
            out += [v.strip() for v in value.decode("latin-1").split(",") if v.strip()]
    return out


@functools.lru_cache(maxsize=4096)
def _address(text: str) -> Address | None:
    """An IP address, also written ``1.2.3.4:port`` or ``[::1]:port``; None otherwise (kept for
    the next requests: a connection's peer is parsed once, not on every request)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
