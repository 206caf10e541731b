"""Request dependencies: settings, links and the caller's gate from ``app.state``.

There is no store dependency on purpose: routers read data only through a gate."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from atlas.api.audit import request_id
from atlas.api.auth import CurrentPrincipal
from atlas.api.on_loop import on_loop
from atlas.policy.gate import Gate, Policy
from atlas.settings import Settings


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings


def base_url(request: Request) -> str:
    """The base URL of links: ATLAS_PUBLIC_URL, else the scheme and host that
    ``atlas.api.forwarded`` settled (a trusted proxy's, or the server's own address)."""
    configured = request.app.state.settings.api.public_url
    return (configured or str(request.base_url)).rstrip("/")


def get_policy(request: Request) -> Policy:
    """The tier policy over the store, rasters and audit log, made in the lifespan."""
    return request.app.state.policy


async def get_gate(request: Request, principal: CurrentPrincipal) -> Gate:
    """The caller's gate: every router reads data through it, never through the store."""
    return get_policy(request).gate(principal, request_id(request))


CurrentGate = Annotated[Gate, Depends(get_gate)]

# What routers declare; each runs on the event loop (atlas.api.on_loop), once per request.
BaseUrl = Annotated[str, Depends(on_loop(base_url))]
CurrentSettings = Annotated[Settings, Depends(on_loop(get_settings))]
