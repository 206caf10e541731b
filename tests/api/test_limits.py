"""The token buckets, on a fake clock."""

from __future__ import annotations

import pytest

from atlas.api.limits import RateLimiter
from atlas.errors import TooManyRequests
from atlas.policy.tiers import ANONYMOUS, Principal, Tier
from atlas.settings import LimitSettings


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(clock: Clock, **settings: object) -> RateLimiter:
    """A limiter on ``clock``; defaults 60 public, 120 b2b, 600 internal per minute."""
    values = {"public_per_minute": 60, "b2b_per_minute": 120, "internal_per_minute": 600}
    return RateLimiter(LimitSettings(**(values | settings)), clock=clock)


def drain(instance: RateLimiter, principal: Principal, client: str = "10.0.0.1") -> int:
    """Requests accepted until the first 429."""
    accepted = 0
    while True:
        try:
            instance.check(principal, client=client)
        except TooManyRequests:
            return accepted
        accepted += 1


def test_a_bucket_holds_one_minute_of_the_tier() -> None:
    clock = Clock()
    instance = limiter(clock)
    assert drain(instance, ANONYMOUS) == 60
    assert drain(instance, Principal(tier=Tier.B2B, key_id="k1", name="a")) == 120
    assert drain(instance, Principal(tier=Tier.INTERNAL, key_id="k2", name="b")) == 600


def test_retry_after_is_the_wait_for_one_token_and_it_refills() -> None:
    clock = Clock()
    instance = limiter(clock, public_per_minute=6)  # one token every 10 s
    drain(instance, ANONYMOUS)
    with pytest.raises(TooManyRequests) as caught:
        instance.check(ANONYMOUS, client="10.0.0.1")
    assert caught.value.retry_after == 10
    assert caught.value.headers == {"Retry-After": "10"}
    clock.now += 7.5
    with pytest.raises(TooManyRequests) as caught:
        instance.check(ANONYMOUS, client="10.0.0.1")
    assert caught.value.retry_after == 3  # rounded up: retrying after it always succeeds
    clock.now += 3
    instance.check(ANONYMOUS, client="10.0.0.1")
    clock.now += 3600  # refills up to the capacity, not beyond
    assert drain(instance, ANONYMOUS) == 6


def test_public_callers_are_limited_per_address_keys_per_key() -> None:
    clock = Clock()
    instance = limiter(clock, public_per_minute=2)
    assert drain(instance, ANONYMOUS, "10.0.0.1") == 2
    assert drain(instance, ANONYMOUS, "10.0.0.2") == 2
    key = Principal(tier=Tier.PUBLIC, key_id="k1", name="kiosk")
    # A key is one bucket whatever the address it comes from.
    assert drain(instance, key, "10.0.0.3") == 2
    assert drain(instance, key, "10.0.0.4") == 0


def test_memory_is_bounded_least_recent_first() -> None:
    clock = Clock()
    instance = limiter(clock, public_per_minute=1, max_clients=2)
    for address in ("a", "b"):
        instance.check(ANONYMOUS, client=address)
    instance.check(ANONYMOUS, client="c")  # evicts "a", the least recently seen
    assert len(instance._buckets) == 2
    instance.check(ANONYMOUS, client="a")  # a fresh bucket
    with pytest.raises(TooManyRequests):
        instance.check(ANONYMOUS, client="c")


def test_disabled_limits_accept_everything() -> None:
    instance = limiter(Clock(), public_per_minute=1, enabled=False)
    for _ in range(10):
        instance.check(ANONYMOUS, client="10.0.0.1")


def test_a_tile_costs_a_share_of_a_request() -> None:
    instance = limiter(Clock(), public_per_minute=2, tile_cost=0.05)
    for _ in range(20):  # one request's worth of tiles
        instance.check(ANONYMOUS, client="10.0.0.1", tile=True)
    assert drain(instance, ANONYMOUS) == 1  # and one whole request is left
    with pytest.raises(TooManyRequests):
        instance.check(ANONYMOUS, client="10.0.0.1", tile=True)


def test_tile_routes_take_a_share_of_a_token_through_the_app(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from atlas.api.app import create_app
    from atlas.settings import Settings, StoreSettings

    settings = Settings(
        store=StoreSettings(data_dir=tmp_path / "data", database_url=None),
        limits=LimitSettings(public_per_minute=2, tile_cost=0.05),
    )
    with TestClient(create_app(settings)) as client:
        tile = "/collections/parcels/tiles/WebMercatorQuad/14/8310/5650"
        assert {client.get(tile).status_code for _ in range(20)} != {429}  # a request's worth
        assert client.get("/collections").status_code == 200  # the second whole request
        assert client.get("/collections").status_code == 429
