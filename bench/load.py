"""Closed-loop load: workers share one request budget and one deadline, and time every request."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from bench.server import Server

log = logging.getLogger(__name__)

Send = Callable[[int], Awaitable[httpx.Response]]
"""Sends the request with the given index (0, 1, …) of a scenario."""


@dataclass(frozen=True, slots=True)
class Budget:
    """A scenario ends at whichever comes first: `requests` sent or `seconds` elapsed."""

    requests: int
    seconds: float
    concurrency: int


@dataclass(frozen=True, slots=True)
class Result:
    scenario: str
    latencies: list[float]
    errors: int
    elapsed: float
    first_error: str | None

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def error_ratio(self) -> float:
        """An empty run counts as all errors, so it can never pass."""
        return self.errors / self.requests if self.requests else 1.0

    def percentile_ms(self, percent: float) -> float:
        """Nearest-rank percentile: a latency some request actually had."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)] * 1000


async def measure(scenario: str, target: Server, warm: Send, send: Send, warmup: Budget, budget: Budget) -> Result:
    """Warm connections, pools and caches first, so the measured run sees steady state."""
    log.info("running %s", scenario)
    await run(scenario, warm, warmup)
    result = await run(scenario, send, budget)
    target.ensure_running()
    return result


async def run(scenario: str, send: Send, budget: Budget) -> Result:
    indices = iter(range(budget.requests))
    latencies: list[float] = []
    failures: list[str] = []
    started = time.perf_counter()
    deadline = started + budget.seconds

    async def worker() -> None:
        for index in indices:  # one shared iterator: each worker takes the next unsent index
            sent = time.perf_counter()
            failure = await _attempt(send, index)
            done = time.perf_counter()
            latencies.append(done - sent)
            if failure is not None:
                failures.append(failure)
            if done >= deadline:
                return

    await asyncio.gather(*(worker() for _ in range(budget.concurrency)))
    elapsed = time.perf_counter() - started
    return Result(scenario, latencies, len(failures), elapsed, failures[0] if failures else None)


async def _attempt(send: Send, index: int) -> str | None:
    """None on a 2xx answer; otherwise what went wrong, briefly."""
    try:
        response = await send(index)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if response.is_success else f"HTTP {response.status_code}: {response.text[:200]}"
