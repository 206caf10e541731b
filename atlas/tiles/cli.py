"""``atlas tiles``: fill the vector tile cache (``atlas tiles seed``)."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from atlas.query.grids import DEFAULT_GRID

tiles_app = typer.Typer(
    name="tiles", help="Vector tiles: seed the disk cache.", no_args_is_help=True
)


@tiles_app.command("seed")
def seed_command(
    tier: Annotated[str, typer.Option(help="public, b2b or internal")] = "public",
    zoom: Annotated[str, typer.Option(help="a zoom or a range, e.g. 10-15")] = "10-15",
    grid: Annotated[str, typer.Option(help="tile matrix set id")] = DEFAULT_GRID,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Read the tier's multi-layer tiles of ZOOM into ATLAS_TILE_CACHE_DIR."""
    from atlas import progress
    from atlas.audit import open_audit_log
    from atlas.errors import InvalidInput
    from atlas.policy.gate import Policy
    from atlas.policy.tiers import Principal, Tier
    from atlas.policy.tiles import TileBudget
    from atlas.query.grids import grid as find_grid
    from atlas.settings import Settings
    from atlas.stores import open_store
    from atlas.stores.rasters import RasterCatalog
    from atlas.tiles.cache import TileCache
    from atlas.tiles.seed import seed, seed_addresses, zoom_range
    from atlas.tiles.vector import VectorTiles

    settings = Settings()
    try:
        chosen = Tier(tier)
    except ValueError:
        raise InvalidInput(f"--tier: '{tier[:20]}' is not one of public, b2b, internal") from None
    tile_grid = find_grid(grid)
    zooms = zoom_range(zoom, tile_grid)
    if settings.tiles.cache_dir is None:
        raise InvalidInput("ATLAS_TILE_CACHE_DIR is not set: seeding fills the disk cache")
    budget = TileBudget(settings.tiles.max_features, settings.tiles.max_bytes)
    # Memory caching would only hold what this process writes to disk anyway.
    tiles = VectorTiles(TileCache(memory_bytes=0, directory=settings.tiles.cache_dir), budget)
    store = open_store(settings.store)
    try:
        audit = open_audit_log(settings)
        try:
            policy = Policy(
                store, RasterCatalog(settings.store.data_dir), audit, tile_budget=budget
            )
            gate = policy.gate(Principal(tier=chosen, name="atlas tiles seed"), uuid.uuid4().hex)
            addresses = seed_addresses(gate, tile_grid, zooms)
            report = seed(
                tiles,
                gate,
                addresses,
                wrap=lambda a: progress.track(
                    a, unit="tile", desc=f"seed {chosen.value}", quiet=quiet
                ),
            )
        finally:
            audit.close()
    finally:
        store.close()
    typer.echo(
        f"{report.tiles} tiles of {tile_grid.id} z{zooms.start}-{zooms.stop - 1} for {chosen.value}"
        f" ({report.empty} empty, {report.bytes} bytes) in {settings.tiles.cache_dir}"
    )
