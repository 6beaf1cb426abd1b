"""Runs periodic jobs until stopped: a failing run is logged and retried later, and stopping lets the runs in
flight finish."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

MAX_BACKOFF_SECONDS = 300.0
STOP_GRACE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    """`run` does one pass of work and answers how much it did (rows sent, reminders written); 0 means there was
    nothing to do. The runner waits `interval_seconds` between passes."""

    name: str
    interval_seconds: float
    run: Callable[[], Awaitable[int]]


class JobRunner:
    """One loop per job, all on the running event loop. Jobs must be safe to run in several processes at once
    (claim work with `FOR UPDATE SKIP LOCKED` or an idempotent write): every `aftersales serve` process and every
    `aftersales worker` runs them."""

    def __init__(
        self, jobs: Sequence[PeriodicJob], *, max_backoff_seconds: float = MAX_BACKOFF_SECONDS, log: Any = None
    ) -> None:
        self.jobs = list(jobs)
        self._max_backoff = max_backoff_seconds
        self._log = log or structlog.get_logger("aftersales.workers")
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    def start(self) -> None:
        """Start every job's loop; the first pass of each runs at once."""
        if self._tasks:
            raise RuntimeError("the job runner is already started")
        self._stopping.clear()
        self._tasks = [asyncio.create_task(self._loop(job), name=f"job:{job.name}") for job in self.jobs]

    async def stop(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        """Ask every loop to end after its current pass and wait for them; passes still running after
        `grace_seconds` are cancelled (their transactions roll back)."""
        self._stopping.set()
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks, timeout=grace_seconds)
        for task in pending:
            self._log.warning("job_cancelled_at_stop", job=task.get_name().removeprefix("job:"))
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _loop(self, job: PeriodicJob) -> None:
        failures = 0
        while not self._stopping.is_set():
            started = time.perf_counter()
            try:
                done = await job.run()
            except Exception as exc:
                failures += 1
                delay = min(job.interval_seconds * 2 ** min(failures, 16), max(self._max_backoff, job.interval_seconds))
                self._log.error(
                    "job_failed", job=job.name, error=repr(exc), failures=failures, retry_in_seconds=delay, exc_info=exc
                )
            else:
                failures = 0
                delay = job.interval_seconds
                if done:
                    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
                    self._log.info("job_ran", job=job.name, items=done, duration_ms=elapsed_ms)
            await self._pause(delay)

    async def _pause(self, seconds: float) -> None:
        """Sleep between passes, waking at once when the runner stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
