"""``atlas maps build`` over the served demo's store (both kinds), in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.maps.embedded import geojson_documents, loaded_urls

# Vendored libraries, and our own scripts (atlas/api/static/atlas: permalink.js): never a CDN.
OURS = ("/static/vendor/", "/static/atlas/")


def _env(settings) -> dict[str, str]:
    """The environment naming the served demo's store (and, on PostGIS, its schemas)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATLAS_")}
    env["ATLAS_DATA_DIR"] = str(settings.store.data_dir)
    if settings.store.database_url is not None:
        env["ATLAS_DATABASE_URL"] = settings.store.database_url.get_secret_value()
        env["ATLAS_DATABASE_SCHEMA"] = settings.store.database_schema
        for name in type(settings).model_fields:
            concern = getattr(settings, name)
            if "db_schema" in type(concern).model_fields:
                prefix = type(concern).model_config["env_prefix"]
                env[f"{prefix}DB_SCHEMA"] = concern.db_schema
    return env


def _atlas(settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atlas.cli", *args],
        capture_output=True,
        text=True,
        env=_env(settings),
        timeout=300,
        check=False,
    )


def test_build_writes_the_tiers_asked_in_both_languages(served, tmp_path) -> None:
    out = tmp_path / "maps"
    result = _atlas(served.settings, "maps", "build", "--tier", "public", "--tier", "b2b", str(out))
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written == ["map-b2b-en.html", "map-b2b.html", "map-public-en.html", "map-public.html"]
    public = (out / "map-public.html").read_text()
    assert all(u.startswith(OURS) for u in loaded_urls(public))
    assert len(geojson_documents(public)) >= 5
    assert "Find a municipality" in (out / "map-public-en.html").read_text()
    assert "terr_m2_prix" in (out / "map-b2b.html").read_text()
    assert "terr_m2_prix" not in public
    assert len(result.stdout.splitlines()) == 4 and "bytes" in result.stdout


def test_build_refuses_an_unknown_tier_in_one_line(served, tmp_path) -> None:
    result = _atlas(served.settings, "maps", "build", "--tier", "admin", str(tmp_path / "x"))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "atlas: error: --tier: 'admin' is not one of public, b2b, internal"
    ]
    assert not (tmp_path / "x").exists()
