"""Measured runs: a load generator's sample of one scenario, and the server's own CPU time over the same run.

The Python client here is closed-loop: workers share one request budget and one deadline, and time every
request. It is the fallback when wrk is missing, and the generator of the flows wrk cannot script (several
dependent calls, per-request signatures)."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import resource
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import httpx

from bench import process_stats
from bench.server import Server

log = logging.getLogger(__name__)

Send = Callable[[int], Awaitable[httpx.Response]]
"""Sends the request with the given index (0, 1, …) of a scenario."""

PERCENTILES = (50, 99)
SETTLE_POLL_SECONDS = 0.2
SETTLE_MAX_SECONDS = 5.0
THREAD_SHARE_LIMIT = 0.5  # of one core per generator thread
MACHINE_SHARE_LIMIT = 0.25  # of all the machine's cores


@dataclass(frozen=True, slots=True)
class Budget:
    """A scenario ends at whichever comes first: `requests` sent or `seconds` elapsed."""

    requests: int
    seconds: float
    concurrency: int


@dataclass(frozen=True, slots=True)
class GeneratorUse:
    """The load generator's own CPU over a run. It is saturated past half of each of its threads, or past a quarter
    of the machine, whichever is less: then it either queues requests itself or takes the CPU the server needs, and
    a throughput ratio between two servers says more about the generator than about them."""

    name: str
    threads: int
    cpu_seconds: float
    wall_seconds: float

    @property
    def cores(self) -> float:
        return self.cpu_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def limit(self) -> float:
        return min(THREAD_SHARE_LIMIT * self.threads, MACHINE_SHARE_LIMIT * (os.cpu_count() or 1))

    @property
    def saturated(self) -> bool:
        return self.cores > self.limit


@dataclass(frozen=True, slots=True)
class Sample:
    """What a generator saw of one run: answers, failures and latency percentiles."""

    requests: int
    errors: int
    elapsed: float
    latency_ms: Mapping[int, float]  # percentile → milliseconds
    first_error: str | None
    generator: GeneratorUse
    unanswered: int = 0  # sent but not yet answered when the generator stopped; the server still serves them


class Load(Protocol):
    async def run(self, scenario: str, budget: Budget) -> Sample: ...


@dataclass(frozen=True, slots=True)
class Result:
    scenario: str
    server: str
    sample: Sample
    server_cpu_seconds: float  # the server's processes, user + system, over the run

    @property
    def requests(self) -> int:
        return self.sample.requests

    @property
    def errors(self) -> int:
        return self.sample.errors

    @property
    def rate(self) -> float:
        return self.requests / self.sample.elapsed if self.sample.elapsed > 0 else 0.0

    @property
    def error_ratio(self) -> float:
        """An empty run counts as all errors, so it can never pass."""
        return self.errors / self.requests if self.requests else 1.0

    @property
    def cpu_ms_per_request(self) -> float:
        """Per request the server served: those answered and those it finished after the generator stopped."""
        served = self.requests + self.sample.unanswered
        return self.server_cpu_seconds / served * 1000 if served else math.nan

    def percentile_ms(self, percent: int) -> float:
        return self.sample.latency_ms.get(percent, math.nan)


async def measure(scenario: str, target: Server, warm: Load, load: Load, warmup: Budget, budget: Budget) -> Result:
    """Warm connections, pools and caches first, so the measured run sees steady state. The server's CPU is read
    once it is idle before the run (the warm-up's last requests finished) and once it is idle after it (the run's
    unanswered requests finished too)."""
    log.info("running %s", scenario)
    await warm.run(f"{scenario} (warm-up)", warmup)
    target.ensure_running()
    before = await _idle_cpu_seconds(target.pid)
    target.note_idle_memory()
    sample = await load.run(scenario, budget)
    used = await _idle_cpu_seconds(target.pid) - before
    target.ensure_running()
    return Result(scenario, target.name, sample, used)


async def _idle_cpu_seconds(pid: int) -> float:
    """The server's CPU seconds once two readings a poll apart agree: it has nothing left to do."""
    last = process_stats.cpu_seconds(pid)
    deadline = time.monotonic() + SETTLE_MAX_SECONDS
    while time.monotonic() < deadline:
        await asyncio.sleep(SETTLE_POLL_SECONDS)
        now = process_stats.cpu_seconds(pid)
        if now == last:
            break
        last = now
    return last


@dataclass(frozen=True, slots=True)
class PythonLoad:
    """`send` from this process's event loop, `budget.concurrency` requests in flight."""

    send: Send

    async def run(self, scenario: str, budget: Budget) -> Sample:
        indices = iter(range(budget.requests))
        latencies: list[float] = []
        failures: list[str] = []
        cpu_before = _own_cpu_seconds()
        started = time.perf_counter()
        deadline = started + budget.seconds

        async def worker() -> None:
            for index in indices:  # one shared iterator: each worker takes the next unsent index
                sent = time.perf_counter()
                failure = await _attempt(self.send, index)
                done = time.perf_counter()
                latencies.append(done - sent)
                if failure is not None:
                    failures.append(failure)
                if done >= deadline:
                    return

        await asyncio.gather(*(worker() for _ in range(budget.concurrency)))
        elapsed = time.perf_counter() - started
        generator = GeneratorUse("python", 1, _own_cpu_seconds() - cpu_before, elapsed)
        percentiles = {p: _nearest_rank(latencies, p) * 1000 for p in PERCENTILES}
        first = failures[0] if failures else None
        return Sample(len(latencies), len(failures), elapsed, percentiles, first, generator)


def _own_cpu_seconds() -> float:
    """All of this process: the event loop that generates the load and whatever else it runs meanwhile."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _nearest_rank(latencies: list[float], percent: float) -> float:
    """A latency some request actually had."""
    if not latencies:
        return math.nan
    ordered = sorted(latencies)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


async def _attempt(send: Send, index: int) -> str | None:
    """None on a 2xx answer; otherwise what went wrong, briefly."""
    try:
        response = await send(index)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if response.is_success else f"HTTP {response.status_code}: {response.text[:200]}"
