"""Request dependencies: the store and settings from ``app.state``."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request

from atlas.api.audit import request_id
from atlas.api.auth import CurrentPrincipal
from atlas.policy.gate import Gate, Policy
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


_POLICY_LOCK = threading.Lock()


def get_policy(request: Request) -> Policy:
    """The tier policy over the store, rasters and audit log of the app (made on first use)."""
    state = request.app.state
    with _POLICY_LOCK:
        policy = getattr(state, "policy", None)
        if policy is None or policy.store is not state.store:
            policy = Policy(state.store, state.rasters, getattr(state, "audit", None))
            state.policy = policy
    return policy


def get_gate(request: Request, principal: CurrentPrincipal) -> Gate:
    """The caller's gate: every router reads data through it, never through the store."""
    return get_policy(request).gate(principal, request_id(request))


CurrentGate = Annotated[Gate, Depends(get_gate)]
