"""The ``atlas`` command. Every command exits non-zero with a one-line reason on failure."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import pydantic
import typer
from pydantic_settings import BaseSettings

from atlas.audit.cli import audit_app
from atlas.auth.cli import keys_app
from atlas.errors import AtlasError, ValidationFailed
from atlas.inventory.cli import inventory_app
from atlas.maps.cli import maps_app
from atlas.settings import Settings
from atlas.tiles.cli import tiles_app
from atlas.tiles.export_cli import export_app

app = typer.Typer(
    name="atlas",
    help="Atlas: the territorial-marketing GIS atlas of the agglomeration.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(keys_app)
app.add_typer(audit_app)
app.add_typer(inventory_app)
app.add_typer(tiles_app)
app.add_typer(export_app)
app.add_typer(maps_app)


def _settings() -> Settings:
    return Settings()


@app.command()
def ingest(
    layer: Annotated[
        str, typer.Argument(help="collection id, e.g. parcels, activity-sites, elevation")
    ],
    path: Annotated[Path, typer.Argument(help="file, directory or archive to read")],
    crs: Annotated[
        str | None, typer.Option(help="source CRS when the file has none, e.g. EPSG:2154")
    ] = None,
    source_layer: Annotated[
        str | None, typer.Option("--layer", help="layer inside a GeoPackage")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="write the full report as JSON here")] = None,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Validate PATH and replace LAYER's data with it atomically."""
    from atlas.ingest import ingest_path
    from atlas.stores import open_store

    settings = _settings()
    store = open_store(settings.store)
    try:
        result = ingest_path(
            store,
            layer,
            path,
            settings=settings,
            crs=crs,
            layer_name=source_layer,
            progress=not quiet,  # drawn on a terminal only (atlas.progress)
        )
    except ValidationFailed as exc:
        # One line on stderr; the rows go to the report, where a data officer can work on them.
        if report is not None:
            rows = {"error": exc.description, "rejected": exc.errors}
            report.write_text(json.dumps(rows, ensure_ascii=False, indent=2))
        elif exc.errors:
            exc.description += f" ({len(exc.errors)} rows listed with --report FILE)"
        raise
    finally:
        store.close()
    if report is not None:
        report.write_text(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    for rejection in result.rejected[:20]:
        typer.echo(f"  rejected row {rejection.row}: {rejection.reason}", err=True)
    if len(result.rejected) > 20:
        typer.echo(f"  … and {len(result.rejected) - 20} more rejected rows", err=True)
    for repair in result.repaired[:5]:
        typer.echo(f"  repaired row {repair.row}: {repair.reason}", err=True)
    for note in result.notes:
        typer.echo(f"  note: {note}", err=True)
    typer.echo(result.summary())


@app.command()
def demo(
    out: Annotated[Path | None, typer.Option(help="where to write the generated files")] = None,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same territory)")] = 20261122,
    scale: Annotated[float, typer.Option(help="size factor (1.0 = about 40,000 parcels)")] = 1.0,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Generate the demo territory in the national formats and ingest it."""
    from atlas.demo.build import run_demo
    from atlas.stores import open_store

    settings = _settings()
    out = out or settings.store.data_dir / "demo-sources"
    started = time.perf_counter()
    store = open_store(settings.store)
    try:
        reports = run_demo(store, out, settings, seed=seed, scale=scale, quiet=quiet)
    finally:
        store.close()
    for item in reports:
        typer.echo(item.summary())
    typer.echo(f"demo territory ready in {time.perf_counter() - started:.0f} s (sources in {out})")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    workers: Annotated[
        int | None, typer.Option(help="worker processes sharing the port (ATLAS_WORKERS)")
    ] = None,
) -> None:
    """Serve the API (OGC API Features, tiles, maps)."""
    from atlas.api.serve import serve as run

    settings = _settings()
    api = settings.api
    run(api, host or api.host, port or api.port, workers or api.workers)


@app.command()
def versions(layer: Annotated[str, typer.Argument(help="collection id")]) -> None:
    """List the stored versions of a layer, newest first."""
    from atlas.layers import get_layer
    from atlas.stores import open_store

    get_layer(layer)
    settings = _settings()
    store = open_store(settings.store)
    try:
        for info in store.versions(layer):
            typer.echo(f"v{info.version}\t{info.created:%Y-%m-%d %H:%M:%S}\t{info.count} features")
    finally:
        store.close()


def main() -> None:
    """Entry point: AtlasError becomes one line on stderr and exit status 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except AtlasError as exc:
        typer.echo(f"atlas: error: {exc.description}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("atlas: interrupted; the previous data is still served", err=True)
        sys.exit(130)
    except pydantic.ValidationError as exc:
        typer.echo(f"atlas: error: configuration: {_settings_error(exc)}", err=True)
        sys.exit(2)
    except OSError as exc:  # disk full, permission denied, a path that vanished…
        typer.echo(
            f"atlas: error: {exc.strerror or exc}: {Path(exc.filename or '').name}", err=True
        )
        sys.exit(2)
    except Exception as exc:  # a bug: still one line; ATLAS_DEBUG=1 shows the traceback
        if os.environ.get("ATLAS_DEBUG"):
            raise
        typer.echo(
            f"atlas: error: internal error ({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}); "
            "ATLAS_DEBUG=1 shows the traceback",
            err=True,
        )
        sys.exit(70)  # EX_SOFTWARE


def _settings_error(exc: pydantic.ValidationError) -> str:
    """The first bad setting as ATLAS_NAME: reason."""
    details = exc.errors()
    if not details:
        return "invalid settings"
    first = details[0]
    where = "_".join(str(part) for part in first["loc"])
    # Each concern has its own prefix (ATLAS_INGEST_, ATLAS_AUTH_…): name the variable as set.
    env_prefix = "ATLAS_"
    for field in Settings.model_fields.values():
        model = field.annotation
        if (
            isinstance(model, type)
            and issubclass(model, BaseSettings)
            and model.__name__ == exc.title
        ):
            env_prefix = str(model.model_config.get("env_prefix", ""))
    prefix = f"{env_prefix}{where}".upper() + ": " if where else ""
    return f"{prefix}{first['msg']}"


if __name__ == "__main__":
    main()
