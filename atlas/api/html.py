"""HTML pages of the OGC resources (Part 1, 7.8), rendered from their JSON documents.

The pages are server-rendered Jinja2 templates (``atlas/api/templates``) in French, or English
with ``lang=en``. :func:`render` receives the document the route built through the caller's
gate and nothing else, so a page shows what the JSON shows. Maps use the Leaflet copy served
from ``/static`` over a blank background: no script, style or tile comes from another origin
(the Content-Security-Policy of ``atlas.api.security_headers`` says so to the browser).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from atlas.api.deps import base_url
from atlas.api.geojson import finite_dumps
from atlas.api.negotiation import DEFAULT_LANG, Lang, Negotiated, with_params
from atlas.query.crs import CRS84

STATIC_DIR = Path(__file__).parent / "static"
CRS84_URIS = (CRS84, None)

MESSAGES: dict[Lang, dict[str, str]] = {
    Lang.FR: {
        "lang_name": "Français",
        "other_language": "English",
        "skip_to_content": "Aller au contenu",
        "home": "Accueil",
        "api": "Définition de l'API (OpenAPI)",
        "api_html": "Documentation interactive de l'API",
        "conformance": "Conformité",
        "conformance_intro": "Classes de conformité OGC mises en œuvre par ce service :",
        "collections": "Collections",
        "collection": "Collection",
        "items": "Objets",
        "item": "Objet",
        "queryables": "Champs interrogeables",
        "id": "Identifiant",
        "title": "Titre",
        "description": "Description",
        "type": "Type",
        "count": "Nombre d'objets",
        "extent": "Emprise (CRS84)",
        "crs": "Systèmes de coordonnées proposés",
        "storage_crs": "Système de stockage",
        "version": "Version",
        "updated": "Mise à jour",
        "field": "Champ",
        "value": "Valeur",
        "geometry": "Géométrie",
        "shown": "{returned} objets affichés sur {matched}",
        "next": "Page suivante",
        "prev": "Page précédente",
        "map": "Carte",
        "no_map": "Carte disponible en CRS84 seulement (paramètre crs).",
        "no_geometry": "Pas de géométrie à ce niveau d'accès.",
        "error": "Erreur",
        "request_id": "Identifiant de la requête",
        "json": "JSON",
        "footer": "Atlas des parcs d'activités et de l'attractivité du territoire",
        "portal_sites": "Parcs d'activités",
        "nav_selection": "Sélection de sites",
        "nav_exports": "Extractions",
        "api_landing": "API et données (OGC)",
        # Sign-in (atlas.api.routers.signin) and the header's session indicator.
        "signin": "Connexion",
        "signin_intro": "Personnel de l'agglomération et partenaires : connectez-vous pour voir"
        " les informations de votre niveau d'accès.",
        "signin_key": "Avec une clé d'API",
        "signin_key_label": "Clé d'API",
        "signin_key_help": "La clé commence par atlas_ ; elle n'est pas conservée par le navigateur.",
        "signin_submit": "Se connecter",
        "signin_oidc": "Avec le compte de l'agglomération",
        "signin_with": "Se connecter avec {provider}",
        "signin_failed": "Connexion refusée",
        "signed_in_as": "Connecté : {name} (niveau {tier})",
        "signout": "Se déconnecter",
        "tier_public": "public",
        "tier_b2b": "partenaire",
        "tier_internal": "interne",
    },
    Lang.EN: {
        "lang_name": "English",
        "other_language": "Français",
        "skip_to_content": "Skip to content",
        "home": "Home",
        "api": "API definition (OpenAPI)",
        "api_html": "Interactive API documentation",
        "conformance": "Conformance",
        "conformance_intro": "OGC conformance classes implemented by this service:",
        "collections": "Collections",
        "collection": "Collection",
        "items": "Features",
        "item": "Feature",
        "queryables": "Queryables",
        "id": "Identifier",
        "title": "Title",
        "description": "Description",
        "type": "Type",
        "count": "Number of features",
        "extent": "Extent (CRS84)",
        "crs": "Coordinate reference systems offered",
        "storage_crs": "Storage CRS",
        "version": "Version",
        "updated": "Updated",
        "field": "Field",
        "value": "Value",
        "geometry": "Geometry",
        "shown": "{returned} features shown of {matched}",
        "next": "Next page",
        "prev": "Previous page",
        "map": "Map",
        "no_map": "The map is available in CRS84 only (crs parameter).",
        "no_geometry": "No geometry at this access level.",
        "error": "Error",
        "request_id": "Request id",
        "json": "JSON",
        "footer": "Atlas of the activity parks and attractiveness of the territory",
        "portal_sites": "Business parks",
        "nav_selection": "Site selection",
        "nav_exports": "Extracts",
        "api_landing": "API and data (OGC)",
        "signin": "Sign in",
        "signin_intro": "Agglomeration staff and partners: sign in to see what your access level"
        " allows.",
        "signin_key": "With an API key",
        "signin_key_label": "API key",
        "signin_key_help": "The key starts with atlas_; the browser does not keep it.",
        "signin_submit": "Sign in",
        "signin_oidc": "With the agglomeration's account",
        "signin_with": "Sign in with {provider}",
        "signin_failed": "Sign-in refused",
        "signed_in_as": "Signed in: {name} ({tier} tier)",
        "signout": "Sign out",
        "tier_public": "public",
        "tier_b2b": "partner",
        "tier_internal": "internal",
    },
}
_CRUMB_WORDS = {"collections", "items", "conformance", "queryables"}


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("atlas.api", "templates"),
        autoescape=True,  # every value from the data is escaped
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["cell"] = _cell
    # The map's GeoJSON (|tojson) is parsed by JSON.parse: no NaN or Infinity in it.
    env.policies["json.dumps_function"] = finite_dumps
    return env


def _cell(value: Any) -> str:
    """A property value as table text."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Page:
    """What every template may use besides the document: words, links, the static files."""

    def __init__(self, request: Request, chosen: Negotiated) -> None:
        self.request = request
        self.lang = chosen.lang
        self.base = base_url(request)
        self._carry_lang = chosen.lang_asked or chosen.lang != DEFAULT_LANG
        path = request.url.path
        query = request.url.query
        self.url = f"{self.base}{path}" + (f"?{query}" if query else "")

    @property
    def session(self) -> Any:
        """The browser's live session (``atlas.api.sessions``), None when signed out."""
        return getattr(self.request.state, "session", None)

    @property
    def signin_url(self) -> str:
        """The sign-in page, coming back to this page afterwards."""
        path = self.request.url.path
        query = self.request.url.query
        here = path + (f"?{query}" if query else "")
        return self.nav(with_params(f"{self.base}/signin", next=here))

    def t(self, key: str, **values: object) -> str:
        """The page text ``key`` in the page's language."""
        return MESSAGES[self.lang].get(key, key).format(**values)

    def nav(self, href: str) -> str:
        """A link to another page of the API, kept in HTML and in this language."""
        return with_params(href, f="html", lang=self.lang.value if self._carry_lang else None)

    def portal_url(self, path: str) -> str:
        """A portal page (``atlas.api.routers.portal``), in this language, never with ``f``."""
        return with_params(f"{self.base}{path}", lang=self.lang.value if self._carry_lang else None)

    def static(self, name: str) -> str:
        """The URL of a file served from ``/static``."""
        return f"{self.base}/static/{name}"

    @property
    def json_url(self) -> str:
        """This resource as JSON."""
        return with_params(self.url, f="json", lang=None)

    @property
    def other_lang(self) -> str:
        """The other language's code."""
        return (Lang.EN if self.lang is Lang.FR else Lang.FR).value

    @property
    def other_lang_url(self) -> str:
        """This page in the other language."""
        return with_params(self.url, f="html", lang=self.other_lang)

    def crumbs(self) -> list[tuple[str, str]]:
        """(label, href) from the landing page down to this resource."""
        out, href = [], self.base
        for segment in [s for s in self.request.url.path.split("/") if s]:
            href = f"{href}/{segment}"
            out.append((self.t(segment) if segment in _CRUMB_WORDS else segment, href))
        return out


def map_data(document: dict[str, Any], page: Page, collection_href: str) -> dict[str, Any]:
    """The geometries of a Feature or FeatureCollection for the map, each with its page's link."""
    features = document.get("features", [document] if document.get("type") == "Feature" else [])
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": f.get("id"),
                "geometry": f.get("geometry"),
                "properties": {"href": page.nav(f"{collection_href}/items/{f.get('id')}")},
            }
            for f in features
            if f.get("geometry")
        ],
    }


def columns(features: list[dict[str, Any]]) -> list[str]:
    """Property names of a page of features, in the order they first appear."""
    names: dict[str, None] = {}
    for feature in features:
        names.update(dict.fromkeys(feature.get("properties") or {}))
    return list(names)


def render(
    request: Request,
    template: str,
    document: dict[str, Any],
    *,
    status: int = 200,
    content_crs: str | None = None,
) -> HTMLResponse:
    """The page ``template`` showing ``document`` (a JSON document of the API)."""
    page = Page(request, request.state.negotiated)
    params = request.path_params
    collection_href = f"{page.base}/collections/{params.get('collectionId', '')}"
    crs_uri = content_crs.strip("<>") if content_crs else None
    html = (
        _environment()
        .get_template(template)
        .render(
            doc=document,
            page=page,
            t=page.t,
            nav=page.nav,
            params=params,
            collection_href=collection_href,
            columns=columns,
            map_data=map_data,
            show_map=crs_uri in CRS84_URIS,
            status=status,
        )
    )
    # The Content-Security-Policy is added by atlas.api.security_headers, as on every page.
    return HTMLResponse(html, status_code=status)
