"""``atlas export pmtiles --tier public OUT_DIR``: the public tileset as one PMTiles archive."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer

from atlas.tiles.pmtiles_export import DEFAULT_MAX_ZOOM

export_app = typer.Typer(
    name="export", help="Static exports: the public tileset as PMTiles.", no_args_is_help=True
)


@export_app.command("pmtiles")
def pmtiles_command(
    out_dir: Annotated[Path, typer.Argument(help="directory to write the archive into")],
    tier: Annotated[str, typer.Option(help="only public: the archive is published")] = "public",
    max_zoom: Annotated[
        int, typer.Option(help="highest zoom written; clients overzoom beyond it")
    ] = DEFAULT_MAX_ZOOM,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Write every collection the public tier sees as one PMTiles v3 archive in OUT_DIR."""
    from atlas import progress
    from atlas.errors import InvalidInput
    from atlas.policy.gate import Policy
    from atlas.policy.tiers import Principal, Tier
    from atlas.policy.tiles import TileBudget
    from atlas.settings import Settings
    from atlas.stores import open_store
    from atlas.tiles.pmtiles_export import export_pmtiles

    if tier != Tier.PUBLIC.value:  # before any store is opened: one line, exit 2
        raise InvalidInput(
            f"--tier: a PMTiles export is for the public tier only (it is published), "
            f"not '{tier[:20]}'"
        )
    settings = Settings()
    store = open_store(settings.store)
    try:
        budget = TileBudget(settings.tiles.max_features, settings.tiles.max_bytes)
        # No audit log: the public tier reads nothing that is audited.
        policy = Policy(store, None, None, tile_budget=budget)
        gate = policy.gate(
            Principal(tier=Tier.PUBLIC, name="atlas export pmtiles"), uuid.uuid4().hex
        )
        with progress.bar(desc="pmtiles", unit="tile", quiet=quiet) as bar:

            def advance(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            result = export_pmtiles(gate, out_dir, max_zoom=max_zoom, progress=advance)
    finally:
        store.close()
    typer.echo(result.summary())
