"""Requests hop to the thread pool only for what may block (atlas.api.on_loop): an items page
or a feature runs its handler there and nothing else, whatever the caller."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import anyio.to_thread
import pytest

from atlas.policy.tiers import Tier
from tests.api.test_statements import BBOX


@contextmanager
def hops(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the callables sent to the thread pool meanwhile."""
    seen: list[str] = []
    real = anyio.to_thread.run_sync

    async def counting(func, *args, **kwargs):  # type: ignore[no-untyped-def]
        # FastAPI sends a handler as partial(_run_sync_endpoint, function=handler, …).
        called = getattr(func, "keywords", {}).get("function") or getattr(func, "func", func)
        seen.append(getattr(called, "__name__", repr(called)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    yield seen


@pytest.mark.parametrize("tier", [Tier.PUBLIC, Tier.B2B])
def test_an_items_page_hops_once_for_its_handler(served, monkeypatch, tier) -> None:
    url = f"/collections/activity-sites/items?bbox={BBOX}&limit=3&crs=http://www.opengis.net/def/crs/EPSG/0/2154"
    served.get(tier, url)  # the catalog read once, before counting
    with hops(monkeypatch) as seen:
        response = served.get(tier, url + "&filter=site_surf_brute%20%3E%201")
    assert response.status_code == 200, response.text
    assert seen == ["get_features"], seen


def test_a_feature_hops_once_for_its_handler(served, monkeypatch) -> None:
    first = served.get(Tier.B2B, "/collections/activity-sites/items?limit=1").json()
    fid = first["features"][0]["id"]
    with hops(monkeypatch) as seen:
        response = served.get(Tier.B2B, f"/collections/activity-sites/items/{fid}")
    assert response.status_code == 200, response.text
    assert seen == ["get_feature"], seen


def test_a_bad_key_is_refused_without_a_hop(served, monkeypatch) -> None:
    with hops(monkeypatch) as seen:
        response = served.client.get(
            "/collections/activity-sites/items", headers={"Authorization": "Bearer atlas_nope"}
        )
    assert response.status_code == 401
    assert seen == [], seen


def test_handlers_run_a_few_at_a_time_per_worker(served) -> None:
    """The thread pool's limiter is the setting's (2), not anyio's 40: the rest queue in order."""

    async def tokens() -> float:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    expected = served.client.app.state.settings.api.handler_threads
    assert expected == 2
    assert served.client.portal.call(tokens) == expected
