"""``atlas keys create|list|revoke`` on both backends, as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from atlas.auth.keys import open_keyring
from atlas.cli import app
from atlas.errors import Unauthorized
from atlas.policy.tiers import Tier
from atlas.settings import Settings
from tests.auth.fixtures import environment


def run(settings: Settings, *args: str):
    """Run ``atlas keys …`` in-process; a failure shows its output."""
    result = CliRunner().invoke(app, ["keys", *args], env=environment(settings))
    assert result.exit_code == 0, result.output
    return result


def test_create_prints_the_key_once_on_its_last_line(settings: Settings) -> None:
    result = run(settings, "create", "--tier", "b2b", "--name", "Invest Essonne")
    key = result.output.strip().splitlines()[-1]
    assert result.stdout.strip() == key  # notes on stderr, the bare key alone on stdout
    assert "shown only this once" in result.stderr
    ring = open_keyring(settings.store, settings.auth)
    try:
        principal = ring.authenticate(key)
    finally:
        ring.close()
    assert (principal.tier, principal.name) == (Tier.B2B, "Invest Essonne")
    assert principal.key_id in result.stderr


def test_list_shows_every_field_but_never_a_key(settings: Settings) -> None:
    b2b = run(settings, "create", "--tier", "b2b", "--name", "Broker", "--expires", "2099-01-31")
    internal = run(settings, "create", "--tier", "internal", "--name", "GIS team")
    listing = run(settings, "list").stdout.splitlines()
    assert listing[0].split("\t") == ["id", "name", "tier", "created", "expires", "revoked"]
    rows = [line.split("\t") for line in listing[1:]]
    assert [row[1:3] for row in rows] == [["Broker", "b2b"], ["GIS team", "internal"]]
    assert rows[0][4] == "2099-02-01T00:00:00Z"
    assert rows[1][4:] == ["-", "-"]
    listed = "\n".join(listing)
    for result in (b2b, internal):
        key = result.stdout.strip()
        assert key not in listed and key.split("_", 2)[2] not in listed


def test_revoke_marks_the_key_and_refuses_it(settings: Settings) -> None:
    key = run(settings, "create", "--tier", "internal", "--name", "leaver").stdout.strip()
    key_id = key.split("_")[1]
    result = run(settings, "revoke", key_id)
    assert f"revoked API key {key_id}" in result.stdout
    row = run(settings, "list").stdout.splitlines()[1].split("\t")
    assert row[0] == key_id and row[5] != "-"
    ring = open_keyring(settings.store, settings.auth)
    try:
        with pytest.raises(Unauthorized, match="revoked"):
            ring.authenticate(key)
    finally:
        ring.close()


def test_errors_exit_non_zero_with_one_line(settings: Settings) -> None:
    env = {**os.environ, **environment(settings)}
    cases = [
        (["create", "--tier", "gold", "--name", "x"], "unknown tier 'gold'"),
        (
            ["create", "--tier", "b2b", "--name", "x", "--expires", "2001-01-01"],
            "--expires 2001-01-01 is already past",
        ),
        (["revoke", "0123456789ab"], "no API key with id '0123456789ab'"),
    ]
    for args, reason in cases:
        done = subprocess.run(
            [sys.executable, "-m", "atlas.cli", "keys", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        [line] = done.stderr.strip().splitlines()
        assert line.startswith(f"atlas: error: {reason}")
        assert done.stdout == ""
