"""Request dependencies: the store and settings from ``app.state``."""

from __future__ import annotations

from fastapi import Request

from atlas.settings import Settings
from atlas.stores.base import FeatureStore
from atlas.stores.rasters import RasterCatalog


def get_store(request: Request) -> FeatureStore:
    """The store opened in the lifespan."""
    return request.app.state.store


def get_rasters(request: Request) -> RasterCatalog:
    """The raster catalog."""
    return request.app.state.rasters


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings


def base_url(request: Request) -> str:
    """The public base URL, for links (settings override what the request says)."""
    configured = request.app.state.settings.api.public_url
    return (configured or str(request.base_url)).rstrip("/")
