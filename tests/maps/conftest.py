"""The map suites build maps over the served demo (both stores) through a gate of each tier."""

from __future__ import annotations

import folium
import pytest

from atlas.maps.build import build_map
from atlas.maps.context import MapContext
from atlas.maps.labels import Lang
from atlas.maps.page import MapPage, render
from atlas.policy.tiers import Principal, Tier
from tests.served_demo import Served


def context(served: Served, tier: Tier, lang: Lang = Lang.FR, **kwargs) -> MapContext:
    """A map context over the served demo, read through a gate of ``tier``."""
    policy = served.client.app.state.policy
    gate = policy.gate(Principal(tier=tier, name="maps tests"), "maps-tests")
    return MapContext(gate, lang=lang, **kwargs)


@pytest.fixture(scope="module")
def built(served: Served) -> dict[tuple[Tier, Lang], tuple[folium.Map, MapPage]]:
    """Every tier's map in both languages, built once per module and store."""
    out = {}
    for tier in Tier:
        for lang in Lang:
            m = build_map(context(served, tier, lang))
            out[tier, lang] = (m, render(m, lang))
    return out
