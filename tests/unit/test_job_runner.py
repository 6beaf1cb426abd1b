"""The background job runner: jobs run repeatedly, a failing job does not stop the loop, and stopping waits for
the run in flight."""

from __future__ import annotations

import asyncio

import pytest

from app.workers.runner import JobRunner, PeriodicJob


class RecordingLog:
    """Stands in for the structlog logger: keeps (level, event, fields)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict]] = []

    def __getattr__(self, level: str):
        return lambda event, **fields: self.lines.append((level, event, fields))

    def events(self, name: str) -> list[dict]:
        return [fields for _level, event, fields in self.lines if event == name]


class Runs:
    """Counts a job's runs; `reached(n)` waits (at most 5 s) for the n-th."""

    def __init__(self) -> None:
        self.count = 0
        self._wanted: dict[int, asyncio.Event] = {}

    def record(self) -> None:
        self.count += 1
        for n, event in self._wanted.items():
            if self.count >= n:
                event.set()

    async def reached(self, n: int) -> None:
        event = self._wanted.setdefault(n, asyncio.Event())
        if self.count >= n:
            event.set()
        async with asyncio.timeout(5):
            await event.wait()


async def test_a_job_runs_again_every_interval_until_the_runner_stops():
    runs = Runs()

    async def count() -> int:
        runs.record()
        return 1

    log = RecordingLog()
    runner = JobRunner([PeriodicJob("count", 0.01, count)], log=log)
    runner.start()
    await runs.reached(3)
    await runner.stop()
    stopped_at = runs.count
    await asyncio.sleep(0.05)

    assert runs.count == stopped_at
    assert not runner.running
    assert {fields["job"] for fields in log.events("job_ran")} == {"count"}
    assert all(fields["items"] == 1 for fields in log.events("job_ran"))


async def test_runs_that_found_nothing_to_do_are_not_logged():
    runs = Runs()

    async def idle() -> int:
        runs.record()
        return 0

    log = RecordingLog()
    runner = JobRunner([PeriodicJob("idle", 0.01, idle)], log=log)
    runner.start()
    await runs.reached(2)
    await runner.stop()

    assert log.lines == []


async def test_a_job_that_raises_is_logged_and_run_again_after_a_back_off():
    calls = Runs()

    async def flaky() -> int:
        calls.record()
        if calls.count <= 2:
            raise RuntimeError("database unreachable")
        return 1

    log = RecordingLog()
    runner = JobRunner([PeriodicJob("flaky", 0.001, flaky)], max_backoff_seconds=0.01, log=log)
    runner.start()
    await calls.reached(4)
    await runner.stop()

    failures = log.events("job_failed")
    assert [f["failures"] for f in failures] == [1, 2]
    assert "database unreachable" in failures[0]["error"]
    assert failures[1]["retry_in_seconds"] > failures[0]["retry_in_seconds"]
    assert log.events("job_ran")


async def test_one_failing_job_does_not_hold_up_the_others():
    healthy = Runs()

    async def broken() -> int:
        raise ValueError("bug")

    async def fine() -> int:
        healthy.record()
        return 1

    runner = JobRunner(
        [PeriodicJob("broken", 0.001, broken), PeriodicJob("fine", 0.01, fine)],
        max_backoff_seconds=0.01,
        log=RecordingLog(),
    )
    runner.start()
    await healthy.reached(3)
    await runner.stop()

    assert healthy.count >= 3


async def test_stopping_lets_the_run_in_flight_finish():
    started, finished = asyncio.Event(), []

    async def slow() -> int:
        started.set()
        await asyncio.sleep(0.2)
        finished.append(1)
        return 1

    runner = JobRunner([PeriodicJob("slow", 60, slow)], log=RecordingLog())
    runner.start()
    await started.wait()

    await runner.stop()

    assert finished == [1]
    assert not runner.running


async def test_a_run_still_going_after_the_grace_period_is_cancelled():
    started, cancelled = asyncio.Event(), []

    async def stuck() -> int:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(1)
            raise
        return 1

    log = RecordingLog()
    runner = JobRunner([PeriodicJob("stuck", 60, stuck)], log=log)
    runner.start()
    await started.wait()

    await runner.stop(grace_seconds=0.05)

    assert cancelled == [1]
    assert [f["job"] for f in log.events("job_cancelled_at_stop")] == ["stuck"]


async def test_a_runner_without_jobs_starts_and_stops():
    runner = JobRunner([], log=RecordingLog())
    runner.start()

    await runner.stop()

    assert not runner.running


async def test_a_runner_cannot_be_started_twice():
    async def nothing() -> int:
        return 0

    runner = JobRunner([PeriodicJob("nothing", 60, nothing)], log=RecordingLog())
    runner.start()
    try:
        with pytest.raises(RuntimeError):
            runner.start()
    finally:
        await runner.stop()
