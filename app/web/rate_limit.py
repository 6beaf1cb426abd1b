"""Per-caller request budget within one process (token bucket); exceeding it answers 429 with Retry-After."""

from __future__ import annotations

import math
import time
from collections import OrderedDict

from app.domain.errors import RateLimited

_MAX_TRACKED = 100_000


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self._rate = per_minute / 60.0
        self._capacity = float(per_minute)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def check(self, caller: str) -> None:
        if self._capacity <= 0:
            return
        now = time.monotonic()
        tokens, last = self._buckets.pop(caller, (self._capacity, now))
        tokens = min(self._capacity, tokens + (now - last) * self._rate)
        if tokens < 1:
            self._buckets[caller] = (tokens, now)
            wait = math.ceil((1 - tokens) / self._rate)
            raise RateLimited(f"Too many requests; retry in {wait} s", retry_after_seconds=wait)
        self._buckets[caller] = (tokens - 1, now)
        if len(self._buckets) > _MAX_TRACKED:
            self._buckets.popitem(last=False)


class LinkRateLimits:
    """The budgets of a public link's requests (survey links): per token and per client address, so that neither
    one link nor one client can hammer the endpoint; 0 switches a budget off."""

    def __init__(self, per_token_per_minute: int, per_address_per_minute: int) -> None:
        self._tokens = RateLimiter(per_token_per_minute)
        self._addresses = RateLimiter(per_address_per_minute)

    def check(self, token_key: str, address: str) -> None:
        self._addresses.check(address)
        self._tokens.check(token_key)
