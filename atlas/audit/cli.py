"""``atlas audit export|verify``: the audit log read from the command line, never from HTTP."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from atlas.settings import Settings

if TYPE_CHECKING:
    from atlas.audit.record import AuditLog

audit_app = typer.Typer(
    name="audit",
    help="The append-only audit log: export as CSV, verify the hash chain.",
    no_args_is_help=True,
)


@contextmanager
def _audit_log() -> Iterator[AuditLog]:
    from atlas.audit import open_audit_log

    log = open_audit_log(Settings())
    try:
        yield log
    finally:
        log.close()


@audit_app.command("export")
def export(
    since: Annotated[
        str,
        typer.Option(help="first day (UTC) or ISO instant, e.g. 2026-12-01", show_default=False),
    ],
    until: Annotated[
        str | None, typer.Option(help="last day, included whole (UTC), or an ISO instant, excluded")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="CSV file to write; standard output if absent")
    ] = None,
) -> None:
    """Write the records from SINCE (to UNTIL) as CSV, oldest first, each with its hash."""
    from atlas.audit.export import parse_when, write_csv, write_csv_file
    from atlas.errors import InvalidInput

    start = parse_when(since)
    end = parse_when(until, end=True) if until is not None else None
    if end is not None and end <= start:
        raise InvalidInput("--until must come after --since")
    with _audit_log() as log:
        records = log.since(start)  # oldest first: stop at the first record past the end
        if end is not None:
            records = itertools.takewhile(lambda record: record.at < end, records)
        if out is None:
            write_csv(records, sys.stdout)
            return
        count = write_csv_file(records, out)
    typer.echo(f"{count} audit records written to {out}", err=True)


@audit_app.command("verify")
def verify() -> None:
    """Recompute the hash chain; exit 2 naming the first broken record."""
    with _audit_log() as log:
        check = log.verify()
    if not check.ok:
        typer.echo(f"atlas: error: audit log chain broken: {check.reason}", err=True)
        raise typer.Exit(2)
    # The head hash is the anchor to keep elsewhere: it exposes a later rewrite or truncation.
    typer.echo(f"audit log intact: {check.count} records, head {check.head}")
