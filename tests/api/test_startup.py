"""What every worker builds when it starts, not in its first request: a first request that built
it held the GIL while every request in flight in that worker waited."""

from __future__ import annotations

from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.layers import catalog
from atlas.query import cql2
from atlas.settings import Settings, StoreSettings


def test_the_cql2_parser_and_the_catalog_are_built_at_startup(tmp_path) -> None:
    cql2._text_grammar_parser.cache_clear()
    catalog.cache_clear()
    app = create_app(Settings(store=StoreSettings(data_dir=tmp_path, database_url=None)))
    assert cql2._text_grammar_parser.cache_info().currsize == 0  # nothing before the lifespan
    with TestClient(app):  # started: no request sent
        assert cql2._text_grammar_parser.cache_info().currsize == 1
        assert catalog.cache_info().currsize == 1


def test_fastapi_s_opentelemetry_is_off_unless_asked(tmp_path, monkeypatch) -> None:
    """No request pays FastAPI's per-request look for a telemetry provider, unless
    ATLAS_OPENTELEMETRY asks for its spans and metrics."""
    store = StoreSettings(data_dir=tmp_path, database_url=None)
    off = create_app(Settings(store=store))
    assert not any(off._telemetry[k] for k in ("tracing", "metrics", "logs"))
    monkeypatch.setenv("ATLAS_OPENTELEMETRY", "true")
    on = create_app(Settings(store=store))
    assert all(on._telemetry[k] for k in ("tracing", "metrics", "logs"))
