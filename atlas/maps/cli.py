"""``atlas maps build``: write the map page of each tier as an HTML file."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer

maps_app = typer.Typer(
    name="maps", help="Folium maps: build the page of each tier.", no_args_is_help=True
)

TIERS = ("public", "b2b", "internal")


def _tiers(tier: list[str] | None) -> list[str]:
    from atlas.errors import InvalidInput

    chosen = tier or list(TIERS)
    for name in chosen:
        if name not in TIERS:
            raise InvalidInput(f"--tier: '{name[:20]}' is not one of public, b2b, internal")
    return list(dict.fromkeys(chosen))


@maps_app.command("build")
def build_command(
    out: Annotated[Path, typer.Argument(help="directory to write map-TIER[-en].html into")] = Path(
        "maps"
    ),
    tier: Annotated[
        list[str] | None, typer.Option(help="public, b2b or internal (repeat; default: all)")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(help="where the API is (URLs of scripts and tiles); default ATLAS_PUBLIC_URL"),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Build the map of each tier, in French and in English, through that tier's gate."""
    from atlas import progress
    from atlas.audit import open_audit_log
    from atlas.maps.context import MapContext
    from atlas.maps.labels import Lang
    from atlas.maps.service import build_page
    from atlas.policy.gate import Policy
    from atlas.policy.tiers import Principal, Tier
    from atlas.settings import Settings
    from atlas.stores import open_store
    from atlas.stores.rasters import RasterCatalog

    settings = Settings()
    tiers = _tiers(tier)
    base = (base_url if base_url is not None else settings.api.public_url or "").rstrip("/")
    out.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.store)
    try:
        audit = open_audit_log(settings)
        try:
            policy = Policy(store, RasterCatalog(settings.store.data_dir), audit)
            pages = [(name, lang) for name in tiers for lang in Lang]
            for name, lang in progress.track(pages, desc="maps", unit="map", quiet=quiet):
                principal = Principal(tier=Tier(name), name="atlas maps build")
                ctx = MapContext(
                    policy.gate(principal, uuid.uuid4().hex),
                    lang=lang,
                    base=base,
                    basemap_url=settings.maps.basemap_url,
                    basemap_attribution=settings.maps.basemap_attribution,
                )
                page = build_page(ctx)
                suffix = "" if lang is Lang.FR else f"-{lang.value}"
                path = out / f"map-{name}{suffix}.html"
                path.write_text(page.html, encoding="utf-8")
                progress.echo(f"{path}\t{page.size} bytes")  # keeps the bar whole
        finally:
            audit.close()
    finally:
        store.close()
