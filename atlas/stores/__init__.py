"""Stores: one contract (``base.FeatureStore``), PostGIS for production, DuckDB embedded by default."""

from __future__ import annotations

from atlas.settings import StoreSettings
from atlas.stores.base import FeatureStore


def open_store(settings: StoreSettings) -> FeatureStore:
    """The store the settings select: PostGIS when ATLAS_DATABASE_URL is set, else embedded."""
    if settings.database_url is not None:
        from atlas.stores.postgis import PostgisStore

        return PostgisStore(
            settings.database_url.get_secret_value(),
            schema=settings.database_schema,
            statement_timeout_ms=settings.statement_timeout_ms,
            pool_size=settings.pool_size,
            parallel_workers=settings.parallel_workers,
        )
    from atlas.stores.embedded import EmbeddedStore

    return EmbeddedStore(settings.data_dir, threads=settings.embedded_threads)
