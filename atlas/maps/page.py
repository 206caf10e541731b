"""A built map as the page the API serves or the CLI writes: HTML, and the CSP that lets it run.

Folium writes the map as inline scripts. Rather than allow every inline script
(``'unsafe-inline'``), the page's Content-Security-Policy lists the SHA-256 of each of its own
(CSP Level 2 hash sources): a script injected into the page later matches none and does not run.
Everything else comes from this origin only, as for the other pages (atlas.api.security_headers),
plus the origin of ATLAS_BASEMAP_URL for images when an operator set one.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import folium

from atlas.maps.labels import Lang

# An inline script: a <script> with no src attribute, up to its end tag (HTML has no nesting).
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)
# The size budget of a map page (the HTML; vendored scripts and tiles are separate requests).
SIZE_BUDGET = 2_000_000


@dataclass(frozen=True, slots=True)
class MapPage:
    """A rendered map: the HTML and its Content-Security-Policy."""

    html: str
    csp: str

    @property
    def size(self) -> int:
        """Bytes of the HTML in UTF-8."""
        return len(self.html.encode())


def script_hashes(html: str) -> list[str]:
    """The CSP hash source of every inline script of ``html``, in order."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in INLINE_SCRIPT.findall(html)
    ]


def csp(html: str, basemap_url: str | None = None) -> str:
    """The page's policy: the API pages' (atlas.api.security_headers.PAGE_CSP), with its own
    inline scripts by hash (and the operator's tile server's images when set)."""
    images = "'self' data:"
    if basemap_url:
        parts = urlsplit(basemap_url)
        images += f" {parts.scheme}://{parts.netloc}"
    scripts = " ".join(["'self'", *dict.fromkeys(script_hashes(html))])
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        f"img-src {images}; font-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def render(m: folium.Map, lang: Lang, basemap_url: str | None = None) -> MapPage:
    """The map's HTML (with its language declared) and its policy."""
    html = m.get_root().render()
    html = html.replace("<html>", f'<html lang="{lang.value}">', 1)
    return MapPage(html, csp(html, basemap_url))
