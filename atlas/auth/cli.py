"""``atlas keys create|list|revoke``: API keys on the backend the settings select."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from atlas.settings import Settings

if TYPE_CHECKING:
    from atlas.auth.keys import KeyRing

keys_app = typer.Typer(
    name="keys",
    help="API keys: create (shown once), list, revoke.",
    no_args_is_help=True,
)


@contextmanager
def _keyring() -> Iterator[KeyRing]:
    from atlas.auth.keys import open_keyring

    settings = Settings()
    ring = open_keyring(settings.store, settings.auth)
    try:
        yield ring
    finally:
        ring.close()


def _when(value: dt.datetime | None) -> str:
    return "-" if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@keys_app.command("create")
def create(
    tier: Annotated[str, typer.Option(help="public, b2b or internal")],
    name: Annotated[str, typer.Option(help="who the key is for, e.g. 'Invest Essonne'")],
    expires: Annotated[
        str | None,
        typer.Option(help="2027-01-31 (valid through that day, UTC) or an ISO datetime"),
    ] = None,
) -> None:
    """Create a key and print it once: its last line is the bare key."""
    from atlas.auth.keys import parse_expiry, parse_tier, utcnow

    tier_value = parse_tier(tier)
    expiry = parse_expiry(expires, now=utcnow()) if expires is not None else None
    with _keyring() as ring:
        record, key = ring.create(tier=tier_value, name=name, expires=expiry)
    # Notes on stderr, the key alone on stdout: `KEY=$(atlas keys create …)` captures just it.
    typer.echo(
        f"created API key {record.key_id} for '{record.name}', tier {record.tier.value},"
        f" expires {_when(record.expires) if record.expires else 'never'}",
        err=True,
    )
    typer.echo("store it now: it is shown only this once and cannot be recovered", err=True)
    typer.echo(key)


@keys_app.command("list")
def list_keys() -> None:
    """List keys (id, name, tier, created, expires, revoked); never the keys themselves."""
    with _keyring() as ring:
        records = ring.list()
    typer.echo("id\tname\ttier\tcreated\texpires\trevoked")
    for record in records:
        fields = (record.key_id, record.name, record.tier.value, _when(record.created))
        typer.echo("\t".join([*fields, _when(record.expires), _when(record.revoked)]))


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="the key id shown by `atlas keys list`")],
) -> None:
    """Revoke a key for good: every request with it is refused (401) from now on."""
    with _keyring() as ring:
        record = ring.revoke(key_id)
    typer.echo(
        f"revoked API key {record.key_id} ('{record.name}', tier {record.tier.value})"
        f" at {_when(record.revoked)}"
    )
