"""``atlas audit export`` and ``atlas audit verify`` on both backends."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from atlas.audit.chain import GENESIS, chain_hash, parse_at
from atlas.audit.record import AuditRecord
from atlas.cli import app
from tests.audit.backends import T0, record
from tests.audit.test_chain import BYPASS
from tests.helpers import REPO

# The header the issue specifies, written out independently of atlas/audit/chain.py.
HEADER = "at,who,tier,action,collection_id,feature_count,area,request_id,detail,hash".split(",")


@pytest.fixture
def filled(backend):
    """Records over three days, a tricky one included (commas, quotes, newline, accents)."""
    log = backend.open()
    try:
        for day in range(3):
            log.append(record(day, at=T0 + dt.timedelta(days=day)))
        log.append(
            record(9, at=T0 + dt.timedelta(days=2, hours=1), detail='fields: "a", b\nc', area=None)
        )
    finally:
        log.close()
    return backend


def _run(backend, *args: str):
    return CliRunner().invoke(app, ["audit", *args], env=backend.env())


def _rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert reader.fieldnames == HEADER
    return list(reader)


def test_export_to_a_file(filled, tmp_path):
    out = tmp_path / "audit.csv"
    result = _run(filled, "export", "--since", "2026-12-01", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = _rows(out.read_text(encoding="utf-8"))
    assert [row["feature_count"] for row in rows] == ["0", "1", "2", "9"]
    assert rows[0] == {
        "at": "2026-12-01T09:30:00.000000Z",
        "who": "key:k1 (service éco)",
        "tier": "internal",
        "action": "read",
        "collection_id": "parcels",
        "feature_count": "0",
        "area": record(0).area,
        "request_id": "req0000",
        "detail": "fields: proprietaire",
        "hash": rows[0]["hash"],
    }
    assert rows[3]["detail"] == 'fields: "a", b\nc' and rows[3]["area"] == ""
    assert not list(tmp_path.glob("*.tmp"))


def test_the_export_alone_lets_anyone_recheck_the_chain(filled, tmp_path):
    out = tmp_path / "audit.csv"
    assert _run(filled, "export", "--since", "2000-01-01", "--out", str(out)).exit_code == 0
    previous = GENESIS
    for row in _rows(out.read_text(encoding="utf-8")):
        fields = {k: v for k, v in row.items() if k != "hash"}
        fields |= {"at": parse_at(row["at"]), "feature_count": int(row["feature_count"])}
        fields["area"] = fields["area"] or None
        previous = chain_hash(previous, AuditRecord(**fields))
        assert row["hash"] == previous


@pytest.mark.parametrize(
    ("since", "until", "counts"),
    [
        ("2026-12-02", None, ["1", "2", "9"]),
        ("2026-12-01", "2026-12-02", ["0", "1"]),  # a date includes its whole day
        ("2026-12-03T09:30:00Z", None, ["2", "9"]),
        ("2026-12-03T10:00:00+01:00", None, ["2", "9"]),  # 09:00 UTC
        ("2026-12-01", "2026-12-03T10:30:00+00:00", ["0", "1", "2"]),  # an instant is excluded
        ("2026-12-04", None, []),
    ],
)
def test_export_to_stdout_filters_by_time(filled, since, until, counts):
    args = ["export", "--since", since] + (["--until", until] if until else [])
    result = _run(filled, *args)
    assert result.exit_code == 0, result.output
    assert [row["feature_count"] for row in _rows(result.stdout)] == counts


def test_verify_prints_the_head(filled):
    result = _run(filled, "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("audit log intact: 4 records, head ")
    assert len(result.stdout.split()[-1]) == 64


def test_verify_exits_2_with_one_line_when_broken(filled):
    filled.raw(*BYPASS[filled.kind], "UPDATE records SET tier = 'public' WHERE seq = 3")
    result = _run(filled, "verify")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "atlas: error: audit log chain broken: record 3 does not match its hash"
        " (altered, or records before it removed)"
    ]


def test_the_installed_command(filled, tmp_path):
    # Through main(): a bad date is one line and exit 2, like every Atlas error.
    env = os.environ | filled.env() | {"PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "atlas.cli", "audit"]
    bad = subprocess.run(
        [*command, "export", "--since", "1st of May"], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "atlas: error: '1st of May' is not a date (2026-12-01) or an ISO instant"
    ]
    ok = subprocess.run([*command, "verify"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


def test_until_before_since_is_refused(filled):
    result = _run(filled, "export", "--since", "2026-12-02", "--until", "2026-12-01")
    assert result.exit_code != 0
    assert "--until must come after --since" in str(result.exception)
