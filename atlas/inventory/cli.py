"""``atlas inventory export OUT_DIR [--publish/--internal]``: the ZAE inventory, CNIG format."""

from __future__ import annotations

import getpass
import uuid
from pathlib import Path
from typing import Annotated

import typer

from atlas.settings import Settings

inventory_app = typer.Typer(
    name="inventory",
    help="The inventory of the zones d'activité économique (art. L.318-8-2 CU), CNIG format.",
    no_args_is_help=True,
)


def _operator() -> str:
    """How the audit log names whoever ran the command."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in this environment (a bare container)
        return "cli:unknown"


@inventory_app.command("export")
def export(
    out_dir: Annotated[
        Path, typer.Argument(help="directory to create (absent or empty); its parent must exist")
    ],
    publish: Annotated[
        bool,
        typer.Option(
            "--publish/--internal",
            help="--publish (default): personal data anonymised, non-diffusible businesses "
            "removed, for putting online; --internal: everything, for the staff only",
        ),
    ] = True,
) -> None:
    """Write the inventory as CNIG CSVs, a GeoPackage and a datapackage, validated first."""
    from atlas.audit import open_audit_log
    from atlas.inventory import export_inventory
    from atlas.policy.gate import Policy
    from atlas.policy.tiers import Principal, Tier
    from atlas.stores import open_store

    settings = Settings()
    store = open_store(settings.store)
    try:
        audit = open_audit_log(settings)
        try:
            principal = Principal(tier=Tier.INTERNAL, name=_operator())
            gate = Policy(store, None, audit).gate(principal, uuid.uuid4().hex)
            result = export_inventory(gate, out_dir, publish=publish)
        finally:
            audit.close()
    finally:
        store.close()
    for line in [*result.inventory.anonymisation, *result.inventory.notes]:
        typer.echo(f"  {line}", err=True)
    typer.echo(result.summary())
