"""``atlas inventory export``: both modes, and a failure that leaves OUT_DIR as it was."""

from __future__ import annotations

import datetime as dt
import sys

import pytest

from atlas import cli
from atlas.layers import cnig
from tests.inventory.helpers import read_csv

STARTED = dt.datetime.now(dt.UTC)


def _environment(monkeypatch: pytest.MonkeyPatch, settings) -> None:
    """The served app's settings, as the command reads them (ATLAS_*)."""
    store = settings.store
    monkeypatch.setenv("ATLAS_DATA_DIR", str(store.data_dir))
    monkeypatch.setenv("ATLAS_DATABASE_SCHEMA", store.database_schema)
    monkeypatch.setenv("ATLAS_AUDIT_DB_SCHEMA", settings.audit.db_schema)
    monkeypatch.setenv("ATLAS_AUTH_DB_SCHEMA", settings.auth.db_schema)
    if store.database_url is None:
        monkeypatch.delenv("ATLAS_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("ATLAS_DATABASE_URL", store.database_url.get_secret_value())


def run(monkeypatch: pytest.MonkeyPatch, settings, *args: str) -> int:
    """``atlas ARGS`` through the entry point's ``main``; its exit status."""
    _environment(monkeypatch, settings)
    monkeypatch.setattr(sys, "argv", ["atlas", *args])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    return int(exit_.value.code or 0)


@pytest.mark.parametrize("flag", ["--publish", "--internal", None])
def test_export_writes_the_inventory(served, monkeypatch, capsys, tmp_path, flag):
    out_dir = tmp_path / "inventaire"
    status = run(
        monkeypatch, served.settings, "inventory", "export", str(out_dir), *[flag] * bool(flag)
    )
    captured = capsys.readouterr()
    assert status == 0, captured.err
    mode = "internal" if flag == "--internal" else "publication"
    assert captured.out.strip().splitlines()[-1].startswith(f"inventory ({mode}) written to")
    establishments = read_csv(out_dir / "etablissement.csv")
    undiffusible = set(served.personal.undiffusible)
    assert bool(set(establishments["SIRET"]) & undiffusible) is (mode == "internal")
    audit = served.client.app.state.audit  # type: ignore[attr-defined]
    operators = {r.who for r in audit.since(STARTED) if r.action == "inventory"}
    assert any(who.startswith("cli:") for who in operators)


def _strict(cnig_class):
    """The class's TableSchema with a key pattern no row meets: every export fails it."""
    schema = cnig.table_schema(cnig_class)
    for spec in schema["fields"]:
        if spec["name"] == cnig_class.primary_key:
            spec["constraints"]["pattern"] = "^never$"
    return schema


@pytest.mark.parametrize("existing", [False, True], ids=["absent", "empty"])
def test_a_failed_validation_leaves_out_dir_untouched(
    served, monkeypatch, capsys, tmp_path, existing
):
    monkeypatch.setattr("atlas.inventory.write.table_schema", _strict)
    parent = tmp_path / "exports"
    parent.mkdir()
    out_dir = parent / "inventaire"
    if existing:
        out_dir.mkdir()
    status = run(monkeypatch, served.settings, "inventory", "export", str(out_dir))
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith("atlas: error: the inventory does not validate")
    assert "nothing written" in lines[0]
    assert [p.name for p in parent.iterdir()] == (["inventaire"] if existing else [])
    if existing:
        assert list(out_dir.iterdir()) == []


def test_a_non_empty_out_dir_is_refused(served, monkeypatch, capsys, tmp_path):
    (tmp_path / "keep.txt").write_text("previous work")
    status = run(monkeypatch, served.settings, "inventory", "export", str(tmp_path))
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(lines) == 1
    assert "exists and is not an empty directory" in lines[0]
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
