"""Rate limits: one token bucket per caller (API key, or client IP when public), sized per tier.

Per-process: the buckets live in the memory of one worker. With N uvicorn workers, or N API
instances behind a load balancer, a caller gets up to N times its limit; a shared store (Redis,
or a PostgreSQL table) would be needed to enforce one limit across them. A restart refills every
bucket.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from atlas.errors import TooManyRequests
from atlas.policy.tiers import Principal, Tier
from atlas.settings import LimitSettings


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets holding up to one minute of a tier's requests, refilled continuously."""

    def __init__(
        self, settings: LimitSettings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        # Sync dependencies run in a thread pool: one lock keeps each bucket's update whole.
        self._lock = threading.Lock()

    def per_minute(self, tier: Tier) -> int:
        """The configured limit of ``tier``, requests per minute."""
        limits = {
            Tier.PUBLIC: self.settings.public_per_minute,
            Tier.B2B: self.settings.b2b_per_minute,
            Tier.INTERNAL: self.settings.internal_per_minute,
        }
        return limits[tier]

    def check(self, principal: Principal, *, client: str, tile: bool = False) -> None:
        """Take one token for this caller (a tile: ``tile_cost`` of one), or raise
        TooManyRequests with the wait in seconds."""
        if not self.settings.enabled:
            return
        # A key is limited as itself wherever it comes from; anonymous callers by address.
        who = f"key:{principal.key_id}" if principal.key_id else f"ip:{client}"
        capacity = float(self.per_minute(principal.tier))
        rate = capacity / 60.0  # tokens per second
        with self._lock:
            now = self._clock()
            bucket = self._buckets.pop(who, None) or _Bucket(tokens=capacity, updated=now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            self._buckets[who] = bucket  # most recent last
            if len(self._buckets) > self.settings.max_clients:
                self._buckets.popitem(last=False)  # the least recently seen, nearly full anyway
            cost = self.settings.tile_cost if tile else 1.0
            if bucket.tokens >= cost - 1e-9:  # twenty 0.05 tiles are one request, to the bit
                bucket.tokens -= cost
                return
            wait = max(1, math.ceil((cost - bucket.tokens) / rate))
        raise TooManyRequests(
            f"rate limit of {int(capacity)} requests per minute exceeded; retry in {wait} s",
            retry_after=wait,
        )
